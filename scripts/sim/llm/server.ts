/**
 * The LLM simulator: an OpenAI-compatible HTTP server (chat completions with strict structured
 * outputs, models, files and the Batch API) that answers judgeflow's requests against the hidden
 * truth of the simulated world. It is labelled as simulated in every response and log line
 * (header `x-judgeflow-simulator: true`, `system_fingerprint: "judgeflow-sim"`).
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger, type Logger } from '../../../platform/logger';
import { Rng } from '../model/rng';
import { answer } from './answers';
import { BatchStore, newId, parseMultipart, type Batch, type StoredFile } from './batches';
import { countTokens, PrefixCache, RateLimiter } from './limits';
import { parseLlmSimOptions, type LlmSimOptions, type LlmSimOptionsInput } from './options';
import { fillSchema, violateSchema } from './schema-fill';

export const SIMULATOR_FINGERPRINT = 'judgeflow-sim';

export interface LlmSimStats {
  /** HTTP requests answered (hangs are not, until dropped). */
  requests: number;
  /** HTTP requests that arrived, answered or not: what a client sent. */
  received: number;
  /** Chat requests with distinct bodies: received chat requests minus this many repeated one byte for byte (retries). */
  distinct: number;
  byKind: Record<string, number>;
  byStatus: Record<string, number>;
  rateLimited: number;
  faults: { serverError: number; hang: number; malformed: number; schemaViolation: number; truncated: number } & Record<
    ProviderFault,
    number
  >;
  /** Requests whose prompt lacked what their kind needs (answered with a labelled placeholder). */
  unrecognized: number;
  samples: number;
  tokens: { prompt: number; completion: number; cached: number };
  /** Batch request lines: all, answered per kind (the rest of byKind came over HTTP), failed by lineErrorRate. */
  batches: {
    created: number;
    completed: number;
    failed: number;
    cancelled: number;
    expired: number;
    requests: number;
    byKind: Record<string, number>;
    lineErrors: number;
  };
}

export interface LlmSimulator {
  /** Base URL ending in /v1 (what OPENAI_BASE_URL / the openai client's baseURL takes). */
  url: string;
  port: number;
  options: LlmSimOptions;
  stats(): LlmSimStats;
  close(): Promise<void>;
}

export type StartLlmSimulatorOptions = LlmSimOptionsInput & { port?: number; host?: string; logger?: Logger };

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

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = 'invalid_request_error',
  ) {
    super(message);
  }
  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const REASONING_TOKENS: Record<string, number> = { none: 0, minimal: 0, low: 64, medium: 256, high: 1024 };
/** OpenAI's reasoning models: the o-series and gpt-5 (its -chat variants excepted). */
const REASONING_MODEL = /^(o\d+(-|$)|gpt-5(?!(\.\d+)?-chat))/;
const messageText = (m: Message) =>
  typeof m.content === 'string'
    ? m.content
    : Array.isArray(m.content)
      ? m.content.map((p) => p.text ?? '').join('')
      : '';

function validateChat(body: ChatBody) {
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

const kindOf = (req: ReturnType<typeof validateChat>) => req.kind ?? (req.jsonObject ? 'json_object' : 'text');

type Fault = keyof LlmSimStats['faults'] | undefined;

/** Faults answered with an error as OpenAI answers a misconfigured client (chat completions only). */
type ProviderFault =
  'unauthorized' | 'forbidden' | 'modelNotFound' | 'badRequest' | 'insufficientQuota' | 'rateLimited';
const PROVIDER_FAULTS: readonly ProviderFault[] = [
  'unauthorized',
  'forbidden',
  'modelNotFound',
  'badRequest',
  'insufficientQuota',
  'rateLimited',
];

/** OpenAI's status and error body for each, as its API documents them ({"error":{"message","type","param","code"}}). */
function providerFaultError(fault: ProviderFault, model: string): RequestError {
  switch (fault) {
    case 'unauthorized':
      return new RequestError(
        401,
        'Incorrect API key provided: sk-judge*****flow. You can find your API key at https://platform.openai.com/account/api-keys. (simulated fault)',
        null,
        'invalid_api_key',
      );
    case 'forbidden':
      return new RequestError(
        403,
        `Project does not have access to model ${model} (simulated fault)`,
        null,
        'model_not_found',
      );
    case 'modelNotFound':
      return new RequestError(
        404,
        `The model \`${model}\` does not exist or you do not have access to it. (simulated fault)`,
        null,
        'model_not_found',
      );
    case 'badRequest':
      return new RequestError(
        400,
        "Unsupported parameter: 'temperature' is not supported with this model. (simulated fault)",
        'temperature',
        'unsupported_parameter',
      );
    case 'insufficientQuota':
      return new RequestError(
        429,
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors. (simulated fault)',
        null,
        'insufficient_quota',
        'insufficient_quota',
      );
    case 'rateLimited':
      return new RequestError(
        429,
        `Rate limit reached for ${model} (judgeflow simulator) on requests per min (RPM). Please try again in 200ms. (simulated fault)`,
        null,
        'rate_limit_exceeded',
        'requests',
      );
  }
}

export async function startLlmSimulator(opts: StartLlmSimulatorOptions = {}): Promise<LlmSimulator> {
  const { port = 0, host = '127.0.0.1', logger: parentLogger, ...rest } = opts;
  const options = parseLlmSimOptions(rest);
  const log = (parentLogger ?? createLogger('sim-llm')).child({ simulated: true });
  const limiter = new RateLimiter(options.rpm, options.tpm);
  const cache = new PrefixCache();
  const faultRng = Rng.for(options.seed, 'faults');
  const latencyRng = Rng.for(options.seed, 'latency');
  let sampleCounter = 0;
  const stats: LlmSimStats = {
    requests: 0,
    received: 0,
    distinct: 0,
    byKind: {},
    byStatus: {},
    rateLimited: 0,
    faults: {
      serverError: 0,
      hang: 0,
      malformed: 0,
      schemaViolation: 0,
      truncated: 0,
      unauthorized: 0,
      forbidden: 0,
      modelNotFound: 0,
      badRequest: 0,
      insufficientQuota: 0,
      rateLimited: 0,
    },
    unrecognized: 0,
    samples: 0,
    tokens: { prompt: 0, completion: 0, cached: 0 },
    batches: { created: 0, completed: 0, failed: 0, cancelled: 0, expired: 0, requests: 0, byKind: {}, lineErrors: 0 },
  };
  const lineErrorRng = Rng.for(options.seed, 'batch-line-errors');

  const pickFault = (): Fault => {
    const f = options.faults;
    let u = faultRng.next();
    for (const name of [
      'serverError',
      'hang',
      'malformed',
      'schemaViolation',
      'truncated',
      ...PROVIDER_FAULTS,
    ] as const) {
      if (u < f[name]) return name;
      u -= f[name];
    }
    return undefined;
  };

  const latencyMs = () => {
    const { medianMs, p99Ms } = options.latency;
    if (medianMs <= 0) return 0;
    if (p99Ms <= medianMs) return medianMs;
    return medianMs * Math.exp((Math.log(p99Ms / medianMs) / 2.3263) * latencyRng.normal());
  };

  /** The completion for a validated request (shared by HTTP and batch lines). */
  const complete = (req: ReturnType<typeof validateChat>, fault: Fault) => {
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

  const count = (status: number) => (stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1);
  const serverError = () =>
    new RequestError(
      500,
      'The server had an error while processing your request. Sorry about that! (simulated fault)',
      null,
      null,
      'server_error',
    );

  const batches = new BatchStore(
    options.batch,
    (body) => {
      stats.batches.requests++;
      try {
        const req = validateChat(body as ChatBody);
        if (options.batch.lineErrorRate > 0 && lineErrorRng.next() < options.batch.lineErrorRate) {
          stats.batches.lineErrors++;
          return { status: 500, body: serverError().body() };
        }
        const fault = pickFault();
        if (fault === 'serverError') {
          stats.faults.serverError++;
          return { status: 500, body: serverError().body() };
        }
        if (fault && (PROVIDER_FAULTS as readonly string[]).includes(fault)) {
          stats.faults[fault]++;
          const error = providerFaultError(fault as ProviderFault, req.model);
          return { status: error.status, body: error.body() };
        }
        if (fault && fault !== 'hang') stats.faults[fault]++;
        const kind = kindOf(req);
        stats.batches.byKind[kind] = (stats.batches.byKind[kind] ?? 0) + 1;
        return { status: 200, body: complete(req, fault === 'hang' ? undefined : fault) };
      } catch (err) {
        if (err instanceof RequestError) return { status: err.status, body: err.body() };
        throw err;
      }
    },
    (b) => {
      stats.batches[
        b.status === 'completed' || b.status === 'cancelled' || b.status === 'expired' ? b.status : 'failed'
      ]++;
      log.info({ batch: b.id, status: b.status, counts: b.request_counts }, 'simulated batch finished');
    },
  );

  const hangs = new Set<() => void>();
  const app = Fastify({ logger: false, bodyLimit: 200 * 1024 * 1024, forceCloseConnections: true });
  app.addHook('onRequest', async (_req, reply) => {
    stats.received++;
    reply.header('x-judgeflow-simulator', 'true');
  });
  app.addHook('onResponse', async (_req, reply) => {
    stats.requests++;
    count(reply.statusCode);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof RequestError) return reply.status(err.status).send(err.body());
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) log.error({ err }, 'simulator error');
    return reply
      .status(status)
      .send(
        new RequestError(
          status,
          err.message,
          null,
          null,
          status >= 500 ? 'server_error' : 'invalid_request_error',
        ).body(),
      );
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send(
        new RequestError(
          404,
          `Unknown request URL: ${req.method} ${req.url} (judgeflow LLM simulator).`,
          null,
          'unknown_url',
        ).body(),
      ),
  );
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.get('/healthz', async () => ({ ok: true, simulated: true, service: 'judgeflow LLM simulator' }));
  const model = (id: string) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'judgeflow-sim' });
  app.get('/v1/models', async () => ({ object: 'list', data: options.models.map(model) }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => model(req.params.id));

  const seenBodies = new Set<string>();
  app.post('/v1/chat/completions', async (request: FastifyRequest, reply: FastifyReply) => {
    const digest = createHash('sha1').update(JSON.stringify(request.body)).digest('base64');
    if (!seenBodies.has(digest)) {
      seenBodies.add(digest);
      stats.distinct++;
    }
    const req = validateChat(request.body as ChatBody);
    const estimate = countTokens(req.messages.map(messageText).join('')) + (req.maxTokens ?? 256) * req.n;
    const decision = limiter.admit(estimate);
    reply.headers(decision.headers);
    if (!decision.ok) {
      stats.rateLimited++;
      const limit =
        decision.limit === 'tokens'
          ? `tokens per min (TPM): Limit ${options.tpm}`
          : `requests per min (RPM): Limit ${options.rpm}`;
      return reply
        .status(429)
        .send(
          new RequestError(
            429,
            `Rate limit reached for ${req.model} (judgeflow simulator) on ${limit}. Please try again in ${decision.retryAfterMs}ms.`,
            null,
            'rate_limit_exceeded',
            decision.limit ?? 'requests',
          ).body(),
        );
    }
    const fault = pickFault();
    if (fault) stats.faults[fault]++;
    if (fault === 'serverError') throw serverError();
    if (fault && (PROVIDER_FAULTS as readonly string[]).includes(fault)) {
      if (fault === 'rateLimited') reply.headers({ 'retry-after': '1', 'retry-after-ms': '200' });
      throw providerFaultError(fault as ProviderFault, req.model);
    }
    if (fault === 'hang') {
      reply.hijack();
      await new Promise<void>((resolve) => {
        const end = () => {
          clearTimeout(timer);
          hangs.delete(end);
          request.raw.socket.destroy();
          resolve();
        };
        const timer = setTimeout(end, options.hangMs);
        hangs.add(end);
      });
      return;
    }
    const delay = latencyMs();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    reply.header('openai-processing-ms', String(Math.round(delay)));
    reply.header('x-request-id', newId('req'));
    return complete(req, fault);
  });

  const publicFile = ({ content: _content, ...file }: StoredFile) => file;
  const fileOr404 = (id: string) => {
    const file = batches.files.get(id);
    if (!file) throw new RequestError(404, `No such File object: ${id}`, 'id', 'file_not_found');
    return file;
  };
  app.post('/v1/files', async (request) => {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data'))
      throw new RequestError(400, 'Upload files as multipart/form-data with fields purpose and file.', 'file');
    const { fields, files } = parseMultipart(request.body as Buffer, contentType);
    if (!fields.purpose)
      throw new RequestError(400, "Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
    if (!files.file)
      throw new RequestError(400, "Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    return publicFile(batches.addFile(files.file.content, files.file.filename, fields.purpose));
  });
  app.get('/v1/files', async () => ({
    object: 'list',
    data: [...batches.files.values()].map(publicFile),
    has_more: false,
  }));
  app.get<{ Params: { id: string } }>('/v1/files/:id', async (req) => publicFile(fileOr404(req.params.id)));
  app.get<{ Params: { id: string } }>('/v1/files/:id/content', async (req, reply) =>
    reply.type('application/octet-stream').send(fileOr404(req.params.id).content),
  );
  app.delete<{ Params: { id: string } }>('/v1/files/:id', async (req) => {
    fileOr404(req.params.id);
    batches.files.delete(req.params.id);
    return { id: req.params.id, object: 'file', deleted: true };
  });

  const batchOr404 = (id: string): Batch => {
    const batch = batches.batches.get(id);
    if (!batch) throw new RequestError(404, `No batch found with id '${id}'.`, 'batch_id', 'batch_not_found');
    return batch;
  };
  app.post('/v1/batches', async (request) => {
    const body = (request.body ?? {}) as {
      input_file_id?: unknown;
      endpoint?: unknown;
      completion_window?: unknown;
      metadata?: Record<string, string> | null;
    };
    if (typeof body.input_file_id !== 'string')
      throw new RequestError(
        400,
        "Missing required parameter: 'input_file_id'.",
        'input_file_id',
        'missing_required_parameter',
      );
    if (body.endpoint !== '/v1/chat/completions')
      throw new RequestError(
        400,
        "Invalid 'endpoint': the simulator batches '/v1/chat/completions' only.",
        'endpoint',
        'invalid_value',
      );
    if (body.completion_window !== '24h')
      throw new RequestError(
        400,
        "Invalid 'completion_window': only '24h' is supported.",
        'completion_window',
        'invalid_value',
      );
    const file = fileOr404(body.input_file_id);
    if (file.purpose !== 'batch')
      throw new RequestError(
        400,
        `File ${file.id} has purpose '${file.purpose}', expected 'batch'.`,
        'input_file_id',
        'invalid_value',
      );
    stats.batches.created++;
    return batches.create({
      input_file_id: file.id,
      endpoint: body.endpoint,
      completion_window: body.completion_window,
      metadata: body.metadata,
    });
  });
  app.get<{ Params: { id: string } }>('/v1/batches/:id', async (req) => batchOr404(req.params.id));
  app.post<{ Params: { id: string } }>('/v1/batches/:id/cancel', async (req) =>
    batches.cancel(batchOr404(req.params.id)),
  );
  app.get<{ Querystring: { limit?: string; after?: string } }>('/v1/batches', async (req) => {
    const all = [...batches.batches.values()].reverse();
    const from = req.query.after ? all.findIndex((b) => b.id === req.query.after) + 1 : 0;
    const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 20) || 20));
    const data = all.slice(from, from + limit);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: from + limit < all.length,
    };
  });

  await app.listen({ port, host });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/v1`;
  log.info({ url, options }, `judgeflow LLM simulator (SIMULATED model, not a real provider) listening on ${url}`);
  return {
    url,
    port: boundPort,
    options,
    stats: () => structuredClone(stats),
    close: async () => {
      batches.close();
      for (const end of [...hangs]) end();
      await app.close();
      log.info('judgeflow LLM simulator stopped');
    },
  };
}
