/**
 * The OpenAI client the judge engine uses, for any OpenAI-compatible endpoint (the simulator when
 * no key or URL is configured). Every HTTP attempt, retries included, goes through the process's
 * pacer; a 429 pauses the whole process until the provider's reset, and the client itself retries
 * 429/5xx/timeouts honouring retry-after(-ms) up to LLM_MAX_RETRIES.
 */
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

export function createLlmClient(config: Config): LlmClient {
  const baseUrl = llmBaseUrl(config);
  const pacer = new RequestPacer(config.llm.rpmLimit / config.llm.workerProcesses);
  const pacedFetch: typeof fetch = async (input, init) => {
    await pacer.acquire();
    const response = await fetch(input, init);
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
