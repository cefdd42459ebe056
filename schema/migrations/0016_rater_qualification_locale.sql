ALTER TABLE "rater_qualifications" DROP CONSTRAINT "rater_qualifications_program_id_rater_id_pk";--> statement-breakpoint
ALTER TABLE "rater_qualifications" ADD COLUMN "locale" text;--> statement-breakpoint
-- A qualification passed before locales were per locale counts for the program's default locale.
UPDATE "rater_qualifications" q SET "locale" = coalesce(p."spec" -> 'locales' -> 0 ->> 'code', p."spec" ->> 'locale', 'en-US') FROM "programs" p WHERE p."id" = q."program_id";--> statement-breakpoint
ALTER TABLE "rater_qualifications" ALTER COLUMN "locale" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "rater_qualifications" ADD CONSTRAINT "rater_qualifications_program_id_rater_id_locale_pk" PRIMARY KEY("program_id","rater_id","locale");
