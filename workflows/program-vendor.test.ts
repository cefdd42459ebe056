/**
 * A program whose vendor cannot be reached (its endpoint's host does not resolve), on a
 * time-skipping server with the real pieces around it: `program status` lists the retrying
 * openTaskBatch with the vendor's error within seconds; once the activity's retries are exhausted
 * the program waits at gate vendor/pilot with the error as evidence (it does not fail); the program
 * manager fixes the endpoint with `judgeflow program vendor` and approves, and the pilot runs.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { decisionLog, vendors } from '../schema/tables';
import { formatStatus, programStatus } from '../scripts/commands/program-status';
import { recordHistory, timeSkippingEnv, timeSkippingWorker, uniqueTaskQueue } from '../test/harness';
import { createProgramWorld, waitForStatus, type ProgramWorld } from '../test/program-fixture';
import { approveGateUpdate } from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
const UNREACHABLE = 'http://vendor.invalid/judgeflow/tasks';
let env: TestWorkflowEnvironment;
let world: ProgramWorld;
let taskQueue: string;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await timeSkippingEnv();
  world = await createProgramWorld(env.client, { searchAttributes: false });
  taskQueue = uniqueTaskQueue('program-vendor');
  worker = await timeSkippingWorker(env, taskQueue, world.deps);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await world?.close();
  await env?.teardown();
});

const run = promisify(execFile);
async function cli(...args: string[]) {
  return run(process.execPath, ['bin/judgeflow.js', ...args], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, DATABASE_URL: world.database.url, LOG_LEVEL: 'silent' },
  });
}

let request = 0;
async function approve(handle: WorkflowHandle, gate: string) {
  await waitForStatus(handle, (s) => s.gate?.name === gate);
  return handle.executeUpdate(approveGateUpdate, { args: [{ requestId: `req-${++request}`, actor: 'test-pm', gate }] });
}

test('an unreachable vendor is shown retrying, then the pilot waits at a vendor gate; fixed and approved, the pilot runs', async () => {
  await world.register('down', {}, { vendorEndpoint: UNREACHABLE });
  const handle = await env.client.workflow.start(programWorkflow, {
    workflowId: 'program/down',
    taskQueue,
    args: [{ programId: 'down' }],
  });
  await approve(handle, 'scoping');

  // Within seconds, status names the workflow, the activity, the attempt and the vendor's error.
  const seenFrom = Date.now();
  let status = await programStatus(env.client, 'down', world.database.db);
  while (!status.retrying?.length && Date.now() - seenFrom < 30_000) {
    await new Promise((r) => setTimeout(r, 250));
    status = await programStatus(env.client, 'down', world.database.db);
  }
  expect(Date.now() - seenFrom).toBeLessThan(15_000);
  expect(status.retrying).toEqual([
    expect.objectContaining({
      workflowId: 'program/down/pilot/tasks',
      where: 'pilot/tasks',
      activityType: 'openTaskBatch',
      maximumAttempts: 20,
      lastError: expect.stringMatching(
        /^vendor sim-vendor unreachable: getaddrinfo (ENOTFOUND|EAI_AGAIN) vendor\.invalid \(GET \/raters http:\/\/vendor\.invalid\/judgeflow\/tasks\/raters\)/,
      ),
    }),
  ]);
  expect(status.retrying![0].attempt).toBeGreaterThanOrEqual(2);
  expect(status.status).toBe('running');
  expect(formatStatus(status)).toMatch(
    /^RETRYING {2}pilot\/tasks: openTaskBatch retrying \(attempt \d+ of 20\): vendor sim-vendor unreachable: getaddrinfo/m,
  );
  const failedBatch = await env.client.workflow.getHandle('program/down/pilot/tasks').describe();

  // The retries run out (skipped time): the program waits at the vendor gate, it does not fail.
  await env.sleep('2 hours');
  const atGate = await waitForStatus(handle, (s) => s.gate?.name === 'vendor/pilot');
  expect(atGate.status).toBe('waiting_gate');
  expect(atGate.gate?.reason).toMatch(
    /^a vendor call failed after its retries — openTaskBatch failed after its retries: vendor sim-vendor unreachable: getaddrinfo .*Fix the vendor .* then approve to run the pilot step again$/,
  );
  expect(atGate.gate?.evidence).toMatchObject({
    batchId: 'program/down/pilot/tasks',
    activityType: 'openTaskBatch',
    error: expect.stringMatching(/^vendor sim-vendor unreachable/),
  });
  const gated = await programStatus(env.client, 'down', world.database.db);
  expect(gated.retrying).toEqual([]);
  expect(formatStatus(gated)).toMatch(/^GATE {6}vendor\/pilot: a vendor call failed/m);
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toMatch(/^waiting at gate \*\*vendor\/pilot\*\*: a vendor call failed/);

  // The program manager fixes the endpoint and approves: the pilot step runs again and completes.
  const fixed = await cli(
    'program',
    'vendor',
    'down',
    'sim-vendor',
    '--endpoint',
    world.vendor.endpoint,
    '--note',
    'acme moved their API',
  );
  expect(fixed.stdout).toContain(`vendor sim-vendor updated: endpoint ${world.vendor.endpoint}`);
  const [row] = await world.database.db
    .select({ endpoint: vendors.endpoint })
    .from(vendors)
    .where(eq(vendors.id, 'sim-vendor'));
  expect(row.endpoint).toBe(world.vendor.endpoint);
  await approve(handle, 'vendor/pilot');
  const piloted = await waitForStatus(handle, (s) => s.gate?.name === 'pilot');
  expect(piloted.rounds).toHaveLength(1);
  expect(piloted.rounds[0]).toMatchObject({ phase: 'pilot', items: 6 });
  expect(piloted.tasks.completed).toBeGreaterThan(0);
  const kinds = (
    await world.database.db
      .select({ kind: decisionLog.kind })
      .from(decisionLog)
      .where(eq(decisionLog.programId, 'down'))
  ).map((d) => d.kind);
  expect(kinds).toEqual(expect.arrayContaining(['vendor_failed', 'vendor_updated', 'gate_approved']));

  await handle.cancel();
  expect((await handle.result()).status).toBe('cancelled');
  await recordHistory(handle, 'programWorkflow-vendor-gate');
  await recordHistory(
    env.client.workflow.getHandle('program/down/pilot/tasks', failedBatch.runId),
    'humanTasksWorkflow-vendor-unavailable',
  );
});
