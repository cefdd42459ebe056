-- A fix attempt whose re-judge still errored after its retries ends needs_review (never passed);
-- errors holds its errored criteria with the judge's error (criterion -> message).
ALTER TABLE "fix_attempts" ADD COLUMN "errors" jsonb;
