/**
 * The reads `judge status` and `program status` make, timed in a process of their own (forked by
 * status-probe.ts with the stack's environment), as a program manager's client makes them:
 * bench:judging hosts the LLM simulator, whose batch work would delay reads made from its event loop.
 * Each request is answered, with its id, with the two times or with what failed.
 */
import { judgeStatus } from '../commands/judge-status';
import { withContext } from '../commands/context';
import { liveRun, recordedFigures, retryingActivities } from '../commands/program-status';
import { runVerdictCounts } from '../../production/verdicts';

export interface StatusReadsRequest {
  id: number;
  programId: string;
  runId: string;
}
export interface StatusReadTimes {
  judgeStatusMs: number;
  programStatusMs: number;
}
export type StatusReadsReply = { id: number } & (StatusReadTimes | { error: string });

void withContext(async ({ client, database }) => {
  const db = database.db;
  const timeReads = async ({ programId, runId }: { programId: string; runId: string }): Promise<StatusReadTimes> => {
    let t = performance.now();
    await judgeStatus(client, db, programId, runId);
    const judgeStatusMs = performance.now() - t;
    // The bench has no program workflow: program status without its program query (status-probe.ts).
    t = performance.now();
    await Promise.all([
      liveRun(client, programId, runId),
      recordedFigures(db, programId, {}),
      runVerdictCounts(db, `${programId}/${runId}`),
      retryingActivities(client, programId),
    ]);
    return { judgeStatusMs, programStatusMs: performance.now() - t };
  };
  await new Promise<void>((resolve) => {
    process.on('message', ({ id, ...target }: StatusReadsRequest) => {
      void timeReads(target).then(
        (times) => process.send?.({ id, ...times } satisfies StatusReadsReply),
        (err: unknown) => process.send?.({ id, error: String(err) } satisfies StatusReadsReply),
      );
    });
    process.once('disconnect', resolve);
  });
}).catch((err: unknown) => {
  console.error(`status reads: ${String(err)}`);
  process.exit(1);
});
