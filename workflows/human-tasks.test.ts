/**
 * The human-task workflow end to end on the real stack: Temporal dev server, Postgres, the
 * gateway, and the simulated vendor reached through the generic HTTP adapter (signed both ways,
 * with duplicate deliveries). Also cancellation, rater QA on gold items, and a qualification batch
 * failed in one locale, which costs the rater that locale's work only.
 */
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { and, eq, gt } from 'drizzle-orm';
import { programSpend, vendorReport } from '../human-tasks/accounting';
import { createLogger } from '../platform/logger';
import { textHash } from '../catalog/text-hash';
import { showSchema } from '../schema/catalog';
import { goldAnswers, items, labels, programs, raterQualifications, raters, shows, tasks } from '../schema/tables';
import { assessSynopsis } from '../scripts/sim/model/assess';
import { Rng } from '../scripts/sim/model/rng';
import { generateShow, writeSynopsis } from '../scripts/sim/model/world';
import { buildVendorSim, type VendorSim } from '../scripts/sim/vendor/server';
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
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { buildGateway, type Gateway } from '../workers/gateway';
import { humanTasksStatusQuery, humanTasksWorkflow, type HumanTasksInput } from './human-tasks';

let database: TestDatabase;
let client: Client;
let gateway: Gateway;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
const sims: VendorSim[] = [];
const taskQueue = uniqueTaskQueue('human-tasks');
const logger = createLogger('test', 'silent');
const criteria = ['tone', 'clarity', 'precision', 'factuality'];

async function startSim(vendorId: string, overrides: Partial<Parameters<typeof buildVendorSim>[0]> = {}) {
  const secret = newSecret();
  const sim = buildVendorSim({
    vendorId,
    secret,
    gatewayUrl: `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`,
    latencyMs: 5,
    duplicateRate: 0.5,
    noShowRate: 0,
    declineRate: 0,
    seed: 3,
    raters: 6,
    carelessShare: 0.2,
    driftingShare: 0.2,
    guidelineGain: 0.05,
    fixProbability: 1,
    logger,
    ...overrides,
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  sims.push(sim);
  return { sim, secret, endpoint: `http://127.0.0.1:${(sim.app.server.address() as AddressInfo).port}/v1/tasks` };
}

const sla = { remindAfterMs: 60_000, reassignAfterMs: 120_000, deadlineMs: 600_000 };
const input = (
  over: Partial<HumanTasksInput> & Pick<HumanTasksInput, 'batchId' | 'programId' | 'itemIds' | 'vendorIds'>,
): HumanTasksInput => ({
  phase: 'calibration',
  round: 1,
  kind: 'rate',
  ratersPerItem: 3,
  criteria,
  guidelineVersion: 1,
  goldRate: 0,
  sla,
  ...over,
});

beforeAll(async () => {
  database = await createTestDatabase();
  client = await devServerClient();
  gateway = await buildGateway({ db: database.db, config: testConfig({}, database), logger, client });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  ({ worker, connection } = await devServerWorker(taskQueue, testDeps(database)));
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  for (const sim of sims) await sim.app.close();
  await gateway?.app.close();
  await client?.connection.close();
  await database?.drop();
});

test('a batch is rated by k distinct simulated raters through the signed gateway, duplicates and all', async () => {
  const { sim, secret, endpoint } = await startSim('sim-a');
  const { itemIds, goldIds } = await seedWorld(database.db, {
    programId: 'prog-a',
    items: 12,
    gold: 2,
    criteria,
    vendors: [{ id: 'sim-a', endpoint, secrets: [secret], rateCard: { rate: 0.5, review: 1, write: 5 } }],
  });
  const batchId = 'program/prog-a/calibration/1/tasks';
  const handle = await client.workflow.start(humanTasksWorkflow, {
    workflowId: batchId,
    taskQueue,
    args: [input({ batchId, programId: 'prog-a', itemIds, vendorIds: ['sim-a'], goldRate: 0.2 })],
  });
  const result = await handle.result();
  const totalTasks = (itemIds.length + goldIds.length) * 3;
  expect(result).toEqual({
    batchId,
    tasksCompleted: totalTasks,
    tasksReassigned: 0,
    tasksExpired: 0,
    labelsRecorded: totalTasks * criteria.length,
    itemsComplete: itemIds.length,
    itemsIncomplete: 0,
    pausedRaters: [],
    cancelled: false,
    costUsd: totalTasks * 0.5,
  });
  expect(sim.stats.duplicatesSent).toBeGreaterThan(5);
  // Never the same rater twice on an item; load balanced across the pool of 6.
  const rows = await database.db.select().from(tasks).where(eq(tasks.batchId, batchId));
  for (const itemId of [...itemIds, ...goldIds])
    expect(new Set(rows.filter((t) => t.itemId === itemId).map((t) => t.raterId)).size).toBe(3);
  const perRater = new Map<string, number>();
  for (const t of rows) perRater.set(t.raterId!, (perRater.get(t.raterId!) ?? 0) + 1);
  const load = [...perRater.values()];
  expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(1);
  expect(
    rows
      .filter((t) => t.isGold)
      .map((t) => t.itemId)
      .sort(),
  ).toEqual([...goldIds, ...goldIds, ...goldIds].sort());
  // Exactly one label per task × criterion even though half the events were delivered twice.
  expect((await database.db.select().from(labels).where(eq(labels.programId, 'prog-a'))).length).toBe(
    totalTasks * criteria.length,
  );
  expect(await programSpend(database.db, 'prog-a')).toEqual({
    humanUsd: totalTasks * 0.5,
    llmUsd: 0,
    totalUsd: totalTasks * 0.5,
  });
  const [report] = await vendorReport(database.db, 'prog-a');
  expect(report).toMatchObject({
    vendorId: 'sim-a',
    tasks: totalTasks,
    completed: totalTasks,
    slaHitRate: 1,
    costUsd: totalTasks * 0.5,
  });
  expect(report.turnaroundP95Ms).toBeGreaterThanOrEqual(report.turnaroundP50Ms!);
  await recordHistory(handle, 'humanTasksWorkflow');
});

test('cancelling a batch withdraws its open tasks at the vendor and keeps what was recorded', async () => {
  const { sim, secret, endpoint } = await startSim('sim-slow', { latencyMs: 600_000, duplicateRate: 0 });
  const { itemIds } = await seedWorld(database.db, {
    programId: 'prog-c',
    items: 4,
    vendors: [{ id: 'sim-slow', endpoint, secrets: [secret] }],
  });
  const batchId = 'program/prog-c/pilot/tasks';
  const handle = await client.workflow.start(humanTasksWorkflow, {
    workflowId: batchId,
    taskQueue,
    args: [input({ batchId, programId: 'prog-c', itemIds, vendorIds: ['sim-slow'], ratersPerItem: 2 })],
  });
  await waitFor(async () => (await handle.query(humanTasksStatusQuery)).counts.open === 8 && sim.stats.received === 8);
  await handle.cancel();
  const result = await handle.result();
  expect(result).toMatchObject({ cancelled: true, tasksCompleted: 0, itemsIncomplete: 4 });
  expect(sim.stats.cancelled).toBe(8);
  const statuses = (await database.db.select().from(tasks).where(eq(tasks.batchId, batchId))).map((t) => t.status);
  expect(statuses).toEqual(Array(8).fill('cancelled'));
});

test('raters below the gold accuracy bar are paused and get no further tasks', async () => {
  const { secret, endpoint } = await startSim('sim-qa', { carelessShare: 0.5, latencyMs: 20, raters: 6 });
  const { itemIds, goldIds } = await seedWorld(database.db, {
    programId: 'prog-q',
    items: 30,
    gold: 10,
    criteria,
    vendors: [{ id: 'sim-qa', endpoint, secrets: [secret] }],
  });
  // Few gold answers per rater in a batch this small: QA may act from the fourth.
  await database.db
    .update(programs)
    .set({ spec: { raters: { minGoldAnswers: 4 } } })
    .where(eq(programs.id, 'prog-q'));
  const batchId = 'program/prog-q/calibration/1/tasks';
  const result = await client.workflow.execute(humanTasksWorkflow, {
    workflowId: batchId,
    taskQueue,
    args: [
      input({
        batchId,
        programId: 'prog-q',
        itemIds,
        vendorIds: ['sim-qa'],
        ratersPerItem: 2,
        goldRate: goldIds.length / itemIds.length,
        minGoldAccuracy: 0.9,
      }),
    ],
  });
  expect(result.pausedRaters.length).toBeGreaterThan(0);
  for (const id of result.pausedRaters) {
    const [rater] = await database.db.select().from(raters).where(eq(raters.id, id));
    expect(rater.status).toBe('paused');
    expect(rater.pausedReason).toMatch(
      /gold accuracy .* \(95% CI .*\) over \d+ gold answers: the upper bound is below 90\.0%/,
    );
    // Replacement tasks never go to a paused rater.
    expect(
      await database.db
        .select()
        .from(tasks)
        .where(and(eq(tasks.raterId, id), eq(tasks.batchId, batchId), gt(tasks.attempt, 0))),
    ).toEqual([]);
  }
  expect(result.tasksCompleted).toBeGreaterThan(0);
});

test("a rater who fails one locale's qualification loses that locale's work only, and is not paused", async () => {
  const { sim, secret, endpoint } = await startSim('sim-ql', {
    raters: 6,
    carelessShare: 0,
    driftingShare: 0,
    duplicateRate: 0,
    locales: ['en-US', 'es-ES'],
  });
  // Everyone answers nearly always right, except sim-rater-03 (en-US native, also es-ES) in es-ES: chance.
  for (const r of sim.raters) Object.assign(r, { sensitivity: 0.98, specificity: 0.98 });
  const bilingual = sim.raters.find((r) => r.id === 'sim-rater-03')!;
  expect(Object.keys(bilingual.locales!).sort()).toEqual(['en-US', 'es-ES']);
  bilingual.locales!['es-ES'] = -1;
  const { itemIds: english } = await seedWorld(database.db, {
    programId: 'prog-ql',
    items: 12,
    vendors: [{ id: 'sim-ql', endpoint, secrets: [secret] }],
  });
  const spanish: string[] = [];
  for (let i = 0; i < 12; i++) {
    const { id, title, locale, ...metadata } = generateShow(11, i, 'es-ES');
    await database.db.insert(shows).values({ id, title, locale, metadata }).onConflictDoNothing();
    const text = writeSynopsis(generateShow(11, i, 'es-ES'), Rng.for('fixture', 11, i)).text;
    await database.db
      .insert(items)
      .values({ id: `prog-ql-es-${i}`, showId: id, locale, text, textHash: textHash(text) });
    spanish.push(`prog-ql-es-${i}`);
  }
  // Gold in each locale: the last six items, answered as the simulated world's truth has them.
  const truth = async (itemId: string) => {
    const [item] = await database.db.select().from(items).where(eq(items.id, itemId));
    const [show] = await database.db.select().from(shows).where(eq(shows.id, item.showId));
    const record = showSchema.parse({
      ...(show.metadata as object),
      id: show.id,
      title: show.title,
      locale: show.locale,
    });
    return assessSynopsis(record, item.text).criteria.tone;
  };
  for (const itemId of [...english.slice(6), ...spanish.slice(6)])
    await database.db
      .insert(goldAnswers)
      .values({ programId: 'prog-ql', itemId, criterion: 'tone', label: await truth(itemId) });
  await database.db
    .update(programs)
    .set({
      spec: {
        locales: [{ code: 'en-US' }, { code: 'es-ES' }],
        raters: { qualification: { items: 6, minAccuracy: 0.8 } },
      },
    })
    .where(eq(programs.id, 'prog-ql'));
  const itemIds = [...english.slice(0, 6), ...spanish.slice(0, 6)];
  const batchId = 'program/prog-ql/calibration/1/tasks';
  const handle = await client.workflow.start(humanTasksWorkflow, {
    workflowId: batchId,
    taskQueue,
    args: [
      input({
        batchId,
        programId: 'prog-ql',
        itemIds,
        vendorIds: ['sim-ql'],
        ratersPerItem: 2,
        criteria: ['tone'],
        minGoldAccuracy: 0,
        sla: { ...sla, remindAfterMs: 300_000, reassignAfterMs: 600_000 },
      }),
    ],
  });
  const result = await handle.result();
  const rater = 'sim-ql:sim-rater-03';
  const qualifications = await database.db
    .select()
    .from(raterQualifications)
    .where(eq(raterQualifications.programId, 'prog-ql'));
  expect(
    qualifications
      .filter((q) => q.raterId === rater)
      .map((q) => [q.locale, q.status])
      .sort(),
  ).toEqual([
    ['en-US', 'passed'],
    ['es-ES', 'failed'],
  ]);
  // Nobody is paused: a failed locale costs its work only.
  expect(result.pausedRaters).toEqual([]);
  expect((await database.db.select().from(raters).where(eq(raters.id, rater)))[0].status).toBe('active');
  const status = new Map(qualifications.map((q) => [`${q.raterId} ${q.locale}`, q.status]));
  const localeOf = (itemId: string) => (spanish.includes(itemId) ? 'es-ES' : 'en-US');
  const rows = await database.db.select().from(tasks).where(eq(tasks.batchId, batchId));
  const work = rows.filter((t) => t.attempt === 0 && !(t.payload as { qualification?: boolean }).qualification);
  const failed = work.filter((t) => status.get(`${t.raterId} ${localeOf(t.itemId)}`) === 'failed');
  expect(failed.filter((t) => t.raterId === rater).map((t) => localeOf(t.itemId))).toContain('es-ES');
  // Work in a locale its rater failed was never sent and went to a rater who passed that locale;
  // all other work, the same raters' included, was theirs to the end.
  for (const t of failed) {
    expect([t.status, t.dispatchedAt]).toEqual(['reassigned', null]);
    const next = rows.find((r) => r.itemId === t.itemId && r.slot === t.slot && r.attempt === 1)!;
    expect([next.status, status.get(`${next.raterId} ${localeOf(t.itemId)}`)]).toEqual(['completed', 'passed']);
  }
  const kept = work.filter((t) => !failed.includes(t));
  expect(kept.filter((t) => t.raterId === rater && localeOf(t.itemId) === 'en-US').length).toBeGreaterThan(0);
  expect(kept.map((t) => t.status)).toEqual(kept.map(() => 'completed'));
  expect(result).toMatchObject({ tasksReassigned: failed.length, itemsComplete: itemIds.length });
  await recordHistory(handle, 'humanTasksWorkflow-qualification-locales');
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
