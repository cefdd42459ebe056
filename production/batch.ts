/**
 * Batch-mode production judging: a page's judgment samples not yet stored ok go to the provider's
 * Batch API as one JSONL batch (custom_id = the judgment's natural key, which is also its ledger
 * key), the workflow polls it on durable timers, and its output and error files are ingested as
 * judgments with ledger rows at the batch price. A submission is recorded per (run, shard, page,
 * attempt), so a retried submit never creates a second batch and a re-ingest writes nothing.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { forEachInSlices, mapInSlices } from '../platform/event-loop';
import { productionRuns, providerBatches, type judgments } from '../schema/tables';
import type { ActivityDeps } from '../activities/deps';
import {
  judgeRequest,
  judgmentKey,
  judgmentRow,
  loadItems,
  sampleKey,
  storeJudgments,
  storedSamples,
  type ItemRow,
  type JudgeAnswer,
} from '../judging/judgments';
import type { LedgerEntry } from '../judging/ledger';
import { resolvePlans, type JudgeUnit } from '../judging/prompt-registry';
import { maxSamples, samplesFor, samplesProblem, type JudgeSamples } from '../judging/samples';
import { batchResults, batchStatus, cancelBatch, findBatch, submitBatch, type BatchState } from '../llm/batch';
import { addUsage, chatParams, emptyUsage, parseAnswer } from '../llm/call';
import { redactMessages } from '../llm/redaction';

// Where a run's batches are: its own module, so `judge status` reads it without loading batch judging.
export { batchProgress, type BatchProgress } from './batch-progress';

export interface BatchPageInput {
  programId: string;
  /** item_verdicts.run_id of the run: `<programId>/<runId>`. */
  runKey: string;
  shard: number;
  page: number;
  itemIds: string[];
  criteria: string[];
  prompts: Record<string, string>;
  /** Samples per criterion, or one number for every criterion. */
  samples: JudgeSamples;
  model?: string;
}

export interface SubmitJudgingBatchInput extends BatchPageInput {
  /** 1 for the page's first batch, then one more per resubmission of what is still missing. */
  attempt: number;
}

/** `batchId` null: nothing of the page is left to judge. */
export interface SubmittedJudgingBatch {
  batchId: string | null;
  requests: number;
}

export interface ProviderBatchState {
  batchId: string;
  status: BatchState;
  done: boolean;
}

export interface IngestJudgingBatchInput extends SubmitJudgingBatchInput {
  batchId: string;
}

export interface IngestedJudgingBatch {
  /** Lines answered with a usable verdict. */
  ok: number;
  /** Lines that failed (error file, invalid output) or never ran (expired, cancelled). */
  failed: number;
  /** Samples of the page still without an ok judgment. */
  missing: number;
}

/** The batch metadata key naming the submission (what a retried submit looks for at the provider). */
export const SUBMISSION_METADATA_KEY = 'judgeflow_submission';
export const submissionKey = (s: { runKey: string; shard: number; page: number; attempt: number }) =>
  `${s.runKey}/shard-${s.shard}/page-${s.page}/attempt-${s.attempt}`;

interface PendingSample {
  customId: string;
  item: ItemRow;
  unit: JudgeUnit;
  sample: number;
}

/** The page's samples without an ok judgment of the item's current text, keyed by judgment key. */
async function pendingSamples(db: Db, input: BatchPageInput, model: string): Promise<Map<string, PendingSample>> {
  const plans = await resolvePlans(db, input.programId, input.criteria, input.prompts);
  const units = plans.flatMap((p) => p.units);
  const list = [...(await loadItems(db, input.itemIds)).values()];
  const stored = await storedSamples(db, list, units, maxSamples(input.samples, input.criteria), model);
  const pending = new Map<string, PendingSample>();
  for (const item of list)
    for (const unit of units)
      for (let sample = 0; sample < samplesFor(input.samples, unit.criterion); sample++) {
        if (stored.get(sampleKey(item.id, item.textHash, unit.hash, sample))?.status === 'ok') continue;
        const customId = judgmentKey(item.id, item.textHash, unit.criterion, unit.agent, unit.hash, model, sample);
        pending.set(customId, { customId, item, unit, sample });
      }
  return pending;
}

/** Judgments written per statement when a batch is ingested (a page's batch has up to ~1,000 lines). */
const STORE_SLICE = 200;

const activityAttempt = () => {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // called outside an activity
  }
};

export function createProductionBatchActivities({ db, config, logger, llm, prices }: ActivityDeps) {
  const submission = (s: { runKey: string; shard: number; page: number; attempt: number }) =>
    and(
      eq(providerBatches.runId, s.runKey),
      eq(providerBatches.shard, s.shard),
      eq(providerBatches.page, s.page),
      eq(providerBatches.attempt, s.attempt),
    );

  return {
    /**
     * Submits the page's missing samples as one batch, once per (run, shard, page, attempt): a
     * recorded submission is returned as is, and a retry whose earlier attempt created the batch
     * but died before recording it finds it at the provider by its metadata.
     */
    async submitJudgingBatch(input: SubmitJudgingBatchInput): Promise<SubmittedJudgingBatch> {
      const badSamples = samplesProblem(input.samples, input.criteria);
      if (badSamples) throw ApplicationFailure.nonRetryable(badSamples, 'BadInput');
      const [recorded] = await db
        .select({ id: providerBatches.id, requests: providerBatches.requestCount })
        .from(providerBatches)
        .where(submission(input));
      if (recorded) return { batchId: recorded.id, requests: recorded.requests };
      const model = input.model ?? config.llm.model;
      const pending = [...(await pendingSamples(db, input, model)).values()];
      if (!pending.length) return { batchId: null, requests: 0 };
      // A provider without the Batch API (many OpenAI-compatible servers): nothing is submitted, so
      // the shard's sync pass judges the whole page; the run records why for `judge status`.
      const api = await llm.batchApi();
      if (!api.ok) {
        const warning = `batch mode requested, but ${api.reason}: judged over the sync API at the sync price`;
        await db
          .update(productionRuns)
          .set({ params: sql`${productionRuns.params}::jsonb || ${JSON.stringify({ batchWarning: warning })}::jsonb` })
          .where(and(eq(productionRuns.id, input.runKey), sql`${productionRuns.params}->>'batchWarning' is null`));
        logger.warn({ runKey: input.runKey, shard: input.shard, page: input.page }, warning);
        return { batchId: null, requests: 0 };
      }
      const key = submissionKey(input);
      const found = activityAttempt() > 1 ? await findBatch(llm, SUBMISSION_METADATA_KEY, key) : undefined;
      const lines = await mapInSlices(pending, (p) => {
        const request = judgeRequest(p.unit, p.item, p.sample, model);
        return {
          customId: p.customId,
          body: chatParams(request, llm.reasoningModels, redactMessages(llm.redactor, request.messages).messages),
        };
      });
      const batch = found ?? (await submitBatch(llm, lines, { [SUBMISSION_METADATA_KEY]: key }));
      await db
        .insert(providerBatches)
        .values({
          id: batch.batchId,
          runId: input.runKey,
          shard: input.shard,
          page: input.page,
          attempt: input.attempt,
          status: 'validating',
          inputFileId: batch.inputFileId,
          requestCount: lines.length,
        })
        .onConflictDoNothing();
      // An attempt that outlived its timeout may have recorded its own batch first: that one is polled.
      const [row] = await db
        .select({ id: providerBatches.id, requests: providerBatches.requestCount })
        .from(providerBatches)
        .where(submission(input));
      if (row.id !== batch.batchId)
        logger.warn(
          { batch: batch.batchId, recorded: row.id, submission: key },
          'a concurrent attempt recorded another batch for this submission; this one is not ingested',
        );
      else
        logger.info(
          { batch: batch.batchId, submission: key, requests: lines.length, recovered: Boolean(found) },
          'submitted judging batch',
        );
      return { batchId: row.id, requests: row.requests };
    },

    /**
     * A cancelled run stops paying for lines its open batches have not run yet. Lines the provider
     * already ran are billed and lost with the batch (it is never ingested): the record says so.
     */
    async cancelProviderBatches(input: { batchIds: string[] }): Promise<void> {
      for (const batchId of input.batchIds) {
        const status = await cancelBatch(llm, batchId);
        await db
          .update(providerBatches)
          .set({ status })
          .where(and(eq(providerBatches.id, batchId), isNull(providerBatches.ingestedAt)));
        logger.info({ batch: batchId, status }, 'cancelled judging batch with its run');
      }
    },

    /** Where the provider's batches are (one small call per workflow poll). */
    async providerBatchStatus(input: { batchIds: string[] }): Promise<ProviderBatchState[]> {
      return Promise.all(
        input.batchIds.map(async (batchId) => {
          const s = await batchStatus(llm, batchId);
          await db
            .update(providerBatches)
            .set({ status: s.status, outputFileId: s.outputFileId, errorFileId: s.errorFileId })
            .where(and(eq(providerBatches.id, batchId), isNull(providerBatches.ingestedAt)));
          return { batchId, status: s.status, done: s.done };
        }),
      );
    },

    /**
     * Stores every line of a finished batch (ok verdicts, and errors that a resubmission or the sync
     * pass replaces) with one ledger row per judgment key at the batch price, in one transaction that
     * also marks the batch ingested; returns how many of the page's samples are still missing.
     */
    async ingestJudgingBatch(input: IngestJudgingBatchInput): Promise<IngestedJudgingBatch> {
      const model = input.model ?? config.llm.model;
      const status = await batchStatus(llm, input.batchId);
      if (!status.done)
        throw ApplicationFailure.nonRetryable(
          `batch ${input.batchId} is ${status.status}, not finished`,
          'BatchNotFinished',
        );
      const pending = await pendingSamples(db, input, model);
      const results = await batchResults(llm, status);
      const rows: (typeof judgments.$inferInsert)[] = [];
      const ledger: LedgerEntry[] = [];
      let ok = 0;
      let stale = 0;
      await forEachInSlices(results, (r) => {
        const p = pending.get(r.customId);
        if (!p) {
          stale++; // stored ok meanwhile, or the item's text changed since the submit
          return;
        }
        const usage = emptyUsage();
        let out: JudgeAnswer;
        if (r.ok) {
          addUsage(usage, r.completion);
          const request = judgeRequest(p.unit, p.item, p.sample, model);
          // The line was redacted when submitted; the same rules count it again here, for the ledger.
          usage.redactions = redactMessages(llm.redactor, request.messages).count;
          const answer = parseAnswer(request.schema, r.completion);
          out = answer.ok
            ? { ok: true, value: answer.value, usage, requests: 1 }
            : { ok: false, error: `invalid output: ${answer.problem}`, usage, requests: 1 };
          ledger.push({
            requestKey: p.customId,
            programId: input.programId,
            phase: 'production',
            kind: 'judge',
            model,
            mode: 'batch',
            usage,
          });
        } else out = { ok: false, error: `batch line: ${r.error}`, usage, requests: 1 };
        if (out.ok) ok++;
        rows.push(judgmentRow(input.programId, p.item, p.unit, model, p.sample, 'batch', out));
      });
      const ingested = await db.transaction(async (tx) => {
        const [row] = await tx
          .select({ ingestedAt: providerBatches.ingestedAt })
          .from(providerBatches)
          .where(eq(providerBatches.id, input.batchId))
          .for('update');
        if (!row)
          throw ApplicationFailure.nonRetryable(
            `batch ${input.batchId} was never recorded as submitted`,
            'UnknownBatch',
          );
        if (row.ingestedAt) return false;
        // In slices: one statement of a whole batch's rows would be serialized in one go.
        for (let i = 0; i < Math.max(rows.length, ledger.length); i += STORE_SLICE)
          await storeJudgments(
            tx as unknown as Db,
            prices,
            rows.slice(i, i + STORE_SLICE),
            ledger.slice(i, i + STORE_SLICE),
            llm.metrics,
          );
        await tx
          .update(providerBatches)
          .set({
            status: status.status,
            outputFileId: status.outputFileId,
            errorFileId: status.errorFileId,
            ingestedAt: new Date(),
          })
          .where(eq(providerBatches.id, input.batchId));
        return true;
      });
      const missing = ingested ? pending.size - ok : (await pendingSamples(db, input, model)).size;
      logger.info(
        { batch: input.batchId, status: status.status, lines: results.length, ok, stale, missing, ingested },
        'ingested judging batch',
      );
      return { ok, failed: pending.size - ok, missing };
    },
  };
}
