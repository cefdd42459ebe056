CREATE TABLE "rater_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rater_id" text NOT NULL,
	"program_id" text,
	"action" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rater_qualifications" (
	"program_id" text NOT NULL,
	"rater_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"gold_answers" integer DEFAULT 0 NOT NULL,
	"correct" integer DEFAULT 0 NOT NULL,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rater_qualifications_program_id_rater_id_pk" PRIMARY KEY("program_id","rater_id")
);
--> statement-breakpoint
ALTER TABLE "raters" ADD COLUMN "paused_by" text;--> statement-breakpoint
ALTER TABLE "raters" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "raters" ADD COLUMN "reinstated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "raters" ADD COLUMN "drift_flagged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "raters" ADD COLUMN "drift_reason" text;--> statement-breakpoint
ALTER TABLE "rater_actions" ADD CONSTRAINT "rater_actions_rater_id_raters_id_fk" FOREIGN KEY ("rater_id") REFERENCES "public"."raters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rater_qualifications" ADD CONSTRAINT "rater_qualifications_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rater_qualifications" ADD CONSTRAINT "rater_qualifications_rater_id_raters_id_fk" FOREIGN KEY ("rater_id") REFERENCES "public"."raters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rater_actions_rater" ON "rater_actions" USING btree ("rater_id","id");