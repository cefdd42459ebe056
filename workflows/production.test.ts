import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { fixCycles, items, programs, shows } from '../schema/tables';
import { textHash } from '../catalog/text-hash';
import { fixLoopWorkflow, prelaunchWorkflow, productionShardWorkflow, productionWorkflow } from '.';
import { catalogChangedSignal, prelaunchStatusQuery } from './prelaunch';
import { productionStatusQuery } from './production';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  recordHistory,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';

let database: TestDatabase;
let client: Client;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('production');

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(programs).values({ id: 'p1', name: 'p1', spec: minimalSpec, budgetUsd: 100 });
  await database.db.insert(shows).values({ id: 's1', title: 'Show', metadata: {} });
  await database.db.insert(items).values({ id: 'i1', showId: 's1', text: 'Text.', textHash: textHash('Text.') });
  client = await devServerClient();
  ({ worker, connection } = await devServerWorker(taskQueue, testDeps(database)));
  running = worker.run();
});
afterAll(async () => {
  worker.shutdown();
  await running;
  await connection.close();
  await client.connection.close();
  await database.drop();
});

// What loadProgramPlan reads from a registered spec.
const minimalSpec = {
  criteria: [{ id: 'tone' }],
  guidelines: { version: 1 },
  rounds: {},
  raters: {},
  targets: {},
  judges: { samples: 3 },
  sla: { remindAfter: '1d', reassignAfter: '2d', deadline: '7d' },
  gates: { policy: 'manual', autoAfter: '1d' },
  vendors: [],
  production: { mode: 'sync', fixLoop: true, maxFixAttempts: 2 },
};

const base = {
  programId: 'p1',
  criteria: ['tone'],
  prompts: { tone: 'h' },
  samples: 1,
  fixLoop: true,
  maxFixAttempts: 2,
};

test('a run over a selection with no items completes at once and records the run', async () => {
  const handle = await client.workflow.start(productionWorkflow, {
    workflowId: 'program/p1/production/empty',
    taskQueue,
    args: [
      {
        ...base,
        runId: 'empty',
        mode: 'sync',
        itemSelection: { kind: 'changedSince', since: '2999-01-01T00:00:00.000Z' },
      },
    ],
  });
  const result = await handle.result();
  expect(result).toMatchObject({ runKey: 'p1/empty', total: 0, judged: 0, failing: 0, shardsDone: 0, done: true });
  expect(await handle.query(productionStatusQuery)).toEqual(result);
  const [row] =
    await database.sql`select status, total_items, judged_items, finished_at is not null as finished from production_runs where id = 'p1/empty'`;
  expect(row).toEqual({ status: 'completed', total_items: 0, judged_items: 0, finished: true });
  await recordHistory(handle, 'productionWorkflow');
});

test('a shard whose range holds no selected item judges nothing', async () => {
  const handle = await client.workflow.start(productionShardWorkflow, {
    workflowId: 'program/p1/production/empty/shard-1',
    taskQueue,
    args: [
      {
        ...base,
        runKey: 'p1/empty',
        mode: 'sync',
        selection: { kind: 'items', itemIds: ['i1'] },
        range: { after: 'i1', through: 'i9', count: 0 },
        batchSize: 10,
        shard: 1,
      },
    ],
  });
  expect(await handle.result()).toEqual({ judged: 0, errors: 0, failing: 0, fixLoopsStarted: 0 });
  await recordHistory(handle, 'productionShardWorkflow');
});

test('a fix loop for a failure already handled (closed cycle) sends nothing to writers', async () => {
  await database.db.insert(fixCycles).values({
    id: 'c1',
    programId: 'p1',
    itemId: 'i1',
    openedForHash: textHash('Text.'),
    status: 'passed',
    attempts: 1,
    failingCriteria: ['tone'],
  });
  // openFixCycle derives the id from program, item and hash; the closed row it finds is this one.
  await database.sql`update fix_cycles set id = ${`p1/i1/${textHash('Text.').slice(0, 16)}`} where id = 'c1'`;
  const handle = await client.workflow.start(fixLoopWorkflow, {
    workflowId: 'program/p1/fix/i1',
    taskQueue,
    args: [{ ...base, itemId: 'i1', runKey: 'p1/empty', failingCriteria: ['tone'], maxAttempts: 2 }],
  });
  expect(await handle.result()).toEqual({
    cycleId: `p1/i1/${textHash('Text.').slice(0, 16)}`,
    outcome: 'already-closed',
    attempts: 1,
    stillFailing: [],
  });
  const [{ n }] = await database.sql<{ n: number }[]>`select count(*)::int as n from task_batches`;
  expect(n).toBe(0);
  await recordHistory(handle, 'fixLoopWorkflow');
});

test('pre-launch detection dedupes import signals and waits for active judges before judging', async () => {
  const handle = await client.workflow.signalWithStart(prelaunchWorkflow, {
    workflowId: 'program/p1/prelaunch',
    taskQueue,
    args: [{ programId: 'p1' }],
    signal: catalogChangedSignal,
    signalArgs: [{ importId: 'imp-1', since: '2026-01-01T00:00:00.000Z' }],
  });
  await handle.signal(catalogChangedSignal, { importId: 'imp-1', since: '2026-01-01T00:00:00.000Z' });
  let status = await handle.query(prelaunchStatusQuery);
  for (let i = 0; i < 100 && !status.skipped; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await handle.query(prelaunchStatusQuery);
  }
  expect(status).toMatchObject({ applied: ['imp-1'], runs: 0, pendingSince: null });
  expect(status.skipped).toMatch(/no active judge for tone/);
  await recordHistory(handle, 'prelaunchWorkflow');
  await handle.terminate('test over');
});
