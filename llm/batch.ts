/**
 * The provider's Batch API, as batch-mode production judging uses it: chat-completion requests as a
 * JSONL file (one line per request, `custom_id` = the judgment's natural key), a batch over it,
 * status polls (the workflow sleeps on durable timers between them), and the output and error files
 * read back line by line. Lines that failed are returned as such, so the caller resubmits them.
 */
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { APIError, toFile } from 'openai';
import type { LlmClient } from './client';
import { mapInSlices } from '../platform/event-loop';
import { fatalKind, providerFailure } from './errors';

/** A provider error no retry can fix (a refused key, no quota) stops the activity as chat requests do; anything else is rethrown. */
function fatalToFailure(llm: LlmClient, model: string) {
  return (err: unknown): never => {
    const kind = fatalKind(err);
    if (kind && err instanceof APIError) throw providerFailure(err, kind, llm.provider, model);
    throw err;
  };
}

export interface BatchRequestLine {
  customId: string;
  body: ChatCompletionCreateParamsNonStreaming;
}

export interface SubmittedBatch {
  batchId: string;
  inputFileId: string;
  requests: number;
}

/** The provider's states, and `lost`: the provider no longer knows the batch (404), so there is nothing to ingest and its lines are resubmitted. */
export type BatchState =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelling'
  | 'cancelled'
  | 'lost';

export interface BatchStatus {
  batchId: string;
  status: BatchState;
  /** Terminal: completed, failed, expired or cancelled (ingest what there is, resubmit the rest). */
  done: boolean;
  outputFileId: string | null;
  errorFileId: string | null;
  counts: { total: number; completed: number; failed: number };
}

export type BatchResultLine =
  { customId: string; ok: true; completion: ChatCompletion } | { customId: string; ok: false; error: string };

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled', 'lost']);

export async function submitBatch(
  llm: LlmClient,
  lines: BatchRequestLine[],
  metadata: Record<string, string>,
): Promise<SubmittedBatch> {
  if (!lines.length) throw new Error('a batch needs at least one request');
  // Azure OpenAI names the endpoint without /v1 (and `model` in each body is the batch deployment).
  const endpoint = llm.provider.kind === 'azure' ? '/chat/completions' : '/v1/chat/completions';
  const jsonl =
    (
      await mapInSlices(lines, (l) =>
        JSON.stringify({ custom_id: l.customId, method: 'POST', url: endpoint, body: l.body }),
      )
    ).join('\n') + '\n';
  const fatal = fatalToFailure(llm, lines[0].body.model);
  const file = await llm.openai.files
    .create({ file: await toFile(Buffer.from(jsonl, 'utf8'), 'judgeflow-batch.jsonl'), purpose: 'batch' })
    .catch(fatal);
  const batch = await llm.openai.batches
    .create({
      input_file_id: file.id,
      endpoint: endpoint as '/v1/chat/completions',
      completion_window: '24h',
      metadata,
    })
    .catch(fatal);
  return { batchId: batch.id, inputFileId: file.id, requests: lines.length };
}

export async function batchStatus(llm: LlmClient, batchId: string): Promise<BatchStatus> {
  let b: Awaited<ReturnType<typeof llm.openai.batches.retrieve>>;
  try {
    b = await llm.openai.batches.retrieve(batchId);
  } catch (err) {
    if (err instanceof APIError && err.status === 404)
      return {
        batchId,
        status: 'lost',
        done: true,
        outputFileId: null,
        errorFileId: null,
        counts: { total: 0, completed: 0, failed: 0 },
      };
    throw err;
  }
  return {
    batchId,
    status: b.status as BatchState,
    done: TERMINAL.has(b.status),
    outputFileId: b.output_file_id ?? null,
    errorFileId: b.error_file_id ?? null,
    counts: {
      total: b.request_counts?.total ?? 0,
      completed: b.request_counts?.completed ?? 0,
      failed: b.request_counts?.failed ?? 0,
    },
  };
}

/** Asks the provider to stop a batch; one already finished stays as it is. Returns its state. */
export async function cancelBatch(llm: LlmClient, batchId: string): Promise<BatchState> {
  const current = await batchStatus(llm, batchId);
  if (current.done || current.status === 'cancelling') return current.status;
  return (await llm.openai.batches.cancel(batchId)).status as BatchState;
}

/** Every line of a finished batch's output and error files; a non-200 line is a failure with its reason. */
export async function batchResults(
  llm: LlmClient,
  status: Pick<BatchStatus, 'outputFileId' | 'errorFileId'>,
): Promise<BatchResultLine[]> {
  const results: BatchResultLine[] = [];
  for (const fileId of [status.outputFileId, status.errorFileId]) {
    if (!fileId) continue;
    const text = await (await llm.openai.files.content(fileId)).text();
    const raws = text.split('\n').filter((raw) => raw.trim());
    results.push(...(await mapInSlices(raws, resultLine)));
  }
  return results;
}

function resultLine(raw: string): BatchResultLine {
  const line = JSON.parse(raw) as {
    custom_id: string;
    response?: { status_code: number; body: unknown } | null;
    error?: { code?: string; message?: string } | null;
  };
  if (line.response && line.response.status_code === 200)
    return { customId: line.custom_id, ok: true, completion: line.response.body as ChatCompletion };
  return {
    customId: line.custom_id,
    ok: false,
    error:
      line.error?.message ??
      `HTTP ${line.response?.status_code ?? '?'}: ${JSON.stringify(line.response?.body ?? null).slice(0, 200)}`,
  };
}

/**
 * The provider's batch whose metadata has `key` = `value`, among the `pages` × 100 most recent: how
 * a retried submit finds the batch an earlier attempt created but could not record.
 */
export async function findBatch(
  llm: LlmClient,
  key: string,
  value: string,
  pages = 5,
): Promise<SubmittedBatch | undefined> {
  let page = await llm.openai.batches.list({ limit: 100 });
  for (let n = 0; n < pages; n++) {
    const hit = page.data.find((b) => b.metadata?.[key] === value);
    if (hit) return { batchId: hit.id, inputFileId: hit.input_file_id, requests: hit.request_counts?.total ?? 0 };
    if (!page.hasNextPage()) return undefined;
    page = await page.getNextPage();
  }
  return undefined;
}
