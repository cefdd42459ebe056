/**
 * The golden set under each of the spec's `golden` settings, run for real: the golden-set workflow
 * on the dev server, the simulated vendor rating through the signed gateway, Postgres, the LLM
 * simulator. What the stored golden items show: the method the spec names is the one used, and
 * adaptive redundancy stops at two ratings on items whose raters agree and escalates split items
 * up to the maximum, each rating from a new rater.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { and, eq, sql } from 'drizzle-orm';
import { createProgramActivities } from '../program/activities';
import { goldenLabels, labels, tasks, usageLedger } from '../schema/tables';
import { dawidSkene } from '../stats/index';
import { devServerClient, devServerWorker, recordHistory, uniqueTaskQueue } from '../test/harness';
import { createProgramWorld, type ProgramWorld } from '../test/program-fixture';
import { goldenSetWorkflow } from '../workflows/golden-set';
import { goldenSetWorkflowId, taskBatchId } from '../workflows/ids';

jest.setTimeout(300_000);
let client: Client;
let world: ProgramWorld;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  client = await devServerClient();
  world = await createProgramWorld(client, { searchAttributes: false });
  taskQueue = uniqueTaskQueue('golden-methods');
  ({ worker, connection } = await devServerWorker(taskQueue, world.deps));
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await world?.close();
  await client?.connection.close();
});

/** Registers a program with these golden settings and runs its golden set to the end. */
async function runGoldenSet(programId: string, golden: Record<string, unknown>, goldenSetSize = 24) {
  await world.register(programId, {
    golden,
    rounds: { pilotSize: 6, calibrationSize: 6, maxCalibrationRounds: 8, goldenSetSize, testShare: 0.5 },
  });
  const plan = await createProgramActivities(world.deps).loadProgramPlan(programId);
  const workflowId = goldenSetWorkflowId(programId);
  const handle = await client.workflow.start(goldenSetWorkflow, {
    workflowId,
    taskQueue,
    args: [{ plan, guidelineVersion: plan.guidelineVersion, workflowId }],
  });
  return { handle, result: await handle.result(), workflowId };
}

const storedGolden = (programId: string) =>
  world.database.db.select().from(goldenLabels).where(eq(goldenLabels.programId, programId));

/** Every golden-set rating of a program: item, criterion, rater, label and the batch it came in. */
const ratingsOf = (programId: string) =>
  world.database.db
    .select({
      itemId: labels.itemId,
      criterion: labels.criterion,
      rater: labels.raterId,
      label: labels.value,
      batchId: tasks.batchId,
    })
    .from(labels)
    .innerJoin(tasks, eq(tasks.id, labels.taskId))
    .where(and(eq(labels.programId, programId), eq(labels.phase, 'golden-set'), eq(tasks.kind, 'rate')));

const aggregateLedgerRows = async (programId: string) =>
  world.database.db.$count(usageLedger, and(eq(usageLedger.programId, programId), eq(usageLedger.kind, 'aggregate')));

test('adaptive redundancy: agreeing pairs stop at two ratings, split items get new raters up to the maximum', async () => {
  const golden = { aggregation: 'majority', redundancy: 'adaptive', maxRatingsPerItem: 4, minConfidence: 0.7 };
  const { handle, result, workflowId } = await runGoldenSet('golden-adaptive', golden, 40);
  await recordHistory(handle, 'goldenSetWorkflow-adaptive');
  const ratings = await ratingsOf('golden-adaptive');
  const firstWave = taskBatchId(workflowId, 'tasks-1');
  const byItem = new Map<string, typeof ratings>();
  for (const r of ratings) byItem.set(r.itemId, [...(byItem.get(r.itemId) ?? []), r]);
  expect(byItem.size).toBe(40);
  let agreed = 0;
  let escalated = 0;
  for (const [itemId, rs] of byItem) {
    const raters = new Set(rs.map((r) => r.rater));
    // Four criteria per rating; every rating from a different rater.
    expect(rs.length).toBe(raters.size * 4);
    const first = rs.filter((r) => r.batchId === firstWave);
    expect(new Set(first.map((r) => r.rater)).size).toBe(2);
    const split =
      new Set(first.map((r) => r.criterion)).size !== new Set(first.map((r) => `${r.criterion}:${r.label}`)).size;
    // Binary: a split pair stays below 0.7 at three ratings (2 of 3), so it reaches the maximum.
    if (split) escalated++;
    else agreed++;
    expect({ itemId, ratings: raters.size }).toEqual({ itemId, ratings: split ? 4 : 2 });
  }
  expect(agreed).toBeGreaterThan(0);
  expect(escalated).toBeGreaterThan(0);

  const stored = await storedGolden('golden-adaptive');
  expect(stored).toHaveLength(40 * 4);
  for (const g of stored) {
    const rs = byItem.get(g.itemId)!.filter((r) => r.criterion === g.criterion);
    const share = rs.filter((r) => r.label === g.label).length / rs.length;
    expect(g).toMatchObject({ method: 'majority', ratings: rs.length });
    if (!g.reviewed) expect(g).toMatchObject({ source: 'majority', confidence: share });
    // A 2–2 tie (0.5) is below the bar: a reviewer adjudicates it.
    if (share < 0.7 && !g.reviewed) expect(g.needsReview).toBe(true);
  }
  expect(result.sentToReview).toBe(new Set(stored.filter((g) => g.confidence! < 0.7).map((g) => g.itemId)).size);
  expect(await aggregateLedgerRows('golden-adaptive')).toBe(0);
  expect(result).toMatchObject({ method: 'majority', items: 40 });
  expect(result.ratingsPerLabel).toBeCloseTo(2 + (2 * escalated) / 40, 5);
});

test('dawid-skene: every golden label is the Dawid–Skene posterior of the stored ratings, and no LLM aggregates', async () => {
  const { handle, result } = await runGoldenSet('golden-ds', { aggregation: 'dawid-skene' });
  await recordHistory(handle, 'goldenSetWorkflow-dawid-skene');
  const ratings = await ratingsOf('golden-ds');
  const stored = await storedGolden('golden-ds');
  expect(stored).toHaveLength(24 * 4);
  for (const criterion of ['tone', 'clarity', 'precision', 'factuality']) {
    const fit = dawidSkene(
      ratings.filter((r) => r.criterion === criterion).map((r) => ({ item: r.itemId, rater: r.rater, label: r.label })),
    );
    for (const item of fit.items) {
      const g = stored.find((s) => s.itemId === item.item && s.criterion === criterion)!;
      expect(g).toMatchObject({ method: 'dawid-skene', ratings: 3 });
      if (g.reviewed) continue;
      expect(g).toMatchObject({ source: 'dawid_skene', label: item.label });
      expect(g.confidence).toBeCloseTo(item.confidence, 9);
    }
  }
  // Posteriors, not vote shares: a 2-of-3 majority would be exactly 2/3.
  expect(stored.some((g) => g.confidence !== 1 && Math.abs(g.confidence! - 2 / 3) > 1e-6)).toBe(true);
  expect(await aggregateLedgerRows('golden-ds')).toBe(0);
  expect(result.method).toBe('dawid-skene');
});

test('llm (the default): the model aggregates split items, each label records its method, vote share and ratings', async () => {
  const { result } = await runGoldenSet('golden-llm', {});
  const ratings = await ratingsOf('golden-llm');
  const stored = await storedGolden('golden-llm');
  expect(stored).toHaveLength(24 * 4);
  for (const g of stored.filter((s) => !s.reviewed)) {
    const rs = ratings.filter((r) => r.itemId === g.itemId && r.criterion === g.criterion);
    expect(g).toMatchObject({ method: 'llm', ratings: 3 });
    expect(g.confidence).toBeCloseTo(rs.filter((r) => r.label === g.label).length / 3, 9);
    expect(g.source).toBe(new Set(rs.map((r) => r.label)).size === 1 ? 'unanimous' : 'llm_aggregate');
  }
  const split = stored.filter((g) => g.source === 'llm_aggregate' || g.reviewed).length;
  expect(split).toBeGreaterThan(0);
  expect(await aggregateLedgerRows('golden-llm')).toBe(split);
  expect(result.method).toBe('llm');
  const [{ n }] = await world.database.db.execute<{ n: number }>(
    sql`select count(distinct batch_id)::int as n from ${tasks} where program_id = 'golden-llm' and kind = 'rate'`,
  );
  expect(n).toBe(1); // fixed redundancy: one batch, no waves
});
