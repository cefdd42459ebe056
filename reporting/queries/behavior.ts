/** The report's validation of the judges against member behaviour, from imported metrics. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../platform/db';
import { behaviorMetrics, itemVerdicts, items } from '../../schema/tables';
import { validateBehavior, type BehaviorObservation, type BehaviorValidation } from '../behavior/analysis';
import { programRow, readTargets } from './program';

/**
 * Judge scores per synopsis for the behaviour analysis: the latest consensus verdict per criterion on
 * the item's current text (a production run's or the fix loop's), joined with imported member metrics.
 */
export async function loadBehaviorObservations(
  db: Db,
  programId: string,
  criteria: string[],
  period = 'all',
): Promise<BehaviorObservation[]> {
  const rows = await db.execute<{
    item_id: string;
    show_id: string;
    criterion: string;
    verdict: number;
    take_fraction: number;
    abandonment_rate: number;
  }>(sql`
    select distinct on (v.item_id, v.criterion) v.item_id, i.show_id, v.criterion, v.verdict, b.take_fraction, b.abandonment_rate
    from ${itemVerdicts} v
    join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
    join ${behaviorMetrics} b on b.item_id = v.item_id and b.period = ${period}
    where v.program_id = ${programId} and v.verdict is not null
    order by v.item_id, v.criterion, v.created_at desc`);
  const byItem = new Map<string, BehaviorObservation>();
  for (const r of rows) {
    const o = byItem.get(r.item_id) ?? {
      itemId: r.item_id,
      showId: r.show_id,
      scores: {},
      takeFraction: r.take_fraction,
      abandonmentRate: r.abandonment_rate,
    };
    o.scores[r.criterion] = r.verdict;
    byItem.set(r.item_id, o);
  }
  return [...byItem.values()].filter((o) => criteria.every((c) => c in o.scores));
}

/** The behaviour validation of a program's criteria (equal weights); null without metrics. */
export async function programBehaviorValidation(db: Db, programId: string): Promise<BehaviorValidation | null> {
  const { criteria } = readTargets((await programRow(db, programId)).spec);
  const observations = criteria.length ? await loadBehaviorObservations(db, programId, criteria) : [];
  return observations.length ? validateBehavior(observations, { criteria }) : null;
}
