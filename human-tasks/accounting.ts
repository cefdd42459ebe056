/**
 * What human work costs and how vendors perform: the rate-card price rule, a program's spend from
 * the usage ledger, and per-vendor SLA and turnaround figures.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { tasks, usageLedger } from '../schema/tables';

export type Spend = {
  humanUsd: number;
  llmUsd: number;
  totalUsd: number;
};

/** What a vendor charges for one task of `kind`: its rate card's price for the kind, else its per-task price. */
export function taskCostUsd(rateCard: unknown, kind: string): number {
  const card = rateCard as Record<string, number>;
  return card[kind] ?? card.perTask ?? 0;
}

export async function programSpend(db: Db, programId: string): Promise<Spend> {
  const [row] = await db
    .select({
      human: sql<number>`coalesce(sum(${usageLedger.costUsd}) filter (where ${usageLedger.kind} = 'human_task'), 0)::float8`,
      llm: sql<number>`coalesce(sum(${usageLedger.costUsd}) filter (where ${usageLedger.kind} <> 'human_task'), 0)::float8`,
    })
    .from(usageLedger)
    .where(eq(usageLedger.programId, programId));
  return { humanUsd: round2(row.human), llmUsd: round2(row.llm), totalUsd: round2(row.human + row.llm) };
}

export interface VendorStats {
  vendorId: string;
  tasks: number;
  completed: number;
  /** Completed by the due time, over tasks whose outcome is known (completed, expired, reassigned). */
  slaHitRate: number | null;
  turnaroundP50Ms: number | null;
  turnaroundP95Ms: number | null;
  costUsd: number;
}

export async function vendorReport(db: Db, programId: string): Promise<VendorStats[]> {
  const rows = await db
    .select({
      vendorId: tasks.vendorId,
      tasks: sql<number>`count(*)::int`,
      completed: sql<number>`count(*) filter (where ${tasks.status} = 'completed')::int`,
      onTime: sql<number>`count(*) filter (where ${tasks.status} = 'completed' and ${tasks.completedAt} <= ${tasks.dueAt})::int`,
      decided: sql<number>`count(*) filter (where ${tasks.status} in ('completed', 'expired', 'reassigned'))::int`,
      p50: sql<number | null>`percentile_cont(0.5) within group (order by extract(epoch from ${tasks.completedAt} - ${tasks.dispatchedAt}) * 1000) filter (where ${tasks.status} = 'completed')`,
      p95: sql<number | null>`percentile_cont(0.95) within group (order by extract(epoch from ${tasks.completedAt} - ${tasks.dispatchedAt}) * 1000) filter (where ${tasks.status} = 'completed')`,
      cost: sql<number>`coalesce(sum(${tasks.costUsd}), 0)::float8`,
    })
    .from(tasks)
    .where(eq(tasks.programId, programId))
    .groupBy(tasks.vendorId);
  return rows.map((r) => ({
    vendorId: r.vendorId,
    tasks: r.tasks,
    completed: r.completed,
    slaHitRate: r.decided ? r.onTime / r.decided : null,
    turnaroundP50Ms: r.p50 === null ? null : Math.round(Number(r.p50)),
    turnaroundP95Ms: r.p95 === null ? null : Math.round(Number(r.p95)),
    costUsd: round2(r.cost),
  }));
}

const round2 = (n: number) => Math.round(n * 100) / 100;
