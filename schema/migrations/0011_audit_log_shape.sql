ALTER TABLE "audit_log" ADD COLUMN "before" jsonb;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "after" jsonb;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "request_id" text;--> statement-breakpoint
CREATE INDEX "audit_log_program_time" ON "audit_log" USING btree ("program_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_request" ON "audit_log" USING btree ("request_id","action","entity","entity_id");