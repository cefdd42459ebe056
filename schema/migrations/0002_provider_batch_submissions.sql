ALTER TABLE "provider_batches" ADD COLUMN "page" integer NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_batches" ADD COLUMN "attempt" integer NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_batches" ADD COLUMN "ingested_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "provider_batches_submission" ON "provider_batches" USING btree ("run_id","shard","page","attempt");