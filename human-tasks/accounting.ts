/**
 * What human work costs and how vendors perform: the rate-card price rule, a program's spend from
 * the usage ledger, and the vendor scorecard (tasks, SLA, turnaround, declines, reassignments and
 * spend per vendor and rater).
 */
import { eq, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { programSpendTotals, tasks } from '../schema/tables';

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
  // Kept current by the ledger's triggers (migration 0019): one row, however long the ledger.
  const [row] = await db
    .select({ human: programSpendTotals.humanUsd, llm: programSpendTotals.llmUsd })
    .from(programSpendTotals)
    .where(eq(programSpendTotals.programId, programId));
  const { human, llm } = row ?? { human: 0, llm: 0 };
  return { humanUsd: roundUsd(human), llmUsd: roundUsd(llm), totalUsd: roundUsd(human + llm) };
}

/** One row of the vendor scorecard: a vendor (raterId null, all its raters) or one of its raters. */
export interface VendorScore {
  vendorId: string;
  /** null on the vendor's own row; '' for tasks not yet assigned to a rater. */
  raterId: string | null;
  tasks: number;
  completed: number;
  declined: number;
  /** Tasks taken from the rater (SLA breach, rater paused) and given to another. */
  reassigned: number;
  expired: number;
  /**
   * Completed by the due time (a task with no due time cannot be late), over tasks whose outcome is
   * known (completed, expired, reassigned).
   */
  slaHitRate: number | null;
  /** Dispatch to completion, over completed tasks. */
  turnaroundP50Ms: number | null;
  turnaroundP95Ms: number | null;
  costUsd: number;
}

/**
 * The vendor scorecard, per vendor and per rater, of one program (or of every program): one
 * grouped statement (grouping sets) over the tasks, so `program status` stays a quick call.
 * Vendors in id order, each followed by its raters.
 */
export async function vendorReport(db: Pick<Db, 'execute'>, programId?: string): Promise<VendorScore[]> {
  const turnaround = (p: number) =>
    sql.raw(
      `percentile_cont(${p}) within group (order by extract(epoch from completed_at - dispatched_at) * 1000) filter (where status = 'completed')`,
    );
  const rows = await db.execute<{
    vendor_id: string;
    rater_id: string | null;
    is_vendor: number;
    tasks: number;
    completed: number;
    declined: number;
    reassigned: number;
    expired: number;
    on_time: number;
    decided: number;
    p50: number | null;
    p95: number | null;
    cost: number;
  }>(sql`
    select vendor_id, coalesce(rater_id, '') as rater_id, grouping(coalesce(rater_id, '')) as is_vendor,
      count(*)::int as tasks,
      count(*) filter (where status = 'completed')::int as completed,
      count(*) filter (where status = 'declined')::int as declined,
      count(*) filter (where status = 'reassigned')::int as reassigned,
      count(*) filter (where status = 'expired')::int as expired,
      count(*) filter (where status = 'completed' and (due_at is null or completed_at <= due_at))::int as on_time,
      count(*) filter (where status in ('completed', 'expired', 'reassigned'))::int as decided,
      ${turnaround(0.5)} as p50, ${turnaround(0.95)} as p95,
      coalesce(sum(cost_usd), 0)::float8 as cost
    from ${tasks}
    ${programId === undefined ? sql`` : sql`where program_id = ${programId}`}
    group by grouping sets ((vendor_id), (vendor_id, coalesce(rater_id, '')))
    order by vendor_id, is_vendor desc, 2`);
  return rows.map((r) => ({
    vendorId: r.vendor_id,
    raterId: r.is_vendor ? null : r.rater_id,
    tasks: r.tasks,
    completed: r.completed,
    declined: r.declined,
    reassigned: r.reassigned,
    expired: r.expired,
    slaHitRate: r.decided ? r.on_time / r.decided : null,
    turnaroundP50Ms: r.p50 === null ? null : Math.round(Number(r.p50)),
    turnaroundP95Ms: r.p95 === null ? null : Math.round(Number(r.p95)),
    costUsd: roundUsd(r.cost),
  }));
}

/** USD to the cent, as spend is shown and compared. */
export const roundUsd = (n: number) => Math.round(n * 100) / 100;
