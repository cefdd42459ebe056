/**
 * Where a batch-mode production run's batches are, from their records: what `judge status` prints
 * beside the run's progress. Apart from batch judging (batch.ts) so status loads no LLM client.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { productionRuns, providerBatches } from '../schema/tables';

export interface BatchProgress {
  /** Set when the provider has no Batch API: the run judges over the sync API instead. */
  warning?: string;
  submitted: number;
  /** Submitted and not ingested yet: still at the provider. */
  open: number;
  ingested: number;
  lines: number;
  byStatus: Record<string, number>;
}

/** A batch-mode run's batches, from their records (the run's own progress counts finished shards only). */
export async function batchProgress(db: Db, runKey: string): Promise<BatchProgress> {
  const rows = await db
    .select({
      status: providerBatches.status,
      ingested: sql<boolean>`${providerBatches.ingestedAt} is not null`,
      n: sql<number>`count(*)::int`,
      lines: sql<number>`sum(${providerBatches.requestCount})::int`,
    })
    .from(providerBatches)
    .where(eq(providerBatches.runId, runKey))
    .groupBy(providerBatches.status, sql`${providerBatches.ingestedAt} is not null`);
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
  const [run] = await db
    .select({ params: productionRuns.params })
    .from(productionRuns)
    .where(eq(productionRuns.id, runKey));
  const warning = typeof run?.params.batchWarning === 'string' ? run.params.batchWarning : undefined;
  return {
    ...(warning ? { warning } : {}),
    submitted: sum((r) => r.n),
    open: sum((r) => (r.ingested ? 0 : r.n)),
    ingested: sum((r) => (r.ingested ? r.n : 0)),
    lines: sum((r) => r.lines),
    byStatus,
  };
}
