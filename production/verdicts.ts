/**
 * What a production run decided, per criterion, with errors as errors (an item × criterion whose
 * judgment errored has `item_verdicts.verdict` null: never a pass, never left out of a count).
 *
 * A run's errored keys can be judged again by a retry run (`judge run --retry-errors --run-id R`): a
 * production run whose selection is `{ kind: 'errors', runKey: R }`. Its verdicts are stored under its
 * own run key, and a retry's decided verdict supersedes the error of R it was run for — so R's
 * counts here, and the errors left to retry, are R's verdicts with its retries applied.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../platform/db';

export type CriterionVerdicts = { pass: number; fail: number; error: number };

/** The run keys of the retry runs of `runKey` (oldest first). */
export async function retryRunKeys(db: Db, runKey: string): Promise<{ runKey: string; status: string }[]> {
  const rows = await db.execute<{ id: string; status: string }>(sql`
    select id, status from production_runs
    where params->'selection'->>'kind' = 'errors' and params->'selection'->>'runKey' = ${runKey}
    order by started_at, id`);
  return rows.map((r) => ({ runKey: r.id, status: r.status }));
}

/**
 * The errors of `runKey` (`item_verdicts` rows with a null verdict) on their item's current text, with
 * the verdict a retry run decided since (`verdict` column, null while still in error). Read through
 * the index on (run_id, verdict): a run of a million items reads its errors only.
 */
function runErrorVerdicts(runKey: string): SQL {
  return sql`
    select v.item_id, v.criterion, v.text_hash, d.verdict, v.summary
    from item_verdicts v join items i on i.id = v.item_id and i.text_hash = v.text_hash
    -- a join, not a subquery in the select list: each of the counts reading it would run it again
    left join lateral (
      select r.verdict from item_verdicts r join production_runs p on p.id = r.run_id
      where p.params->'selection'->>'kind' = 'errors' and p.params->'selection'->>'runKey' = ${runKey}
        and r.item_id = v.item_id and r.text_hash = v.text_hash and r.criterion = v.criterion and r.verdict is not null
      limit 1) d on true
    where v.run_id = ${runKey} and v.verdict is null`;
}

/** Item ids with a criterion still in error in `runKey` (its retries applied): what selection kind `errors` judges. */
export function erroredItemIdsSql(runKey: string): SQL {
  return sql`(select distinct e.item_id from (${runErrorVerdicts(runKey)}) e where e.verdict is null)`;
}

/**
 * Per criterion: pass, fail and error counts of a run on its items' current texts, its retries
 * applied. Status asks this during a run of a million items, so it never counts the run's verdicts:
 * their totals are run_verdict_tally's row per criterion (kept by triggers, migration 0021), then
 * those on a text edited since (only items updated after the run started can have one: the
 * items_updated index) are taken out, and the errors a retry decided move to pass or fail.
 */
export async function runVerdictCounts(db: Db, runKey: string): Promise<Record<string, CriterionVerdicts>> {
  const rows = await db.execute<{ criterion: string; pass: number; fail: number; error: number }>(sql`
    with tally as (
      select criterion, pass, fail, error from run_verdict_tally where run_id = ${runKey}
      union all
      select v.criterion, -count(*) filter (where v.verdict = 1), -count(*) filter (where v.verdict = 0),
        -count(*) filter (where v.verdict is null)
      from items i cross join lateral (
        -- offset 0 keeps this a lookup per edited item (flattened, it became a scan of every verdict)
        select v.criterion, v.verdict from item_verdicts v
        where v.run_id = ${runKey} and v.item_id = i.id and v.text_hash <> i.text_hash offset 0) v
      where i.updated_at >= coalesce((select started_at from production_runs where id = ${runKey}), '-infinity')
      group by v.criterion
      union all
      select e.criterion, count(*) filter (where e.verdict = 1), count(*) filter (where e.verdict = 0),
        -count(*) filter (where e.verdict is not null)
      from (${runErrorVerdicts(runKey)}) e group by e.criterion)
    select criterion, sum(pass)::int as pass, sum(fail)::int as fail, sum(error)::int as error
    from tally group by criterion having sum(pass) + sum(fail) + sum(error) > 0 order by criterion`);
  return Object.fromEntries(rows.map((r) => [r.criterion, { pass: r.pass, fail: r.fail, error: r.error }]));
}

/** The errors still open in a run (its retries applied): count of item × criterion keys per criterion, and the first messages. */
export async function runErrors(
  db: Db,
  runKey: string,
  sampleSize = 3,
): Promise<{
  byCriterion: Record<string, number>;
  items: number;
  samples: { itemId: string; criterion: string; error: string }[];
}> {
  // Counted in SQL: a provider outage can leave every item of a large run in error.
  const open = sql`select * from (${runErrorVerdicts(runKey)}) e where e.verdict is null`;
  const [perCriterion, [{ items }], samples] = await Promise.all([
    db.execute<{ criterion: string; n: number }>(
      sql`select criterion, count(*)::int as n from (${open}) o group by criterion order by criterion`,
    ),
    db.execute<{ items: number }>(sql`select count(distinct item_id)::int as items from (${open}) o`),
    db.execute<{ item_id: string; criterion: string; summary: string }>(
      sql`select item_id, criterion, summary from (${open}) o order by item_id, criterion limit ${sampleSize}`,
    ),
  ]);
  return {
    byCriterion: Object.fromEntries(perCriterion.map((r) => [r.criterion, r.n])),
    items,
    samples: samples.map((r) => ({
      itemId: r.item_id,
      criterion: r.criterion,
      error: r.summary.replace(/^error: /, ''),
    })),
  };
}

/** `tone 480 pass · 15 fail · 5 errors, clarity …`: a run's verdicts per criterion in one line. */
export function formatVerdictCounts(counts: Record<string, CriterionVerdicts>): string {
  const entries = Object.entries(counts);
  if (!entries.length) return 'no verdicts yet';
  return entries
    .map(([c, v]) => `${c} ${v.pass} pass · ${v.fail} fail · ${v.error} error${v.error === 1 ? '' : 's'}`)
    .join(', ');
}
