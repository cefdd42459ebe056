/** A program's golden items per locale (a golden label's locale is its item's), with their dev/test split. */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { goldenLabels, items } from '../schema/tables';

/** Each locale's golden items, in locale order: what `program status` and the report count alike. */
export function goldenItemsByLocale(db: Db, programId: string) {
  return db
    .select({
      locale: items.locale,
      items: sql<number>`count(distinct ${goldenLabels.itemId})::int`,
      dev: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.split} = 'dev')::int`,
      test: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.split} = 'test')::int`,
    })
    .from(goldenLabels)
    .innerJoin(items, eq(items.id, goldenLabels.itemId))
    .where(eq(goldenLabels.programId, programId))
    .groupBy(items.locale)
    .orderBy(items.locale);
}
