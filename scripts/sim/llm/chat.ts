/**
 * Chat completions as the simulator serves them over HTTP and in batch lines alike: which
 * requests OpenAI would refuse, and the completion answered for the others.
 */
import type { Logger } from '../../../platform/logger';
import { answer } from './answers';
import { newId } from './batches';
import { RequestError } from './errors';
import type { Fault } from './faults';
import { countTokens, PrefixCache } from './limits';
import type { LlmSimOptions } from './options';
import { fillSchema, violateSchema } from './schema-fill';
import type { LlmSimStats } from './stats';

export const SIMULATOR_FINGERPRINT = 'judgeflow-sim';

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  n?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  seed?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  reasoning_effort?: unknown;
  response_format?: { type?: unknown; json_schema?: { name?: unknown; schema?: unknown; strict?: unknown } };
}

interface Message {
  role: string;
  content: string | Array<{ type: string; text?: string }> | null;
}

const REASONING_TOKENS: Record<string, number> = { none: 0, minimal: 0, low: 64, medium: 256, high: 1024 };
/** OpenAI's reasoning models: the o-series and gpt-5 (its -chat variants excepted). */
const REASONING_MODEL = /^(o\d+(-|$)|gpt-5(?!(\.\d+)?-chat))/;
export const messageText = (m: Message) =>
  typeof m.content === 'string'
    ? m.content
    : Array.isArray(m.content)
      ? m.content.map((p) => p.text ?? '').join('')
      : '';

export function validateChat(input: unknown) {
  const body = input as ChatBody;
  if (!body || typeof body !== 'object') throw new RequestError(400, 'The request body must be a JSON object.');
  if (typeof body.model !== 'string' || !body.model)
    throw new RequestError(400, 'you must provide a model parameter', 'model', 'missing_required_parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new RequestError(400, "'messages' must be a non-empty array.", 'messages', 'invalid_value');
  for (const [i, m] of (body.messages as Message[]).entries()) {
    if (!m || typeof m.role !== 'string' || (typeof m.content !== 'string' && !Array.isArray(m.content))) {
      throw new RequestError(
        400,
        `Invalid message at messages[${i}]: expected {role, content}.`,
        `messages[${i}]`,
        'invalid_value',
      );
    }
  }
  if (body.stream)
    throw new RequestError(
      400,
      'The judgeflow LLM simulator does not support stream=true.',
      'stream',
      'unsupported_value',
    );
  const n = body.n === undefined || body.n === null ? 1 : body.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 128)
    throw new RequestError(400, `Invalid 'n': expected an integer from 1 to 128.`, 'n', 'invalid_value');
  const rf = body.response_format;
  let schema: Record<string, unknown> | undefined;
  let kind: string | undefined;
  if (rf && rf.type === 'json_schema') {
    if (
      !rf.json_schema ||
      typeof rf.json_schema.name !== 'string' ||
      !rf.json_schema.schema ||
      typeof rf.json_schema.schema !== 'object'
    ) {
      throw new RequestError(
        400,
        "Invalid 'response_format': json_schema needs a name and a schema object.",
        'response_format',
        'invalid_value',
      );
    }
    schema = rf.json_schema.schema as Record<string, unknown>;
    kind = rf.json_schema.name;
  } else if (rf && rf.type !== 'json_object' && rf.type !== 'text') {
    throw new RequestError(
      400,
      `Invalid 'response_format.type': ${JSON.stringify(rf.type)}.`,
      'response_format.type',
      'invalid_value',
    );
  }
  // As OpenAI does: a reasoning model refuses sampling parameters and max_tokens; another model, reasoning_effort.
  const unsupported = (param: string, hint = '') =>
    new RequestError(
      400,
      `Unsupported parameter: '${param}' is not supported with this model.${hint}`,
      param,
      'unsupported_parameter',
    );
  if (REASONING_MODEL.test(body.model)) {
    if (body.temperature !== undefined && body.temperature !== null && body.temperature !== 1)
      throw new RequestError(
        400,
        `Unsupported value: 'temperature' does not support ${JSON.stringify(body.temperature)} with this model. Only the default (1) value is supported.`,
        'temperature',
        'unsupported_value',
      );
    if (body.top_p !== undefined && body.top_p !== null && body.top_p !== 1) throw unsupported('top_p');
    if (body.max_tokens !== undefined && body.max_tokens !== null)
      throw unsupported('max_tokens', " Use 'max_completion_tokens' instead.");
  } else if (body.reasoning_effort !== undefined && body.reasoning_effort !== null)
    throw unsupported('reasoning_effort');
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null && !(typeof effort === 'string' && effort in REASONING_TOKENS)) {
    throw new RequestError(
      400,
      `Invalid 'reasoning_effort': expected one of ${Object.keys(REASONING_TOKENS).join(', ')}.`,
      'reasoning_effort',
      'invalid_value',
    );
  }
  const maxTokens = (body.max_completion_tokens ?? body.max_tokens) as number | undefined;
  if (maxTokens !== undefined && maxTokens !== null && !(Number.isInteger(maxTokens) && maxTokens > 0))
    throw new RequestError(400, "Invalid 'max_tokens'.", 'max_tokens', 'invalid_value');
  return {
    model: body.model,
    messages: body.messages as Message[],
    n,
    schema,
    kind,
    jsonObject: rf?.type === 'json_object',
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    seed: typeof body.seed === 'number' ? body.seed : undefined,
    reasoningTokens: REASONING_TOKENS[(effort as string | undefined) ?? 'none'] ?? 0,
    maxTokens: maxTokens ?? undefined,
  };
}

export type ChatRequest = ReturnType<typeof validateChat>;

export const kindOf = (req: ChatRequest) => req.kind ?? (req.jsonObject ? 'json_object' : 'text');

/**
 * The completion for a validated request, counted in `stats`; `fault` spoils its content (malformed
 * JSON, a schema violation, truncation). One per simulator: unseeded samples and the prefix cache
 * run on across HTTP and batch requests.
 */
export function completer(options: LlmSimOptions, stats: LlmSimStats, log: Logger) {
  const cache = new PrefixCache();
  let sampleCounter = 0;
  return (req: ChatRequest, fault: Fault | undefined) => {
    const prompt = req.messages.map((m) => `${m.role}: ${messageText(m)}`).join('\n\n');
    const promptTokens = countTokens(prompt) + 3 * req.messages.length;
    const cached = cache.cachedTokens(prompt);
    const kind = kindOf(req);
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
    let completionTokens = 0;
    const choices = Array.from({ length: req.n }, (_, index) => {
      const sample = req.temperature === 0 ? 0 : req.seed !== undefined ? req.seed * 1000 + index : ++sampleCounter;
      stats.samples++;
      const { facts, recognized } = answer({ kind: req.kind, prompt, schema: req.schema, sample }, options);
      if (!recognized) {
        stats.unrecognized++;
        log.warn({ kind: req.kind }, `simulated model did not recognise the request: ${facts.text}`);
      }
      const value = req.schema
        ? fillSchema(req.schema, facts)
        : req.jsonObject
          ? { verdict: facts.verdict, reasoning: facts.reasoning, summary: facts.summary }
          : undefined;
      let content = value === undefined ? facts.text : JSON.stringify(value);
      let finish: 'stop' | 'length' = 'stop';
      if (fault === 'malformed') content = `Sure! Here is the JSON you asked for:\n${content.slice(0, -1)}`;
      if (fault === 'schemaViolation')
        content = JSON.stringify(req.schema ? violateSchema(value, req.schema) : { unexpected: true });
      if (fault === 'truncated' || (req.maxTokens !== undefined && countTokens(content) > req.maxTokens)) {
        content = content.slice(
          0,
          Math.max(1, Math.min(Math.floor(content.length / 2), (req.maxTokens ?? Infinity) * 4)),
        );
        finish = 'length';
      }
      completionTokens += countTokens(content) + req.reasoningTokens;
      return {
        index,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finish,
      };
    });
    stats.tokens.prompt += promptTokens;
    stats.tokens.completion += completionTokens;
    stats.tokens.cached += cached;
    return {
      id: newId('chatcmpl'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.model,
      system_fingerprint: SIMULATOR_FINGERPRINT,
      service_tier: 'default',
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: req.reasoningTokens * req.n,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
    };
  };
}
