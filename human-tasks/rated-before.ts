/** Distinct raters across the batches of one phase: an item's ratings come from different raters. */
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { taskBatches, tasks } from '../schema/tables';

/**
 * Raters who already had a rating task for these items in another batch of the same program, phase
 * and round — an earlier wave of the golden set's adaptive redundancy — by item: another rating of
 * an item must come from another rater. Empty for any other kind of task.
 */
export async function ratedInEarlierBatches(
  db: Db,
  batchId: string,
  kind: string,
  itemIds: string[],
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (kind !== 'rate' || !itemIds.length) return out;
  const rows = await db.execute<{ item_id: string; rater_id: string }>(sql`
    select t.item_id, t.rater_id from ${tasks} t
    join ${taskBatches} b on b.id = t.batch_id
    join ${taskBatches} mine on mine.id = ${batchId}
    where t.program_id = mine.program_id and t.batch_id <> mine.id and t.kind = 'rate'
      and b.phase = mine.phase and b.round is not distinct from mine.round
      and t.item_id in (${sql.join(
        itemIds.map((id) => sql`${id}`),
        sql`, `,
      )}) and t.rater_id is not null`);
  for (const r of rows) out.set(r.item_id, (out.get(r.item_id) ?? new Set()).add(r.rater_id));
  return out;
}
