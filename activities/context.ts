/**
 * What activities need from Temporal's activity context: heartbeats while long work runs, and the
 * context itself when there is one (the CLI runs some activities in-process, outside Temporal).
 */
import { Context } from '@temporalio/activity';

/**
 * Heartbeats every second while `work` runs, so a worker that dies is noticed within the
 * heartbeat timeout even when one LLM request takes long; `details` says where to resume. A
 * heartbeat's response is also how the activity learns it was cancelled (Context.cancellationSignal
 * fires): with the worker's 1 s heartbeat throttle, a cancelled page stops within about 2 s.
 */
export async function withHeartbeat<T>(details: () => unknown, work: () => Promise<T>): Promise<T> {
  const ctx = activityContext();
  if (!ctx) return work();
  const timer = setInterval(() => ctx.heartbeat(details()), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export const activityContext = () => {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (the CLI runs evaluations in-process)
  }
};

/** The innermost cause: it names the problem, where wrappers (drizzle) would show a whole query. */
export function rootCause(error: unknown): Error {
  let e = error instanceof Error ? error : new Error(String(error));
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
