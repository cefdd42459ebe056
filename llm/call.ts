/**
 * One structured LLM request: strict JSON Schema output from a zod schema, validated on return.
 * Invalid or truncated output gets one repair attempt (the model sees its answer and the problem);
 * if that fails too, or the provider keeps failing after the client's retries, the result is an
 * error — callers record it as such and never read it as a pass. A provider error that no retry
 * and no other item can fix (a wrong key, an unknown model, no quota: llm/errors.ts) is thrown as
 * a non-retryable ApplicationFailure instead, and an aborted request as the SDK's abort error:
 * neither is an error judgment.
 */
import { APIError } from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { z } from 'zod';
import type { LlmRequestKind } from '../judging/prompts/contract';
import type { ChatMessage } from '../judging/prompts/judge';
import type { LlmClient } from './client';
import { errorClass, fatalKind, isAbort, providerFailure } from './errors';
import { applyModelCapabilities } from './models';
import { redactMessages } from './redaction';

export interface Usage {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** Personal data replaced in the request's messages before it was sent (llm/redaction.ts). */
  redactions?: number;
}

export type CallResult<T> =
  { ok: true; value: T; usage: Usage; requests: number } | { ok: false; error: string; usage: Usage; requests: number };

export interface StructuredRequest<S extends z.ZodType> {
  kind: LlmRequestKind;
  schema: S;
  messages: ChatMessage[];
  model: string;
  temperature?: number;
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  maxTokens?: number;
  /** Provider-side sampling seed (best effort): one per sample index makes samples reproducible. */
  seed?: number;
}

export const emptyUsage = (): Usage => ({ promptTokens: 0, cachedTokens: 0, completionTokens: 0 });

export function addUsage(total: Usage, completion: Pick<ChatCompletion, 'usage'> | undefined) {
  const u = completion?.usage;
  if (!u) return;
  total.promptTokens += u.prompt_tokens;
  total.cachedTokens += u.prompt_tokens_details?.cached_tokens ?? 0;
  total.completionTokens += u.completion_tokens;
}

/** Why an answer is unusable, or its parsed value. */
export function parseAnswer<S extends z.ZodType>(
  schema: S,
  completion: ChatCompletion,
): { ok: true; value: z.infer<S> } | { ok: false; problem: string; content: string } {
  const choice = completion.choices[0];
  const content = choice?.message?.content ?? '';
  if (!choice) return { ok: false, problem: 'the response has no choice', content };
  if (choice.finish_reason === 'length')
    return { ok: false, problem: 'the output was truncated (finish_reason length)', content };
  if (choice.message.refusal) return { ok: false, problem: `the model refused: ${choice.message.refusal}`, content };
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (err) {
    return { ok: false, problem: `the output is not valid JSON (${(err as Error).message})`, content };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      problem: `the output does not match the schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      content,
    };
  return { ok: true, value: parsed.data };
}

type ResponseFormat = ReturnType<typeof zodResponseFormat>;
const responseFormats = new WeakMap<z.ZodType, Map<string, ResponseFormat>>();

/** zod → strict JSON Schema once per schema and kind: converting it per request cost ~0.1 ms each. */
function responseFormat(schema: z.ZodType, kind: string): ResponseFormat {
  let byKind = responseFormats.get(schema);
  if (!byKind) responseFormats.set(schema, (byKind = new Map()));
  let format = byKind.get(kind);
  if (!format) byKind.set(kind, (format = zodResponseFormat(schema, kind)));
  return format;
}

/**
 * The chat-completion body of a structured request (also a Batch API line's body), as the model
 * accepts it (llm/models.ts: a reasoning model gets no temperature, its reasoning effort and
 * max_completion_tokens; another model no reasoning effort).
 */
export function chatParams<S extends z.ZodType>(
  req: StructuredRequest<S>,
  reasoningModels: readonly string[] = [],
  messages: ChatMessage[] = req.messages,
): ChatCompletionCreateParamsNonStreaming {
  return applyModelCapabilities(
    {
      model: req.model,
      messages,
      response_format: responseFormat(req.schema, req.kind),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.reasoningEffort ? { reasoning_effort: req.reasoningEffort } : {}),
      ...(req.maxTokens ? { max_completion_tokens: req.maxTokens } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
    },
    reasoningModels,
  );
}

/**
 * One structured request with at most one repair. `signal` abandons it (rejecting with the abort);
 * a fatal provider error rejects with its ApplicationFailure (providerFailure).
 */
export function structuredCall<S extends z.ZodType>(
  llm: LlmClient,
  req: StructuredRequest<S>,
  signal?: AbortSignal,
): Promise<CallResult<z.infer<S>>> {
  // One slot for the answer and its repair: a started judgment finishes before new ones start (a
  // repair queued behind a page's every first request would leave the error breaker blind).
  return llm.slots.run(() => answerWithRepair(llm, req, signal));
}

async function answerWithRepair<S extends z.ZodType>(
  llm: LlmClient,
  req: StructuredRequest<S>,
  signal?: AbortSignal,
): Promise<CallResult<z.infer<S>>> {
  const outgoing = redactMessages(llm.redactor, req.messages);
  const usage: Usage = { ...emptyUsage(), redactions: outgoing.count };
  let messages = outgoing.messages;
  let requests = 0;
  let problem = '';
  // First answer, then at most one repair.
  for (let attempt = 0; attempt < 2; attempt++) {
    let completion: ChatCompletion;
    try {
      requests++;
      completion = await llm.chat(chatParams(req, llm.reasoningModels, messages), signal);
    } catch (err) {
      if (isAbort(err)) throw err;
      llm.metrics.llmError(errorClass(err));
      const kind = fatalKind(err);
      if (kind) throw providerFailure(err as APIError, kind, llm.provider, req.model);
      return { ok: false, error: `provider: ${describe(err)}`, usage, requests };
    }
    addUsage(usage, completion);
    const answer = parseAnswer(req.schema, completion);
    if (answer.ok) return { ok: true, value: answer.value, usage, requests };
    problem = answer.problem;
    messages = [
      ...outgoing.messages,
      { role: 'assistant', content: answer.content },
      {
        role: 'user',
        content: `Your answer cannot be used: ${problem}. Answer again with one complete JSON object that matches the schema, more briefly if it was cut off.`,
      },
    ];
  }
  llm.metrics.llmError('invalid_output');
  return { ok: false, error: `invalid output after a repair attempt: ${problem}`, usage, requests };
}

function describe(err: unknown): string {
  // The SDK's message starts with the status already ("503 The engine is overloaded").
  if (err instanceof APIError)
    return (
      err.status === undefined || err.message.startsWith(`${err.status} `)
        ? err.message
        : `${err.status} ${err.message}`
    ).slice(0, 500);
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}
