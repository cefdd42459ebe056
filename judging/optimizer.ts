/** Prompt optimization: candidates proposed from a prompt's dev errors, scored on the dev split only. */
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import { LLM_REQUEST_KINDS } from './prompts/contract';
import { critiqueMessages, editMessages, judgeKey, type DevError } from './prompts/judge';
import { promptCritiqueSchema, promptEditSchema } from './prompts/schemas';
import type { Db } from '../platform/db';
import { goldenLabels, items, judgePrompts, judgments, optimizationCandidates } from '../schema/tables';
import { structuredCall, type Usage } from '../llm/call';
import { type ModelPrice } from '../llm/pricing';
import type { LlmClient } from '../llm/client';
import { writeLedger } from './ledger';
import { settingsOf, storePrompt } from './prompt-registry';
import type { JudgingEngine } from './engine';
import { goldenItems } from './golden';

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
    const dev = await goldenItems(db, input.programId, input.criterion, 'dev');
    const slice = dev.slice(0, Math.min(input.through, dev.length));
    const { verdicts, requests } = await engine.judgeGolden({ programId: input.programId, criterion: input.criterion, promptHash: input.promptHash, itemIds: slice.map((g) => g.itemId), samples: input.samples, model, phase: 'prompt-optimization' });
    const correct = slice.filter((g) => verdicts.get(g.itemId) === g.label).length;
    const devAccuracy = slice.length ? correct / slice.length : null;
    await db
      .insert(optimizationCandidates)
      .values({ runId: input.runId, promptHash: input.promptHash, step: 0, devAccuracy, devEvaluated: slice.length })
      .onConflictDoUpdate({ target: [optimizationCandidates.runId, optimizationCandidates.promptHash], set: { devAccuracy, devEvaluated: slice.length } });
    return { promptHash: input.promptHash, devAccuracy, devEvaluated: slice.length, devSize: dev.length, llmRequests: requests };
  }

  /**
   * Prompt optimization, expansion (APO): the parent's dev errors → an LLM critique → `count`
   * edited prompts, stored with lineage. A retried step returns the candidates it made before.
   */
  async function proposeCandidates(input: ProposeCandidatesInput): Promise<{ candidates: string[]; llmRequests: number }> {
    const made = await db
      .select({ hash: optimizationCandidates.promptHash })
      .from(optimizationCandidates)
      .where(and(eq(optimizationCandidates.runId, input.runId), eq(optimizationCandidates.parentHash, input.parentHash), eq(optimizationCandidates.step, input.step)));
    if (made.length) return { candidates: made.map((m) => m.hash), llmRequests: 0 };
    const [parent] = await db.select().from(judgePrompts).where(eq(judgePrompts.hash, input.parentHash));
    if (!parent) throw ApplicationFailure.nonRetryable(`unknown judge prompt ${input.parentHash}`, 'UnknownPrompt');
    // A panel is optimized through its agents' prompts, not as a whole (docs/judges.md).
    if (settingsOf(parent).panel) return { candidates: [], llmRequests: 0 };
    const model = input.model ?? defaultModel;
    const errorRows = await db.execute<{ text: string; label: number; status: string; verdict: number | null; summary: string; error: string | null }>(sql`
      select i.text, g.label, j.status, j.verdict, j.summary, j.error
      from ${judgments} j
      join ${goldenLabels} g on g.program_id = j.program_id and g.item_id = j.item_id and g.criterion = ${parent.criterion} and g.split = 'dev'
      join ${items} i on i.id = j.item_id and i.text_hash = j.text_hash
      where j.prompt_hash = ${input.parentHash} and j.model = ${model} and j.sample_index = 0 and (j.status = 'error' or j.verdict <> g.label)
      order by md5(j.item_id) limit ${input.maxErrors ?? 8}`);
    if (!errorRows.length) return { candidates: [], llmRequests: 0 };
    const errors: DevError[] = errorRows.map((r) => ({ synopsis: r.text, expected: r.label ? 'pass' : 'fail', got: r.status === 'error' ? 'error' : r.verdict ? 'pass' : 'fail', summary: r.summary || (r.error ?? '') }));
    const criterionKey = judgeKey(parent.criterion, parent.agent);
    let requests = 0;
    const spend = async (key: string, kind: string, usage: Usage, n: number) => {
      requests += n;
      if (n > 0) await writeLedger(db, prices, [{ requestKey: key, programId: input.programId, phase: 'prompt-optimization', kind, model, mode: 'sync', usage }]);
    };
    const critique = await structuredCall(llm, { kind: LLM_REQUEST_KINDS.promptCritique, schema: promptCritiqueSchema, messages: critiqueMessages({ criterionKey, template: parent.template, errors }), model, temperature: 0.7 });
    await spend(`critique:${input.runId}:${input.parentHash}:${input.step}`, 'critique', critique.usage, critique.requests);
    if (!critique.ok) return { candidates: [], llmRequests: requests };
    const candidates: string[] = [];
    for (let k = 0; k < input.count; k++) {
      const edit = await structuredCall(llm, { kind: LLM_REQUEST_KINDS.promptEdit, schema: promptEditSchema, messages: editMessages({ criterionKey, template: parent.template, critique: critique.value.critique }), model, temperature: 1 });
      await spend(`edit:${input.runId}:${input.parentHash}:${input.step}:${k}`, 'edit', edit.usage, edit.requests);
      if (!edit.ok || !edit.value.prompt.trim() || edit.value.prompt.trim() === parent.template.trim()) continue;
      const hash = await storePrompt(
        db,
        { programId: parent.programId, criterion: parent.criterion, agent: parent.agent, guidelineVersion: parent.guidelineVersion, template: edit.value.prompt, settings: settingsOf(parent) },
        { origin: 'optimizer', parentHash: parent.hash },
      );
      if (candidates.includes(hash)) continue;
      candidates.push(hash);
      await db
        .insert(optimizationCandidates)
        .values({ runId: input.runId, promptHash: hash, parentHash: parent.hash, step: input.step, critique: critique.value.critique })
        .onConflictDoNothing();
    }
    return { candidates, llmRequests: requests };
  }

  /** Marks the optimizer's choice. */
  async function selectCandidate(input: { runId: string; promptHash: string }): Promise<void> {
    await db.update(optimizationCandidates).set({ selected: true }).where(and(eq(optimizationCandidates.runId, input.runId), eq(optimizationCandidates.promptHash, input.promptHash)));
  }

  return { scoreOnDev, proposeCandidates, selectCandidate };
}
