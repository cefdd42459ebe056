/** Storing golden labels, whichever method made them, and the dev/test split they keep. */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { goldenLabels } from '../schema/tables';

/** dev or test, by a hash of program and item: stable, independent of the order items arrive in. */
export function splitOf(programId: string, itemId: string, testShare: number): 'dev' | 'test' {
  const h = createHash('sha256').update(`${programId}\0${itemId}`).digest().readUInt32BE(0);
  return h / 2 ** 32 < testShare ? 'test' : 'dev';
}

/** Stores golden labels; a reviewed label is never overwritten. */
export async function upsertGoldenLabels(db: Db, values: (typeof goldenLabels.$inferInsert)[]) {
  if (!values.length) return;
  await db
    .insert(goldenLabels)
    .values(values)
    .onConflictDoUpdate({
      target: [goldenLabels.programId, goldenLabels.itemId, goldenLabels.criterion],
      set: {
        label: sql`excluded.label`,
        explanation: sql`excluded.explanation`,
        source: sql`excluded.source`,
        method: sql`excluded.method`,
        confidence: sql`excluded.confidence`,
        ratings: sql`excluded.ratings`,
        needsReview: sql`excluded.needs_review`,
        split: sql`excluded.split`,
      },
      setWhere: sql`${goldenLabels.reviewed} = false`,
    });
}
