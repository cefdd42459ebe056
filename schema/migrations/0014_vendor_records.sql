CREATE TABLE "vendor_secrets" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"vendor_id" text NOT NULL,
	"purpose" text NOT NULL,
	"env_name" text,
	"sealed" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "vendor_secrets_one_source" CHECK (("vendor_secrets"."env_name" is null) <> ("vendor_secrets"."sealed" is null))
);
--> statement-breakpoint
ALTER TABLE "vendors" ALTER COLUMN "secrets" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "vendors" ADD COLUMN "roles" jsonb DEFAULT '["rate","review"]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "vendors" ADD COLUMN "removed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "vendor_secrets" ADD CONSTRAINT "vendor_secrets_vendor_id_vendors_id_fk" FOREIGN KEY ("vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "vendor_secrets_vendor" ON "vendor_secrets" USING btree ("vendor_id","purpose");