/**
 * Prompt optimization on the simulator (time-skipping Temporal, real Postgres, simulator over HTTP):
 * it improves dev accuracy, reports held-out accuracy separately, and never touches the test split
 * for selection — the only prompt ever judged on test items is the one finally chosen.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createJudgingActivities } from '../judging/activities';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { goldenLabels, judgeEvaluations, judgePrompts, judgments, optimizationCandidates } from '../schema/tables';
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
import { promptOptimizationWorkflow } from './prompt-optimization';

const PROGRAM = 'apo-test';
let database: TestDatabase;
let sim: LlmSimulator;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('apo');
let prompts: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({ port: await freePort(), seed: 21, hintGain: 0.04 });
  await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 60, seed: 9 });
  const deps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: sim.url, LLM_CONCURRENCY: '32', LLM_RPM_LIMIT: '600000' }, database),
  );
  prompts = await createJudgingActivities(deps).ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
  env = await timeSkippingEnv();
  worker = await timeSkippingWorker(env, taskQueue, deps);
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await sim?.close();
  await database?.drop();
});

test('APO improves dev accuracy within its budget, selects on dev only, and evaluates the chosen prompt once on test', async () => {
  const input = {
    programId: PROGRAM,
    criterion: 'tone',
    basePromptHash: prompts.tone,
    maxLlmCalls: 1500,
    beamWidth: 2,
    steps: 3,
    samples: 1,
    minibatch: 20,
  };
  const handle = await env.client.workflow.start(promptOptimizationWorkflow, {
    workflowId: `apo-${taskQueue}`,
    taskQueue,
    args: [input],
  });
  const result = await handle.result();
  await recordHistory(handle, 'promptOptimizationWorkflow');
  console.log(
    JSON.stringify({
      before: result.devAccuracyBefore,
      after: result.devAccuracyAfter,
      test: result.testAccuracy,
      llmCalls: result.llmCalls,
      candidates: result.candidates,
      steps: result.stepsRun,
    }),
  );

  expect(result.devAccuracyAfter!).toBeGreaterThan(result.devAccuracyBefore! + 0.02);
  expect(result.bestPromptHash).not.toBe(prompts.tone);
  expect(result.llmCalls).toBeLessThanOrEqual(input.maxLlmCalls);
  expect(result.testAccuracy).toBe(result.test.accuracy);

  // Lineage: the winner descends from the base prompt through optimizer edits.
  const all = await database.db.select().from(judgePrompts).where(eq(judgePrompts.programId, PROGRAM));
  let cursor = all.find((p) => p.hash === result.bestPromptHash)!;
  expect(cursor.origin).toBe('optimizer');
  while (cursor.parentHash) cursor = all.find((p) => p.hash === cursor.parentHash)!;
  expect(cursor.hash).toBe(prompts.tone);

  // Every candidate and its dev score is stored; exactly one is selected.
  const runId = `apo-${taskQueue}`;
  const candidates = await database.db
    .select()
    .from(optimizationCandidates)
    .where(eq(optimizationCandidates.runId, runId));
  expect(candidates.length).toBe(result.candidates + 1);
  expect(candidates.filter((c) => c.selected).map((c) => c.promptHash)).toEqual([result.bestPromptHash]);
  expect(candidates.filter((c) => c.promptHash !== prompts.tone).every((c) => c.parentHash && c.critique)).toBe(true);

  // The held-out split was never used for selection: no candidate but the winner was judged on a test item.
  const testItems = (
    await database.db
      .select({ itemId: goldenLabels.itemId })
      .from(goldenLabels)
      .where(
        and(eq(goldenLabels.programId, PROGRAM), eq(goldenLabels.criterion, 'tone'), eq(goldenLabels.split, 'test')),
      )
  ).map((r) => r.itemId);
  const judgedOnTest = await database.db
    .selectDistinct({ promptHash: judgments.promptHash })
    .from(judgments)
    .where(inArray(judgments.itemId, testItems));
  expect(judgedOnTest.map((r) => r.promptHash)).toEqual([result.bestPromptHash]);
  const testEvaluations = await database.db.select().from(judgeEvaluations).where(eq(judgeEvaluations.split, 'test'));
  expect(testEvaluations.map((e) => e.promptHash)).toEqual([result.bestPromptHash]);
  const [{ n }] = await database.db
    .select({ n: sql<number>`count(distinct ${judgments.itemId})::int` })
    .from(judgments)
    .where(inArray(judgments.itemId, testItems));
  expect(n).toBe(testItems.length);
});

test('with no budget left for edits the base prompt is kept and still measured on test', async () => {
  const input = {
    programId: PROGRAM,
    criterion: 'clarity',
    basePromptHash: prompts.clarity,
    maxLlmCalls: 10,
    beamWidth: 2,
    steps: 3,
    samples: 1,
  };
  const result = await env.client.workflow.execute(promptOptimizationWorkflow, {
    workflowId: `apo-small-${taskQueue}`,
    taskQueue,
    args: [input],
  });
  expect(result).toMatchObject({ bestPromptHash: prompts.clarity, candidates: 0, stepsRun: 0 });
  expect(result.devAccuracyAfter).toBe(result.devAccuracyBefore);
  expect(result.testAccuracy).not.toBeNull();
});
