/**
 * A release that changes workflow code while a program is mid-flight (docs/operations.md,
 * "Upgrading workflow code"): a program starts on today's workers and waits at its pilot gate; the
 * workers are replaced by the next release, whose golden-set phase has a new step behind patched();
 * the program goes on, runs the new step when it reaches that phase, and completes. Its history
 * replays on the new release; on the old one it does not, which is why a release never runs beside
 * workers of the one before once a program has taken a new path.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { loadWorkflowBundle, WORKFLOWS_PATH } from '../workers/workflow-bundle';
import { programWorkflow } from '../workflows/program';
import { approveGateUpdate } from '../workflows/messages';
import { decisionLog } from '../schema/tables';
import { devServerClient, devServerWorker, uniqueTaskQueue } from './harness';
import { createProgramWorld, waitForStatus, type ProgramWorld } from './program-fixture';

jest.setTimeout(600_000);

const NEXT_PHASES = path.resolve(__dirname, 'fixtures/next-release/program-phases.ts');

/** Today's workflows with workflows/program.ts importing the next release's phases. */
async function nextReleaseBundle() {
  // webpack comes with @temporalio/worker (its bundler); resolved from there so no copy is pinned here.
  const webpack = createRequire(require.resolve('@temporalio/worker'))('webpack') as typeof import('webpack');
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
    webpackConfigHook: (config) => {
      config.plugins = [
        ...(config.plugins ?? []),
        new webpack.NormalModuleReplacementPlugin(
          /\/program-phases$/,
          (resource: { context: string; request: string }) => {
            if (resource.context === path.dirname(WORKFLOWS_PATH)) resource.request = NEXT_PHASES;
          },
        ),
      ];
      return config;
    },
  });
}

let client: Client;
let world: ProgramWorld;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  client = await devServerClient();
  world = await createProgramWorld(client, { searchAttributes: true });
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await world?.close();
  await client?.connection.close();
});

function running(worker: Worker, connection?: NativeConnection) {
  const run = worker.run();
  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await run;
    await connection?.close();
  };
  stops.push(stop);
  return stop;
}

test('a program started on one release completes on the next, running the step the release added', async () => {
  const taskQueue = uniqueTaskQueue('upgrade');
  const today = await devServerWorker(taskQueue, world.deps);
  const stopToday = running(today.worker, today.connection);

  await world.register('upgrade', {
    targets: { agreement: 0.5, agreementMetric: 'percent_agreement', judgeAccuracy: 0.7 },
  });
  const handle = await client.workflow.start(programWorkflow, {
    workflowId: 'program/upgrade',
    taskQueue,
    args: [{ programId: 'upgrade' }],
  });
  const approve = async (gate: string) => {
    await waitForStatus(handle, (s) => s.gate?.name === gate, 300_000);
    await handle.executeUpdate(approveGateUpdate, { args: [{ requestId: `upgrade-${gate}`, actor: 'test-pm', gate }] });
  };
  await approve('scoping');
  await waitForStatus(handle, (s) => s.gate?.name === 'pilot', 300_000);

  // The release: today's workers drain and stop; the next release's take the task queue.
  await stopToday();
  const next = await devServerWorker(taskQueue, world.deps, await nextReleaseBundle());
  running(next.worker, next.connection);

  // Every gate from here is approved as it comes (which ones wait depends on the simulated raters).
  let final = await waitForStatus(handle, (s) => s.status === 'completed' || s.status === 'waiting_gate', 300_000);
  while (final.status !== 'completed') {
    await handle.executeUpdate(approveGateUpdate, {
      args: [{ requestId: `upgrade-${final.gate!.name}`, actor: 'test-pm', gate: final.gate!.name }],
    });
    const passed = final.gate!.name;
    final = await waitForStatus(
      handle,
      (s) => s.status === 'completed' || (s.status === 'waiting_gate' && s.gate?.name !== passed),
      300_000,
    );
  }
  expect(final.production).toMatchObject({ judged: 12, total: 12 });

  const step = await world.database.db
    .select()
    .from(decisionLog)
    .where(and(eq(decisionLog.programId, 'upgrade'), eq(decisionLog.kind, 'release_step')));
  expect(step).toHaveLength(1);
  const history = await handle.fetchHistory();

  // The history replays on the release that ran it; today's code cannot replay the new step.
  await Worker.runReplayHistory({ workflowBundle: await nextReleaseBundle() }, history, 'program/upgrade');
  await expect(
    Worker.runReplayHistory({ workflowBundle: await loadWorkflowBundle() }, history, 'program/upgrade'),
  ).rejects.toThrow();
});
