/**
 * The OpenAI client the judge engine uses: OpenAI, Azure OpenAI (deployment URL, `api-version`,
 * `api-key` header, as the openai package's AzureOpenAI builds them) or any OpenAI-compatible
 * endpoint (the simulator when nothing is configured). Every HTTP attempt, retries included, goes
 * through the pacer — the pool shared with every worker through PostgreSQL when the process has a
 * database (llm/shared-limit.ts), else the process's own; a 429 pauses the pool until the provider's reset, and the
 * client itself retries 429/5xx/timeouts honouring retry-after(-ms) up to LLM_MAX_RETRIES — except
 * a 429 for `insufficient_quota`, which no wait fixes. A request whose AbortSignal fires (the
 * activity was cancelled, its page stopped) is abandoned at once, on the wire or waiting.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import https from 'node:https';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AzureOpenAI,
} from 'openai';
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { noMetrics, type LlmAttemptStatus, type WorkerMetrics } from '../platform/metrics';
import { llmBaseUrl, usesLlmSimulator, type Config } from '../platform/config';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { fatalKind, isInsufficientQuota, providerFailure, type ProviderInfo } from './errors';
import { RequestPacer, retryDelayMs, Semaphore, type Pacer } from './limits';
import type { BreakerSettings } from './page-control';
import { onAbort } from './abort';
import { requestBody } from './request-body';
import { createRedactor, type Redactor } from './redaction';
import { SharedPacer } from './shared-limit';

export interface LlmClient {
  /** The SDK client (files, batches): OpenAI, or AzureOpenAI for Azure. */
  openai: OpenAI;
  /** Bounds requests in flight in this process (LLM_CONCURRENCY). */
  slots: Semaphore;
  /** Paces request starts at LLM_RPM_LIMIT: shared by every process on the same pool, or this process's alone. */
  pacer: Pacer;
  baseUrl: string;
  /** Which API this is, for error messages and provider differences (Batch API line URLs). */
  provider: ProviderInfo;
  /** Extra reasoning model names (LLM_REASONING_MODELS), for llm/models.ts. */
  reasoningModels: readonly string[];
  /** What comes out of a request's messages before it is sent (LLM_REDACT*: llm/redaction.ts). */
  redactor: Redactor;
  /** When a page of requests stops for its share of errors (LLM_ERROR_BREAKER, LLM_ERROR_BREAKER_MIN; llm/page-control.ts). */
  errorBreaker: BreakerSettings;
  /** The process's metrics (requests, tokens, pacer waits, errors, judgments stored): noMetrics outside the worker. */
  metrics: WorkerMetrics;
  /**
   * One chat completion, retried like the SDK retries (429/5xx/timeouts, retry-after honoured).
   * Aborting `signal` rejects with the SDK's APIUserAbortError, also while waiting to be sent.
   */
  chat(params: ChatCompletionCreateParamsNonStreaming, signal?: AbortSignal): Promise<ChatCompletion>;
  /**
   * Whether the provider has the Batch API (files + batches), asked once per process: a generic
   * OpenAI-compatible server often has chat completions only. A key the provider refuses throws
   * the same failure a chat request would.
   */
  batchApi(): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** The simulator (or a keyless local endpoint) accepts any key; the client insists on one. */
const PLACEHOLDER_KEY = 'judgeflow-simulator';

const agents: Record<string, http.Agent> = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

interface RawResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

const abortError = () => new DOMException('This operation was aborted', 'AbortError');

/** One HTTP exchange over a keep-alive agent; rejects with an AbortError on `signal`, a TimeoutError after `timeoutMs`. */
function exchange(
  url: URL,
  init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal; timeoutMs?: number },
): Promise<RawResponse> {
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise<RawResponse>((resolve, reject) => {
    const timer = init.timeoutMs
      ? setTimeout(() => {
          request.destroy();
          fail(new DOMException(`no response within ${init.timeoutMs} ms`, 'TimeoutError'));
        }, init.timeoutMs)
      : undefined;
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: agents[url.protocol] },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          stopListening?.();
          // Built when read (a 429's wait, an error, the SDK's Response): an answer's are never read.
          let headers: Headers | undefined;
          const raw = res.rawHeaders;
          resolve({
            status: res.statusCode ?? 500,
            statusText: res.statusMessage ?? '',
            get headers() {
              if (!headers) {
                headers = new Headers();
                for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
              }
              return headers;
            },
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    function fail(err: unknown) {
      clearTimeout(timer);
      stopListening?.();
      reject(err);
    }
    const stopListening =
      signal &&
      onAbort(signal, () => {
        request.destroy();
        fail(abortError());
      });
    let answered = false;
    request.on('error', (err: NodeJS.ErrnoException) => {
      // The server closed an idle keep-alive socket as this request went out on it (a busy process
      // reads the close late): the request never reached the server, so it is sent again on a new
      // socket rather than turned into an error judgment (Node's documented `reusedSocket` rule).
      if (request.reusedSocket && err.code === 'ECONNRESET' && !answered && !signal?.aborted) {
        clearTimeout(timer);
        stopListening?.();
        resolve(exchange(url, init));
        return;
      }
      fail(err);
    });
    request.end(init.body);
  });
}

/** The SDK's retry rule: x-should-retry decides, else 408, 409, 429 and 5xx are retried. */
function retryable(res: RawResponse): boolean {
  const header = res.headers.get('x-should-retry');
  if (header === 'true' || header === 'false') return header === 'true';
  return res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500;
}

/** The SDK's backoff when the provider names no wait: 0.5 s doubling to 8 s, minus up to 25% jitter. */
const backoffMs = (retry: number) => Math.min(0.5 * 2 ** retry, 8) * (1 - Math.random() * 0.25) * 1000;

/** Which API the config selects (the simulator is an OpenAI-compatible server). */
export function providerOf(config: Config): ProviderInfo {
  const baseUrl = llmBaseUrl(config);
  if (config.llm.azure) return { kind: 'azure', baseUrl, apiVersion: config.llm.azure.apiVersion };
  return {
    kind: !usesLlmSimulator(config) && new URL(baseUrl).hostname === 'api.openai.com' ? 'openai' : 'compatible',
    baseUrl,
  };
}

/** What a chat request's attempts came to (the span's attributes). */
interface ChatOutcome {
  attempts: number;
  status?: LlmAttemptStatus;
}

/** What the client reports to: metrics always (noMetrics by default), a span per chat request when tracing is on. */
export interface LlmTelemetry {
  metrics?: WorkerMetrics;
  tracer?: Tracer;
}

/** How an attempt that got no response ended. */
function failureStatus(failure: unknown): LlmAttemptStatus {
  const name = (failure as Error | undefined)?.name;
  return name === 'TimeoutError' ? 'timeout' : name === 'AbortError' ? 'aborted' : 'connection';
}

/**
 * With `shared`, the client paces against the pool LLM_LIMIT_POOL (default: the provider endpoint)
 * in that database, with every other process on it; without, against LLM_RPM_LIMIT alone.
 */
export function createLlmClient(
  config: Config,
  telemetry: LlmTelemetry = {},
  shared?: { db: Db; logger?: Logger },
): LlmClient {
  const { metrics = noMetrics, tracer } = telemetry;
  const provider = providerOf(config);
  const { baseUrl } = provider;
  const azure = config.llm.azure;
  const pacer: Pacer = shared
    ? new SharedPacer({ ...shared, pool: config.llm.limitPool ?? baseUrl, perMinute: config.llm.rpmLimit })
    : new RequestPacer(config.llm.rpmLimit);
  const apiKey = azure?.apiKey ?? config.llm.apiKey ?? PLACEHOLDER_KEY;
  /** Every HTTP attempt is paced; a 429 pauses the process and lowers the pace. */
  const paced = async <R extends { status: number; headers: Headers }>(
    send: () => Promise<R>,
    signal?: AbortSignal,
  ): Promise<R> => {
    const waitFrom = performance.now();
    await pacer.acquire(signal);
    metrics.pacerWait((performance.now() - waitFrom) / 1000);
    const response = await send();
    if (response.status === 429) {
      const wait = retryDelayMs(response.headers);
      if (wait !== undefined) pacer.pause(Date.now() + wait);
      // Without this, every request paused by the 429 would start again at the same instant.
      pacer.limitTo(Number(response.headers.get('x-ratelimit-limit-requests')));
    }
    return response;
  };
  /**
   * The SDK's fetch (files, batches): JSON requests over the keep-alive agents too (undici's fetch
   * spent ~0.5 ms of CPU per request); file uploads and Request objects through the global fetch.
   */
  const pacedFetch: typeof fetch = async (input, init = {}) => {
    const url = input instanceof Request ? undefined : new URL(input);
    const body = init.body ?? undefined;
    if (!url || !agents[url.protocol] || (body !== undefined && typeof body !== 'string')) {
      const response = await paced(() => fetch(input, init));
      if (response.status !== 429 || !isInsufficientQuota(parseJson(Buffer.from(await response.clone().arrayBuffer()))))
        return response;
      const headers = new Headers(response.headers);
      headers.set('x-should-retry', 'false');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }
    const res = await paced(() =>
      exchange(url, {
        method: init.method,
        headers: Object.fromEntries(new Headers(init.headers)),
        body,
        signal: init.signal ?? undefined,
      }),
    );
    // The SDK retries every 429; an empty account's is told not to (the header the SDK obeys).
    if (res.status === 429 && isInsufficientQuota(parseJson(res.body))) res.headers.set('x-should-retry', 'false');
    return new Response(res.status === 204 || res.status === 304 ? null : res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
  const sdkOptions = { timeout: config.llm.timeoutMs, maxRetries: config.llm.maxRetries, fetch: pacedFetch };
  const openai = azure
    ? new AzureOpenAI({ endpoint: azure.endpoint, apiKey: azure.apiKey, apiVersion: azure.apiVersion, ...sdkOptions })
    : new OpenAI({ baseURL: baseUrl, apiKey, ...sdkOptions });
  // As AzureOpenAI builds them: <endpoint>/openai/deployments/<model>/chat/completions?api-version=…, key in `api-key`.
  const chatUrls = new Map<string, URL>();
  const chatUrl = (model: string) => {
    let url = chatUrls.get(model);
    if (!url) {
      url = azure
        ? new URL(
            `${baseUrl}/deployments/${encodeURIComponent(model)}/chat/completions?api-version=${encodeURIComponent(azure.apiVersion)}`,
          )
        : new URL(`${baseUrl.replace(/\/$/, '')}/chat/completions`);
      chatUrls.set(model, url);
    }
    return url;
  };
  const chatHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(azure ? { 'api-key': apiKey } : { authorization: `Bearer ${apiKey}` }),
  };
  /**
   * The judging hot path without the SDK's per-request machinery (header building, request
   * logging, Response objects: ~0.2 ms of CPU each), with its retry rules and its error classes.
   * `outcome` gets the attempts made and the last one's status (for the request's span).
   */
  const chat = async (
    params: ChatCompletionCreateParamsNonStreaming,
    signal: AbortSignal | undefined,
    outcome: ChatOutcome,
  ): Promise<ChatCompletion> => {
    const body = requestBody(params);
    const url = chatUrl(params.model);
    const aborted = () => new APIUserAbortError();
    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw aborted();
      let sentAt: number | undefined;
      const res = await paced(() => {
        // The pacer may have made it wait: a request abandoned meanwhile is never sent.
        if (signal?.aborted) return Promise.reject(abortError());
        sentAt = performance.now();
        return exchange(url, { method: 'POST', headers: chatHeaders, body, signal, timeoutMs: config.llm.timeoutMs });
      }, signal).catch((failure: unknown) => ({ failure }));
      if (sentAt !== undefined) {
        outcome.attempts++;
        outcome.status = 'failure' in res ? failureStatus(res.failure) : `${res.status}`;
        metrics.llmAttempt(params.model, outcome.status, (performance.now() - sentAt) / 1000);
      }
      if (signal?.aborted) throw aborted();
      const retriesLeft = retry < config.llm.maxRetries;
      if ('failure' in res) {
        if (retriesLeft) {
          await sleep(backoffMs(retry), signal);
          continue;
        }
        if ((res.failure as Error).name === 'TimeoutError') throw new APIConnectionTimeoutError();
        throw new APIConnectionError({ cause: res.failure as Error });
      }
      if (res.status >= 200 && res.status < 300) {
        const completion = JSON.parse(res.body.toString('utf8')) as ChatCompletion;
        if (completion.usage)
          metrics.llmTokens(params.model, completion.usage.prompt_tokens, completion.usage.completion_tokens);
        return completion;
      }
      const text = res.body.toString('utf8');
      const json = parseJson(res.body) as { error?: unknown } | undefined;
      // A 429 for an empty account is not a rate limit: no wait brings credit back.
      if (retriesLeft && retryable(res) && !(res.status === 429 && isInsufficientQuota(json))) {
        // Like the SDK, only retry-after(-ms) names the wait (the reset headers tell when the bucket is full).
        const named =
          res.headers.has('retry-after-ms') || res.headers.has('retry-after') ? retryDelayMs(res.headers) : undefined;
        await sleep(named ?? backoffMs(retry), signal);
        continue;
      }
      // A body without `error` (a proxy's, or Azure's `{statusCode, message}`) is kept as the message.
      throw APIError.generate(res.status, json, json?.error ? undefined : text.slice(0, 1000), res.headers);
    }
  };
  let batchApi: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;
  return {
    openai,
    slots: new Semaphore(config.llm.concurrency),
    pacer,
    baseUrl,
    provider,
    reasoningModels: config.llm.reasoningModels,
    redactor: createRedactor(config.llm.redaction),
    errorBreaker: { share: config.llm.errorBreaker, min: config.llm.errorBreakerMin },
    metrics,
    async chat(params, signal) {
      if (!tracer) return chat(params, signal, { attempts: 0 });
      // One span per provider request (its retries are attempts inside it), a child of the activity's span.
      const span = tracer.startSpan('llm.chat', {
        attributes: { 'gen_ai.system': provider.kind, 'gen_ai.request.model': params.model },
      });
      const outcome: ChatOutcome = { attempts: 0 };
      try {
        const completion = await chat(params, signal, outcome);
        span.setAttributes({
          'gen_ai.usage.input_tokens': completion.usage?.prompt_tokens ?? 0,
          'gen_ai.usage.output_tokens': completion.usage?.completion_tokens ?? 0,
        });
        return completion;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message?.slice(0, 200) });
        throw err;
      } finally {
        span.setAttributes({
          'judgeflow.llm.status': outcome.status ?? 'none',
          'judgeflow.llm.attempts': outcome.attempts,
        });
        span.end();
      }
    },
    batchApi() {
      batchApi ??= openai.batches.list({ limit: 1 }).then(
        () => ({ ok: true as const }),
        (err: unknown) => {
          if (err instanceof APIError && (err.status === 404 || err.status === 405 || err.status === 501))
            return {
              ok: false as const,
              reason: `${provider.baseUrl} has no Batch API (GET /batches answered ${err.message.slice(0, 200)})`,
            };
          batchApi = undefined; // not an answer about the API: ask again next time
          const kind = fatalKind(err);
          if (kind && err instanceof APIError) throw providerFailure(err, kind, provider, config.llm.model);
          throw err;
        },
      );
      return batchApi;
    },
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller then sees the abort). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stopListening?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stopListening = signal && onAbort(signal, done);
  });
