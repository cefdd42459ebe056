/**
 * Production runs on the dev server through a real worker, against providers that fail: a provider
 * answering 401 stops the run at its first page (non-retryable, with the setting to fix, nothing
 * stored); cancelling a running run stops the provider's traffic within seconds; batch mode on a
 * provider without the Batch API runs sync and says so.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { createJudgingActivities } from '../judging/activities';
import { batchProgress } from '../production/batch';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { rootFailureMessage, workflowFailure } from '../scripts/commands/failure';
import { startLlmSimulator, type StartLlmSimulatorOptions } from '../scripts/sim/llm/server';
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
import { productionWorkflowId } from './ids';
import { productionWorkflow } from './production';
import type { ProductionInput } from './production-messages';

const PROGRAM = 'prod-faults';
let database: TestDatabase;
let client: Client;
let itemIds: string[];
let prompts: Record<string, string>;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ itemIds } = await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 40, seed: 17 }));
  prompts = await createJudgingActivities(testDeps(database)).ensureJudgePrompts({
    programId: PROGRAM,
    guidelineVersion: 1,
  });
  client = await devServerClient();
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await client?.connection.close();
  await database?.drop();
});

const quiet = createLogger('test', 'silent');

/** A worker of its own, whose one LLM client talks to `baseUrl`. */
async function workerFor(baseUrl: string, env: Record<string, string> = {}) {
  const taskQueue = uniqueTaskQueue('prod-faults');
  const deps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: baseUrl, LLM_CONCURRENCY: '16', LLM_RPM_LIMIT: '600000', ...env }, database),
  );
  const { worker, connection }: { worker: Worker; connection: NativeConnection } = await devServerWorker(
    taskQueue,
    deps,
  );
  const running = worker.run();
  cleanup.push(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });
  return taskQueue;
}

async function simulator(opts: StartLlmSimulatorOptions) {
  const sim = await startLlmSimulator({ port: await freePort(), seed: 8, logger: quiet, ...opts });
  cleanup.push(() => sim.close());
  return sim;
}

const input = (runId: string, over: Partial<ProductionInput> = {}): ProductionInput => ({
  programId: PROGRAM,
  runId,
  mode: 'sync',
  itemSelection: { kind: 'all' },
  criteria: ['tone', 'clarity', 'precision'],
  prompts,
  samples: 1,
  fixLoop: false,
  maxFixAttempts: 1,
  batchSize: 50,
  maxConcurrentShards: 2,
  ...over,
});

test('a provider answering 401: the run fails at its first page with the setting to fix, and stores nothing', async () => {
  const sim = await simulator({ faults: { unauthorized: 1 } });
  const taskQueue = await workerFor(sim.url);
  const workflowId = productionWorkflowId(PROGRAM, 'unauthorized');
  const started = Date.now();
  const err = await client.workflow
    .execute(productionWorkflow, { workflowId, taskQueue, args: [input('unauthorized', { model: 'model-401' })] })
    .catch((e: unknown) => e);
  const seconds = (Date.now() - started) / 1000;
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const message = rootFailureMessage(err);
  console.log(JSON.stringify({ unauthorized: { seconds, requests: sim.stats().received, message } }));
  expect(message).toMatch(
    /^ProviderAuthenticationError: the LLM provider rejected the API key \(401 invalid_api_key\): fix OPENAI_API_KEY .*Provider said: Incorrect API key provided/,
  );
  expect(await workflowFailure(client, workflowId)).toBe(message);
  expect(seconds).toBeLessThan(20);
  // Not retried: one wave of requests per shard that started (2 at once, ≤ LLM_CONCURRENCY each).
  expect(sim.stats().received).toBeLessThanOrEqual(2 * 16);
  const [stored] = await database.db.execute<{ judgments: number; verdicts: number; status: string }>(sql`
    select (select count(*)::int from judgments where model = 'model-401') as judgments,
           (select count(*)::int from item_verdicts where run_id = ${`${PROGRAM}/unauthorized`}) as verdicts,
           (select status from production_runs where id = ${`${PROGRAM}/unauthorized`}) as status`);
  expect(stored).toEqual({ judgments: 0, verdicts: 0, status: 'failed' });

  // The CLI: `judge run --wait` and `judge status` print why and exit 1.
  await database.db.execute(sql`update judge_prompts set status = 'active' where program_id = ${PROGRAM}`);
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'silent',
  };
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [path.resolve(__dirname, '../bin/judgeflow.js'), ...args],
        { env, encoding: 'utf8' },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      ),
    );
  const run = await cli(
    'judge',
    'run',
    '--program',
    PROGRAM,
    '--run-id',
    'cli-401',
    '--limit',
    '10',
    '--no-fix-loop',
    '--wait',
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(
    /^production run cli-401 failed: ProviderAuthenticationError: the LLM provider rejected the API key \(401 invalid_api_key\): fix OPENAI_API_KEY/,
  );
  const status = await cli('judge', 'status', '--program', PROGRAM, '--run-id', 'cli-401');
  expect(status.code).toBe(1);
  expect(status.stderr).toMatch(/^FAILED {4}ProviderAuthenticationError: .*fix OPENAI_API_KEY/);
}, 90_000);

test('cancelling a running production run stops the provider traffic within seconds', async () => {
  // ~25 requests/s, one shard, one page of all items: cancelled ~10 s into the page, long after its
  // first heartbeat (with the SDK's default throttle the next would go out 24 s after it).
  const sim = await simulator({ latency: { medianMs: 300, p99Ms: 300 } });
  const taskQueue = await workerFor(sim.url, { LLM_CONCURRENCY: '8' });
  const handle = await client.workflow.start(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'cancelled'),
    taskQueue,
    args: [input('cancelled', { model: 'model-cancel', batchSize: 400, maxConcurrentShards: 1, shardSize: 400 })],
  });
  while (sim.stats().received < 250) await new Promise((r) => setTimeout(r, 50));
  const cancelledAt = Date.now();
  const atCancel = sim.stats().received;
  await handle.cancel();
  // Watch the traffic until it has been still for 3 s.
  let last = sim.stats().received;
  let lastChange = Date.now();
  while (Date.now() - lastChange < 3000) {
    await new Promise((r) => setTimeout(r, 50));
    const now = sim.stats().received;
    if (now !== last) [last, lastChange] = [now, Date.now()];
  }
  const stoppedAfterS = (lastChange - cancelledAt) / 1000;
  const total = itemIds.length * 3;
  console.log(
    JSON.stringify({
      cancel: { stoppedAfterS, requestsAtCancel: atCancel, requestsAfterCancel: last - atCancel, ofRun: total },
    }),
  );
  expect(stoppedAfterS).toBeLessThan(5);
  expect(last).toBeLessThan(total);
  await expect(handle.result()).rejects.toThrow();
  const [stored] = await database.db.execute<{ errors: number; status: string }>(sql`
    select (select count(*)::int from judgments where model = 'model-cancel' and status = 'error') as errors,
           (select status from production_runs where id = ${`${PROGRAM}/cancelled`}) as status`);
  expect(stored).toEqual({ errors: 0, status: 'cancelled' });
}, 60_000);

test('batch mode on a provider without the Batch API judges sync and says why in the run status', async () => {
  const sim = await simulator({});
  // An OpenAI-compatible server with chat completions only (as many are): /batches and /files are 404.
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!req.url?.startsWith('/v1/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'Not Found' }));
        return;
      }
      void fetch(`${sim.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      }).then(async (r) => {
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const taskQueue = await workerFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
  const run = input('no-batch-api', {
    mode: 'batch',
    model: 'model-nobatch',
    itemSelection: { kind: 'all', limit: 20 },
    criteria: ['tone'],
  });
  const result = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'no-batch-api'),
    taskQueue,
    args: [run],
  });
  expect(result).toMatchObject({ total: 20, judged: 20, errors: 0, done: true });
  expect(sim.stats().batches.created).toBe(0);
  expect(sim.stats().byKind.judge_verdict).toBe(20);
  const progress = await batchProgress(database.db, `${PROGRAM}/no-batch-api`);
  expect(progress).toMatchObject({
    submitted: 0,
    warning: expect.stringMatching(
      /^batch mode requested, but http:\/\/127\.0\.0\.1:\d+\/v1 has no Batch API \(GET \/batches answered 404.*judged over the sync API/,
    ) as string,
  });
}, 60_000);
