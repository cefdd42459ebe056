-- Each run's verdicts per criterion kept with item_verdicts (run_verdict_tally, schema/tables/production.ts):
-- one upsert per statement that writes verdicts, from the statement's transition tables, so status
-- reads a row per criterion instead of counting a run's million index entries. As in 0019, an
-- INSERT ... ON CONFLICT DO UPDATE fires the insert trigger for its new rows and the update trigger
-- for the rows it changed (a verdict judged again replaces its old one: counted out, then in).
CREATE FUNCTION judgeflow_run_verdict_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM run_verdict_tally;
    RETURN NULL;
  END IF;
  EXECUTE format(
    'INSERT INTO run_verdict_tally AS t (run_id, criterion, pass, fail, error)
     SELECT run_id, criterion,
            coalesce(sum(sign) FILTER (WHERE verdict = 1), 0),
            coalesce(sum(sign) FILTER (WHERE verdict = 0), 0),
            coalesce(sum(sign) FILTER (WHERE verdict IS NULL), 0)
     FROM (%s) delta
     GROUP BY run_id, criterion ORDER BY run_id, criterion
     ON CONFLICT (run_id, criterion) DO UPDATE
       SET pass = t.pass + excluded.pass, fail = t.fail + excluded.fail, error = t.error + excluded.error',
    CASE TG_OP
      WHEN 'INSERT' THEN 'SELECT run_id, criterion, verdict, 1 AS sign FROM new_rows'
      WHEN 'DELETE' THEN 'SELECT run_id, criterion, verdict, -1 AS sign FROM old_rows'
      ELSE 'SELECT run_id, criterion, verdict, 1 AS sign FROM new_rows UNION ALL SELECT run_id, criterion, verdict, -1 FROM old_rows'
    END);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER item_verdicts_tally_insert AFTER INSERT ON item_verdicts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_run_verdict_tally_apply();
--> statement-breakpoint
CREATE TRIGGER item_verdicts_tally_update AFTER UPDATE ON item_verdicts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_run_verdict_tally_apply();
--> statement-breakpoint
CREATE TRIGGER item_verdicts_tally_delete AFTER DELETE ON item_verdicts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_run_verdict_tally_apply();
--> statement-breakpoint
CREATE TRIGGER item_verdicts_tally_truncate AFTER TRUNCATE ON item_verdicts
  FOR EACH STATEMENT EXECUTE FUNCTION judgeflow_run_verdict_tally_apply();
--> statement-breakpoint
-- What item_verdicts holds already (the triggers' lock on item_verdicts keeps writers out until commit).
INSERT INTO run_verdict_tally (run_id, criterion, pass, fail, error)
SELECT run_id, criterion,
       count(*) FILTER (WHERE verdict = 1), count(*) FILTER (WHERE verdict = 0), count(*) FILTER (WHERE verdict IS NULL)
FROM item_verdicts
GROUP BY run_id, criterion;
