-- optimization_requests: the optimizer's critique and edits stored as they arrive, so a retried
-- proposeCandidates requests only what is missing. production_pages: a production page's budget
-- reservation (its estimated cost counts against the program's budget until the page is done).
CREATE TABLE "optimization_requests" (
	"run_id" text NOT NULL,
	"parent_hash" text NOT NULL,
	"step" integer NOT NULL,
	"request" text NOT NULL,
	"index" integer NOT NULL,
	"output" text NOT NULL,
	"prompt_hash" text,
	"requests" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "optimization_requests_run_id_parent_hash_step_request_index_pk" PRIMARY KEY("run_id","parent_hash","step","request","index")
);
--> statement-breakpoint
CREATE TABLE "production_pages" (
	"run_key" text NOT NULL,
	"shard" integer NOT NULL,
	"page" integer NOT NULL,
	"program_id" text NOT NULL,
	"requests" integer NOT NULL,
	"estimate_usd" double precision NOT NULL,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "production_pages_run_key_shard_page_pk" PRIMARY KEY("run_key","shard","page")
);
--> statement-breakpoint
ALTER TABLE "production_pages" ADD CONSTRAINT "production_pages_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "production_pages_open" ON "production_pages" USING btree ("program_id") WHERE finished_at is null;