CREATE TABLE "program_item_set" (
	"program_id" text NOT NULL,
	"item_id" text NOT NULL,
	"selection_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "program_item_set_program_id_item_id_pk" PRIMARY KEY("program_id","item_id")
);
--> statement-breakpoint
CREATE TABLE "program_selections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"kind" text NOT NULL,
	"definition" jsonb NOT NULL,
	"added" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
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
ALTER TABLE "program_item_set" ADD CONSTRAINT "program_item_set_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_item_set" ADD CONSTRAINT "program_item_set_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_item_set" ADD CONSTRAINT "program_item_set_selection_id_program_selections_id_fk" FOREIGN KEY ("selection_id") REFERENCES "public"."program_selections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_selections" ADD CONSTRAINT "program_selections_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vendor_secrets" ADD CONSTRAINT "vendor_secrets_vendor_id_vendors_id_fk" FOREIGN KEY ("vendor_id") REFERENCES "public"."vendors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "program_selections_program" ON "program_selections" USING btree ("program_id");--> statement-breakpoint
CREATE INDEX "vendor_secrets_vendor" ON "vendor_secrets" USING btree ("vendor_id","purpose");