ALTER TABLE "golden_labels" ADD COLUMN "method" text DEFAULT 'llm' NOT NULL;--> statement-breakpoint
ALTER TABLE "golden_labels" ADD COLUMN "confidence" double precision;--> statement-breakpoint
ALTER TABLE "golden_labels" ADD COLUMN "ratings" integer;