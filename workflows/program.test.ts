/**
 * The evaluation program end to end on a time-skipping Temporal server, with the real pieces around
 * it: Postgres, the LLM simulator over HTTP, the signed gateway and the simulated vendor. The test
 * drives it as a program manager would, through the validated Updates. (SLA days skipped in
 * seconds are tested on the human-task workflow itself: workflows/human-tasks-sla.test.ts.)
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { decisionLog, guidelineVersions, labels, tasks } from '../schema/tables';
import { recordHistory, timeSkippingEnv, timeSkippingWorker, uniqueTaskQueue } from '../test/harness';
import { createProgramWorld, waitForStatus as waitFor, type ProgramWorld } from '../test/program-fixture';
import { approveGateUpdate, changeBudgetUpdate, pauseUpdate, publishGuidelinesUpdate, resumeUpdate } from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
let env: TestWorkflowEnvironment;
let world: ProgramWorld;
let taskQueue: string;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await timeSkippingEnv();
  // The time-skipping server has no custom search attributes.
  world = await createProgramWorld(env.client, { searchAttributes: false });
  taskQueue = uniqueTaskQueue('program');
  worker = await timeSkippingWorker(env, taskQueue, world.deps);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await world?.close();
  await env?.teardown();
});

/** Registers a small program (as `program start` does) and starts its workflow. */
async function startProgram(
  id: string,
  over: Record<string, unknown> = {},
): Promise<WorkflowHandle<typeof programWorkflow>> {
  await world.register(id, over);
  return env.client.workflow.start(programWorkflow, {
    workflowId: `program/${id}`,
    taskQueue,
    args: [{ programId: id }],
  });
}

let requestCounter = 0;
const request = (note?: string) => ({ requestId: `req-${++requestCounter}`, actor: 'test-pm', note });

async function approve(handle: WorkflowHandle, gate: string) {
  await waitFor(handle, (s) => s.gate?.name === gate);
  return handle.executeUpdate(approveGateUpdate, { args: [{ ...request(), gate }] });
}

const decisions = async (programId: string) =>
  (await world.database.db.select().from(decisionLog).where(eq(decisionLog.programId, programId))).map((d) => d.kind);

test('runs every phase: reaches the target early, golden set with review, judges, production', async () => {
  const handle = await startProgram('whole', {
    targets: { agreement: 0.5, agreementMetric: 'percent_agreement', judgeAccuracy: 0.7 },
  });
  await approve(handle, 'scoping');
  await approve(handle, 'pilot');
  // Target reached in the first round: no calibration gate, straight to the golden set.
  await approve(handle, 'golden-set');
  await approve(handle, 'judges').catch(() => undefined); // a judge under target waits here; above target it is a gate too
  const final = await waitFor(handle, (s) => s.status === 'completed', 240_000);
  expect(final.rounds.filter((r) => r.phase === 'calibration')).toHaveLength(1);
  expect(final.rounds[1].allMeetTarget).toBe(true);
  expect(final.goldenSet?.items).toBe(24);
  expect((final.goldenSet?.dev ?? 0) + (final.goldenSet?.test ?? 0)).toBe(24);
  expect(final.judges.map((j) => j.criterion).sort()).toEqual(['clarity', 'factuality', 'precision', 'tone']);
  for (const j of final.judges) expect(j.testAccuracy).not.toBeNull();
  expect(final.production).toMatchObject({ judged: 12, total: 12 });
  expect(await decisions('whole')).toEqual(expect.arrayContaining(['gate_approved', 'phase_completed']));
  const result = await handle.result();
  expect(result.status).toBe('completed');
  await recordHistory(handle, 'programWorkflow');
  for (const [name, id] of [
    ['pilotWorkflow', 'program/whole/pilot'],
    ['calibrationRoundWorkflow', 'program/whole/calibration/1'],
    ['goldenSetWorkflow', 'program/whole/golden-set'],
    ['judgeDevelopmentWorkflow', 'program/whole/judges'],
  ])
    await recordHistory(env.client.workflow.getHandle(id), name);
});

test('never reaching the target in 8 rounds stops at a gate with the evidence; cancel keeps what was recorded', async () => {
  const handle = await startProgram('never', {
    targets: { agreement: 0.999, agreementMetric: 'percent_agreement', judgeAccuracy: 0.85 },
    gates: { policy: 'auto', autoAfter: '0s' },
  });
  const atGate = await waitFor(handle, (s) => s.gate?.name === 'calibration' && s.status === 'waiting_gate', 300_000);
  expect(atGate.rounds.filter((r) => r.phase === 'calibration')).toHaveLength(8);
  expect(atGate.gate?.reason).toMatch(/not reached after 8 rounds/);
  expect((atGate.gate?.evidence.rounds as unknown[]).length).toBe(8);
  const labelsBefore = await world.database.db.$count(labels, eq(labels.programId, 'never'));
  await handle.cancel();
  expect((await handle.result()).status).toBe('cancelled');
  expect(await world.database.db.$count(labels, eq(labels.programId, 'never'))).toBe(labelsBefore);
  expect(await decisions('never')).toContain('cancelled');
});

test('a guideline revision mid-round: refused when invalid, otherwise logged and carried by later tasks', async () => {
  const handle = await startProgram('revise');
  await approve(handle, 'scoping');
  await approve(handle, 'pilot');
  await waitFor(handle, (s) => s.phase === 'calibration');
  const refusal = handle.executeUpdate(publishGuidelinesUpdate, {
    args: [{ ...request(), version: 1, text: 'x', note: 'same version' }],
  });
  await expect(refusal).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  await expect(refusal).rejects.toMatchObject({ cause: { message: expect.stringMatching(/above the current v1/) } });
  const revision = {
    ...request(),
    version: 2,
    text: 'v2: worked examples per criterion',
    note: 'raters split on tone',
  };
  const noticesBefore = world.vendor.sim.stats.notices;
  const published = await handle.executeUpdate(publishGuidelinesUpdate, { args: [revision] });
  expect(published.applied).toBe(true);
  // A retried request (same id) is a no-op.
  expect(await handle.executeUpdate(publishGuidelinesUpdate, { args: [revision] })).toMatchObject({
    applied: false,
    duplicate: true,
  });
  expect(await world.database.db.$count(guidelineVersions, eq(guidelineVersions.programId, 'revise'))).toBe(2);
  // The vendor is told after the update answered; its raters had read v1 over HTTP and read v2 next.
  const sim = world.vendor.sim.stats;
  for (const deadline = Date.now() + 30_000; sim.notices === noticesBefore && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 100));
  expect(sim.notices).toBe(noticesBefore + 1);
  expect(sim.packetsFetched).toBeGreaterThan(0);
  expect(sim.packetFetchFailures).toBe(0);
  await approve(handle, 'calibration/1');
  await waitFor(handle, (s) => s.rounds.some((r) => r.phase === 'calibration' && r.round === 2));
  const round2 = await world.database.db
    .select({ version: tasks.guidelineVersion })
    .from(tasks)
    .where(and(eq(tasks.programId, 'revise'), eq(tasks.batchId, 'program/revise/calibration/2/tasks')));
  expect(round2.length).toBeGreaterThan(0);
  expect(new Set(round2.map((t) => t.version))).toEqual(new Set([2]));
  expect(await decisions('revise')).toContain('guideline_published');
  await handle.cancel();
  await handle.result();
  await recordHistory(handle, 'programWorkflow-guidelines-to-vendors');
});

test('a budget cap pauses with the reason; resume is refused until the budget is raised; pause and resume', async () => {
  // The pilot alone costs 6 items × 3 raters × $0.50 = $9.
  const handle = await startProgram('capped', { budget: { usd: 5 } });
  await approve(handle, 'scoping');
  await approve(handle, 'pilot');
  const capped = await waitFor(handle, (s) => s.status === 'paused');
  expect(capped.pausedReason).toMatch(/budget cap reached: spent \$9\.00 of \$5\.00/);
  await expect(handle.executeUpdate(resumeUpdate, { args: [request()] })).rejects.toMatchObject({
    cause: { message: expect.stringMatching(/raise the budget first/) },
  });
  await handle.executeUpdate(changeBudgetUpdate, { args: [{ ...request('more room'), usd: 500 }] });
  await waitFor(handle, (s) => s.status === 'running' && s.phase === 'calibration');
  const paused = await handle.executeUpdate(pauseUpdate, { args: [request('vendor holiday')] });
  expect(paused.applied).toBe(true);
  await expect(handle.executeUpdate(pauseUpdate, { args: [request()] })).rejects.toBeInstanceOf(
    WorkflowUpdateFailedError,
  );
  await approve(handle, 'calibration/1');
  const held = await waitFor(handle, (s) => s.status === 'paused');
  expect(held.pausedReason).toBe('vendor holiday');
  expect(held.rounds.filter((r) => r.phase === 'calibration')).toHaveLength(1); // no new round while paused
  await handle.executeUpdate(resumeUpdate, { args: [request()] });
  await waitFor(handle, (s) => s.rounds.filter((r) => r.phase === 'calibration').length === 2);
  expect(await decisions('capped')).toEqual(expect.arrayContaining(['paused', 'budget_changed', 'resumed']));
  await handle.cancel();
  await handle.result();
});
