/**
 * A sharded sync production run on the dev server, judging a simulated catalog through the LLM
 * simulator over HTTP: every item's current text ends with one ok judgment per judge unit and
 * sample and one decided verdict per criterion (0 missing, 0 duplicate), the simulator saw one
 * judge request per stored judgment, and the shards respected their sizes.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createJudgingActivities } from '../judging/activities';
import { judgeUnitHashes, judgingCoverage } from '../production/activities';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  recordHistory,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { productionWorkflow } from './production';
import { fixLoopWorkflowId, productionShardWorkflowId, productionWorkflowId } from './ids';

const PROGRAM = 'prod-run';
let database: TestDatabase;
let sim: LlmSimulator;
let client: Client;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let itemIds: string[];
let prompts: Record<string, string>;
const taskQueue = uniqueTaskQueue('production-run');

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({ port: await freePort(), seed: 3, logger: createLogger('test', 'silent') });
  ({ itemIds } = await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 6, seed: 9 }));
  const deps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: sim.url, LLM_CONCURRENCY: '16', LLM_RPM_LIMIT: '600000' }, database),
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
  await sim?.close();
  await database?.drop();
});

test('a sharded sync run judges every item once: 0 missing and 0 duplicate judgments and verdicts', async () => {
  const criteria = ['tone', 'clarity', 'precision', 'factuality'];
  const input = {
    programId: PROGRAM,
    runId: 'sync-1',
    mode: 'sync' as const,
    itemSelection: { kind: 'all' as const },
    criteria,
    prompts,
    samples: 2,
    fixLoop: false,
    maxFixAttempts: 1,
    shardSize: 7,
    batchSize: 3,
    maxConcurrentShards: 3,
  };
  const result = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'sync-1'),
    taskQueue,
    args: [input],
  });
  const shards = Math.ceil(itemIds.length / 7);
  expect(itemIds.length).toBeGreaterThan(14);
  expect(result).toMatchObject({
    total: itemIds.length,
    judged: itemIds.length,
    errors: 0,
    shardsDone: shards,
    done: true,
  });
  const coverage = await judgingCoverage(database.db, {
    runKey: `${PROGRAM}/sync-1`,
    selection: { kind: 'all' },
    criteria,
    prompts,
    samples: 2,
    model: testConfig().llm.model,
  });
  const units = judgeUnitHashes(prompts, criteria).length;
  expect(judgeUnitHashes(prompts, ['tone', 'factuality'])).toHaveLength(5);
  expect(units).toBe(7); // tone, clarity, precision + four factuality agents
  expect(coverage).toEqual({
    items: itemIds.length,
    missing_judgments: 0,
    missing_verdicts: 0,
    duplicate_judgments: 0,
    duplicate_verdicts: 0,
    judgments: itemIds.length * units * 2,
  });
  // Paid once: the simulator answered exactly one judge request per stored judgment.
  expect(sim.stats().byKind.judge_verdict).toBe(coverage.judgments);

  // The same run again requests nothing: every judgment is stored already.
  const again = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'sync-2'),
    taskQueue,
    args: [{ ...input, runId: 'sync-2' }],
  });
  expect(again).toMatchObject({ judged: itemIds.length, errors: 0 });
  expect(sim.stats().byKind.judge_verdict).toBe(coverage.judgments);
  const second = await judgingCoverage(database.db, {
    runKey: `${PROGRAM}/sync-2`,
    selection: { kind: 'all' },
    criteria,
    prompts,
    samples: 2,
    model: testConfig().llm.model,
  });
  expect(second).toMatchObject({ missing_verdicts: 0, duplicate_verdicts: 0 });
});

test('failing items get their fix loops as workflows of their own: started by the shard, never its children', async () => {
  const criteria = ['tone', 'clarity'];
  const result = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'fix-1'),
    taskQueue,
    args: [
      {
        programId: PROGRAM,
        runId: 'fix-1',
        mode: 'sync' as const,
        itemSelection: { kind: 'all' as const },
        criteria,
        prompts,
        samples: 1,
        fixLoop: true,
        maxFixAttempts: 1,
        shardSize: itemIds.length,
        batchSize: 5,
        maxConcurrentShards: 1,
      },
    ],
  });
  const shard = client.workflow.getHandle(productionShardWorkflowId(PROGRAM, 'fix-1', 1));
  const { fixLoopsStarted, failing } = (await shard.result()) as { fixLoopsStarted: number; failing: number };
  expect(result).toMatchObject({ judged: itemIds.length, errors: 0 });
  expect(failing).toBeGreaterThan(0);
  expect(fixLoopsStarted).toBe(failing);
  // Visibility is eventually consistent: list until every loop shows.
  const prefix = fixLoopWorkflowId(PROGRAM, '');
  let loops: WorkflowExecutionInfo[] = [];
  for (let tries = 0; tries < 50 && loops.length < failing; tries++) {
    if (tries) await new Promise((r) => setTimeout(r, 200));
    loops = [];
    for await (const loop of client.workflow.list({ query: `WorkflowType = 'fixLoopWorkflow'` }))
      if (loop.workflowId.startsWith(prefix)) loops.push(loop);
  }
  expect(loops).toHaveLength(failing);
  for (const loop of loops) {
    expect(loop.taskQueue).toBe(taskQueue);
    expect((await client.workflow.getHandle(loop.workflowId).describe()).parentExecution).toBeUndefined();
  }
  // No writer vendor here: the loops are ended, not left to fail.
  await Promise.all(
    loops.map((l) =>
      client.workflow
        .getHandle(l.workflowId)
        .terminate('test over')
        .catch(() => undefined),
    ),
  );
  await recordHistory(shard, 'productionShardWorkflow-detached-fix-loops');
});
