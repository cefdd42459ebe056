/**
 * The OpenAI client the judge engine uses, for any OpenAI-compatible endpoint (the simulator when
 * no key or URL is configured). Every HTTP attempt, retries included, goes through the process's
 * pacer; a 429 pauses the whole process until the provider's reset, and the client itself retries
 * 429/5xx/timeouts honouring retry-after(-ms) up to LLM_MAX_RETRIES.
 */
import http from 'node:http';
import https from 'node:https';
import OpenAI from 'openai';
import { llmBaseUrl, type Config } from '../../platform/config';
import { RequestPacer, retryDelayMs, Semaphore } from './limits';

export interface LlmClient {
  openai: OpenAI;
  /** Bounds requests in flight in this process (LLM_CONCURRENCY). */
  slots: Semaphore;
  pacer: RequestPacer;
  baseUrl: string;
}

/** The simulator (or a keyless local endpoint) accepts any key; the client insists on one. */
const PLACEHOLDER_KEY = 'judgeflow-simulator';

const agents: Record<string, http.Agent> = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/**
 * fetch for the client's JSON requests over node:http(s) with keep-alive agents: undici's fetch
 * spent ~0.5 ms of CPU per request (more than all the rest of a judgment). Other bodies (file
 * uploads) and Request objects go to the global fetch. Aborts reject with an AbortError, which the
 * client treats as a timeout and retries.
 */
export async function keepAliveFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (input instanceof Request || (init.body != null && typeof init.body !== 'string')) return fetch(input, init);
  const url = new URL(input);
  const agent = agents[url.protocol];
  if (!agent) return fetch(input, init);
  const signal = init.signal ?? undefined;
  const aborted = () => new DOMException('This operation was aborted', 'AbortError');
  if (signal?.aborted) throw aborted();
  return new Promise<Response>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)), agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const status = res.statusCode ?? 500;
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, statusText: res.statusMessage, headers }));
      });
    });
    function fail(err: unknown) {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort() {
      request.destroy();
      fail(aborted());
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    request.end(init.body ?? undefined);
  });
}

export function createLlmClient(config: Config): LlmClient {
  const baseUrl = llmBaseUrl(config);
  const pacer = new RequestPacer(config.llm.rpmLimit / config.llm.workerProcesses);
  const pacedFetch: typeof fetch = async (input, init) => {
    await pacer.acquire();
    const response = await keepAliveFetch(input, init);
    if (response.status === 429) {
      const wait = retryDelayMs(response.headers);
      if (wait !== undefined) pacer.pause(Date.now() + wait);
      // Without this, every request paused by the 429 would start again at the same instant.
      pacer.limitTo(Number(response.headers.get('x-ratelimit-limit-requests')) / config.llm.workerProcesses);
    }
    return response;
  };
  return {
    openai: new OpenAI({ baseURL: baseUrl, apiKey: config.llm.apiKey ?? PLACEHOLDER_KEY, timeout: config.llm.timeoutMs, maxRetries: config.llm.maxRetries, fetch: pacedFetch }),
    slots: new Semaphore(config.llm.concurrency),
    pacer,
    baseUrl,
  };
}
