/**
 * The gate before each production page, on a time-skipping Temporal server with Postgres and the LLM
 * simulator over HTTP. The program workflow is started at its production phase (as after
 * continue-as-new), so its steering Updates act on a real production run:
 * - `program pause` reaches the running production run: the pages already running finish, no new
 *   page (and no new shard) starts while paused, and `program resume` lets the run finish; a shard
 *   between two of its pages holds the next one;
 * - a run whose page the budget cannot cover waits, says why in its shard's current details, and
 *   continues once `program budget` raises it; a standalone run (`judge run`) is held to the same
 *   budget, and in batch mode no batch is submitted before the budget covers its page.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { eq, sql } from 'drizzle-orm';
import { createJudgingActivities } from '../judging/activities';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { createProgramActivities } from '../program/activities';
import { judgingCoverage } from '../production/activities';
import type { ProgramSpec } from '../schema/program-spec';
import { productionPages, programs } from '../schema/tables';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import {
  createTestDatabase,
  recordHistory,
  testConfig,
  testDeps,
  timeSkippingEnv,
  timeSkippingWorker,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { productionShardWorkflowId, productionWorkflowId, programWorkflowId } from './ids';
import { changeBudgetUpdate, pauseUpdate, programStatusQuery, resumeUpdate } from './messages';
import { productionStatusQuery, productionWorkflow, type ProductionProgress } from './production';
import { productionPauseSignal } from './production-messages';
import { programWorkflow } from './program';
import { initialState } from './program-run';

jest.setTimeout(300_000);
const logger = createLogger('test', 'silent');
let env: TestWorkflowEnvironment;
let sim: LlmSimulator;
// Each test has its own database (a run over `all` items judges the whole catalog), worker and task queue.
let database: TestDatabase;
let deps: ReturnType<typeof testDeps>;
let taskQueue: string;

beforeAll(async () => {
  env = await timeSkippingEnv();
  // Slow answers, a few at a time: a page takes seconds, so the pause lands while the first pages run.
  sim = await startLlmSimulator({ port: await freePort(), seed: 7, latency: { medianMs: 150, p99Ms: 150 }, logger });
});
afterAll(async () => {
  await sim?.close();
  await env?.teardown();
});

/** Runs `body` with a fresh database and a worker on its own task queue. */
async function inWorld(name: string, body: () => Promise<void>) {
  database = await createTestDatabase();
  deps = testDeps(
    database,
    testConfig(
      { OPENAI_BASE_URL: sim.url, LLM_CONCURRENCY: '8', LLM_RPM_LIMIT: '600000', JUDGEFLOW_SEARCH_ATTRIBUTES: 'false' },
      database,
    ),
  );
  taskQueue = uniqueTaskQueue(name);
  const worker: Worker = await timeSkippingWorker(env, taskQueue, deps);
  try {
    await worker.runUntil(body);
  } finally {
    await database.drop();
  }
}

/** A program judging tone only, one sample, sync, no fix loop, with `budgetUsd`. */
async function seedProgram(programId: string, shows: number, budgetUsd: number) {
  const { spec, itemIds } = await seedJudgeWorld(database.db, { programId, shows, seed: 9 });
  const tone: ProgramSpec = {
    ...spec,
    criteria: spec.criteria.filter((c) => c.id === 'tone').map((c) => ({ ...c, judge: { ...c.judge, samples: 1 } })),
    judges: { ...spec.judges, samples: 1 },
    production: { ...spec.production, mode: 'sync', fixLoop: false },
  };
  await database.db
    .update(programs)
    .set({ spec: tone as unknown as Record<string, unknown>, budgetUsd })
    .where(eq(programs.id, programId));
  const prompts = await createJudgingActivities(deps).ensureJudgePrompts({ programId, guidelineVersion: 1 });
  return { itemIds, prompts };
}

/** The program workflow at its production phase, judges validated (as after continue-as-new). */
async function startAtProduction(programId: string, prompts: Record<string, string>) {
  const plan = await createProgramActivities(deps).loadProgramPlan(programId);
  const state = {
    ...initialState(plan),
    phase: 'production' as const,
    prompts,
    approvedGates: ['scoping', 'pilot', 'golden-set', 'judges'],
  };
  return env.client.workflow.start(programWorkflow, {
    workflowId: programWorkflowId(programId),
    taskQueue,
    args: [{ programId, state }],
  });
}

const pages = async (runKey: string) => {
  const [row] = await database.db.execute<{ started: number; open: number }>(sql`
    select count(*)::int as started, count(*) filter (where finished_at is null)::int as open from ${productionPages} where run_key = ${runKey}`);
  return row;
};
const details = async (workflowId: string) =>
  (await env.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata'))
    .currentDetails ?? '';
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls (in real time: awaiting a result would let the server skip time) until `check` holds. */
async function until<T>(what: string, get: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined && check(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(v)}`);
    await sleepMs(50);
  }
}

let requestCounter = 0;
const request = (note?: string) => ({ requestId: `gate-${++requestCounter}`, actor: 'test-pm', note });

test('pause reaches the running production run: no new page starts until resume, then the run finishes', () =>
  inWorld('gate-pause', async () => {
    const programId = 'gate-pause';
    const { itemIds, prompts } = await seedProgram(programId, 85, 10_000);
    // About 300 items: shards of 25 (defaultShardSize), 8 at a time, so shards are still to start when the pause comes.
    expect(itemIds.length).toBeGreaterThan(8 * 25);
    const runKey = `${programId}/initial`;
    const runId = productionWorkflowId(programId, 'initial');
    const handle = await startAtProduction(programId, prompts);
    await until(
      'the first pages',
      () => pages(runKey),
      (p) => p.started >= 1,
    );
    const paused = await handle.executeUpdate(pauseUpdate, { args: [request('vendor holiday')] });
    expect(paused.applied).toBe(true);
    const run = env.client.workflow.getHandle(runId);
    await until(
      'the run to know',
      () => run.query(productionStatusQuery),
      (s: ProductionProgress) => s.paused === 'vendor holiday',
    );
    // The pages running at the pause finish; then nothing new starts.
    const held = await until(
      'the running pages to finish',
      () => pages(runKey),
      (p) => p.open === 0,
    );
    const progress = await run.query(productionStatusQuery);
    expect(held.started).toBeLessThan(Math.ceil(itemIds.length / 25));
    expect(progress.shardsDone).toBeLessThan(Math.ceil(itemIds.length / 25));
    await sleepMs(1500);
    expect(await pages(runKey)).toEqual(held);
    expect(await details(runId)).toMatch(/^paused: vendor holiday; no new page starts until the program is resumed/);
    const requestsHeld = sim.stats().byKind.judge_verdict;
    await sleepMs(500);
    expect(sim.stats().byKind.judge_verdict).toBe(requestsHeld);

    await handle.executeUpdate(resumeUpdate, { args: [request()] });
    const status = await until(
      'the program to complete',
      () => handle.query(programStatusQuery),
      (s) => s.status === 'completed',
    );
    expect(status.production).toMatchObject({ judged: itemIds.length, total: itemIds.length });
    expect((await pages(runKey)).open).toBe(0);
    const coverage = await judgingCoverage(database.db, {
      runKey,
      selection: { kind: 'all' },
      criteria: ['tone'],
      prompts,
      samples: 1,
      model: testConfig().llm.model,
    });
    expect(coverage).toMatchObject({
      items: itemIds.length,
      missing_judgments: 0,
      missing_verdicts: 0,
      duplicate_judgments: 0,
      duplicate_verdicts: 0,
    });
    await recordHistory(handle, 'programWorkflow-production-pause');
    await recordHistory(run, 'productionWorkflow-pause');
    await recordHistory(
      env.client.workflow.getHandle(productionShardWorkflowId(programId, 'initial', 1)),
      'productionShardWorkflow-page-gate',
    );
  }));

test('a run short of budget waits, says why, and continues once `program budget` raises it', () =>
  inWorld('gate-budget', async () => {
    const programId = 'gate-budget';
    const { itemIds, prompts } = await seedProgram(programId, 6, 0.001);
    const runKey = `${programId}/initial`;
    const handle = await startAtProduction(programId, prompts);
    const shardId = productionShardWorkflowId(programId, 'initial', 1);
    const why = await until(
      'the shard to wait',
      () => details(shardId),
      (d) => d.startsWith('waiting for budget'),
    );
    expect(why).toMatch(
      /^waiting for budget: spent \$0\.00 \+ pages in progress \$0\.00 \+ page 1 \(\d+ requests\) \$\d+\.\d\d exceeds \$0\.00; raise it with `judgeflow program budget`$/,
    );
    expect(await pages(runKey)).toEqual({ started: 0, open: 0 });
    const requestsBefore = sim.stats().byKind.judge_verdict ?? 0;
    await sleepMs(500);
    expect(sim.stats().byKind.judge_verdict ?? 0).toBe(requestsBefore);

    await handle.executeUpdate(changeBudgetUpdate, { args: [{ ...request('room for production'), usd: 1000 }] });
    // Awaiting the result lets the server skip to the next budget check.
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.state.production).toMatchObject({ judged: itemIds.length, total: itemIds.length });
    expect(await details(shardId)).toBe('');
    await recordHistory(env.client.workflow.getHandle(shardId), 'productionShardWorkflow-budget-wait');
  }));

test('a standalone run against a program is held to the same budget', () =>
  inWorld('gate-standalone', async () => {
    const programId = 'gate-standalone';
    const { prompts } = await seedProgram(programId, 4, 0.001);
    const runId = productionWorkflowId(programId, 'by-hand');
    const run: WorkflowHandle<typeof productionWorkflow> = await env.client.workflow.start(productionWorkflow, {
      workflowId: runId,
      taskQueue,
      args: [
        {
          programId,
          runId: 'by-hand',
          mode: 'sync',
          itemSelection: { kind: 'all' },
          criteria: ['tone'],
          prompts,
          samples: 1,
          fixLoop: false,
          maxFixAttempts: 1,
        },
      ],
    });
    await until(
      'the shard to wait',
      () => details(productionShardWorkflowId(programId, 'by-hand', 1)),
      (d) => d.startsWith('waiting for budget'),
    );
    expect(await pages(`${programId}/by-hand`)).toEqual({ started: 0, open: 0 });
    await database.db.update(programs).set({ budgetUsd: 1000 }).where(eq(programs.id, programId));
    expect(await run.result()).toMatchObject({ done: true, errors: 0 });
    expect(await pages(`${programId}/by-hand`)).toMatchObject({ open: 0 });
  }));

test('in batch mode no batch is submitted before the budget covers its page', () =>
  inWorld('gate-batch', async () => {
    const programId = 'gate-batch';
    const { itemIds, prompts } = await seedProgram(programId, 4, 0.001);
    const batchesBefore = sim.stats().batches.created;
    const run = await env.client.workflow.start(productionWorkflow, {
      workflowId: productionWorkflowId(programId, 'batch'),
      taskQueue,
      args: [
        {
          programId,
          runId: 'batch',
          mode: 'batch',
          itemSelection: { kind: 'all' },
          criteria: ['tone'],
          prompts,
          samples: 1,
          fixLoop: false,
          maxFixAttempts: 1,
          batchSize: 8,
        },
      ],
    });
    const shardId = productionShardWorkflowId(programId, 'batch', 1);
    await until(
      'the shard to wait',
      () => details(shardId),
      (d) => d.startsWith('waiting for budget'),
    );
    await sleepMs(500);
    expect(sim.stats().batches.created).toBe(batchesBefore);
    await database.db.update(programs).set({ budgetUsd: 1000 }).where(eq(programs.id, programId));
    expect(await run.result()).toMatchObject({ judged: itemIds.length, errors: 0, done: true });
    const pagesOfRun = Math.ceil(itemIds.length / 8);
    expect(sim.stats().batches.created - batchesBefore).toBe(pagesOfRun);
    expect(await pages(`${programId}/batch`)).toEqual({ started: pagesOfRun, open: 0 });
    await recordHistory(env.client.workflow.getHandle(shardId), 'productionShardWorkflow-batch-gate');
  }));

test('a shard between its pages holds the next page while its run is paused', () =>
  inWorld('gate-shard', async () => {
    const programId = 'gate-shard';
    const { itemIds, prompts } = await seedProgram(programId, 8, 10_000);
    const runKey = `${programId}/by-hand`;
    const run = await env.client.workflow.start(productionWorkflow, {
      workflowId: productionWorkflowId(programId, 'by-hand'),
      taskQueue,
      // One shard of pages of 4 items.
      args: [
        {
          programId,
          runId: 'by-hand',
          mode: 'sync',
          itemSelection: { kind: 'all' },
          criteria: ['tone'],
          prompts,
          samples: 1,
          fixLoop: false,
          maxFixAttempts: 1,
          shardSize: 1000,
          batchSize: 4,
        },
      ],
    });
    expect(itemIds.length).toBeGreaterThan(3 * 4);
    await until(
      'the first page',
      () => pages(runKey),
      (p) => p.started >= 1,
    );
    // What the program's pause sends (program-steering.ts).
    await run.signal(productionPauseSignal, { paused: true, reason: 'quarterly review' });
    const shardId = productionShardWorkflowId(programId, 'by-hand', 1);
    await until(
      'the shard to hold',
      () => details(shardId),
      (d) => /^paused: quarterly review; page \d+ starts when the program is resumed/.test(d),
    );
    const held = await pages(runKey);
    expect(held.open).toBe(0);
    expect(held.started).toBeLessThan(Math.ceil(itemIds.length / 4));
    await sleepMs(1000);
    expect(await pages(runKey)).toEqual(held);

    await run.signal(productionPauseSignal, { paused: false });
    expect(await run.result()).toMatchObject({
      judged: itemIds.length,
      total: itemIds.length,
      paused: null,
      done: true,
    });
    expect(await pages(runKey)).toEqual({ started: Math.ceil(itemIds.length / 4), open: 0 });
    await recordHistory(env.client.workflow.getHandle(shardId), 'productionShardWorkflow-pause');
  }));
