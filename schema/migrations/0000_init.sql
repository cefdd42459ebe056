CREATE TABLE "agreement_reports" (
	"program_id" text NOT NULL,
	"phase" text NOT NULL,
	"round" integer DEFAULT 0 NOT NULL,
	"criterion" text NOT NULL,
	"guideline_version" integer NOT NULL,
	"items" integer NOT NULL,
	"raters" integer NOT NULL,
	"ratings" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	"meets_target" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agreement_reports_program_id_phase_round_criterion_pk" PRIMARY KEY("program_id","phase","round","criterion")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"program_id" text,
	"actor" text NOT NULL,
	"entity" text NOT NULL,
	"entity_id" text NOT NULL,
	"action" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "behavior_metrics" (
	"item_id" text NOT NULL,
	"period" text DEFAULT 'all' NOT NULL,
	"impressions" integer NOT NULL,
	"take_fraction" double precision NOT NULL,
	"abandonment_rate" double precision NOT NULL,
	CONSTRAINT "behavior_metrics_item_id_period_pk" PRIMARY KEY("item_id","period")
);
--> statement-breakpoint
CREATE TABLE "decision_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"request_id" text NOT NULL,
	"kind" text NOT NULL,
	"phase" text,
	"actor" text NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fix_attempts" (
	"fix_cycle_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"writer_id" text,
	"failing_criteria" jsonb NOT NULL,
	"before_hash" text NOT NULL,
	"after_hash" text,
	"outcome" text,
	"still_failing" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fix_attempts_fix_cycle_id_attempt_pk" PRIMARY KEY("fix_cycle_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "fix_cycles" (
	"id" text PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"opened_for_hash" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"failing_criteria" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "gold_answers" (
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"criterion" text NOT NULL,
	"label" integer NOT NULL,
	"explanation" text DEFAULT '' NOT NULL,
	CONSTRAINT "gold_answers_program_id_item_id_criterion_pk" PRIMARY KEY("program_id","item_id","criterion")
);
--> statement-breakpoint
CREATE TABLE "golden_labels" (
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"criterion" text NOT NULL,
	"label" integer NOT NULL,
	"explanation" text NOT NULL,
	"source" text NOT NULL,
	"needs_review" boolean DEFAULT false NOT NULL,
	"reviewed" boolean DEFAULT false NOT NULL,
	"split" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "golden_labels_program_id_item_id_criterion_pk" PRIMARY KEY("program_id","item_id","criterion")
);
--> statement-breakpoint
CREATE TABLE "guideline_versions" (
	"program_id" text NOT NULL,
	"version" integer NOT NULL,
	"text" text NOT NULL,
	"criteria" jsonb NOT NULL,
	"note" text NOT NULL,
	"author" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "guideline_versions_program_id_version_pk" PRIMARY KEY("program_id","version")
);
--> statement-breakpoint
CREATE TABLE "item_revisions" (
	"item_id" text NOT NULL,
	"text_hash" text NOT NULL,
	"text" text NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "item_revisions_item_id_text_hash_pk" PRIMARY KEY("item_id","text_hash")
);
--> statement-breakpoint
CREATE TABLE "item_verdicts" (
	"run_id" text NOT NULL,
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"text_hash" text NOT NULL,
	"criterion" text NOT NULL,
	"verdict" integer,
	"samples" integer NOT NULL,
	"summary" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "item_verdicts_run_id_item_id_text_hash_criterion_pk" PRIMARY KEY("run_id","item_id","text_hash","criterion")
);
--> statement-breakpoint
CREATE TABLE "items" (
	"id" text PRIMARY KEY NOT NULL,
	"show_id" text NOT NULL,
	"locale" text DEFAULT 'en-US' NOT NULL,
	"text" text NOT NULL,
	"text_hash" text NOT NULL,
	"source" text DEFAULT 'import' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "judge_evaluations" (
	"program_id" text NOT NULL,
	"criterion" text NOT NULL,
	"prompt_hash" text NOT NULL,
	"model" text NOT NULL,
	"split" text NOT NULL,
	"samples" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "judge_evaluations_program_id_criterion_prompt_hash_model_split_samples_pk" PRIMARY KEY("program_id","criterion","prompt_hash","model","split","samples")
);
--> statement-breakpoint
CREATE TABLE "judge_prompts" (
	"hash" text PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"criterion" text NOT NULL,
	"agent" text DEFAULT '' NOT NULL,
	"template" text NOT NULL,
	"guideline_version" integer NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"parent_hash" text,
	"origin" text NOT NULL,
	"status" text DEFAULT 'candidate' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "judgments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"text_hash" text NOT NULL,
	"criterion" text NOT NULL,
	"agent" text DEFAULT '' NOT NULL,
	"prompt_hash" text NOT NULL,
	"model" text NOT NULL,
	"sample_index" integer NOT NULL,
	"status" text NOT NULL,
	"verdict" integer,
	"reasoning" text DEFAULT '' NOT NULL,
	"summary" text DEFAULT '' NOT NULL,
	"error" text,
	"mode" text DEFAULT 'sync' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "labels" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"task_id" text NOT NULL,
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"rater_id" text NOT NULL,
	"criterion" text NOT NULL,
	"value" integer NOT NULL,
	"explanation" text DEFAULT '' NOT NULL,
	"error_codes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"guideline_version" integer NOT NULL,
	"phase" text NOT NULL,
	"round" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "optimization_candidates" (
	"run_id" text NOT NULL,
	"prompt_hash" text NOT NULL,
	"parent_hash" text,
	"step" integer NOT NULL,
	"critique" text DEFAULT '' NOT NULL,
	"dev_accuracy" double precision,
	"dev_evaluated" integer DEFAULT 0 NOT NULL,
	"selected" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "optimization_candidates_run_id_prompt_hash_pk" PRIMARY KEY("run_id","prompt_hash")
);
--> statement-breakpoint
CREATE TABLE "production_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"mode" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total_items" integer DEFAULT 0 NOT NULL,
	"judged_items" integer DEFAULT 0 NOT NULL,
	"failed_items" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"status" text DEFAULT 'created' NOT NULL,
	"phase" text DEFAULT 'scoping' NOT NULL,
	"budget_usd" double precision NOT NULL,
	"estimate" jsonb,
	"workflow_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"shard" integer NOT NULL,
	"status" text NOT NULL,
	"input_file_id" text NOT NULL,
	"output_file_id" text,
	"error_file_id" text,
	"request_count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "raters" (
	"id" text PRIMARY KEY NOT NULL,
	"vendor_id" text NOT NULL,
	"external_id" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"qualification" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"paused_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shows" (
	"id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"locale" text DEFAULT 'en-US' NOT NULL,
	"metadata" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "smoke_checks" (
	"id" text PRIMARY KEY NOT NULL,
	"message" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"phase" text NOT NULL,
	"round" integer,
	"kind" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"guideline_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"batch_id" text NOT NULL,
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"text_hash" text NOT NULL,
	"slot" integer NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"vendor_id" text NOT NULL,
	"rater_id" text,
	"kind" text NOT NULL,
	"is_gold" boolean DEFAULT false NOT NULL,
	"guideline_version" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"due_at" timestamp with time zone,
	"reminded_at" timestamp with time zone,
	"dispatched_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_ledger" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_key" text NOT NULL,
	"program_id" text,
	"phase" text NOT NULL,
	"kind" text NOT NULL,
	"model" text,
	"vendor_id" text,
	"mode" text DEFAULT 'sync' NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"cached_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd" double precision NOT NULL,
	"alt_cost_usd" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vendor_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"vendor_id" text NOT NULL,
	"delivery_id" text NOT NULL,
	"type" text NOT NULL,
	"task_id" text,
	"body" jsonb NOT NULL,
	"response_status" integer NOT NULL,
	"response_body" jsonb NOT NULL,
	"disposition" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"signalled_at" timestamp with time zone,
	"signal_attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "vendors" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"endpoint" text,
	"secrets" jsonb NOT NULL,
	"rate_card" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agreement_reports" ADD CONSTRAINT "agreement_reports_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "behavior_metrics" ADD CONSTRAINT "behavior_metrics_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "decision_log" ADD CONSTRAINT "decision_log_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fix_attempts" ADD CONSTRAINT "fix_attempts_fix_cycle_id_fix_cycles_id_fk" FOREIGN KEY ("fix_cycle_id") REFERENCES "public"."fix_cycles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fix_cycles" ADD CONSTRAINT "fix_cycles_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fix_cycles" ADD CONSTRAINT "fix_cycles_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gold_answers" ADD CONSTRAINT "gold_answers_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gold_answers" ADD CONSTRAINT "gold_answers_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "golden_labels" ADD CONSTRAINT "golden_labels_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "golden_labels" ADD CONSTRAINT "golden_labels_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "guideline_versions" ADD CONSTRAINT "guideline_versions_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_revisions" ADD CONSTRAINT "item_revisions_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_verdicts" ADD CONSTRAINT "item_verdicts_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_verdicts" ADD CONSTRAINT "item_verdicts_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "items" ADD CONSTRAINT "items_show_id_shows_id_fk" FOREIGN KEY ("show_id") REFERENCES "public"."shows"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "judge_evaluations" ADD CONSTRAINT "judge_evaluations_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "judge_prompts" ADD CONSTRAINT "judge_prompts_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "judgments" ADD CONSTRAINT "judgments_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "judgments" ADD CONSTRAINT "judgments_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_rater_id_raters_id_fk" FOREIGN KEY ("rater_id") REFERENCES "public"."raters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production_runs" ADD CONSTRAINT "production_runs_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "raters" ADD CONSTRAINT "raters_vendor_id_vendors_id_fk" FOREIGN KEY ("vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_batches" ADD CONSTRAINT "task_batches_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_batch_id_task_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."task_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_vendor_id_vendors_id_fk" FOREIGN KEY ("vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_rater_id_raters_id_fk" FOREIGN KEY ("rater_id") REFERENCES "public"."raters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD CONSTRAINT "usage_ledger_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vendor_events" ADD CONSTRAINT "vendor_events_vendor_id_vendors_id_fk" FOREIGN KEY ("vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_entity" ON "audit_log" USING btree ("entity","entity_id");--> statement-breakpoint
CREATE UNIQUE INDEX "decision_log_request" ON "decision_log" USING btree ("program_id","request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "fix_cycles_item_hash" ON "fix_cycles" USING btree ("program_id","item_id","opened_for_hash");--> statement-breakpoint
CREATE INDEX "items_show" ON "items" USING btree ("show_id");--> statement-breakpoint
CREATE INDEX "items_updated" ON "items" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "judge_prompts_program_criterion" ON "judge_prompts" USING btree ("program_id","criterion");--> statement-breakpoint
CREATE UNIQUE INDEX "judgments_natural_key" ON "judgments" USING btree ("item_id","text_hash","criterion","agent","prompt_hash","model","sample_index");--> statement-breakpoint
CREATE INDEX "judgments_program" ON "judgments" USING btree ("program_id","criterion");--> statement-breakpoint
CREATE UNIQUE INDEX "labels_task_criterion" ON "labels" USING btree ("task_id","criterion");--> statement-breakpoint
CREATE INDEX "labels_program_phase" ON "labels" USING btree ("program_id","phase","round");--> statement-breakpoint
CREATE UNIQUE INDEX "raters_vendor_external" ON "raters" USING btree ("vendor_id","external_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_slot_attempt" ON "tasks" USING btree ("batch_id","item_id","slot","attempt");--> statement-breakpoint
CREATE INDEX "tasks_batch_status" ON "tasks" USING btree ("batch_id","status");--> statement-breakpoint
CREATE INDEX "tasks_rater" ON "tasks" USING btree ("rater_id");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_ledger_request" ON "usage_ledger" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "usage_ledger_program" ON "usage_ledger" USING btree ("program_id","phase");--> statement-breakpoint
CREATE UNIQUE INDEX "vendor_events_delivery" ON "vendor_events" USING btree ("vendor_id","delivery_id");--> statement-breakpoint
CREATE INDEX "vendor_events_unsignalled" ON "vendor_events" USING btree ("signalled_at") WHERE signalled_at IS NULL;