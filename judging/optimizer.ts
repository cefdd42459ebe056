/** Prompt optimization: candidates proposed from a prompt's dev errors, scored on the dev split only. */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import { LLM_REQUEST_KINDS } from './prompts/contract';
import { critiqueMessages, editMessages, judgeKey, type DevError } from './prompts/judge';
import { promptCritiqueSchema, promptEditSchema } from './prompts/schemas';
import type { Db } from '../platform/db';
import {
  goldenLabels,
  items,
  judgePrompts,
  judgments,
  optimizationCandidates,
  optimizationRequests,
} from '../schema/tables';
import { structuredCall, type Usage } from '../llm/call';
import { type ModelPrice } from '../llm/pricing';
import type { LlmClient } from '../llm/client';
import { writeLedger, type LedgerEntry } from './ledger';
import { activityContext, withHeartbeat } from '../activities/context';
import { promptLocale, settingsOf, storePrompt } from './prompt-registry';
import type { JudgingEngine } from './engine';
import { goldenItems } from './golden';
import { goldenVerdict } from './likert';

export interface ScoreOnDevInput {
  programId: string;
  criterion: string;
  promptHash: string;
  runId: string;
  /** Judge the first `through` dev items (a stable order); earlier ones are stored already. */
  through: number;
  samples: number;
  model?: string;
}

export interface DevScore {
  promptHash: string;
  devAccuracy: number | null;
  devEvaluated: number;
  devSize: number;
  llmRequests: number;
}

export interface ProposeCandidatesInput {
  programId: string;
  criterion: string;
  parentHash: string;
  runId: string;
  step: number;
  count: number;
  model?: string;
  maxErrors?: number;
}

export interface OptimizerDeps {
  db: Db;
  llm: LlmClient;
  prices: Record<string, ModelPrice>;
  engine: JudgingEngine;
  defaultModel: string;
}

/** Automatic prompt optimization (APO) over the dev split: score, critique and edit, select. */
export function createOptimizer({ db, llm, prices, engine, defaultModel }: OptimizerDeps) {
  /**
   * Prompt optimization, scoring: judges the first `through` dev items (in a stable order) with a
   * prompt and returns its accuracy over them. Only the dev split is ever read here.
   */
  async function scoreOnDev(input: ScoreOnDevInput): Promise<DevScore> {
    const model = input.model ?? defaultModel;
    const dev = await goldenItems(
      db,
      input.programId,
      input.criterion,
      'dev',
      await promptLocale(db, input.promptHash),
    );
    const slice = dev.slice(0, Math.min(input.through, dev.length));
    const { verdicts, scale, requests } = await engine.judgeGolden({
      programId: input.programId,
      criterion: input.criterion,
      promptHash: input.promptHash,
      itemIds: slice.map((g) => g.itemId),
      samples: input.samples,
      model,
      phase: 'prompt-optimization',
    });
    // Pass/fail accuracy (a Likert golden score passes at the scale's passAt), what the target measures.
    const correct = slice.filter((g) => verdicts.get(g.itemId) === goldenVerdict(g.label, scale)).length;
    const devAccuracy = slice.length ? correct / slice.length : null;
    await db
      .insert(optimizationCandidates)
      .values({ runId: input.runId, promptHash: input.promptHash, step: 0, devAccuracy, devEvaluated: slice.length })
      .onConflictDoUpdate({
        target: [optimizationCandidates.runId, optimizationCandidates.promptHash],
        set: { devAccuracy, devEvaluated: slice.length },
      });
    return {
      promptHash: input.promptHash,
      devAccuracy,
      devEvaluated: slice.length,
      devSize: dev.length,
      llmRequests: requests,
    };
  }

  /**
   * Prompt optimization, expansion (APO): the parent's dev errors → an LLM critique → `count`
   * edited prompts, stored with lineage. Each answer is stored as it arrives (optimization_requests,
   * in one transaction with its ledger row and its candidate), so a retried attempt — the worker
   * died, the heartbeat timed out — reuses the critique and the edits made and requests only the
   * rest; a step already done requests nothing. Heartbeats every few seconds while it works.
   */
  async function proposeCandidates(
    input: ProposeCandidatesInput,
  ): Promise<{ candidates: string[]; llmRequests: number }> {
    const done = await db
      .select()
      .from(optimizationRequests)
      .where(
        and(
          eq(optimizationRequests.runId, input.runId),
          eq(optimizationRequests.parentHash, input.parentHash),
          eq(optimizationRequests.step, input.step),
        ),
      );
    if (!done.length) {
      // A step proposed before requests were stored one by one: its candidates are all there is.
      const made = await db
        .select({ hash: optimizationCandidates.promptHash })
        .from(optimizationCandidates)
        .where(
          and(
            eq(optimizationCandidates.runId, input.runId),
            eq(optimizationCandidates.parentHash, input.parentHash),
            eq(optimizationCandidates.step, input.step),
          ),
        );
      if (made.length) return { candidates: made.map((m) => m.hash), llmRequests: 0 };
    }
    const storedCritique = done.find((d) => d.request === 'critique');
    const storedEdits = new Map(done.filter((d) => d.request === 'edit').map((d) => [d.index, d]));
    // Requests paid for in earlier attempts count too: the workflow's budget is of requests made.
    let requests = done.reduce((n, d) => n + d.requests, 0);
    const candidatesOf = () => {
      const hashes: string[] = [];
      for (let k = 0; k < input.count; k++) {
        const h = storedEdits.get(k)?.promptHash;
        if (h && !hashes.includes(h)) hashes.push(h);
      }
      return hashes;
    };
    if (storedCritique && [...Array(input.count).keys()].every((k) => storedEdits.has(k)))
      return { candidates: candidatesOf(), llmRequests: requests };

    const [parent] = await db.select().from(judgePrompts).where(eq(judgePrompts.hash, input.parentHash));
    if (!parent) throw ApplicationFailure.nonRetryable(`unknown judge prompt ${input.parentHash}`, 'UnknownPrompt');
    // A panel is optimized through its agents' prompts, not as a whole (docs/judges.md).
    if (settingsOf(parent).panel) return { candidates: [], llmRequests: 0 };
    const model = input.model ?? defaultModel;
    const criterionKey = judgeKey(parent.criterion, parent.agent);
    const key = { runId: input.runId, parentHash: input.parentHash, step: input.step };
    const ledgerEntry = (requestKey: string, kind: string, usage: Usage): LedgerEntry => ({
      requestKey,
      programId: input.programId,
      phase: 'prompt-optimization',
      kind,
      model,
      mode: 'sync',
      usage,
    });

    // A cancelled activity abandons its requests in flight (the heartbeat is how it learns of the cancel).
    const cancelled = activityContext()?.cancellationSignal;
    return withHeartbeat(
      () => ({ step: input.step, critique: Boolean(storedCritique), edits: storedEdits.size, of: input.count }),
      async () => {
        let critique = storedCritique?.output;
        if (critique === undefined) {
          const errors = await devErrors(parent, input.parentHash, model, input.maxErrors ?? 8);
          if (!errors.length) return { candidates: [], llmRequests: requests };
          const out = await structuredCall(
            llm,
            {
              kind: LLM_REQUEST_KINDS.promptCritique,
              schema: promptCritiqueSchema,
              messages: critiqueMessages({ criterionKey, template: parent.template, errors }),
              model,
              temperature: 0.7,
            },
            cancelled,
          );
          requests += out.requests;
          const ledger =
            out.requests > 0
              ? [ledgerEntry(`critique:${input.runId}:${input.parentHash}:${input.step}`, 'critique', out.usage)]
              : [];
          if (!out.ok) {
            await writeLedger(db, prices, ledger);
            return { candidates: [], llmRequests: requests };
          }
          critique = out.value.critique;
          const row = {
            ...key,
            request: 'critique',
            index: 0,
            output: critique,
            promptHash: null,
            requests: out.requests,
          };
          await db.transaction(async (tx) => {
            await tx.insert(optimizationRequests).values(row).onConflictDoNothing();
            await writeLedger(tx as unknown as Db, prices, ledger);
          });
        }
        for (let k = 0; k < input.count; k++) {
          if (storedEdits.has(k)) continue;
          const edit = await structuredCall(
            llm,
            {
              kind: LLM_REQUEST_KINDS.promptEdit,
              schema: promptEditSchema,
              messages: editMessages({ criterionKey, template: parent.template, critique }),
              model,
              temperature: 1,
            },
            cancelled,
          );
          requests += edit.requests;
          const ledger =
            edit.requests > 0
              ? [ledgerEntry(`edit:${input.runId}:${input.parentHash}:${input.step}:${k}`, 'edit', edit.usage)]
              : [];
          if (!edit.ok) {
            // No usable edit: paid for, but nothing to store; a retry asks again.
            await writeLedger(db, prices, ledger);
            continue;
          }
          const template = edit.value.prompt;
          const isNew = template.trim() !== '' && template.trim() !== parent.template.trim();
          const row = {
            ...key,
            request: 'edit',
            index: k,
            output: template,
            promptHash: null as string | null,
            requests: edit.requests,
          };
          await db.transaction(async (tx) => {
            const t = tx as unknown as Db;
            if (isNew) {
              row.promptHash = await storePrompt(
                t,
                {
                  programId: parent.programId,
                  criterion: parent.criterion,
                  agent: parent.agent,
                  guidelineVersion: parent.guidelineVersion,
                  template,
                  settings: settingsOf(parent),
                },
                { origin: 'optimizer', parentHash: parent.hash },
              );
              await t
                .insert(optimizationCandidates)
                .values({
                  runId: input.runId,
                  promptHash: row.promptHash,
                  parentHash: parent.hash,
                  step: input.step,
                  critique,
                })
                .onConflictDoNothing();
            }
            await t.insert(optimizationRequests).values(row).onConflictDoNothing();
            await writeLedger(t, prices, ledger);
          });
          storedEdits.set(k, { ...row, createdAt: new Date() });
        }
        return { candidates: candidatesOf(), llmRequests: requests };
      },
    );
  }

  /** The parent's dev errors (its sample-0 judgments that disagree with the golden label or errored), at most `limit`. */
  async function devErrors(
    parent: typeof judgePrompts.$inferSelect,
    parentHash: string,
    model: string,
    limit: number,
  ): Promise<DevError[]> {
    const passAt = settingsOf(parent).scale?.passAt ?? 1;
    const rows = await db.execute<{
      text: string;
      label: number;
      status: string;
      verdict: number | null;
      summary: string;
      error: string | null;
    }>(sql`
      select i.text, g.label, j.status, j.verdict, j.summary, j.error
      from ${judgments} j
      join ${goldenLabels} g on g.program_id = j.program_id and g.item_id = j.item_id and g.criterion = ${parent.criterion} and g.split = 'dev'
      join ${items} i on i.id = j.item_id and i.text_hash = j.text_hash
      where j.prompt_hash = ${parentHash} and j.model = ${model} and j.sample_index = 0
        and (j.status = 'error' or j.verdict <> (g.label >= ${passAt})::int)
      order by md5(j.item_id) limit ${limit}`);
    return rows.map((r) => ({
      synopsis: r.text,
      expected: r.label >= passAt ? 'pass' : 'fail',
      got: r.status === 'error' ? 'error' : r.verdict ? 'pass' : 'fail',
      summary: r.summary || (r.error ?? ''),
    }));
  }

  /** Marks the optimizer's choice. */
  async function selectCandidate(input: { runId: string; promptHash: string }): Promise<void> {
    await db
      .update(optimizationCandidates)
      .set({ selected: true })
      .where(
        and(eq(optimizationCandidates.runId, input.runId), eq(optimizationCandidates.promptHash, input.promptHash)),
      );
  }

  return { scoreOnDev, proposeCandidates, selectCandidate };
}
