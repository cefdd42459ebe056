/**
 * What stops a page of LLM work early: Temporal's cancellation of the activity, a provider error no
 * retry can fix (llm/errors.ts), or the circuit breaker — more than LLM_ERROR_BREAKER of the page's
 * requests ended in error once LLM_ERROR_BREAKER_MIN are done. Its signal goes into every request
 * of the page, so the first stop abandons everything in flight and nothing new starts.
 */
import { setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';

export const ERROR_BREAKER_TYPE = 'LlmErrorBreaker';

export interface BreakerSettings {
  /** Share of errors (0–1] past which the page stops; 1 never stops. */
  share: number;
  /** Requests done before the share is checked. */
  min: number;
}

/** Waits between attempts after a trip: 10 s doubling to 5 min, so a provider outage is waited out, not hammered. */
export const breakerRetryDelayMs = (attempt: number) => Math.min(10_000 * 2 ** Math.max(0, attempt - 1), 300_000);

export class PageControl {
  private readonly controller = new AbortController();
  private done = 0;
  private errors = 0;
  private readonly lastErrors: string[] = [];
  /** Why the page stopped: the cancellation, the fatal provider failure or the breaker's failure. */
  reason: unknown;

  constructor(
    private readonly breaker: BreakerSettings = { share: 1, min: Infinity },
    cancellation?: AbortSignal,
    /** The activity's attempt (names the retry delay after a trip). */
    private readonly attempt = 1,
  ) {
    // Every request of the page listens to it (hundreds in flight).
    setMaxListeners(0, this.controller.signal);
    if (cancellation?.aborted) this.stop(cancellation.reason);
    else cancellation?.addEventListener('abort', () => this.stop(cancellation.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Stops the page: every request given `signal` is abandoned. The first reason wins. */
  stop(reason: unknown) {
    if (this.stopped) return;
    this.reason = reason;
    this.controller.abort(reason);
  }

  /** Counts one finished request (a judgment sample); trips the breaker when the share of errors passes the threshold. */
  record(error: string | null) {
    this.done++;
    if (error === null) return;
    this.errors++;
    this.lastErrors.push(error);
    if (this.lastErrors.length > 3) this.lastErrors.shift();
    if (this.breaker.share < 1 && this.done >= this.breaker.min && this.errors / this.done > this.breaker.share)
      this.stop(this.tripFailure());
  }

  /** Retryable, with a growing delay: a breaker trip from transient errors (an outage, hangs) is retried with backoff. */
  private tripFailure() {
    const delay = breakerRetryDelayMs(this.attempt);
    return ApplicationFailure.create({
      type: ERROR_BREAKER_TYPE,
      nonRetryable: false,
      nextRetryDelay: delay,
      message:
        `${this.errors} of ${this.done} LLM requests of this page failed (${((this.errors / this.done) * 100).toFixed(0)}% > LLM_ERROR_BREAKER ${(this.breaker.share * 100).toFixed(0)}%): ` +
        `the page stopped instead of storing more errors and is retried in ${Math.round(delay / 1000)} s. Last errors: ${this.lastErrors.map((e) => e.slice(0, 200)).join(' | ')}`,
      details: [{ errors: this.errors, requests: this.done, threshold: this.breaker.share }],
    });
  }
}
