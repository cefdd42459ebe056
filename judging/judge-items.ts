/**
 * Judging a page of items for a run (production shards, judge development, fix loops): the engine's
 * chunks, several in flight, with panel rationales merged, and the judgments, ledger rows and item
 * verdicts of each chunk stored in one transaction; resumed from the heartbeat after a crash.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { LLM_REQUEST_KINDS } from './prompts/contract';
import { rationaleMergeMessages } from './prompts/judge';
import { rationaleMergeSchema } from './prompts/schemas';
import type { Db } from '../platform/db';
import { itemVerdicts, items } from '../schema/tables';
import { structuredCall } from '../llm/call';
import { type ModelPrice } from '../llm/pricing';
import type { LlmClient } from '../llm/client';
import { isAbort } from '../llm/errors';
import type { PageControl } from '../llm/page-control';
import type { Logger } from '../platform/logger';
import { activityContext, rootCause, withHeartbeat } from '../activities/context';
import { type LedgerEntry } from './ledger';
import { resolvePlans, type CriterionPlan } from './prompt-registry';
import { samplesProblem, type JudgeSamples } from './samples';
import { loadItems, storeJudgments, type ItemRow } from './judgments';
import { productionChunk, type CriterionOutcome, type JudgingEngine } from './engine';

export interface JudgeItemsInput {
  programId: string;
  /** item_verdicts.run_id. */
  runId: string;
  itemIds: string[];
  criteria: string[];
  /** `criterion` (a judge or a panel) or `criterion.agent` → prompt hash. */
  prompts: Record<string, string>;
  /** Samples per criterion (the spec's `judge.samples`), or one number for every criterion. */
  samples: JudgeSamples;
  model?: string;
}

export type VerdictCounts = { pass: number; fail: number; error: number };

export interface JudgeItemsResult {
  /** Items whose judging finished (with or without errors). */
  judged: number;
  /** Items with at least one criterion in error (never counted as passing). */
  errors: number;
  failedItemIds: string[];
  verdicts: Record<string, VerdictCounts>;
  /** LLM requests made by this call (0 when everything was stored already). */
  llmRequests: number;
}

/** Chunks of one production page judged at once (requests of the next start while one finishes). */
const CHUNKS_IN_FLIGHT = 4;

export interface ItemJudgingDeps {
  db: Db;
  llm: LlmClient;
  prices: Record<string, ModelPrice>;
  logger: Logger;
  engine: JudgingEngine;
  /** The model of a request that names none (JUDGE_MODEL). */
  defaultModel: string;
}

export function createItemJudging({ db, llm, prices, logger, engine, defaultModel }: ItemJudgingDeps) {
  /** One readable explanation from a panel's agents (falls back to their summaries if merging fails). */
  async function mergeRationales(
    input: {
      programId: string;
      runId: string;
      item: ItemRow;
      criterion: string;
      outcome: CriterionOutcome;
      model: string;
    },
    signal?: AbortSignal,
  ) {
    const rationales = input.outcome.units.map((u) => ({
      agent: u.agent,
      verdict: u.verdict === null ? ('error' as const) : u.verdict ? ('pass' as const) : ('fail' as const),
      summary: u.summary,
    }));
    const fallback = rationales.map((r) => `${r.agent}: ${r.verdict}${r.summary ? ` — ${r.summary}` : ''}`).join(' ');
    const out = await structuredCall(
      llm,
      {
        kind: LLM_REQUEST_KINDS.rationaleMerge,
        schema: rationaleMergeSchema,
        messages: rationaleMergeMessages({ criterion: input.criterion, synopsis: input.item.text, rationales }),
        model: input.model,
        temperature: 0,
      },
      signal,
    );
    // The caller stores the ledger row with the verdict it explains, in one transaction.
    const ledger: LedgerEntry | undefined =
      out.requests > 0
        ? {
            requestKey: `merge:${input.runId}:${input.item.id}:${input.item.textHash}:${input.criterion}`,
            programId: input.programId,
            phase: 'production',
            kind: 'merge',
            model: input.model,
            mode: 'sync',
            usage: out.usage,
          }
        : undefined;
    return { summary: out.ok ? out.value.explanation : fallback, requests: out.requests, ledger };
  }

  /**
   * One chunk of a production page: judges it, merges panel rationales, and stores judgments,
   * their ledger rows (merges' too) and the item verdicts of `input.runId` in one transaction.
   * Returns the LLM requests made.
   */
  async function judgeItemChunk(
    input: JudgeItemsInput,
    itemIds: string[],
    plans: CriterionPlan[],
    model: string,
    control: PageControl,
  ) {
    const itemMap = await loadItems(db, itemIds);
    const list = [...itemMap.values()];
    if (!list.length) return 0;
    const [out, prior] = await Promise.all([
      engine.judgeChunk(
        { programId: input.programId, phase: 'production', items: list, plans, samples: input.samples, model },
        control,
      ),
      // Merged panel summaries stored before a crash; criteria without a panel merge nothing.
      plans.some((p) => p.panel)
        ? db
            .select({ itemId: itemVerdicts.itemId, criterion: itemVerdicts.criterion, summary: itemVerdicts.summary })
            .from(itemVerdicts)
            .where(
              and(
                eq(itemVerdicts.runId, input.runId),
                inArray(
                  itemVerdicts.itemId,
                  list.map((x) => x.id),
                ),
                sql`${itemVerdicts.verdict} is not null`,
              ),
            )
        : [],
    ]);
    let requests = out.requests;
    const merged = new Map(prior.map((p) => [`${p.itemId}|${p.criterion}`, p.summary]));
    const rows: (typeof itemVerdicts.$inferInsert)[] = [];
    const merging = Promise.all(
      list.flatMap((item) =>
        plans.map(async (plan) => {
          const outcome = out.outcomes.get(item.id)!.get(plan.criterion)!;
          let summary = outcome.summary;
          if (plan.panel && outcome.verdict !== null) {
            const known = merged.get(`${item.id}|${plan.criterion}`);
            if (known) summary = known;
            else {
              const m = await mergeRationales(
                { programId: input.programId, runId: input.runId, item, criterion: plan.criterion, outcome, model },
                control.signal,
              );
              summary = m.summary;
              requests += m.requests;
              if (m.ledger) out.ledger.push(m.ledger);
            }
          } else if (plan.panel) summary = outcome.units.map((u) => `${u.agent}: ${u.summary}`).join(' ');
          rows.push({
            runId: input.runId,
            programId: input.programId,
            itemId: item.id,
            textHash: item.textHash,
            criterion: plan.criterion,
            verdict: outcome.verdict,
            samples: outcome.samples,
            summary,
          });
        }),
      ),
    );
    const mergedOk = await merging.then(
      () => true,
      (err: unknown) => {
        if (!isAbort(err)) control.stop(err);
        return false;
      },
    );
    if (!mergedOk || control.stopped) {
      // The page stopped while merging: the judgments are paid for, so they are kept; no verdicts.
      await storeJudgments(
        db,
        prices,
        out.rows.filter((r) => r.status === 'ok'),
        out.ledger,
        llm.metrics,
      );
      throw control.reason;
    }
    await storeJudgments(db, prices, out.rows, out.ledger, llm.metrics, [
      sql`
        insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples, summary)
        select "runId", "programId", "itemId", "textHash", criterion, verdict, samples, summary
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x("runId" text, "programId" text, "itemId" text, "textHash" text, criterion text, verdict int, samples int, summary text)
        on conflict (run_id, item_id, text_hash, criterion) do update set verdict = excluded.verdict, samples = excluded.samples, summary = excluded.summary`,
    ]);
    return requests;
  }

  /**
   * Judges a batch of items (≤ ~500) on the given criteria; writes judgments and item_verdicts for
   * `runId`. After a worker crash it resumes at the chunk its last heartbeat recorded, and stored
   * judgments are never requested again.
   */
  async function judgeItems(input: JudgeItemsInput): Promise<JudgeItemsResult> {
    const badSamples = samplesProblem(input.samples, input.criteria);
    if (badSamples) throw ApplicationFailure.nonRetryable(badSamples, 'BadInput');
    const model = input.model ?? defaultModel;
    const plans = await resolvePlans(db, input.programId, input.criteria, input.prompts);
    const ctx = activityContext();
    const start = (ctx?.info.heartbeatDetails as { nextIndex?: number } | undefined)?.nextIndex ?? 0;
    const verdicts: Record<string, VerdictCounts> = Object.fromEntries(
      input.criteria.map((c) => [c, { pass: 0, fail: 0, error: 0 }]),
    );
    const failed = new Set<string>();
    let requests = 0;
    // Chunks before `start` finished in an earlier attempt; their verdicts are read back below.
    // Up to CHUNKS_IN_FLIGHT chunks run at once, so requests keep flowing while a chunk waits for
    // its slowest answer, merges and transaction; the heartbeat names the lowest unfinished chunk.
    const chunk = productionChunk(plans, input.samples);
    const chunkStarts: number[] = [];
    for (let i = start; i < input.itemIds.length; i += chunk) chunkStarts.push(i);
    const unfinished = new Set(chunkStarts);
    const resumeAt = () => (unfinished.size ? Math.min(...unfinished) : input.itemIds.length);
    const control = engine.pageControl();
    let next = 0;
    await withHeartbeat(
      () => ({ nextIndex: resumeAt() }),
      async () => {
        let failure: { error: unknown } | undefined;
        const lane = async () => {
          // A stopped page (cancelled, a fatal provider error, the breaker) starts no new chunk.
          while (!failure && !control.stopped && next < chunkStarts.length) {
            const at = chunkStarts[next++];
            try {
              const made = await judgeItemChunk(input, input.itemIds.slice(at, at + chunk), plans, model, control);
              requests += made;
              unfinished.delete(at);
            } catch (error) {
              // The root cause names the problem; drizzle's wrapper would put the whole query in the UI.
              failure ??= {
                error:
                  control.stopped && error === control.reason
                    ? error
                    : error instanceof ApplicationFailure
                      ? error
                      : new Error(
                          `items ${at + 1}–${Math.min(at + chunk, input.itemIds.length)} of the page: ${rootCause(error).message}`,
                          { cause: error },
                        ),
              };
            }
          }
        };
        // A failed chunk stops new ones; the activity fails once the others in flight are stored,
        // so no request of this attempt is still running when the retry starts.
        await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, chunkStarts.length) }, lane));
        // The page's stop reason first: a chunk that failed because of it reports the reason itself.
        if (control.stopped) throw control.reason;
        if (failure) throw failure.error;
      },
    );
    // Count from item_verdicts, so chunks done before a crash are counted too.
    const counted = input.itemIds.length
      ? await db
          .select({ itemId: itemVerdicts.itemId, criterion: itemVerdicts.criterion, verdict: itemVerdicts.verdict })
          .from(itemVerdicts)
          .innerJoin(items, and(eq(items.id, itemVerdicts.itemId), eq(items.textHash, itemVerdicts.textHash)))
          .where(
            and(
              eq(itemVerdicts.runId, input.runId),
              inArray(itemVerdicts.itemId, input.itemIds),
              inArray(itemVerdicts.criterion, input.criteria),
            ),
          )
      : [];
    const seen = new Set<string>();
    for (const r of counted) {
      seen.add(r.itemId);
      const v = verdicts[r.criterion];
      if (r.verdict === null) {
        v.error++;
        failed.add(r.itemId);
      } else if (r.verdict === 1) v.pass++;
      else v.fail++;
    }
    const judged = seen.size;
    for (const id of input.itemIds) if (!seen.has(id)) failed.add(id); // unknown items
    logger.info(
      { runId: input.runId, items: input.itemIds.length, judged, errors: failed.size, requests },
      'judged items',
    );
    return { judged, errors: failed.size, failedItemIds: [...failed], verdicts, llmRequests: requests };
  }

  return { judgeItems };
}
