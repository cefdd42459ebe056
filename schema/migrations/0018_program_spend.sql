CREATE TABLE "program_spend" (
	"program_id" text PRIMARY KEY NOT NULL,
	"human_usd" double precision DEFAULT 0 NOT NULL,
	"llm_usd" double precision DEFAULT 0 NOT NULL
);
