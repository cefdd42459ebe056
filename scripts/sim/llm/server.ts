/**
 * The LLM simulator: an OpenAI-compatible HTTP server (chat completions with strict structured
 * outputs, models, files and the Batch API) that answers judgeflow's requests against the hidden
 * truth of the simulated world. It is labelled as simulated in every response and log line
 * (header `x-judgeflow-simulator: true`, `system_fingerprint: "judgeflow-sim"`).
 */
import { hash } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger, type Logger } from '../../../platform/logger';
import { Rng } from '../model/rng';
import { fileAndBatchRoutes } from './batch-routes';
import { BatchStore, newId } from './batches';
import { completer, kindOf, messageText, validateChat } from './chat';
import { RequestError } from './errors';
import { faultPicker, isProviderFault, providerFaultError, serverError } from './faults';
import { countTokens, RateLimiter } from './limits';
import { parseLlmSimOptions, type LlmSimOptions, type LlmSimOptionsInput } from './options';
import { emptyStats, type LlmSimStats } from './stats';

export interface LlmSimulator {
  /** Base URL ending in /v1 (what OPENAI_BASE_URL / the openai client's baseURL takes). */
  url: string;
  port: number;
  options: LlmSimOptions;
  stats(): LlmSimStats;
  close(): Promise<void>;
}

export type StartLlmSimulatorOptions = LlmSimOptionsInput & { port?: number; host?: string; logger?: Logger };

export async function startLlmSimulator(opts: StartLlmSimulatorOptions = {}): Promise<LlmSimulator> {
  const { port = 0, host = '127.0.0.1', logger: parentLogger, ...rest } = opts;
  const options = parseLlmSimOptions(rest);
  const log = (parentLogger ?? createLogger('sim-llm')).child({ simulated: true });
  const limiter = new RateLimiter(options.rpm, options.tpm);
  const latencyRng = Rng.for(options.seed, 'latency');
  const lineErrorRng = Rng.for(options.seed, 'batch-line-errors');
  const stats = emptyStats();
  const pickFault = faultPicker(options);
  const complete = completer(options, stats, log);

  const latencyMs = () => {
    const { medianMs, p99Ms } = options.latency;
    if (medianMs <= 0) return 0;
    if (p99Ms <= medianMs) return medianMs;
    return medianMs * Math.exp((Math.log(p99Ms / medianMs) / 2.3263) * latencyRng.normal());
  };

  const count = (status: number) => (stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1);

  const batches = new BatchStore(
    options.batch,
    (body) => {
      stats.batches.requests++;
      try {
        const req = validateChat(body);
        if (options.batch.lineErrorRate > 0 && lineErrorRng.next() < options.batch.lineErrorRate) {
          stats.batches.lineErrors++;
          return { status: 500, body: serverError().body() };
        }
        const fault = pickFault();
        if (fault === 'serverError') {
          stats.faults.serverError++;
          return { status: 500, body: serverError().body() };
        }
        if (isProviderFault(fault)) {
          stats.faults[fault]++;
          const error = providerFaultError(fault, req.model);
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

  app.get('/healthz', async () => ({ ok: true, simulated: true, service: 'judgeflow LLM simulator' }));
  const model = (id: string) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'judgeflow-sim' });
  app.get('/v1/models', async () => ({ object: 'list', data: options.models.map(model) }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => model(req.params.id));

  // JSON bodies as fastify parses them, each kept as it arrived: repeated chat bodies are counted by
  // their bytes, not by serializing the parsed body again (~15 µs a request).
  const rawBodies = new WeakMap<FastifyRequest, string>();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    rawBodies.set(request, body as string);
    void parseJson(request, body as string, done);
  });

  const seenBodies = new Set<string>();
  app.post('/v1/chat/completions', async (request: FastifyRequest, reply: FastifyReply) => {
    const digest = hash('sha1', rawBodies.get(request) ?? JSON.stringify(request.body), 'base64');
    if (!seenBodies.has(digest)) {
      seenBodies.add(digest);
      stats.distinct++;
    }
    const req = validateChat(request.body);
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
    if (isProviderFault(fault)) {
      if (fault === 'rateLimited') reply.headers({ 'retry-after': '1', 'retry-after-ms': '200' });
      throw providerFaultError(fault, req.model);
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

  fileAndBatchRoutes(app, batches, stats);

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
