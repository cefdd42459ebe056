/**
 * Steering a program on the dev server while its main code runs: each update answers once its
 * activities are done (its decision is in Postgres when the CLI gets the answer), several at once
 * are applied one after the other, a retried request is a no-op, and a gate approved while paused
 * passes, then the program holds at the pause until resumed. The history replays on the tracing
 * bundle as on the plain one: the handlers' I/O runs in the main code (steering-io.ts), so the
 * interceptors' extra awaits cannot swap an update's completion and the main code's next command.
 * The worker holds the approval's decision and the main code's next status write until both run,
 * so they complete together wherever the main code would go on while the handler is still at work.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ApplicationFailure, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { asc, eq } from 'drizzle-orm';
import { createActivities } from '../activities';
import { startTracing } from '../platform/tracing';
import { decisionLog, guidelineVersions } from '../schema/tables';
import { recordHistory, uniqueTaskQueue } from '../test/harness';
import { devServerProgramWorld, waitForStatus } from '../test/program-fixture';
import { bundleWorkflows, loadWorkflowBundle } from '../workers/workflow-bundle';
import {
  approveGateUpdate,
  changeBudgetUpdate,
  changeTargetsUpdate,
  pauseUpdate,
  publishGuidelinesUpdate,
  requestCancelUpdate,
  resumeUpdate,
} from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
const t = devServerProgramWorld('steering', { searchAttributes: false });
/** Program ids are unique per run: the dev server outlives a test run and keeps its workflows. */
const RUN = Date.now().toString(36);

let counter = 0;
const steer = (note?: string) => ({ requestId: `steer-${++counter}`, actor: 'test-pm', note });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each of two callers waits for the other (at most `ms`), so their activities complete together;
 * the one that is not `first` a moment later (the order in which the original race was recorded).
 */
function meeting(ms: number) {
  let arrived = 0;
  let release = () => {};
  const both = new Promise<void>((resolve) => (release = resolve));
  return async (first: boolean) => {
    if (++arrived === 2) release();
    await Promise.race([both, sleep(ms)]);
    if (!first) await sleep(1);
  };
}

/**
 * A worker whose gate-approval decision and next `running` status write (once `holding`) meet, and
 * whose guideline store refuses a text that says UNSTORABLE.
 */
async function meetingWorker(taskQueue: string, holding: () => boolean) {
  const activities = createActivities(t.world.deps);
  const meet = meeting(3000);
  const connection = await NativeConnection.connect({ address: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await loadWorkflowBundle(),
    activities: {
      ...activities,
      publishGuidelineVersion: async (g: Parameters<typeof activities.publishGuidelineVersion>[0]) => {
        if (g.text.includes('UNSTORABLE')) throw ApplicationFailure.nonRetryable('the guideline store is read-only');
        return activities.publishGuidelineVersion(g);
      },
      recordDecision: async (d: Parameters<typeof activities.recordDecision>[0]) => {
        const recorded = await activities.recordDecision(d);
        if (d.kind === 'gate_approved') await meet(true);
        return recorded;
      },
      setProgramState: async (s: Parameters<typeof activities.setProgramState>[0]) => {
        const stored = await activities.setProgramState(s);
        if (holding() && s.status === 'running') await meet(false);
        return stored;
      },
    },
  });
  return { worker, connection };
}

test('updates answer after their I/O, one after the other, while the main code waits at a gate and a pause', async () => {
  const id = `steered-${RUN}`;
  await t.world.register(id);
  let approving = false;
  const taskQueue = uniqueTaskQueue('steering-met');
  const { worker, connection } = await meetingWorker(taskQueue, () => approving);
  const handle = await t.client.workflow.start(programWorkflow, {
    workflowId: `program/${id}`,
    taskQueue,
    args: [{ programId: id }],
  });
  const decisions = async () =>
    (
      await t.world.database.db
        .select({ kind: decisionLog.kind })
        .from(decisionLog)
        .where(eq(decisionLog.programId, id))
        .orderBy(asc(decisionLog.id))
    ).map((d) => d.kind);

  await worker.runUntil(async () => {
    await waitForStatus(handle, (s) => s.gate?.name === 'scoping' && s.status === 'waiting_gate');
    // Refused by its validator: nothing is recorded.
    const refused = handle.executeUpdate(publishGuidelinesUpdate, {
      args: [{ ...steer(), version: 1, text: 'x', note: 'same version' }],
    });
    await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(refused).rejects.toMatchObject({ cause: { message: expect.stringMatching(/above the current v1/) } });
    expect(await decisions()).toEqual([]);
    // Its activity fails: the update fails with the reason, nothing changes, and later requests are served.
    const failed = handle.executeUpdate(publishGuidelinesUpdate, {
      args: [{ ...steer(), version: 2, text: 'UNSTORABLE', note: 'store down' }],
    });
    await expect(failed).rejects.toMatchObject({ cause: { cause: { message: 'the guideline store is read-only' } } });
    expect(await waitForStatus(handle, () => true)).toMatchObject({ guidelineVersion: 1, decisions: 0 });
    expect(await decisions()).toEqual([]);

    // The answer comes once the revision and its decision are stored.
    const published = await handle.executeUpdate(publishGuidelinesUpdate, {
      args: [{ ...steer(), version: 2, text: 'Tone: judge the register, not the plot.', note: 'raters split on tone' }],
    });
    expect(published).toMatchObject({ applied: true, message: 'guidelines v2 published' });
    expect(await decisions()).toEqual(['guideline_published']);
    const versions = await t.world.database.db
      .select({ version: guidelineVersions.version })
      .from(guidelineVersions)
      .where(eq(guidelineVersions.programId, id));
    expect(versions.map((v) => v.version)).toContain(2);

    // Three at once: each is applied, and each decision is stored by the time its answer comes.
    const pause = steer('vendor holiday');
    const answers = await Promise.all([
      handle.executeUpdate(changeTargetsUpdate, { args: [{ ...steer('stricter'), agreement: 0.75 }] }),
      handle.executeUpdate(changeBudgetUpdate, { args: [{ ...steer('more rounds'), usd: 20_000 }] }),
      handle.executeUpdate(pauseUpdate, { args: [pause] }),
    ]);
    expect(answers.map((a) => a.applied)).toEqual([true, true, true]);
    expect((await decisions()).slice(1).sort()).toEqual(['budget_changed', 'paused', 'targets_changed']);
    // A retried request is a no-op.
    expect(await handle.executeUpdate(pauseUpdate, { args: [pause] })).toMatchObject({ duplicate: true });

    // Approved while paused: the gate passes, then the program holds at the pause before the pilot.
    approving = true;
    const approved = await handle.executeUpdate(approveGateUpdate, { args: [{ ...steer(), gate: 'scoping' }] });
    expect(approved.applied).toBe(true);
    expect((await decisions()).at(-1)).toBe('gate_approved');
    const held = await waitForStatus(handle, (s) => s.status === 'paused');
    approving = false;
    expect(held).toMatchObject({
      phase: 'pilot',
      gate: null,
      pausedReason: 'vendor holiday',
      guidelineVersion: 2,
      budgetUsd: 20_000,
      targets: { agreement: 0.75 },
      decisions: 5,
    });
    expect(await handle.executeUpdate(resumeUpdate, { args: [steer()] })).toMatchObject({ applied: true });
    await waitForStatus(handle, (s) => s.status === 'running' && s.phase === 'pilot');
    await handle.executeUpdate(requestCancelUpdate, { args: [steer('enough')] });
    await handle.cancel();
    expect((await handle.result()).status).toBe('cancelled');
  });
  await connection.close();
  expect((await decisions()).slice(-3)).toEqual(['gate_approved', 'resumed', 'cancelled']);

  // The same history replays with the tracing interceptors and without them.
  await replayWithAndWithoutTracing(handle);
  await recordHistory(handle, 'programWorkflow-steering');
});

async function replayWithAndWithoutTracing(handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  const tracing = startTracing('judgeflow-test', new SimpleSpanProcessor(new InMemorySpanExporter()));
  try {
    await Worker.runReplayHistory({ workflowBundle: await loadWorkflowBundle() }, history);
    await Worker.runReplayHistory(
      { workflowBundle: await bundleWorkflows({ tracing: true }), sinks: tracing.worker.sinks },
      history,
    );
  } finally {
    await tracing.shutdown();
  }
}
