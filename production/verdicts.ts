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
 * `item_verdicts` rows (aliased `v`) of `runKey` on their item's current text, with the verdict a retry
 * run decided since in place of an error (`verdict` column). Ordered by nothing; for use as a subquery.
 */
function effectiveVerdicts(runKey: string): SQL {
  return sql`
    select v.item_id, v.criterion, v.text_hash, coalesce(v.verdict, (
      select r.verdict from item_verdicts r join production_runs p on p.id = r.run_id
      where p.params->'selection'->>'kind' = 'errors' and p.params->'selection'->>'runKey' = ${runKey}
        and r.item_id = v.item_id and r.text_hash = v.text_hash and r.criterion = v.criterion and r.verdict is not null
      limit 1)) as verdict, v.summary
    from item_verdicts v join items i on i.id = v.item_id and i.text_hash = v.text_hash
    where v.run_id = ${runKey}`;
}

/** Item ids with a criterion still in error in `runKey` (its retries applied): what selection kind `errors` judges. */
export function erroredItemIdsSql(runKey: string): SQL {
  return sql`(select distinct e.item_id from (${effectiveVerdicts(runKey)}) e where e.verdict is null)`;
}

/** Per criterion: pass, fail and error counts of a run (its retries applied). */
export async function runVerdictCounts(db: Db, runKey: string): Promise<Record<string, CriterionVerdicts>> {
  const rows = await db.execute<{ criterion: string; pass: number; fail: number; error: number }>(sql`
    select e.criterion, count(*) filter (where e.verdict = 1)::int as pass, count(*) filter (where e.verdict = 0)::int as fail,
      count(*) filter (where e.verdict is null)::int as error
    from (${effectiveVerdicts(runKey)}) e group by e.criterion order by e.criterion`);
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
  const rows = await db.execute<{ item_id: string; criterion: string; summary: string }>(sql`
    select e.item_id, e.criterion, e.summary from (${effectiveVerdicts(runKey)}) e where e.verdict is null order by e.item_id, e.criterion`);
  const byCriterion: Record<string, number> = {};
  for (const r of rows) byCriterion[r.criterion] = (byCriterion[r.criterion] ?? 0) + 1;
  return {
    byCriterion,
    items: new Set(rows.map((r) => r.item_id)).size,
    samples: rows
      .slice(0, sampleSize)
      .map((r) => ({ itemId: r.item_id, criterion: r.criterion, error: r.summary.replace(/^error: /, '') })),
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
