/**
 * Production judging bookkeeping: which items a run covers (keyset pages over items.id, so a shard is
 * just an id range and no workflow ever carries the catalog), the production_runs row, which items
 * failed, and the fix cycles of the writer loop. Every write is an upsert or sets absolute values,
 * so a retried activity changes nothing.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import {
  fixAttempts,
  fixCycles,
  items,
  judgePrompts,
  productionRuns,
  programItemSet,
  programs,
  tasks,
  vendors,
} from '../schema/tables';
import type { Db } from '../platform/db';
import type { ActivityDeps } from '../activities/deps';
import { programSpend, taskCostUsd } from '../human-tasks/accounting';
import { erroredItemIdsSql } from './verdicts';
import { programItemsWhere } from '../catalog/item-set';

/**
 * Which items a production run judges. `changedSince` is pre-launch detection: new or edited synopses,
 * and synopses new to the program's item set;
 * `errors`: the items with a criterion still in error in run `runKey` (`judge run --retry-errors`,
 * production/verdicts.ts).
 */
export type ItemSelection =
  | {
      kind: 'all';
      limit?: number;
      /** Only this locale's items (a multilingual program's run per locale). */
      locale?: string;
    }
  | { kind: 'changedSince'; since: string; limit?: number }
  | { kind: 'items'; itemIds: string[] }
  | { kind: 'errors'; runKey: string; limit?: number };

/** The items of a selection within the program's item set with id in (after, through], in id order. */
function selectionWhere(programId: string, selection: ItemSelection, after: string | null, through: string | null) {
  const parts = [programItemsWhere(programId)];
  if (after !== null) parts.push(sql`${items.id} > ${after}`);
  if (through !== null) parts.push(sql`${items.id} <= ${through}`);
  if (selection.kind === 'all' && selection.locale) parts.push(sql`${items.locale} = ${selection.locale}`);
  // Changed since: edited or created, or new to the program's items (an import into it of synopses it never had).
  if (selection.kind === 'changedSince')
    parts.push(sql`(${items.updatedAt} >= ${selection.since} or exists (
      select 1 from ${programItemSet} s where s.program_id = ${programId} and s.item_id = ${items.id} and s.created_at >= ${selection.since}))`);
  if (selection.kind === 'items')
    parts.push(sql`${items.id} in ${selection.itemIds.length ? selection.itemIds : ['']}`);
  if (selection.kind === 'errors') parts.push(sql`${items.id} in ${erroredItemIdsSql(selection.runKey)}`);
  return sql.join(parts, sql` and `);
}

export async function listSelection(
  db: Db,
  programId: string,
  selection: ItemSelection,
  after: string | null,
  through: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(
    sql`select ${items.id} as id from ${items} where ${selectionWhere(programId, selection, after, through)} order by ${items.id} limit ${limit}`,
  );
  return rows.map((r) => r.id);
}

/** The items of a selection, up to its limit. */
async function selectionTotal(db: Db, programId: string, selection: ItemSelection): Promise<number> {
  const [{ n }] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from ${items} where ${selectionWhere(programId, selection, null, null)}`,
  );
  const limit = 'limit' in selection ? selection.limit : undefined;
  return limit === undefined ? n : Math.min(n, limit);
}

export interface ShardRange {
  /** Items with id in (after, through]. */
  after: string | null;
  through: string;
  count: number;
}

/** Whether a fix attempt started, or what the budget is short of. */
export type FixAttemptStart =
  { started: true } | { started: false; committedUsd: number; writeUsd: number; budgetUsd: number };

export interface FailingItem {
  itemId: string;
  failingCriteria: string[];
  /**
   * Criteria whose judgment errored (verdict null) or that have no verdict at all: never a pass.
   * Listed only when `failingItems` is given the criteria to expect.
   */
  erroredCriteria?: string[];
  /** The judge's error per errored criterion (from the verdict's summary). */
  errors?: Record<string, string>;
}

/** How an attempt of the writer fix loop ended; `needs_review`: the re-judge still errored after its retries. */
export type FixAttemptOutcome = 'passed' | 'failed' | 'escalated' | 'needs_review';

export function createProductionActivities({ db }: ActivityDeps) {
  return {
    /** Records the run (idempotently) and counts the items it covers. */
    async startProductionRun(input: {
      programId: string;
      runKey: string;
      mode: string;
      selection: ItemSelection;
      params: Record<string, unknown>;
    }): Promise<{ total: number }> {
      const total = await selectionTotal(db, input.programId, input.selection);
      await db
        .insert(productionRuns)
        .values({
          id: input.runKey,
          programId: input.programId,
          mode: input.mode,
          params: { ...input.params, selection: input.selection },
          totalItems: total,
        })
        .onConflictDoUpdate({ target: productionRuns.id, set: { totalItems: total, status: 'running' } });
      return { total };
    },

    /** How many items a run over `selection` would judge (a locale no judge was validated for: the items it skips). */
    async countSelection(input: { programId: string; selection: ItemSelection }): Promise<number> {
      return selectionTotal(db, input.programId, input.selection);
    },

    /** The next shard after `after`: at most `size` items, returned as an id range. */
    async nextShard(input: {
      programId: string;
      selection: ItemSelection;
      after: string | null;
      size: number;
    }): Promise<ShardRange | null> {
      const [row] = await db.execute<{ through: string | null; count: number }>(sql`
        select max(id) as through, count(*)::int as count from (
          select ${items.id} as id from ${items} where ${selectionWhere(input.programId, input.selection, input.after, null)} order by ${items.id} limit ${input.size}
        ) page`);
      return row.through === null ? null : { after: input.after, through: row.through, count: row.count };
    },

    /** The next page of a shard's items (what one judging activity takes). */
    async shardItems(input: {
      programId: string;
      selection: ItemSelection;
      after: string | null;
      through: string;
      limit: number;
    }): Promise<string[]> {
      return listSelection(db, input.programId, input.selection, input.after, input.through, input.limit);
    },

    /** Absolute progress values, so a retry or a replay writes the same row. */
    async updateProductionRun(input: {
      runKey: string;
      judged: number;
      failed: number;
      status?: 'running' | 'completed' | 'failed' | 'cancelled';
    }): Promise<void> {
      await db
        .update(productionRuns)
        .set({
          judgedItems: input.judged,
          failedItems: input.failed,
          ...(input.status ? { status: input.status } : {}),
          ...(input.status === 'completed' ? { finishedAt: new Date() } : {}),
        })
        .where(eq(productionRuns.id, input.runKey));
    },

    /**
     * Items of a run (among `itemIds`) whose current text fails a criterion, with the criteria failed.
     * Given `criteria`, also the items with a criterion in error — verdict null, or no verdict of
     * the current text at all — listed in `erroredCriteria` (an error is never a pass); without it,
     * only failing items (what a production shard sends to writers: an error is not the writer's to fix).
     */
    async failingItems(input: { runKey: string; itemIds: string[]; criteria?: string[] }): Promise<FailingItem[]> {
      if (!input.itemIds.length) return [];
      if (!input.criteria) {
        const rows = await db.execute<{ item_id: string; criteria: string[] }>(sql`
          select v.item_id, array_agg(v.criterion order by v.criterion) as criteria
          from item_verdicts v join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
          where v.run_id = ${input.runKey} and v.item_id in ${input.itemIds} and v.verdict = 0
          group by v.item_id order by v.item_id`);
        return rows.map((r) => ({ itemId: r.item_id, failingCriteria: r.criteria }));
      }
      const rows = await db.execute<{
        item_id: string;
        criterion: string;
        verdict: number | null;
        summary: string;
      }>(sql`
        select v.item_id, v.criterion, v.verdict, v.summary
        from item_verdicts v join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
        where v.run_id = ${input.runKey} and v.item_id in ${input.itemIds}`);
      const byItem = new Map<string, Map<string, { verdict: number | null; summary: string }>>();
      for (const r of rows) byItem.set(r.item_id, (byItem.get(r.item_id) ?? new Map()).set(r.criterion, r));
      const out: FailingItem[] = [];
      for (const itemId of [...new Set(input.itemIds)].sort()) {
        const verdicts = byItem.get(itemId) ?? new Map<string, { verdict: number | null; summary: string }>();
        const criteria = [...input.criteria].sort();
        const failingCriteria = criteria.filter((c) => verdicts.get(c)?.verdict === 0);
        const erroredCriteria = criteria.filter((c) => (verdicts.get(c)?.verdict ?? null) === null);
        if (!failingCriteria.length && !erroredCriteria.length) continue;
        const errors = Object.fromEntries(
          erroredCriteria.map((c) => [
            c,
            verdicts.get(c)?.summary.replace(/^error: /, '') || 'no verdict of the current text',
          ]),
        );
        out.push({ itemId, failingCriteria, erroredCriteria, errors });
      }
      return out;
    },

    /** The judges' summaries of an item's current text for the given criteria (the writer's brief). */
    async judgeSummaries(input: {
      runKey: string;
      itemId: string;
      criteria: string[];
    }): Promise<Record<string, string>> {
      const rows = await db.execute<{ criterion: string; summary: string }>(sql`
        select v.criterion, v.summary from item_verdicts v join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
        where v.run_id = ${input.runKey} and v.item_id = ${input.itemId} and v.criterion in ${input.criteria.length ? input.criteria : ['']}`);
      return Object.fromEntries(rows.map((r) => [r.criterion, r.summary]));
    },

    /** The program's active judge prompts, keyed `criterion` or `criterion.agent` (what judgeItems takes). */
    async activeJudgePrompts(programId: string): Promise<Record<string, string>> {
      const rows = await db
        .select({ criterion: judgePrompts.criterion, agent: judgePrompts.agent, hash: judgePrompts.hash })
        .from(judgePrompts)
        .where(and(eq(judgePrompts.programId, programId), eq(judgePrompts.status, 'active')));
      return Object.fromEntries(rows.map((r) => [r.agent ? `${r.criterion}.${r.agent}` : r.criterion, r.hash]));
    },

    /** Opens (or finds) the fix cycle of an item's current text; a finished one is returned as is. */
    async openFixCycle(input: {
      programId: string;
      itemId: string;
      failingCriteria: string[];
    }): Promise<{ cycleId: string; textHash: string; status: string; attempts: number }> {
      const [item] = await db.select({ textHash: items.textHash }).from(items).where(eq(items.id, input.itemId));
      if (!item) throw new Error(`unknown item ${input.itemId}`);
      const cycleId = `${input.programId}/${input.itemId}/${item.textHash.slice(0, 16)}`;
      await db
        .insert(fixCycles)
        .values({
          id: cycleId,
          programId: input.programId,
          itemId: input.itemId,
          openedForHash: item.textHash,
          failingCriteria: input.failingCriteria,
        })
        .onConflictDoNothing();
      const [cycle] = await db.select().from(fixCycles).where(eq(fixCycles.id, cycleId));
      return { cycleId, textHash: item.textHash, status: cycle.status, attempts: cycle.attempts };
    },

    /**
     * Starts attempt `attempt` only if the program can pay for its writer task: spend so far plus the
     * writer tasks of attempts still open plus this one must stay within the budget. Decided under a
     * per-program lock, so fix loops starting together cannot overshoot it between them. A retry of a
     * started attempt is a no-op that answers started.
     */
    async startFixAttempt(input: {
      programId: string;
      cycleId: string;
      attempt: number;
      failingCriteria: string[];
      beforeHash: string;
      writerVendorId: string;
    }): Promise<FixAttemptStart> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`budget:${input.programId}`}))`);
        const [existing] = await tx
          .select({ attempt: fixAttempts.attempt })
          .from(fixAttempts)
          .where(and(eq(fixAttempts.fixCycleId, input.cycleId), eq(fixAttempts.attempt, input.attempt)));
        if (existing) return { started: true };
        const [vendor] = await tx
          .select({ rateCard: vendors.rateCard })
          .from(vendors)
          .where(eq(vendors.id, input.writerVendorId));
        if (!vendor)
          throw ApplicationFailure.nonRetryable(`unknown writer vendor ${input.writerVendorId}`, 'UnknownVendor');
        const writeUsd = await taskCostUsd(tx, vendor.rateCard, 'write');
        const [program] = await tx
          .select({ budgetUsd: programs.budgetUsd })
          .from(programs)
          .where(eq(programs.id, input.programId));
        if (!program) throw ApplicationFailure.nonRetryable(`unknown program ${input.programId}`, 'UnknownProgram');
        const spend = await programSpend(tx as unknown as Db, input.programId);
        // Attempts without an outcome have a writer task that may not be charged yet.
        const [{ open }] = await tx.execute<{ open: number }>(sql`
          select count(*)::int as open from ${fixAttempts} a join ${fixCycles} c on c.id = a.fix_cycle_id
          where c.program_id = ${input.programId} and a.outcome is null`);
        const committedUsd = spend.totalUsd + open * writeUsd;
        if (committedUsd + writeUsd > program.budgetUsd)
          return { started: false, committedUsd, writeUsd, budgetUsd: program.budgetUsd };
        await tx.insert(fixAttempts).values({
          fixCycleId: input.cycleId,
          attempt: input.attempt,
          failingCriteria: input.failingCriteria,
          beforeHash: input.beforeHash,
        });
        await tx
          .update(fixCycles)
          .set({ attempts: sql`greatest(${fixCycles.attempts}, ${input.attempt})` })
          .where(eq(fixCycles.id, input.cycleId));
        return { started: true };
      });
    },

    /**
     * What the writer did and what the judges then said; closes the cycle unless the attempt failed
     * (passed, escalated, or needs_review: the re-judge still errored, so nobody knows whether it passes).
     */
    async finishFixAttempt(input: {
      cycleId: string;
      attempt: number;
      /** The writer's task; its rater is recorded as the writer. */
      taskId: string | null;
      afterHash: string;
      outcome: FixAttemptOutcome;
      stillFailing: string[];
      /** Criteria whose re-judge errored, with the judge's error (needs_review). */
      errors?: Record<string, string>;
    }): Promise<void> {
      const [task] = input.taskId
        ? await db.select({ raterId: tasks.raterId }).from(tasks).where(eq(tasks.id, input.taskId))
        : [];
      await db.transaction(async (tx) => {
        await tx
          .update(fixAttempts)
          .set({
            writerId: task?.raterId ?? null,
            afterHash: input.afterHash,
            outcome: input.outcome,
            stillFailing: input.stillFailing,
            errors: input.errors ?? null,
          })
          .where(and(eq(fixAttempts.fixCycleId, input.cycleId), eq(fixAttempts.attempt, input.attempt)));
        if (input.outcome !== 'failed')
          await tx
            .update(fixCycles)
            .set({ status: input.outcome, closedAt: new Date() })
            .where(eq(fixCycles.id, input.cycleId));
      });
    },

    async closeFixCycle(input: {
      cycleId: string;
      status: 'passed' | 'escalated' | 'needs_review' | 'cancelled';
    }): Promise<void> {
      await db
        .update(fixCycles)
        .set({ status: input.status, closedAt: new Date() })
        .where(eq(fixCycles.id, input.cycleId));
    },

    /** The current text hash of an item (a writer's revision changes it). */
    async currentTextHash(itemId: string): Promise<string> {
      const [item] = await db.select({ textHash: items.textHash }).from(items).where(eq(items.id, itemId));
      if (!item) throw new Error(`unknown item ${itemId}`);
      return item.textHash;
    },
  };
}

/** Prompts of `criteria` that are judged by themselves (a panel criterion is judged through its agents). */
export const judgeUnitHashes = (prompts: Record<string, string>, criteria: string[]) =>
  Object.keys(prompts)
    .filter(
      (k) =>
        criteria.some((c) => k === c || k.startsWith(`${c}.`)) &&
        !Object.keys(prompts).some((o) => o.startsWith(`${k}.`)),
    )
    .map((k) => prompts[k]);

/**
 * What a finished run should hold and what it holds: judgments missing (an item's current text
 * without an ok judgment per judge unit and sample), verdicts missing (no decided item_verdicts row
 * per criterion), and duplicates (more than one judgment or verdict row for one natural key, which
 * only a broken idempotency key could produce). The benchmark and the run tests read it.
 */
export async function judgingCoverage(
  db: Db,
  input: {
    runKey: string;
    selection: ItemSelection;
    criteria: string[];
    prompts: Record<string, string>;
    samples: number;
    model: string;
  },
) {
  const hashes = judgeUnitHashes(input.prompts, input.criteria);
  const [run] = await db
    .select({ programId: productionRuns.programId })
    .from(productionRuns)
    .where(eq(productionRuns.id, input.runKey));
  if (!run) throw new Error(`unknown production run ${input.runKey}`);
  const [row] = await db.execute<{
    items: number;
    missing_judgments: number;
    missing_verdicts: number;
    duplicate_judgments: number;
    duplicate_verdicts: number;
    judgments: number;
  }>(sql`
    with sel as (select id, text_hash from ${items} where ${selectionWhere(run.programId, input.selection, null, null)} order by id limit ${'limit' in input.selection && input.selection.limit !== undefined ? input.selection.limit : null}),
    units as (select unnest(${sql`array[${sql.join(
      hashes.map((h) => sql`${h}`),
      sql`, `,
    )}]::text[]`}) as hash),
    samples as (select generate_series(0, ${input.samples - 1}) as s),
    crit as (select unnest(${sql`array[${sql.join(
      input.criteria.map((c) => sql`${c}`),
      sql`, `,
    )}]::text[]`}) as criterion)
    select
      (select count(*)::int from sel) as items,
      (select count(*)::int from sel, units, samples where not exists (
        select 1 from judgments j where j.item_id = sel.id and j.text_hash = sel.text_hash and j.prompt_hash = units.hash
          and j.model = ${input.model} and j.sample_index = samples.s and j.status = 'ok')) as missing_judgments,
      (select count(*)::int from sel, crit where not exists (
        select 1 from item_verdicts v where v.run_id = ${input.runKey} and v.item_id = sel.id and v.text_hash = sel.text_hash
          and v.criterion = crit.criterion and v.verdict is not null)) as missing_verdicts,
      (select coalesce(sum(n - 1), 0)::int from (select count(*) as n from judgments j join sel on sel.id = j.item_id
        group by j.item_id, j.text_hash, j.criterion, j.agent, j.prompt_hash, j.model, j.sample_index having count(*) > 1) d) as duplicate_judgments,
      (select coalesce(sum(n - 1), 0)::int from (select count(*) as n from item_verdicts v join sel on sel.id = v.item_id
        where v.run_id = ${input.runKey} group by v.item_id, v.text_hash, v.criterion having count(*) > 1) d) as duplicate_verdicts,
      (select count(*)::int from judgments j join sel on sel.id = j.item_id and sel.text_hash = j.text_hash
        where j.prompt_hash in (select hash from units) and j.model = ${input.model}) as judgments`);
  return row;
}
