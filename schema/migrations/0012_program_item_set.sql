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
ALTER TABLE "program_item_set" ADD CONSTRAINT "program_item_set_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_item_set" ADD CONSTRAINT "program_item_set_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_item_set" ADD CONSTRAINT "program_item_set_selection_id_program_selections_id_fk" FOREIGN KEY ("selection_id") REFERENCES "public"."program_selections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_selections" ADD CONSTRAINT "program_selections_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "program_selections_program" ON "program_selections" USING btree ("program_id");