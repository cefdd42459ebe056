/**
 * Judgments: one row per item × text hash × criterion × agent × prompt × model × sample. A stored
 * ok judgment is never requested again; an error may be replaced.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import { LLM_REQUEST_KINDS } from './prompts/contract';
import { judgeKey, judgeMessages, showContext } from './prompts/judge';
import { judgeScoreSchema, judgeVerdictSchema } from './prompts/schemas';
import { anyOf, oneStatement, runPrepared, type Db } from '../platform/db';
import type { WorkerMetrics } from '../platform/metrics';
import type { FactualityAgent } from '../schema/catalog';
import type { judgments } from '../schema/tables';
import { type CallResult, type StructuredRequest } from '../llm/call';
import { type ModelPrice } from '../llm/pricing';
import { ledgerInsert, type LedgerEntry } from './ledger';
import { type JudgeUnit } from './prompt-registry';

export interface ItemRow {
  id: string;
  textHash: string;
  text: string;
  show: { title: string } & Record<string, unknown>;
}

export const judgmentKey = (
  itemId: string,
  textHash: string,
  criterion: string,
  agent: string,
  hash: string,
  model: string,
  sample: number,
) => `judgment:${itemId}:${textHash}:${criterion}:${agent}:${hash}:${model}:${sample}`;

export async function loadItems(db: Db, itemIds: string[]): Promise<Map<string, ItemRow>> {
  if (!itemIds.length) return new Map();
  const rows = await runPrepared<{
    id: string;
    textHash: string;
    text: string;
    title: string;
    metadata: Record<string, unknown>;
  }>(
    db,
    sql`
    select i.id, i.text_hash as "textHash", i.text, s.title, s.metadata
    from items i join shows s on s.id = i.show_id
    where i.id = ${anyOf(itemIds)}`,
  );
  return new Map(
    rows.map((r) => [r.id, { id: r.id, textHash: r.textHash, text: r.text, show: { ...r.metadata, title: r.title } }]),
  );
}

export const sampleKey = (itemId: string, textHash: string, promptHash: string, sample: number) =>
  `${itemId}|${textHash}|${promptHash}|${sample}`;

/** Stored judgment samples (any status) of `itemList` × `units` below `samples`, by sampleKey. */
export async function storedSamples(db: Db, itemList: ItemRow[], units: JudgeUnit[], samples: number, model: string) {
  const rows = itemList.length
    ? await runPrepared<{
        itemId: string;
        textHash: string;
        promptHash: string;
        sampleIndex: number;
        status: string;
        verdict: number | null;
        score: number | null;
        summary: string;
        error: string | null;
      }>(
        db,
        sql`
        select item_id as "itemId", text_hash as "textHash", prompt_hash as "promptHash", sample_index as "sampleIndex",
          status, verdict, score, summary, error
        from judgments
        where item_id = ${anyOf(itemList.map((i) => i.id))} and prompt_hash = ${anyOf(units.map((u) => u.hash))}
          and model = ${model} and sample_index < ${samples}`,
      )
    : [];
  return new Map(rows.map((r) => [sampleKey(r.itemId, r.textHash, r.promptHash, r.sampleIndex), r]));
}

/** What a judge answers: a pass/fail verdict, or a Likert criterion's score. */
export type JudgeOutput = { reasoning: string; summary: string } & ({ verdict: 'pass' | 'fail' } | { score: number });

/**
 * The request for one judgment sample: the sync path sends it, batch mode writes it as a JSONL line.
 * A Likert criterion's judge (its prompt carries the scale) answers a score on that scale.
 */
export function judgeRequest(
  u: JudgeUnit,
  item: ItemRow,
  sample: number,
  model: string,
): StructuredRequest<z.ZodType<JudgeOutput>> {
  const { scale } = u.settings;
  return {
    kind: LLM_REQUEST_KINDS.judge,
    schema: scale ? judgeScoreSchema(scale.points) : judgeVerdictSchema,
    messages: judgeMessages(u.template, {
      criterionKey: judgeKey(u.criterion, u.agent),
      show: showContext(item.show, u.agent as FactualityAgent | ''),
      synopsis: item.text,
      scale,
      locale: u.settings.locale,
    }),
    model,
    temperature: u.settings.temperature,
    reasoningEffort: u.settings.reasoningEffort,
    seed: sample,
  };
}

export type JudgeAnswer = CallResult<JudgeOutput>;

/** A sample's verdict (1 pass, 0 fail) and Likert score: a score passes at the scale's passAt. */
export function answerVerdict(u: JudgeUnit, value: JudgeOutput): { verdict: 0 | 1; score: number | null } {
  if ('score' in value) return { verdict: value.score >= (u.settings.scale?.passAt ?? 1) ? 1 : 0, score: value.score };
  return { verdict: value.verdict === 'pass' ? 1 : 0, score: null };
}

/** The judgments row of one answered (or failed) sample. */
export function judgmentRow(
  programId: string,
  item: ItemRow,
  u: JudgeUnit,
  model: string,
  sample: number,
  mode: 'sync' | 'batch',
  out: JudgeAnswer,
): typeof judgments.$inferInsert {
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
    ...(out.ok ? answerVerdict(u, out.value) : { verdict: null, score: null }),
    reasoning: out.ok ? out.value.reasoning : '',
    summary: out.ok ? out.value.summary : '',
    error: out.ok ? null : out.error,
    mode,
  };
}

/** The insert of judgments (one jsonb parameter, see writeLedger); an ok judgment is final, an error may be replaced. */
function judgmentsInsert(rows: (typeof judgments.$inferInsert)[]): SQL {
  return sql`
    insert into judgments (program_id, item_id, text_hash, criterion, agent, prompt_hash, model, sample_index, status, verdict, score, reasoning, summary, error, mode)
    select "programId", "itemId", "textHash", criterion, coalesce(agent, ''), "promptHash", model, "sampleIndex", status, verdict, score,
      coalesce(reasoning, ''), coalesce(summary, ''), error, coalesce(mode, 'sync')
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
      "programId" text, "itemId" text, "textHash" text, criterion text, agent text, "promptHash" text, model text, "sampleIndex" int,
      status text, verdict int, score int, reasoning text, summary text, error text, mode text)
    on conflict (item_id, text_hash, criterion, agent, prompt_hash, model, sample_index) do update set
      status = excluded.status, verdict = excluded.verdict, score = excluded.score, reasoning = excluded.reasoning, summary = excluded.summary,
      error = excluded.error, mode = excluded.mode
    where judgments.status = 'error'`;
}

/**
 * Judgments with their ledger rows and `alsoWrite` (the verdicts they decide) as one statement
 * (platform/db.ts oneStatement: on a 1M run, chunks written in a transaction waited for each other's
 * hold on the program's spend row, up to 8 at once); an ok judgment is final, an error may be replaced.
 */
export async function storeJudgments(
  db: Db,
  prices: Record<string, ModelPrice>,
  rows: (typeof judgments.$inferInsert)[],
  ledger: LedgerEntry[],
  metrics: WorkerMetrics,
  alsoWrite: SQL[] = [],
) {
  const writes = [
    ...(rows.length ? [judgmentsInsert(rows)] : []),
    ...(ledger.length ? [ledgerInsert(prices, ledger)] : []),
    ...alsoWrite,
  ];
  if (!writes.length) return;
  await runPrepared(db, oneStatement(writes));
  countStored(metrics, rows);
}

/** Stored judgments in the process's metrics, by status and mode. */
export function countStored(metrics: WorkerMetrics, rows: (typeof judgments.$inferInsert)[]) {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.status} ${r.mode ?? 'sync'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of counts) {
    const [status, mode] = key.split(' ');
    metrics.judgmentsStored(status, mode, n);
  }
}
