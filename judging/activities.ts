/**
 * The judge engine's activities: seed judge prompts from a program's spec, judge items (N samples
 * per criterion, rounded-mean consensus, factuality as a panel of narrow agents with the min rule),
 * evaluate a prompt against the golden labels, aggregate raters into golden labels, and the steps
 * of prompt optimization. Judgments are keyed by item × text hash × criterion × agent × prompt ×
 * model × sample: a stored one is never requested again, and its ledger row has the same key.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { LLM_REQUEST_KINDS } from './prompts/contract';
import {
  buildJudgeTemplate,
  critiqueMessages,
  editMessages,
  goldenAggregateMessages,
  judgeKey,
  judgeMessages,
  rationaleMergeMessages,
  showContext,
  type CriterionText,
  type DevError,
  type JudgePromptContent,
  type JudgePromptSettings,
} from './prompts/judge';
import { goldenAggregateSchema, judgeVerdictSchema, promptCritiqueSchema, promptEditSchema, rationaleMergeSchema } from './prompts/schemas';
import { binaryClassificationMetrics, roundedMeanConsensus, type BinaryMetrics } from '../stats/index';
import type { Db } from '../platform/db';
import type { FactualityAgent } from '../schema/catalog';
import type { ProgramSpec } from '../schema/program-spec';
import {
  goldenLabels,
  guidelineVersions,
  itemVerdicts,
  items,
  judgeEvaluations,
  judgePrompts,
  judgments,
  labels,
  optimizationCandidates,
  programs,
  shows,
} from '../schema/tables';
import { createLlmClient, type LlmClient } from '../llm/client';
import { structuredCall, type CallResult, type StructuredRequest, type Usage } from '../llm/call';
import { costOf, priceTable, type ModelPrice } from '../llm/pricing';
import { promptHash } from './prompts/hash';
import type { ActivityDeps } from '../activities/deps';

// ── Contract types (the program, production and optimization workflows call these) ────────────

export interface EnsureJudgePromptsInput {
  programId: string;
  guidelineVersion: number;
}

export interface JudgeItemsInput {
  programId: string;
  /** item_verdicts.run_id. */
  runId: string;
  itemIds: string[];
  criteria: string[];
  /** `criterion` (a judge or a panel) or `criterion.agent` → prompt hash. */
  prompts: Record<string, string>;
  samples: number;
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

export interface EvaluateJudgeInput {
  programId: string;
  criterion: string;
  promptHash: string;
  split: 'dev' | 'test';
  samples: number;
  model?: string;
}

export type JudgeMetrics = BinaryMetrics & { errors: number; split: 'dev' | 'test'; promptHash: string; model: string; samples: number; llmRequests: number };

export interface AggregateGoldenInput {
  programId: string;
  itemIds: string[];
  criterion: string;
}

export interface AggregateGoldenResult {
  labeled: number;
  needsReview: string[];
}

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

// ── Internals ──────────────────────────────────────────────────────────────────────────────────

export interface JudgeUnit {
  criterion: string;
  agent: string;
  hash: string;
  template: string;
  settings: JudgePromptSettings;
}

export interface CriterionPlan {
  criterion: string;
  panel: boolean;
  units: JudgeUnit[];
}

export interface ItemRow {
  id: string;
  textHash: string;
  text: string;
  show: { title: string } & Record<string, unknown>;
}

interface UnitOutcome {
  agent: string;
  verdict: 0 | 1 | null;
  summary: string;
}

interface CriterionOutcome {
  verdict: 0 | 1 | null;
  samples: number;
  summary: string;
  units: UnitOutcome[];
}

const DEFAULT_TEMPERATURE = 0.7;
/** Items judged between checkpoints (heartbeat details, verdict writes). */
const CHUNK = 25;
/** Chunks of one production page judged at once (requests of the next start while one finishes). */
const CHUNKS_IN_FLIGHT = 4;

/**
 * Heartbeats every few seconds while `work` runs, so a worker that dies is noticed within the
 * heartbeat timeout even when one LLM request takes long; `details` says where to resume.
 */
async function withHeartbeat<T>(details: () => unknown, work: () => Promise<T>): Promise<T> {
  const ctx = activityContext();
  if (!ctx) return work();
  const timer = setInterval(() => ctx.heartbeat(details()), 2000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

const activityContext = () => {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (the CLI runs evaluations in-process)
  }
};

function rootCause(error: unknown): Error {
  let e = error instanceof Error ? error : new Error(String(error));
  while (e.cause instanceof Error) e = e.cause;
  return e;
}

export const judgmentKey = (itemId: string, textHash: string, criterion: string, agent: string, hash: string, model: string, sample: number) =>
  `judgment:${itemId}:${textHash}:${criterion}:${agent}:${hash}:${model}:${sample}`;

/** dev or test, by a hash of program and item: stable, independent of the order items arrive in. */
export function splitOf(programId: string, itemId: string, testShare: number): 'dev' | 'test' {
  const h = createHash('sha256').update(`${programId}\0${itemId}`).digest().readUInt32BE(0);
  return h / 2 ** 32 < testShare ? 'test' : 'dev';
}

const settingsOf = (row: { settings: Record<string, unknown> }) => row.settings as unknown as JudgePromptSettings;

async function loadProgram(db: Db, programId: string) {
  const [program] = await db.select().from(programs).where(eq(programs.id, programId));
  if (!program) throw ApplicationFailure.nonRetryable(`unknown program ${programId}`, 'UnknownProgram');
  return { ...program, spec: program.spec as unknown as ProgramSpec };
}

/** Stores a prompt version (idempotent: the hash is its identity). */
async function storePrompt(db: Db, content: JudgePromptContent, lineage: { origin: 'seed' | 'manual' | 'optimizer'; parentHash?: string }): Promise<string> {
  const hash = promptHash(content);
  await db
    .insert(judgePrompts)
    .values({
      hash,
      programId: content.programId,
      criterion: content.criterion,
      agent: content.agent,
      template: content.template,
      guidelineVersion: content.guidelineVersion,
      settings: content.settings as unknown as Record<string, unknown>,
      parentHash: lineage.parentHash ?? null,
      origin: lineage.origin,
    })
    .onConflictDoNothing();
  return hash;
}

/** The judge units (one per prompt, a panel's agents expanded) behind each criterion; refuses foreign or unknown prompts. */
export async function resolvePlans(db: Db, programId: string, criteria: string[], prompts: Record<string, string>): Promise<CriterionPlan[]> {
  const keysOf = (c: string) => (prompts[c] ? [c] : Object.keys(prompts).filter((k) => k.startsWith(`${c}.`)));
  const wanted = criteria.flatMap((c) => keysOf(c).map((k) => prompts[k]));
  const rows = wanted.length ? await db.select().from(judgePrompts).where(inArray(judgePrompts.hash, wanted)) : [];
  const panelHashes = rows.flatMap((r) => Object.values(settingsOf(r).panel ?? {}));
  const agentRows = panelHashes.length ? await db.select().from(judgePrompts).where(inArray(judgePrompts.hash, panelHashes)) : [];
  const byHash = new Map([...rows, ...agentRows].map((r) => [r.hash, r]));
  const unit = (hash: string): JudgeUnit => {
    const r = byHash.get(hash);
    if (!r) throw ApplicationFailure.nonRetryable(`unknown judge prompt ${hash}`, 'UnknownPrompt');
    if (r.programId !== programId) throw ApplicationFailure.nonRetryable(`judge prompt ${hash} belongs to program ${r.programId}, not ${programId}`, 'UnknownPrompt');
    return { criterion: r.criterion, agent: r.agent, hash: r.hash, template: r.template, settings: settingsOf(r) };
  };
  return criteria.map((criterion) => {
    const keys = keysOf(criterion);
    if (!keys.length) throw ApplicationFailure.nonRetryable(`no judge prompt for criterion ${criterion} (prompts: ${Object.keys(prompts).join(', ') || 'none'})`, 'UnknownPrompt');
    const units = keys.flatMap((k) => {
      const u = unit(prompts[k]);
      return u.settings.panel ? Object.values(u.settings.panel).map(unit) : [u];
    });
    return { criterion, panel: units.length > 1 || units.some((u) => u.agent !== ''), units };
  });
}

export async function loadItems(db: Db, itemIds: string[]): Promise<Map<string, ItemRow>> {
  if (!itemIds.length) return new Map();
  const rows = await db
    .select({ id: items.id, textHash: items.textHash, text: items.text, title: shows.title, metadata: shows.metadata })
    .from(items)
    .innerJoin(shows, eq(shows.id, items.showId))
    .where(inArray(items.id, itemIds));
  return new Map(rows.map((r) => [r.id, { id: r.id, textHash: r.textHash, text: r.text, show: { ...r.metadata, title: r.title } }]));
}

export interface LedgerEntry {
  requestKey: string;
  programId: string;
  phase: string;
  kind: string;
  model: string;
  mode: 'sync' | 'batch';
  usage: Usage;
}

function ledgerValues(prices: Record<string, ModelPrice>, e: LedgerEntry) {
  const { costUsd, altCostUsd } = costOf(prices, e.model, e.usage, e.mode);
  return {
    requestKey: e.requestKey,
    programId: e.programId,
    phase: e.phase,
    kind: e.kind,
    model: e.model,
    mode: e.mode,
    promptTokens: e.usage.promptTokens,
    cachedTokens: e.usage.cachedTokens,
    completionTokens: e.usage.completionTokens,
    costUsd,
    altCostUsd,
  };
}

/**
 * Records spend. The key is what was paid for; a key seen again (an errored judgment requested
 * anew) adds its usage, because that second request was really paid for too. The rows travel as
 * one jsonb parameter: building a many-row insert with drizzle cost more CPU than the LLM call.
 */
async function writeLedger(db: Db, prices: Record<string, ModelPrice>, entries: LedgerEntry[]) {
  if (!entries.length) return;
  await db.execute(sql`
    insert into usage_ledger (request_key, program_id, phase, kind, model, mode, prompt_tokens, cached_tokens, completion_tokens, cost_usd, alt_cost_usd)
    select "requestKey", "programId", phase, kind, model, mode, "promptTokens", "cachedTokens", "completionTokens", "costUsd", "altCostUsd"
    from jsonb_to_recordset(${JSON.stringify(entries.map((e) => ledgerValues(prices, e)))}::jsonb) as x(
      "requestKey" text, "programId" text, phase text, kind text, model text, mode text,
      "promptTokens" int, "cachedTokens" int, "completionTokens" int, "costUsd" float8, "altCostUsd" float8)
    on conflict (request_key) do update set
      prompt_tokens = usage_ledger.prompt_tokens + excluded.prompt_tokens,
      cached_tokens = usage_ledger.cached_tokens + excluded.cached_tokens,
      completion_tokens = usage_ledger.completion_tokens + excluded.completion_tokens,
      cost_usd = usage_ledger.cost_usd + excluded.cost_usd,
      alt_cost_usd = usage_ledger.alt_cost_usd + excluded.alt_cost_usd`);
}

export const sampleKey = (itemId: string, textHash: string, promptHash: string, sample: number) => `${itemId}|${textHash}|${promptHash}|${sample}`;

/** Stored judgment samples (any status) of `itemList` × `units` below `samples`, by sampleKey. */
export async function storedSamples(db: Db, itemList: ItemRow[], units: JudgeUnit[], samples: number, model: string) {
  const rows = itemList.length
    ? await db
        .select({ itemId: judgments.itemId, textHash: judgments.textHash, promptHash: judgments.promptHash, sampleIndex: judgments.sampleIndex, status: judgments.status, verdict: judgments.verdict, summary: judgments.summary, error: judgments.error })
        .from(judgments)
        .where(
          and(
            inArray(judgments.itemId, itemList.map((i) => i.id)),
            inArray(judgments.promptHash, units.map((u) => u.hash)),
            eq(judgments.model, model),
            sql`${judgments.sampleIndex} < ${samples}`,
          ),
        )
    : [];
  return new Map(rows.map((r) => [sampleKey(r.itemId, r.textHash, r.promptHash, r.sampleIndex), r]));
}

/** The request for one judgment sample: the sync path sends it, batch mode writes it as a JSONL line. */
export function judgeRequest(u: JudgeUnit, item: ItemRow, sample: number, model: string): StructuredRequest<typeof judgeVerdictSchema> {
  return {
    kind: LLM_REQUEST_KINDS.judge,
    schema: judgeVerdictSchema,
    messages: judgeMessages(u.template, { criterionKey: judgeKey(u.criterion, u.agent), show: showContext(item.show, u.agent as FactualityAgent | ''), synopsis: item.text }),
    model,
    temperature: u.settings.temperature,
    reasoningEffort: u.settings.reasoningEffort,
    seed: sample,
  };
}

export type JudgeAnswer = CallResult<{ reasoning: string; summary: string; verdict: 'pass' | 'fail' }>;

/** The judgments row of one answered (or failed) sample. */
export function judgmentRow(programId: string, item: ItemRow, u: JudgeUnit, model: string, sample: number, mode: 'sync' | 'batch', out: JudgeAnswer): typeof judgments.$inferInsert {
  return {
    programId,
    itemId: item.id,
    textHash: item.textHash,
    criterion: u.criterion,
    agent: u.agent,
    promptHash: u.hash,
    model,
    sampleIndex: sample,
    status: out.ok ? 'ok' : 'error',
    verdict: out.ok ? (out.value.verdict === 'pass' ? 1 : 0) : null,
    reasoning: out.ok ? out.value.reasoning : '',
    summary: out.ok ? out.value.summary : '',
    error: out.ok ? null : out.error,
    mode,
  };
}

/** Inserts judgments (one jsonb parameter, see writeLedger); an ok judgment is final, an error may be replaced. */
async function insertJudgments(db: Db, rows: (typeof judgments.$inferInsert)[]) {
  if (!rows.length) return;
  await db.execute(sql`
    insert into judgments (program_id, item_id, text_hash, criterion, agent, prompt_hash, model, sample_index, status, verdict, reasoning, summary, error, mode)
    select "programId", "itemId", "textHash", criterion, coalesce(agent, ''), "promptHash", model, "sampleIndex", status, verdict,
      coalesce(reasoning, ''), coalesce(summary, ''), error, coalesce(mode, 'sync')
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
      "programId" text, "itemId" text, "textHash" text, criterion text, agent text, "promptHash" text, model text, "sampleIndex" int,
      status text, verdict int, reasoning text, summary text, error text, mode text)
    on conflict (item_id, text_hash, criterion, agent, prompt_hash, model, sample_index) do update set
      status = excluded.status, verdict = excluded.verdict, reasoning = excluded.reasoning, summary = excluded.summary,
      error = excluded.error, mode = excluded.mode
    where judgments.status = 'error'`);
}

/** Judgments with their ledger rows, in one transaction; an ok judgment is final, an error may be replaced. */
export async function storeJudgments(db: Db, prices: Record<string, ModelPrice>, rows: (typeof judgments.$inferInsert)[], ledger: LedgerEntry[]) {
  if (!rows.length) return;
  await db.transaction(async (tx) => {
    await insertJudgments(tx as unknown as Db, rows);
    await writeLedger(tx as unknown as Db, prices, ledger);
  });
}

function combine(plan: CriterionPlan, perUnit: Map<string, { verdicts: (0 | 1 | null)[]; summaries: string[]; errors: string[] }>): CriterionOutcome {
  const units: UnitOutcome[] = plan.units.map((u) => {
    const s = perUnit.get(u.hash)!;
    if (s.verdicts.some((v) => v === null)) return { agent: u.agent, verdict: null, summary: `error: ${s.errors[0] ?? 'no answer'}` };
    const { verdict } = roundedMeanConsensus(s.verdicts as (0 | 1)[], 'fail');
    const agreeing = s.verdicts.findIndex((v) => v === verdict);
    return { agent: u.agent, verdict, summary: s.summaries[agreeing] ?? '' };
  });
  // The min rule: any failed agent fails the criterion; otherwise any error leaves it undecided.
  const verdict = units.some((u) => u.verdict === 0) ? 0 : units.some((u) => u.verdict === null) ? null : 1;
  const samples = perUnit.get(plan.units[0].hash)?.verdicts.length ?? 0;
  return { verdict, samples, units, summary: plan.panel ? '' : units[0].summary };
}

export function createJudgeActivities(deps: ActivityDeps) {
  const { db, config, logger } = deps;
  let llmClient: LlmClient | undefined;
  const llm = () => (llmClient ??= createLlmClient(config));
  let prices: Record<string, ModelPrice> | undefined;
  const priceList = () => (prices ??= priceTable(config));

  /**
   * Judges `input.items` with `plans`: requests only samples not stored as ok, and returns the
   * consensus per item and criterion with the judgments and ledger rows the caller stores.
   */
  async function judgeChunk(input: { programId: string; phase: string; items: ItemRow[]; plans: CriterionPlan[]; samples: number; model: string }) {
    const { programId, model, samples } = input;
    const units = input.plans.flatMap((p) => p.units);
    const stored = await storedSamples(db, input.items, units, samples, model);
    type Sample = { verdict: 0 | 1 | null; summary: string; error: string | null };
    const results = new Map<string, Sample>();
    const rows: (typeof judgments.$inferInsert)[] = [];
    const ledger: LedgerEntry[] = [];
    let requests = 0;
    const pending: Promise<void>[] = [];
    for (const item of input.items) {
      for (const u of units) {
        for (let s = 0; s < samples; s++) {
          const key = sampleKey(item.id, item.textHash, u.hash, s);
          const prior = stored.get(key);
          if (prior?.status === 'ok') {
            results.set(key, { verdict: prior.verdict as 0 | 1, summary: prior.summary, error: null });
            continue;
          }
          pending.push(
            (async () => {
              const out: JudgeAnswer = await structuredCall(llm(), judgeRequest(u, item, s, model));
              requests += out.requests;
              const verdict = out.ok ? (out.value.verdict === 'pass' ? 1 : 0) : null;
              results.set(key, { verdict, summary: out.ok ? out.value.summary : '', error: out.ok ? null : out.error });
              rows.push(judgmentRow(programId, item, u, model, s, 'sync', out));
              if (out.requests > 0)
                ledger.push({ requestKey: judgmentKey(item.id, item.textHash, u.criterion, u.agent, u.hash, model, s), programId, phase: input.phase, kind: 'judge', model, mode: 'sync', usage: out.usage });
            })(),
          );
        }
      }
    }
    await Promise.all(pending);
    const outcomes = new Map<string, Map<string, CriterionOutcome>>();
    for (const item of input.items) {
      const perCriterion = new Map<string, CriterionOutcome>();
      for (const plan of input.plans) {
        const perUnit = new Map(
          plan.units.map((u) => {
            const samplesOf = Array.from({ length: samples }, (_, s) => results.get(sampleKey(item.id, item.textHash, u.hash, s))!);
            return [u.hash, { verdicts: samplesOf.map((x) => x.verdict), summaries: samplesOf.map((x) => x.summary), errors: samplesOf.flatMap((x) => (x.error ? [x.error] : [])) }];
          }),
        );
        perCriterion.set(plan.criterion, combine(plan, perUnit));
      }
      outcomes.set(item.id, perCriterion);
    }
    return { outcomes, requests, rows, ledger };
  }

  /** One readable explanation from a panel's agents (falls back to their summaries if merging fails). */
  async function mergeRationales(input: { programId: string; runId: string; item: ItemRow; criterion: string; outcome: CriterionOutcome; model: string }) {
    const rationales = input.outcome.units.map((u) => ({ agent: u.agent, verdict: u.verdict === null ? ('error' as const) : u.verdict ? ('pass' as const) : ('fail' as const), summary: u.summary }));
    const fallback = rationales.map((r) => `${r.agent}: ${r.verdict}${r.summary ? ` — ${r.summary}` : ''}`).join(' ');
    const out = await structuredCall(llm(), { kind: LLM_REQUEST_KINDS.rationaleMerge, schema: rationaleMergeSchema, messages: rationaleMergeMessages({ criterion: input.criterion, synopsis: input.item.text, rationales }), model: input.model, temperature: 0 });
    // The caller stores the ledger row with the verdict it explains, in one transaction.
    const ledger: LedgerEntry | undefined =
      out.requests > 0
        ? { requestKey: `merge:${input.runId}:${input.item.id}:${input.item.textHash}:${input.criterion}`, programId: input.programId, phase: 'production', kind: 'merge', model: input.model, mode: 'sync', usage: out.usage }
        : undefined;
    return { summary: out.ok ? out.value.explanation : fallback, requests: out.requests, ledger };
  }

  /**
   * One chunk of a production page: judges it, merges panel rationales, and stores judgments,
   * their ledger rows (merges' too) and the item verdicts of `input.runId` in one transaction.
   * Returns the LLM requests made.
   */
  async function judgeItemChunk(input: JudgeItemsInput, itemIds: string[], plans: CriterionPlan[], model: string) {
    const itemMap = await loadItems(db, itemIds);
    const list = [...itemMap.values()];
    if (!list.length) return 0;
    const [out, prior] = await Promise.all([
      judgeChunk({ programId: input.programId, phase: 'production', items: list, plans, samples: input.samples, model }),
      db
        .select({ itemId: itemVerdicts.itemId, criterion: itemVerdicts.criterion, summary: itemVerdicts.summary })
        .from(itemVerdicts)
        .where(and(eq(itemVerdicts.runId, input.runId), inArray(itemVerdicts.itemId, list.map((x) => x.id)), sql`${itemVerdicts.verdict} is not null`)),
    ]);
    let requests = out.requests;
    const merged = new Map(prior.map((p) => [`${p.itemId}|${p.criterion}`, p.summary]));
    const rows: (typeof itemVerdicts.$inferInsert)[] = [];
    await Promise.all(
      list.flatMap((item) =>
        plans.map(async (plan) => {
          const outcome = out.outcomes.get(item.id)!.get(plan.criterion)!;
          let summary = outcome.summary;
          if (plan.panel && outcome.verdict !== null) {
            const known = merged.get(`${item.id}|${plan.criterion}`);
            if (known) summary = known;
            else {
              const m = await mergeRationales({ programId: input.programId, runId: input.runId, item, criterion: plan.criterion, outcome, model });
              summary = m.summary;
              requests += m.requests;
              if (m.ledger) out.ledger.push(m.ledger);
            }
          } else if (plan.panel) summary = outcome.units.map((u) => `${u.agent}: ${u.summary}`).join(' ');
          rows.push({ runId: input.runId, programId: input.programId, itemId: item.id, textHash: item.textHash, criterion: plan.criterion, verdict: outcome.verdict, samples: outcome.samples, summary });
        }),
      ),
    );
    await db.transaction(async (tx) => {
      await insertJudgments(tx as unknown as Db, out.rows);
      await writeLedger(tx as unknown as Db, priceList(), out.ledger);
      await tx.execute(sql`
        insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples, summary)
        select "runId", "programId", "itemId", "textHash", criterion, verdict, samples, summary
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x("runId" text, "programId" text, "itemId" text, "textHash" text, criterion text, verdict int, samples int, summary text)
        on conflict (run_id, item_id, text_hash, criterion) do update set verdict = excluded.verdict, samples = excluded.samples, summary = excluded.summary`);
    });
    return requests;
  }

  /** The golden dev/test items of a criterion with their labels, in a stable order. */
  async function goldenItems(programId: string, criterion: string, split: 'dev' | 'test') {
    return db
      .select({ itemId: goldenLabels.itemId, label: goldenLabels.label })
      .from(goldenLabels)
      .where(and(eq(goldenLabels.programId, programId), eq(goldenLabels.criterion, criterion), eq(goldenLabels.split, split)))
      .orderBy(sql`md5(${goldenLabels.itemId})`);
  }

  /** Judges golden items of one split in chunks (heartbeating), returning verdict per item (null = error). */
  async function judgeGolden(input: { programId: string; criterion: string; promptHash: string; itemIds: string[]; samples: number; model: string; phase: string }) {
    const plans = await resolvePlans(db, input.programId, [input.criterion], { [input.criterion]: input.promptHash });
    const verdicts = new Map<string, 0 | 1 | null>();
    let requests = 0;
    let i = 0;
    await withHeartbeat(
      () => ({ judged: i }),
      async () => {
        for (; i < input.itemIds.length; i += CHUNK) {
          const itemMap = await loadItems(db, input.itemIds.slice(i, i + CHUNK));
          const out = await judgeChunk({ programId: input.programId, phase: input.phase, items: [...itemMap.values()], plans, samples: input.samples, model: input.model });
          await storeJudgments(db, priceList(), out.rows, out.ledger);
          requests += out.requests;
          for (const [itemId, m] of out.outcomes) verdicts.set(itemId, m.get(input.criterion)!.verdict);
        }
      },
    );
    return { verdicts, requests };
  }

  return {
    /**
     * One judge prompt per criterion, and per factuality agent, at a guideline version; a panel
     * criterion also gets its own prompt naming its agents (its key is the criterion). Idempotent.
     */
    async ensureJudgePrompts(input: EnsureJudgePromptsInput): Promise<Record<string, string>> {
      const program = await loadProgram(db, input.programId);
      const [guideline] = await db
        .select()
        .from(guidelineVersions)
        .where(and(eq(guidelineVersions.programId, input.programId), eq(guidelineVersions.version, input.guidelineVersion)));
      if (!guideline) throw ApplicationFailure.nonRetryable(`program ${input.programId} has no guideline version ${input.guidelineVersion}`, 'UnknownGuideline');
      const criteria = (guideline.criteria.length ? guideline.criteria : program.spec.criteria) as unknown as ProgramSpec['criteria'];
      const out: Record<string, string> = {};
      for (const c of criteria) {
        const text: CriterionText = { id: c.id, name: c.name, description: c.description, rubric: c.rubric };
        const settings = { temperature: c.judge?.temperature ?? DEFAULT_TEMPERATURE, ...(c.judge?.reasoningEffort ? { reasoningEffort: c.judge.reasoningEffort } : {}) };
        const base = { programId: input.programId, criterion: c.id, guidelineVersion: input.guidelineVersion, settings };
        if (!c.panel?.length) {
          out[c.id] = await storePrompt(db, { ...base, agent: '', template: buildJudgeTemplate({ criterion: text, guidelineText: guideline.text, guidelineVersion: input.guidelineVersion }) }, { origin: 'seed' });
          continue;
        }
        const panel: Record<string, string> = {};
        for (const agent of c.panel) {
          panel[agent] = await storePrompt(db, { ...base, agent, template: buildJudgeTemplate({ criterion: text, agent, guidelineText: guideline.text, guidelineVersion: input.guidelineVersion }) }, { origin: 'seed' });
          out[judgeKey(c.id, agent)] = panel[agent];
        }
        out[c.id] = await storePrompt(db, { ...base, agent: '', template: `panel of ${c.panel.join(', ')}: verdict = min over agents`, settings: { ...settings, panel } }, { origin: 'seed' });
      }
      return out;
    },

    /**
     * Judges a batch of items (≤ ~500) on the given criteria; writes judgments and item_verdicts for
     * `runId`. After a worker crash it resumes at the chunk its last heartbeat recorded, and stored
     * judgments are never requested again.
     */
    async judgeItems(input: JudgeItemsInput): Promise<JudgeItemsResult> {
      if (!Number.isInteger(input.samples) || input.samples < 1) throw ApplicationFailure.nonRetryable(`samples must be a positive integer, not ${input.samples}`, 'BadInput');
      const model = input.model ?? config.llm.model;
      const plans = await resolvePlans(db, input.programId, input.criteria, input.prompts);
      const ctx = activityContext();
      const start = (ctx?.info.heartbeatDetails as { nextIndex?: number } | undefined)?.nextIndex ?? 0;
      const verdicts: Record<string, VerdictCounts> = Object.fromEntries(input.criteria.map((c) => [c, { pass: 0, fail: 0, error: 0 }]));
      const failed = new Set<string>();
      let judged = 0;
      let requests = 0;
      // Chunks before `start` finished in an earlier attempt; their verdicts are read back below.
      // Up to CHUNKS_IN_FLIGHT chunks run at once, so requests keep flowing while a chunk waits for
      // its slowest answer, merges and transaction; the heartbeat names the lowest unfinished chunk.
      const chunkStarts: number[] = [];
      for (let i = start; i < input.itemIds.length; i += CHUNK) chunkStarts.push(i);
      const unfinished = new Set(chunkStarts);
      const resumeAt = () => (unfinished.size ? Math.min(...unfinished) : input.itemIds.length);
      let next = 0;
      await withHeartbeat(() => ({ nextIndex: resumeAt() }), async () => {
        let failure: { error: unknown } | undefined;
        const lane = async () => {
          while (!failure && next < chunkStarts.length) {
            const at = chunkStarts[next++];
            try {
              const made = await judgeItemChunk(input, input.itemIds.slice(at, at + CHUNK), plans, model);
              requests += made;
              unfinished.delete(at);
            } catch (error) {
              // The root cause names the problem; drizzle's wrapper would put the whole query in the UI.
              failure ??= {
                error: error instanceof ApplicationFailure ? error : new Error(`items ${at + 1}–${Math.min(at + CHUNK, input.itemIds.length)} of the page: ${rootCause(error).message}`, { cause: error }),
              };
            }
          }
        };
        // A failed chunk stops new ones; the activity fails once the others in flight are stored,
        // so no request of this attempt is still running when the retry starts.
        await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, chunkStarts.length) }, lane));
        if (failure) throw failure.error;
      });
      // Count from item_verdicts, so chunks done before a crash are counted too.
      const counted = input.itemIds.length
        ? await db
            .select({ itemId: itemVerdicts.itemId, criterion: itemVerdicts.criterion, verdict: itemVerdicts.verdict })
            .from(itemVerdicts)
            .innerJoin(items, and(eq(items.id, itemVerdicts.itemId), eq(items.textHash, itemVerdicts.textHash)))
            .where(and(eq(itemVerdicts.runId, input.runId), inArray(itemVerdicts.itemId, input.itemIds), inArray(itemVerdicts.criterion, input.criteria)))
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
      judged = seen.size;
      for (const id of input.itemIds) if (!seen.has(id)) failed.add(id); // unknown items
      logger.info({ runId: input.runId, items: input.itemIds.length, judged, errors: failed.size, requests }, 'judged items');
      return { judged, errors: failed.size, failedItemIds: [...failed], verdicts, llmRequests: requests };
    },

    /** Accuracy etc. of a judge prompt against the golden labels of one split; stored, comparable over versions. */
    async evaluateJudge(input: EvaluateJudgeInput): Promise<JudgeMetrics> {
      const model = input.model ?? config.llm.model;
      const gold = await goldenItems(input.programId, input.criterion, input.split);
      if (!gold.length) throw ApplicationFailure.nonRetryable(`program ${input.programId} has no ${input.split} golden labels for ${input.criterion}`, 'NoGoldenLabels');
      const { verdicts, requests } = await judgeGolden({ programId: input.programId, criterion: input.criterion, promptHash: input.promptHash, itemIds: gold.map((g) => g.itemId), samples: input.samples, model, phase: 'judge-development' });
      // An error is scored as a fail: it is never a pass, and it costs accuracy when the truth is pass.
      const pred = gold.map((g) => verdicts.get(g.itemId) ?? 0);
      const errors = gold.filter((g) => (verdicts.get(g.itemId) ?? null) === null).length;
      const metrics: JudgeMetrics = {
        ...binaryClassificationMetrics(pred, gold.map((g) => g.label), { bootstrap: 500, seed: 1 }),
        errors,
        split: input.split,
        promptHash: input.promptHash,
        model,
        samples: input.samples,
        llmRequests: requests,
      };
      await db
        .insert(judgeEvaluations)
        .values({ programId: input.programId, criterion: input.criterion, promptHash: input.promptHash, model, split: input.split, samples: input.samples, metrics: metrics as unknown as Record<string, unknown> })
        .onConflictDoUpdate({
          target: [judgeEvaluations.programId, judgeEvaluations.criterion, judgeEvaluations.promptHash, judgeEvaluations.model, judgeEvaluations.split, judgeEvaluations.samples],
          set: { metrics: metrics as unknown as Record<string, unknown> },
        });
      return metrics;
    },

    /**
     * Raters' labels → one golden label per item: unanimous raters need no LLM call; otherwise the
     * LLM aggregates labels and explanations and says whether a human should review. Items keep
     * their dev/test split (by item hash); a reviewed label is never overwritten.
     */
    async aggregateGolden(input: AggregateGoldenInput): Promise<AggregateGoldenResult> {
      const program = await loadProgram(db, input.programId);
      const criterion = program.spec.criteria.find((c) => c.id === input.criterion);
      if (!criterion) throw ApplicationFailure.nonRetryable(`program ${input.programId} has no criterion ${input.criterion}`, 'UnknownCriterion');
      const [guideline] = await db
        .select({ text: guidelineVersions.text })
        .from(guidelineVersions)
        .where(eq(guidelineVersions.programId, input.programId))
        .orderBy(sql`${guidelineVersions.version} desc`)
        .limit(1);
      const rows = input.itemIds.length
        ? await db
            .select({ itemId: labels.itemId, rater: labels.raterId, value: labels.value, explanation: labels.explanation })
            .from(labels)
            .where(and(eq(labels.programId, input.programId), eq(labels.criterion, input.criterion), eq(labels.phase, 'golden-set'), inArray(labels.itemId, input.itemIds)))
            .orderBy(labels.id)
        : [];
      const byItem = new Map<string, Map<string, { rater: string; label: number; explanation: string }>>();
      for (const r of rows) {
        const m = byItem.get(r.itemId) ?? new Map();
        m.set(r.rater, { rater: r.rater, label: r.value, explanation: r.explanation }); // a rater's latest label counts
        byItem.set(r.itemId, m);
      }
      const itemMap = await loadItems(db, [...byItem.keys()]);
      const model = config.llm.model;
      const needsReview: string[] = [];
      const values: (typeof goldenLabels.$inferInsert)[] = [];
      await Promise.all(
        [...byItem].map(async ([itemId, raters]) => {
          const ratings = [...raters.values()];
          const split = splitOf(input.programId, itemId, program.spec.rounds.testShare);
          const base = { programId: input.programId, itemId, criterion: input.criterion, split };
          if (ratings.every((r) => r.label === ratings[0].label)) {
            const explanation = ratings.map((r) => r.explanation).find((e) => e) ?? `all ${ratings.length} raters agree`;
            values.push({ ...base, label: ratings[0].label, explanation, source: 'unanimous', needsReview: false });
            return;
          }
          const item = itemMap.get(itemId)!;
          const out = await structuredCall(llm(), {
            kind: LLM_REQUEST_KINDS.goldenAggregate,
            schema: goldenAggregateSchema,
            messages: goldenAggregateMessages({ criterion, guidelineText: guideline?.text ?? program.spec.guidelines.text, show: showContext(item.show), synopsis: item.text, ratings }),
            model,
            temperature: 0,
          });
          if (out.requests > 0) {
            const labelsKey = createHash('sha256').update(JSON.stringify(ratings)).digest('hex').slice(0, 16);
            await writeLedger(db, priceList(), [{ requestKey: `aggregate:${input.programId}:${itemId}:${input.criterion}:${labelsKey}`, programId: input.programId, phase: 'golden-set', kind: 'aggregate', model, mode: 'sync', usage: out.usage }]);
          }
          if (out.ok) {
            if (out.value.needs_review) needsReview.push(itemId);
            values.push({ ...base, label: out.value.label, explanation: out.value.explanation, source: 'llm_aggregate', needsReview: out.value.needs_review });
          } else {
            // No usable aggregate: the majority (a tie fails) stands in, and a human must look.
            const passes = ratings.filter((r) => r.label === 1).length;
            needsReview.push(itemId);
            values.push({ ...base, label: passes * 2 > ratings.length ? 1 : 0, explanation: `LLM aggregation failed (${out.error}); majority label pending review`, source: 'llm_aggregate', needsReview: true });
          }
        }),
      );
      if (values.length)
        await db
          .insert(goldenLabels)
          .values(values)
          .onConflictDoUpdate({
            target: [goldenLabels.programId, goldenLabels.itemId, goldenLabels.criterion],
            set: { label: sql`excluded.label`, explanation: sql`excluded.explanation`, source: sql`excluded.source`, needsReview: sql`excluded.needs_review`, split: sql`excluded.split` },
            setWhere: sql`${goldenLabels.reviewed} = false`,
          });
      return { labeled: values.length, needsReview: needsReview.sort() };
    },

    /**
     * Prompt optimization, scoring: judges the first `through` dev items (in a stable order) with a
     * prompt and returns its accuracy over them. Only the dev split is ever read here.
     */
    async scoreOnDev(input: ScoreOnDevInput): Promise<DevScore> {
      const model = input.model ?? config.llm.model;
      const dev = await goldenItems(input.programId, input.criterion, 'dev');
      const slice = dev.slice(0, Math.min(input.through, dev.length));
      const { verdicts, requests } = await judgeGolden({ programId: input.programId, criterion: input.criterion, promptHash: input.promptHash, itemIds: slice.map((g) => g.itemId), samples: input.samples, model, phase: 'prompt-optimization' });
      const correct = slice.filter((g) => verdicts.get(g.itemId) === g.label).length;
      const devAccuracy = slice.length ? correct / slice.length : null;
      await db
        .insert(optimizationCandidates)
        .values({ runId: input.runId, promptHash: input.promptHash, step: 0, devAccuracy, devEvaluated: slice.length })
        .onConflictDoUpdate({ target: [optimizationCandidates.runId, optimizationCandidates.promptHash], set: { devAccuracy, devEvaluated: slice.length } });
      return { promptHash: input.promptHash, devAccuracy, devEvaluated: slice.length, devSize: dev.length, llmRequests: requests };
    },

    /**
     * Prompt optimization, expansion (APO): the parent's dev errors → an LLM critique → `count`
     * edited prompts, stored with lineage. A retried step returns the candidates it made before.
     */
    async proposeCandidates(input: ProposeCandidatesInput): Promise<{ candidates: string[]; llmRequests: number }> {
      const made = await db
        .select({ hash: optimizationCandidates.promptHash })
        .from(optimizationCandidates)
        .where(and(eq(optimizationCandidates.runId, input.runId), eq(optimizationCandidates.parentHash, input.parentHash), eq(optimizationCandidates.step, input.step)));
      if (made.length) return { candidates: made.map((m) => m.hash), llmRequests: 0 };
      const [parent] = await db.select().from(judgePrompts).where(eq(judgePrompts.hash, input.parentHash));
      if (!parent) throw ApplicationFailure.nonRetryable(`unknown judge prompt ${input.parentHash}`, 'UnknownPrompt');
      // A panel is optimized through its agents' prompts, not as a whole (docs/judges.md).
      if (settingsOf(parent).panel) return { candidates: [], llmRequests: 0 };
      const model = input.model ?? config.llm.model;
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
        if (n > 0) await writeLedger(db, priceList(), [{ requestKey: key, programId: input.programId, phase: 'prompt-optimization', kind, model, mode: 'sync', usage }]);
      };
      const critique = await structuredCall(llm(), { kind: LLM_REQUEST_KINDS.promptCritique, schema: promptCritiqueSchema, messages: critiqueMessages({ criterionKey, template: parent.template, errors }), model, temperature: 0.7 });
      await spend(`critique:${input.runId}:${input.parentHash}:${input.step}`, 'critique', critique.usage, critique.requests);
      if (!critique.ok) return { candidates: [], llmRequests: requests };
      const candidates: string[] = [];
      for (let k = 0; k < input.count; k++) {
        const edit = await structuredCall(llm(), { kind: LLM_REQUEST_KINDS.promptEdit, schema: promptEditSchema, messages: editMessages({ criterionKey, template: parent.template, critique: critique.value.critique }), model, temperature: 1 });
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
    },

    /** Marks the optimizer's choice. */
    async selectCandidate(input: { runId: string; promptHash: string }): Promise<void> {
      await db.update(optimizationCandidates).set({ selected: true }).where(and(eq(optimizationCandidates.runId, input.runId), eq(optimizationCandidates.promptHash, input.promptHash)));
    },
  };
}
