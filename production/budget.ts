/**
 * The program's budget before each production page. A shard asks `reserveProductionPage` before it
 * judges a page (or, in batch mode, submits its batch): the page's cost is estimated from what it
 * will really request — samples of the items' current text not stored ok yet, plus panel merges —
 * at the program's recent price per judge request (or a typical request's price before there is
 * one), and the page starts only if spend so far (the ledger) + pages started and not done + this
 * page stay within `programs.budget_usd`. Decided under the same per-program advisory lock as the
 * fix loop's writer tasks, so shards and fix loops checking at once cannot overshoot it between
 * them. Every production run of a program — the program's own, pre-launch runs, `judge run` by
 * hand — is held to the same budget.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { ActivityDeps } from '../activities/deps';
import { programSpend } from '../human-tasks/accounting';
import { costOf, type ModelPrice } from '../llm/pricing';
import type { Db } from '../platform/db';
import { resolvePlans } from '../judging/prompt-registry';
import { samplesFor, type JudgeSamples } from '../judging/samples';
import { productionPages, programs } from '../schema/tables';

/** A typical judge request (rubric + show context + synopsis in, tiered rationale out), as the scoping estimate assumes. */
const TYPICAL_REQUEST = { promptTokens: 1200, cachedTokens: 0, completionTokens: 350 };
/** Recent judge requests whose mean cost prices a page; with fewer, the typical request does. */
const PRICE_SAMPLE = 200;
const PRICE_MIN_SAMPLE = 10;

export interface ProductionPageInput {
  programId: string;
  runKey: string;
  shard: number;
  /** The page's index in its shard. */
  page: number;
  itemIds: string[];
  criteria: string[];
  prompts: Record<string, string>;
  samples: JudgeSamples;
  model?: string;
  mode: 'sync' | 'batch';
}

export interface PageEstimate {
  /** LLM requests the page will make: samples not stored ok, and panel merges. */
  requests: number;
  usd: number;
}

/** Whether a page may start, or what the budget is short of. */
export type PageStart =
  | ({ started: true } & PageEstimate)
  | ({ started: false; spentUsd: number; reservedUsd: number; budgetUsd: number } & PageEstimate);

export function createProductionBudgetActivities({ db, prices, config }: ActivityDeps) {
  return {
    /**
     * Starts a production page if the program's budget covers its estimated cost, recording the
     * reservation; a retry of a started page answers started (and checks nothing again).
     */
    async reserveProductionPage(input: ProductionPageInput): Promise<PageStart> {
      const key = and(
        eq(productionPages.runKey, input.runKey),
        eq(productionPages.shard, input.shard),
        eq(productionPages.page, input.page),
      );
      const [known] = await db.select().from(productionPages).where(key);
      if (known) return { started: true, requests: known.requests, usd: known.estimateUsd };
      const estimate = await estimatePage(db, prices, { ...input, model: input.model ?? config.llm.model });
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`budget:${input.programId}`}))`);
        if (estimate.usd > 0) {
          const [program] = await tx
            .select({ budgetUsd: programs.budgetUsd })
            .from(programs)
            .where(eq(programs.id, input.programId));
          if (!program) throw ApplicationFailure.nonRetryable(`unknown program ${input.programId}`, 'UnknownProgram');
          const spend = await programSpend(tx as unknown as Db, input.programId);
          // Pages of running runs that started and are not done yet: their spend is not all in the ledger.
          const [{ reserved }] = await tx.execute<{ reserved: number }>(sql`
            select coalesce(sum(p.estimate_usd), 0)::float8 as reserved from production_pages p join production_runs r on r.id = p.run_key
            where p.program_id = ${input.programId} and p.finished_at is null and r.status = 'running'`);
          if (spend.totalUsd + reserved + estimate.usd > program.budgetUsd)
            return {
              started: false,
              spentUsd: spend.totalUsd,
              reservedUsd: reserved,
              budgetUsd: program.budgetUsd,
              ...estimate,
            };
        }
        await tx
          .insert(productionPages)
          .values({
            runKey: input.runKey,
            shard: input.shard,
            page: input.page,
            programId: input.programId,
            requests: estimate.requests,
            estimateUsd: estimate.usd,
          })
          .onConflictDoNothing();
        return { started: true, ...estimate };
      });
    },

    /** The page is done: its spend is in the ledger now, so its reservation no longer counts. */
    async finishProductionPage(input: { runKey: string; shard: number; page: number }): Promise<void> {
      await db
        .update(productionPages)
        .set({ finishedAt: new Date() })
        .where(
          and(
            eq(productionPages.runKey, input.runKey),
            eq(productionPages.shard, input.shard),
            eq(productionPages.page, input.page),
            isNull(productionPages.finishedAt),
          ),
        );
    },
  };
}

/** What a page will request (what the judge engine would: only samples not stored ok, and merges of panels not merged in this run) and what that costs. */
export async function estimatePage(
  db: Db,
  prices: Record<string, ModelPrice>,
  input: Omit<ProductionPageInput, 'model'> & { model: string },
): Promise<PageEstimate> {
  if (!input.itemIds.length) return { requests: 0, usd: 0 };
  const plans = await resolvePlans(db, input.programId, input.criteria, input.prompts);
  const units = plans.flatMap((p) => p.units);
  const wanted = units.reduce((n, u) => n + input.itemIds.length * samplesFor(input.samples, u.criterion), 0);
  const unitFilter = sql.join(
    units.map((u) => sql`(j.prompt_hash = ${u.hash} and j.sample_index < ${samplesFor(input.samples, u.criterion)})`),
    sql` or `,
  );
  const [{ stored }] = units.length
    ? await db.execute<{ stored: number }>(sql`
        select count(*)::int as stored from judgments j join items i on i.id = j.item_id and i.text_hash = j.text_hash
        where j.item_id in ${input.itemIds} and j.model = ${input.model} and j.status = 'ok' and (${unitFilter})`)
    : [{ stored: 0 }];
  const panels = plans.filter((p) => p.panel).map((p) => p.criterion);
  let merges = 0;
  if (panels.length) {
    const [{ merged }] = await db.execute<{ merged: number }>(sql`
      select count(*)::int as merged from item_verdicts v
      where v.run_id = ${input.runKey} and v.item_id in ${input.itemIds} and v.criterion in ${panels} and v.verdict is not null`);
    merges = input.itemIds.length * panels.length - merged;
  }
  const requests = Math.max(0, wanted - stored) + merges;
  return { requests, usd: requests ? requests * (await pricePerRequest(db, prices, input)) : 0 };
}

/** The mean cost of the program's recent judge requests with this model, at the mode's price; a typical request's before there are enough. */
async function pricePerRequest(
  db: Db,
  prices: Record<string, ModelPrice>,
  input: { programId: string; model: string; mode: 'sync' | 'batch' },
): Promise<number> {
  const [row] = await db.execute<{ usd: number | null; n: number }>(sql`
    select avg(usd)::float8 as usd, count(*)::int as n from (
      select case when mode = ${input.mode} then cost_usd else coalesce(alt_cost_usd, cost_usd) end as usd from usage_ledger
      where program_id = ${input.programId} and kind = 'judge' and model = ${input.model} order by id desc limit ${PRICE_SAMPLE}) recent`);
  if (row.n >= PRICE_MIN_SAMPLE && row.usd !== null) return row.usd;
  return costOf(prices, input.model, TYPICAL_REQUEST, input.mode).costUsd;
}
