/**
 * What human work costs and how vendors perform: the rate-card price rule, a program's spend from
 * the usage ledger, and per-vendor SLA and turnaround figures.
 */
import { eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { tasks, usageLedger } from '../schema/tables';

export type Spend = {
  humanUsd: number;
  llmUsd: number;
  totalUsd: number;
};

/**
 * What a vendor charges for one task of `kind`, as an SQL expression: the rule is written once, as
 * the database function judgeflow_task_cost_usd (schema/migrations/0003_human_task_price.sql: the
 * card's price for the kind, else its perTask price, else 0; a non-numeric price is an error).
 * `kind` may be a column (a task's kind) or a value. The card goes as text, then cast, so it does
 * not depend on the client's json serializers (as in the gateway's batched statement).
 */
export function taskCostSql(rateCard: unknown, kind: SQLWrapper | string): SQL<number> {
  return sql<number>`judgeflow_task_cost_usd(${JSON.stringify(rateCard ?? null)}::text::jsonb, ${kind}::text)`;
}

/** What a vendor charges for one task of `kind`, priced by the database (see taskCostSql). */
export async function taskCostUsd(db: Pick<Db, 'execute'>, rateCard: unknown, kind: string): Promise<number> {
  const [row] = await db.execute<{ cost: number }>(sql`select ${taskCostSql(rateCard, kind)} as cost`);
  return row.cost;
}

export async function programSpend(db: Db, programId: string): Promise<Spend> {
  const [row] = await db
    .select({
      human: sql<number>`coalesce(sum(${usageLedger.costUsd}) filter (where ${usageLedger.kind} = 'human_task'), 0)::float8`,
      llm: sql<number>`coalesce(sum(${usageLedger.costUsd}) filter (where ${usageLedger.kind} <> 'human_task'), 0)::float8`,
    })
    .from(usageLedger)
    .where(eq(usageLedger.programId, programId));
  return { humanUsd: roundUsd(row.human), llmUsd: roundUsd(row.llm), totalUsd: roundUsd(row.human + row.llm) };
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
      p50: sql<
        number | null
      >`percentile_cont(0.5) within group (order by extract(epoch from ${tasks.completedAt} - ${tasks.dispatchedAt}) * 1000) filter (where ${tasks.status} = 'completed')`,
      p95: sql<
        number | null
      >`percentile_cont(0.95) within group (order by extract(epoch from ${tasks.completedAt} - ${tasks.dispatchedAt}) * 1000) filter (where ${tasks.status} = 'completed')`,
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
    costUsd: roundUsd(r.cost),
  }));
}

/** USD to the cent, as spend is shown and compared. */
export const roundUsd = (n: number) => Math.round(n * 100) / 100;
