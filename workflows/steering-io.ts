/**
 * Steering handlers' I/O, run by the program's main code. A handler that awaits an activity itself
 * can resume in the same workflow activation as the main code (both activities complete together);
 * which of the two then issues its next command first depends on how many awaits lie in between,
 * and the OpenTelemetry interceptors add awaits: a history recorded without tracing did not replay
 * with it. So a handler only changes the program's state and hands its I/O to a loop of the main
 * code; it resumes through condition() once that is done, when no main-code continuation runs;
 * and main code that waits on steering state also waits for the handlers to finish, so it moves on
 * after the update has answered (Temporal's advice: handlers update state, the main code waits on
 * condition()).
 */
import { allHandlersFinished, CancellationScope, condition } from '@temporalio/workflow';

/** Patch id: histories recorded before it keep the handlers' own awaits. */
export const STEERING_IO_IN_MAIN_CODE = 'steering-io-in-main-code';

export interface SteeringIo {
  /** Runs `work` (an activity, a signal) for a handler, in the main code when deferred. */
  io<T>(work: () => Promise<T>): Promise<T>;
  /** Deferred: whether the main code may act on steering state (no handler is still at work). */
  settled?: () => boolean;
}

interface Job {
  work: () => Promise<unknown>;
  outcome?: { value: unknown } | { error: unknown };
}

/** Deferred: starts the loop, which lives as long as the workflow (not cancellable: a decision is recorded even then). */
export function steeringIo(deferred: boolean): SteeringIo {
  if (!deferred) return { io: (work) => work() };
  const queue: Job[] = [];
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => queue.length > 0);
      const job = queue[0];
      try {
        job.outcome = { value: await job.work() };
      } catch (error) {
        job.outcome = { error };
      }
      queue.shift();
    }
  });
  return {
    async io<T>(work: () => Promise<T>) {
      const job: Job = { work };
      queue.push(job);
      await condition(() => job.outcome !== undefined);
      const outcome = job.outcome!;
      if ('error' in outcome) throw outcome.error;
      return outcome.value as T;
    },
    settled: allHandlersFinished,
  };
}
