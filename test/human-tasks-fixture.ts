/**
 * A small world for the human-task tests (seeded by scripts/sim/vendor/world.ts, which the gateway
 * benchmark uses too), vendor secrets, and a way to snapshot every table the gateway may write.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';

export { newSecret } from '../vendors/signing';
export { insertSimVendor, seedWorld } from '../scripts/sim/vendor/world';

/** Row counts and task statuses: what "leaves the database unchanged" compares. */
export async function snapshot(db: Db) {
  const count = async (table: string) =>
    ((await db.execute(sql.raw(`select count(*)::int as n from ${table}`))) as unknown as { n: number }[])[0].n;
  const statuses = (await db.execute(
    sql`select id, status, rater_id, cost_usd from tasks order by id`,
  )) as unknown as unknown[];
  return {
    vendorEvents: await count('vendor_events'),
    labels: await count('labels'),
    ledger: await count('usage_ledger'),
    revisions: await count('item_revisions'),
    raters: await count('raters'),
    tasks: statuses,
  };
}
