/**
 * What the worker's code records, as an interface its dependencies carry (ActivityDeps.metrics,
 * the LLM client): the worker process backs it with a Prometheus registry (workers/worker-metrics.ts);
 * tests and benchmarks that build their own deps get `noMetrics`, so nothing here is global and a
 * test may build a client twice.
 */

/** How one HTTP attempt to the provider ended: its status code, or what happened instead. */
export type LlmAttemptStatus = `${number}` | 'timeout' | 'connection' | 'aborted';

export interface WorkerMetrics {
  /** One HTTP attempt to the provider (retries are attempts too) and how long it took. */
  llmAttempt(model: string, status: LlmAttemptStatus, seconds: number): void;
  /** Tokens a completion used. */
  llmTokens(model: string, promptTokens: number, completionTokens: number): void;
  /** Time an attempt waited for the pacer (LLM_RPM_LIMIT, a 429's pause) before it was sent. */
  pacerWait(seconds: number): void;
  /** An LLM call that ended in error after its retries, by class (llm/errors.ts errorClass). */
  llmError(errorClass: string): void;
  /** Judgments committed, by status (ok/error) and mode (sync/batch). */
  judgmentsStored(status: string, mode: string, count: number): void;
  /** Human tasks sent to vendors, or closed (completed, expired, cancelled) when their batch closed. */
  humanTasks(event: 'dispatched' | 'completed' | 'expired' | 'cancelled', count: number): void;
}

const ignore = () => undefined;

/** Records nothing: the default outside the worker process. */
export const noMetrics: WorkerMetrics = {
  llmAttempt: ignore,
  llmTokens: ignore,
  pacerWait: ignore,
  llmError: ignore,
  judgmentsStored: ignore,
  humanTasks: ignore,
};
