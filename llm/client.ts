/**
 * The OpenAI client the judge engine uses, for any OpenAI-compatible endpoint (the simulator when
 * no key or URL is configured). Every HTTP attempt, retries included, goes through the process's
 * pacer; a 429 pauses the whole process until the provider's reset, and the client itself retries
 * 429/5xx/timeouts honouring retry-after(-ms) up to LLM_MAX_RETRIES.
 */
import http from 'node:http';
import https from 'node:https';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { llmBaseUrl, type Config } from '../platform/config';
import { RequestPacer, retryDelayMs, Semaphore } from './limits';

export interface LlmClient {
  openai: OpenAI;
  /** Bounds requests in flight in this process (LLM_CONCURRENCY). */
  slots: Semaphore;
  pacer: RequestPacer;
  baseUrl: string;
  /** One chat completion, retried like the SDK retries (429/5xx/timeouts, retry-after honoured). */
  chat(params: ChatCompletionCreateParamsNonStreaming): Promise<ChatCompletion>;
}

/** The simulator (or a keyless local endpoint) accepts any key; the client insists on one. */
const PLACEHOLDER_KEY = 'judgeflow-simulator';

const agents: Record<string, http.Agent> = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

interface RawResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

const abortError = () => new DOMException('This operation was aborted', 'AbortError');

/** One HTTP exchange over a keep-alive agent; rejects with an AbortError on `signal`, a TimeoutError after `timeoutMs`. */
function exchange(url: URL, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal; timeoutMs?: number }): Promise<RawResponse> {
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise<RawResponse>((resolve, reject) => {
    const timer = init.timeoutMs
      ? setTimeout(() => {
          request.destroy();
          fail(new DOMException(`no response within ${init.timeoutMs} ms`, 'TimeoutError'));
        }, init.timeoutMs)
      : undefined;
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: init.method ?? 'GET', headers: init.headers, agent: agents[url.protocol] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        resolve({ status: res.statusCode ?? 500, statusText: res.statusMessage ?? '', headers, body: Buffer.concat(chunks) });
      });
    });
    function fail(err: unknown) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort() {
      request.destroy();
      fail(abortError());
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
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

export function createLlmClient(config: Config): LlmClient {
  const baseUrl = llmBaseUrl(config);
  const pacer = new RequestPacer(config.llm.rpmLimit / config.llm.workerProcesses);
  const apiKey = config.llm.apiKey ?? PLACEHOLDER_KEY;
  /** Every HTTP attempt is paced; a 429 pauses the process and lowers the pace. */
  const paced = async <R extends { status: number; headers: Headers }>(send: () => Promise<R>): Promise<R> => {
    await pacer.acquire();
    const response = await send();
    if (response.status === 429) {
      const wait = retryDelayMs(response.headers);
      if (wait !== undefined) pacer.pause(Date.now() + wait);
      // Without this, every request paused by the 429 would start again at the same instant.
      pacer.limitTo(Number(response.headers.get('x-ratelimit-limit-requests')) / config.llm.workerProcesses);
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
    if (!url || !agents[url.protocol] || (body !== undefined && typeof body !== 'string')) return paced(() => fetch(input, init));
    const res = await paced(() => exchange(url, { method: init.method, headers: Object.fromEntries(new Headers(init.headers)), body, signal: init.signal ?? undefined }));
    return new Response(res.status === 204 || res.status === 304 ? null : res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  const chatUrl = new URL(`${baseUrl.replace(/\/$/, '')}/chat/completions`);
  const chatHeaders = { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${apiKey}` };
  return {
    openai: new OpenAI({ baseURL: baseUrl, apiKey, timeout: config.llm.timeoutMs, maxRetries: config.llm.maxRetries, fetch: pacedFetch }),
    slots: new Semaphore(config.llm.concurrency),
    pacer,
    baseUrl,
    /**
     * The judging hot path without the SDK's per-request machinery (header building, request
     * logging, Response objects: ~0.2 ms of CPU each), with its retry rules and its error classes.
     */
    async chat(params) {
      const body = JSON.stringify(params);
      for (let retry = 0; ; retry++) {
        const res = await paced(() => exchange(chatUrl, { method: 'POST', headers: chatHeaders, body, timeoutMs: config.llm.timeoutMs })).catch((failure: unknown) => ({ failure }));
        const retriesLeft = retry < config.llm.maxRetries;
        if ('failure' in res) {
          if (retriesLeft) {
            await sleep(backoffMs(retry));
            continue;
          }
          if ((res.failure as Error).name === 'TimeoutError') throw new APIConnectionTimeoutError();
          throw new APIConnectionError({ cause: res.failure as Error });
        }
        if (res.status >= 200 && res.status < 300) return JSON.parse(res.body.toString('utf8')) as ChatCompletion;
        if (retriesLeft && retryable(res)) {
          // Like the SDK, only retry-after(-ms) names the wait (the reset headers tell when the bucket is full).
          const named = res.headers.has('retry-after-ms') || res.headers.has('retry-after') ? retryDelayMs(res.headers) : undefined;
          await sleep(named ?? backoffMs(retry));
          continue;
        }
        const text = res.body.toString('utf8');
        let json: object | undefined;
        try {
          json = JSON.parse(text) as object;
        } catch {
          json = undefined;
        }
        throw APIError.generate(res.status, json, json ? undefined : text, res.headers);
      }
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
