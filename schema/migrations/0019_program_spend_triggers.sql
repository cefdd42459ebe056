-- Each program's spend kept with the usage ledger (program_spend, schema/tables/operations.ts): one
-- upsert per statement that writes ledger rows, from the statement's transition tables, so the
-- budget check before a production page reads one row instead of summing the program's ledger.
-- An INSERT ... ON CONFLICT DO UPDATE fires the insert trigger for its new rows and the update
-- trigger for the rows it changed. The source is chosen by event (a statement may name only the
-- event's own transition tables).
CREATE FUNCTION judgeflow_program_spend_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM program_spend;
    RETURN NULL;
  END IF;
  EXECUTE format(
    'INSERT INTO program_spend AS s (program_id, human_usd, llm_usd)
     SELECT program_id,
            coalesce(sum(cost_usd) FILTER (WHERE kind = ''human_task''), 0),
            coalesce(sum(cost_usd) FILTER (WHERE kind <> ''human_task''), 0)
     FROM (%s) delta WHERE program_id IS NOT NULL
     GROUP BY program_id ORDER BY program_id
     ON CONFLICT (program_id) DO UPDATE
       SET human_usd = s.human_usd + excluded.human_usd, llm_usd = s.llm_usd + excluded.llm_usd',
    CASE TG_OP
      WHEN 'INSERT' THEN 'SELECT program_id, kind, cost_usd FROM new_rows'
      WHEN 'DELETE' THEN 'SELECT program_id, kind, -cost_usd AS cost_usd FROM old_rows'
      ELSE 'SELECT program_id, kind, cost_usd FROM new_rows UNION ALL SELECT program_id, kind, -cost_usd FROM old_rows'
    END);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER usage_ledger_spend_insert AFTER INSERT ON usage_ledger
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_program_spend_apply();
--> statement-breakpoint
CREATE TRIGGER usage_ledger_spend_update AFTER UPDATE ON usage_ledger
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_program_spend_apply();
--> statement-breakpoint
CREATE TRIGGER usage_ledger_spend_delete AFTER DELETE ON usage_ledger
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_program_spend_apply();
--> statement-breakpoint
CREATE TRIGGER usage_ledger_spend_truncate AFTER TRUNCATE ON usage_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_program_spend_apply();
--> statement-breakpoint
-- What the ledger holds already (the triggers' lock on usage_ledger keeps writers out until commit).
INSERT INTO program_spend (program_id, human_usd, llm_usd)
SELECT program_id,
       coalesce(sum(cost_usd) FILTER (WHERE kind = 'human_task'), 0),
       coalesce(sum(cost_usd) FILTER (WHERE kind <> 'human_task'), 0)
FROM usage_ledger WHERE program_id IS NOT NULL
GROUP BY program_id;
