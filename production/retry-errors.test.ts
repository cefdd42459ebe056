/**
 * `judgeflow judge run --retry-errors --run-id R` (the real CLI) against a dev-server worker: a run
 * made while the provider answered 500 to everything stores errors, which count as errors per
 * criterion (never as passes); a retry judges exactly the errored keys of R — the provider is asked
 * once per errored judgment and never for one stored ok — as its own run R-retry-<n>, whose decided
 * verdicts then stand for R's errors in R's counts; with nothing left in error, nothing starts.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { createJudgingActivities } from '../judging/activities';
import { createLogger } from '../platform/logger';
import { itemVerdicts, judgments, productionRuns } from '../schema/tables';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { startLlmOutage, type LlmOutage } from '../test/llm-outage';
import { productionWorkflowId } from '../workflows/ids';
import { productionWorkflow } from '../workflows/production';
import { runVerdictCounts } from './verdicts';

jest.setTimeout(240_000);
const PROGRAM = 'retry-prog';
const CRITERIA = ['clarity', 'tone'];
const taskQueue = uniqueTaskQueue('retry-errors');
let database: TestDatabase;
let sim: LlmSimulator;
let outage: LlmOutage;
let client: Client;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let itemIds: string[];
let prompts: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({ seed: 5, logger: createLogger('test', 'silent') });
  outage = await startLlmOutage(sim.url);
  ({ itemIds } = await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 3, seed: 21 }));
  // No client retries: an answer of 500 is an error judgment at once.
  const deps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: outage.url, LLM_RPM_LIMIT: '600000', LLM_MAX_RETRIES: '0' }, database),
  );
  prompts = await createJudgingActivities(deps).ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
  client = await devServerClient();
  ({ worker, connection } = await devServerWorker(taskQueue, deps));
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await client?.connection.close();
  await outage?.close();
  await sim?.close();
  await database?.drop();
});

const run = promisify(execFile);
/** The real CLI, on this file's database, dev server and task queue. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'silent',
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/judgeflow.js', ...args], {
      cwd: path.resolve(__dirname, '..'),
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const judgeRequests = () => sim.stats().byKind.judge_verdict ?? 0;
const runInput = (runId: string) => ({
  programId: PROGRAM,
  runId,
  mode: 'sync' as const,
  itemSelection: { kind: 'all' as const },
  criteria: CRITERIA,
  prompts,
  samples: 1,
  fixLoop: false,
  maxFixAttempts: 1,
});

test('a run made during an outage counts its errors per criterion; retries judge exactly its errored keys, then nothing is left', async () => {
  outage.down = true;
  const first = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'outage'),
    taskQueue,
    args: [runInput('outage')],
  });
  const n = itemIds.length;
  expect(first).toMatchObject({ judged: n, errors: n, failing: 0 });
  expect(outage.refused).toBe(n * CRITERIA.length);
  expect(await runVerdictCounts(database.db, `${PROGRAM}/outage`)).toEqual(
    Object.fromEntries(CRITERIA.map((c) => [c, { pass: 0, fail: 0, error: n }])),
  );

  // judge status shows them per criterion and says how to retry.
  const status = await cli('judge', 'status', '--program', PROGRAM, '--run-id', 'outage');
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(
    `verdicts: clarity 0 pass · 0 fail · ${n} errors, tone 0 pass · 0 fail · ${n} errors`,
  );
  expect(status.stdout).toContain(`errors: ${n * 2} item × criterion keys of ${n} items in error`);
  expect(status.stdout).toContain(
    `judge them again: judgeflow judge run --program ${PROGRAM} --retry-errors --run-id outage`,
  );

  // The provider is back: a retry of 2 items asks for exactly their errored judgments.
  outage.down = false;
  const before = judgeRequests();
  const partial = await cli(
    'judge',
    'run',
    '--program',
    PROGRAM,
    '--retry-errors',
    '--run-id',
    'outage',
    '--limit',
    '2',
    '--no-fix-loop',
    '--wait',
    '--json',
  );
  expect(partial).toMatchObject({ code: 0 });
  const partialOut = JSON.parse(partial.stdout.trim().split('\n').at(-1)!);
  expect(partialOut).toMatchObject({ runKey: `${PROGRAM}/outage-retry-1`, retryOf: 'outage', judged: 2, errors: 0 });
  expect(judgeRequests() - before).toBe(2 * CRITERIA.length);
  for (const c of CRITERIA) {
    expect(partialOut.verdicts[c].pass + partialOut.verdicts[c].fail).toBe(2);
    expect(partialOut.verdicts[c].error).toBe(n - 2);
  }
  const [retryRow] = await database.db
    .select()
    .from(productionRuns)
    .where(eq(productionRuns.id, `${PROGRAM}/outage-retry-1`));
  expect(retryRow.params).toMatchObject({
    selection: { kind: 'errors', runKey: `${PROGRAM}/outage`, limit: 2 },
    criteria: CRITERIA,
    samples: 1,
  });

  // The next retry takes what is still in error, and only that.
  const rest = await cli(
    'judge',
    'run',
    '--program',
    PROGRAM,
    '--retry-errors',
    '--run-id',
    'outage',
    '--no-fix-loop',
    '--wait',
    '--json',
  );
  expect(rest.code).toBe(0);
  expect(JSON.parse(rest.stdout.trim().split('\n').at(-1)!)).toMatchObject({
    runKey: `${PROGRAM}/outage-retry-2`,
    judged: n - 2,
    errors: 0,
  });
  expect(judgeRequests() - before).toBe(n * CRITERIA.length);
  const counts = await runVerdictCounts(database.db, `${PROGRAM}/outage`);
  for (const c of CRITERIA) expect(counts[c]).toMatchObject({ pass: expect.any(Number), error: 0 });
  expect(counts.tone.pass + counts.tone.fail).toBe(n);

  // Nothing left in error: nothing starts.
  const none = await cli('judge', 'run', '--program', PROGRAM, '--retry-errors', '--run-id', 'outage');
  expect(none.code).toBe(0);
  expect(none.stdout).toMatch(/^run outage has no errored judgments: clarity \d+ pass · \d+ fail · 0 errors, tone/);
  expect(await database.db.$count(productionRuns, eq(productionRuns.programId, PROGRAM))).toBe(3);
});

test('a retry asks only for the errored criterion of an item, never for what is stored ok', async () => {
  // A healthy run; then one judgment is an error again (as if its request had failed).
  const healthy = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'healthy'),
    taskQueue,
    args: [runInput('healthy')],
  });
  expect(healthy).toMatchObject({ errors: 0 });
  const [target] = itemIds;
  await database.db
    .update(judgments)
    .set({ status: 'error', verdict: null, error: 'provider: 500' })
    .where(and(eq(judgments.itemId, target), eq(judgments.criterion, 'tone')));
  await database.db
    .update(itemVerdicts)
    .set({ verdict: null, summary: 'error: provider: 500' })
    .where(
      and(
        eq(itemVerdicts.runId, `${PROGRAM}/healthy`),
        eq(itemVerdicts.itemId, target),
        eq(itemVerdicts.criterion, 'tone'),
      ),
    );
  const before = judgeRequests();
  const retry = await cli(
    'judge',
    'run',
    '--program',
    PROGRAM,
    '--retry-errors',
    '--run-id',
    'healthy',
    '--no-fix-loop',
    '--wait',
  );
  expect(retry.code).toBe(0);
  expect(retry.stdout).toContain('starting healthy-retry-1: 1 item with errors (tone 1)');
  expect(retry.stdout).toMatch(
    /run healthy, its retries applied: verdicts: clarity \d+ pass · \d+ fail · 0 errors, tone \d+ pass · \d+ fail · 0 errors/,
  );
  expect(judgeRequests() - before).toBe(1);
  const [row] = await database.db
    .select()
    .from(productionRuns)
    .where(eq(productionRuns.id, `${PROGRAM}/healthy-retry-1`));
  expect(row.params).toMatchObject({ criteria: ['tone'] });
});
