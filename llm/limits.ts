/**
 * Provider limits inside one process: the in-memory pacer (a process without a database, or
 * a test on a simulated clock), 429 wait headers, and the bound on requests in flight. Workers that
 * share one provider limit pace against PostgreSQL instead (llm/shared-limit.ts, docs/judges.md).
 */
import { onAbort } from './abort';

/** What paces a process's request starts: this in-memory bucket, or the pool shared through PostgreSQL. */
export interface Pacer {
  /** Resolves when this request may start, or as soon as `signal` aborts (its turn is then lost). */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Nobody starts before `untilMs` (epoch ms): the provider said so. */
  pause(untilMs: number): void;
  /** The provider's 429 revealed a lower limit than configured: pace at that from now on. */
  limitTo(perMinute: number): void;
}

export interface PacerClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: PacerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopListening?.();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stopListening = signal && onAbort(signal, done);
    }),
};

/**
 * Spaces request starts at `perMinute`, and pauses on demand. A token bucket holding one second
 * of requests (at least one): with a bucket of one, every moment no request was waiting (between a
 * page's chunks, a late timer on a busy event loop) was lost for good, and the achieved rate fell
 * below the limit; now the next starts catch up. Over any interval T it starts at most
 * perMinute·T/60 + one second's worth — within a provider's per-minute bucket, which starts full.
 */
export class RequestPacer implements Pacer {
  private nextAt = 0;
  private pausedUntil = 0;
  constructor(
    private perMinute: number,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** The provider's 429 revealed a lower limit than configured: pace at that from now on. */
  limitTo(perMinute: number) {
    if (perMinute > 0 && perMinute < this.perMinute) this.perMinute = perMinute;
  }

  /** Resolves when this request may start, or as soon as `signal` aborts (its turn is then lost). */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const interval = 60_000 / this.perMinute;
    const burst = Math.max(1, this.perMinute / 60);
    // Unused capacity older than the bucket's depth is gone; a pause allows no catching up.
    const start = Math.max(this.nextAt, now - (burst - 1) * interval, this.pausedUntil);
    this.nextAt = start + interval;
    if (start > now && !signal?.aborted) await this.clock.sleep(start - now, signal);
  }

  /** Nobody starts before `untilMs` (epoch ms): the provider said so. */
  pause(untilMs: number) {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }
}

/** How long a 429 asks us to wait: retry-after-ms, retry-after (seconds or a date), or the reset header. */
export function retryDelayMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return ms;
  const after = headers.get('retry-after');
  if (after) {
    const seconds = Number.parseFloat(after);
    if (Number.isFinite(seconds)) return seconds * 1000;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  // OpenAI's reset headers look like "1s", "6m0s", "20ms".
  const reset = headers.get('x-ratelimit-reset-requests') ?? headers.get('x-ratelimit-reset-tokens');
  return reset ? parseDuration(reset) : undefined;
}

function parseDuration(text: string): number | undefined {
  let total = 0;
  let matched = false;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    total += Number(value) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return matched ? total : undefined;
}

/** At most `limit` tasks at once; the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
