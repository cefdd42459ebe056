CREATE TABLE "llm_rate_pools" (
	"pool" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone NOT NULL
);
