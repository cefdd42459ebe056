/** The catalog's part of the report: production runs' pass rates, and the writer fix loop's outcomes. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db';
import { fixAttempts, fixCycles, itemVerdicts, items, productionRuns } from '../../schema/tables';
import type { ProgramReport } from '../model';
import { ratio } from './values';

export type Tally = { passed: number; failed: number; errors: number };
/** Verdicts counted as passed, failed and in error, over rows with a `verdict` column. */
export const TALLY = sql`count(*) filter (where verdict = 1)::int as passed, count(*) filter (where verdict = 0)::int as failed,
  count(*) filter (where verdict is null)::int as errors`;
/** An error is never a pass: it counts in the denominator. */
export const rate = (c: Tally) => ratio(c.passed, c.passed + c.failed + c.errors);

/** The catalog as it stands: each item's latest verdict per criterion on its current text (fixes included), with its locale. */
export const latestVerdicts = (programId: string) => sql`
  select distinct on (v.item_id, v.criterion) i.locale, v.criterion, v.verdict
  from ${itemVerdicts} v join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
  where v.program_id = ${programId}
  order by v.item_id, v.criterion, v.created_at desc`;

export async function productionSection(db: Db, programId: string): Promise<ProgramReport['production']> {
  const runs = await db
    .select({
      id: productionRuns.id,
      mode: productionRuns.mode,
      status: productionRuns.status,
      totalItems: productionRuns.totalItems,
      judgedItems: productionRuns.judgedItems,
      failedItems: productionRuns.failedItems,
    })
    .from(productionRuns)
    .where(eq(productionRuns.programId, programId))
    .orderBy(asc(productionRuns.startedAt));
  const tally = {
    passed: sql<number>`count(*) filter (where verdict = 1)::int`,
    failed: sql<number>`count(*) filter (where verdict = 0)::int`,
    errors: sql<number>`count(*) filter (where verdict is null)::int`,
  };
  // production runs only: re-judging a writer's revision records verdicts under its own run id
  const perRun = await db
    .select({ runId: itemVerdicts.runId, criterion: itemVerdicts.criterion, ...tally })
    .from(itemVerdicts)
    .innerJoin(productionRuns, eq(productionRuns.id, itemVerdicts.runId))
    .where(eq(itemVerdicts.programId, programId))
    .groupBy(itemVerdicts.runId, itemVerdicts.criterion)
    .orderBy(asc(itemVerdicts.runId), asc(itemVerdicts.criterion));
  const current = await db.execute<Tally & { criterion: string }>(sql`
    select criterion, ${TALLY} from (${latestVerdicts(programId)}) latest group by criterion order by criterion`);
  return {
    runs,
    criteria: perRun.map((c) => ({ ...c, passRate: rate(c) })),
    current: current.map((c) => ({
      criterion: c.criterion,
      passed: c.passed,
      failed: c.failed,
      errors: c.errors,
      passRate: rate(c),
    })),
  };
}

export async function fixLoopSection(db: Db, programId: string): Promise<ProgramReport['fixLoop']> {
  const cycles = await db
    .select({ status: fixCycles.status, count: sql<number>`count(*)::int` })
    .from(fixCycles)
    .where(eq(fixCycles.programId, programId))
    .groupBy(fixCycles.status)
    .orderBy(asc(fixCycles.status));
  const attempts = await db
    .select({ outcome: sql<string>`coalesce(${fixAttempts.outcome}, 'pending')`, count: sql<number>`count(*)::int` })
    .from(fixAttempts)
    .innerJoin(fixCycles, eq(fixCycles.id, fixAttempts.fixCycleId))
    .where(eq(fixCycles.programId, programId))
    .groupBy(sql`1`)
    .orderBy(sql`1`);
  const [passed] = await db
    .select({ mean: sql<number | null>`avg(${fixCycles.attempts})::float8` })
    .from(fixCycles)
    .where(and(eq(fixCycles.programId, programId), eq(fixCycles.status, 'passed')));
  const needsReview = await db
    .select({ itemId: fixCycles.itemId, attempt: fixAttempts.attempt, errors: fixAttempts.errors })
    .from(fixCycles)
    .innerJoin(fixAttempts, and(eq(fixAttempts.fixCycleId, fixCycles.id), eq(fixAttempts.attempt, fixCycles.attempts)))
    .where(and(eq(fixCycles.programId, programId), eq(fixCycles.status, 'needs_review')))
    .orderBy(sql`${fixCycles.closedAt} desc nulls last`, asc(fixCycles.itemId))
    .limit(50);
  return {
    cycles,
    attempts,
    meanAttemptsToPass: passed?.mean ?? null,
    needsReview: needsReview.map((r) => ({ itemId: r.itemId, attempt: r.attempt, errors: r.errors ?? {} })),
  };
}
