/**
 * Rate limits the way OpenAI reports them: requests and tokens per minute as buckets that refill
 * continuously; every response carries x-ratelimit-* headers and a 429 carries retry-after(-ms).
 */

class Bucket {
  private level: number;
  private last: number;
  constructor(
    readonly perMinute: number,
    now: number,
  ) {
    this.level = perMinute;
    this.last = now;
  }
  private refill(now: number) {
    this.level = Math.min(this.perMinute, this.level + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }
  /** Milliseconds until `amount` is available (0: available now). */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const need = Math.min(amount, this.perMinute) - this.level;
    return need <= 0 ? 0 : Math.ceil((need * 60_000) / this.perMinute);
  }
  take(amount: number) {
    this.level -= amount;
  }
  remaining() {
    return Math.max(0, Math.floor(this.level));
  }
  /** Milliseconds until the bucket is full again. */
  resetMs() {
    return Math.ceil(((this.perMinute - this.level) * 60_000) / this.perMinute);
  }
}

/** OpenAI's duration format in reset headers: `20ms`, `1.5s`, `6m0s`. */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 10) / 100;
  return minutes ? `${minutes}m${seconds}s` : `${seconds}s`;
}

export interface LimitDecision {
  ok: boolean;
  headers: Record<string, string>;
  /** Which limit was hit, for the 429 message. */
  limit?: 'requests' | 'tokens';
  retryAfterMs?: number;
}

export class RateLimiter {
  private readonly requests?: Bucket;
  private readonly tokens?: Bucket;

  constructor(rpm: number, tpm: number, now = Date.now()) {
    if (rpm > 0) this.requests = new Bucket(rpm, now);
    if (tpm > 0) this.tokens = new Bucket(tpm, now);
  }

  /** Admits a request costing `tokens` (prompt + max output) or says how long to wait. */
  admit(tokens: number, now = Date.now()): LimitDecision {
    const waitRequests = this.requests?.waitFor(1, now) ?? 0;
    const waitTokens = this.tokens?.waitFor(tokens, now) ?? 0;
    const ok = waitRequests === 0 && waitTokens === 0;
    if (ok) {
      this.requests?.take(1);
      this.tokens?.take(tokens);
    }
    const headers: Record<string, string> = {};
    if (this.requests) {
      headers['x-ratelimit-limit-requests'] = String(this.requests.perMinute);
      headers['x-ratelimit-remaining-requests'] = String(this.requests.remaining());
      headers['x-ratelimit-reset-requests'] = formatReset(this.requests.resetMs());
    }
    if (this.tokens) {
      headers['x-ratelimit-limit-tokens'] = String(this.tokens.perMinute);
      headers['x-ratelimit-remaining-tokens'] = String(this.tokens.remaining());
      headers['x-ratelimit-reset-tokens'] = formatReset(this.tokens.resetMs());
    }
    if (ok) return { ok, headers };
    const retryAfterMs = Math.max(waitRequests, waitTokens);
    headers['retry-after-ms'] = String(retryAfterMs);
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    return { ok, headers, retryAfterMs, limit: waitRequests >= waitTokens ? 'requests' : 'tokens' };
  }
}

/** Token estimate (≈4 characters a token), the same for limits and usage. */
export const countTokens = (text: string) => Math.ceil(text.length / 4);

/**
 * Simulated prefix caching as OpenAI does it: prompts of ≥1024 tokens are cached in 128-token
 * steps, and a later prompt sharing a cached prefix reports those tokens as cached_tokens.
 */
export class PrefixCache {
  private readonly seen = new Set<number>();
  constructor(private readonly capacity = 500_000) {}

  cachedTokens(prompt: string): number {
    const tokens = countTokens(prompt);
    if (tokens < 1024) return 0;
    let hash = 0x811c9dc5;
    let cached = 0;
    let boundary = 1024 * 4;
    const boundaries: number[] = [];
    for (let i = 0; i < prompt.length; i++) {
      hash = Math.imul(hash ^ prompt.charCodeAt(i), 16777619);
      if (i + 1 === boundary) {
        const key = (hash >>> 0) * 4096 + boundary / 512;
        if (this.seen.has(key)) cached = boundary / 4;
        boundaries.push(key);
        boundary += 128 * 4;
      }
    }
    if (this.seen.size + boundaries.length > this.capacity) this.seen.clear();
    for (const key of boundaries) this.seen.add(key);
    return cached;
  }
}
