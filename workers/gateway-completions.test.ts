/**
 * The gateway's batched hot path against a real Postgres: completions queued together are stored
 * by one statement, each exactly once with its labels, charge and inbox row; a batch that hits an
 * already-used delivery id rolls back whole and is re-applied event by event, so the others still
 * land and the reused id changes nothing.
 */
import { eq, inArray } from 'drizzle-orm';
import postgres from 'postgres';
import { labels, taskBatches, tasks, usageLedger, vendorEvents } from '../schema/tables';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { applyCompletions, CompletionBatcher, type Completion } from './gateway-completions';

let database: TestDatabase;
const vendor = { id: 'vendor-a', rateCard: { rate: 0.5 } };
const criteria = ['tone', 'clarity'];

beforeAll(async () => {
  database = await createTestDatabase();
  const { itemIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 2,
    vendors: [{ id: 'vendor-a', secrets: [newSecret()], raters: ['r1'] }],
  });
  await database.db
    .insert(taskBatches)
    .values({ id: 'b1', programId: 'p1', phase: 'calibration', round: 1, kind: 'rate', guidelineVersion: 1 });
  await database.db.insert(tasks).values(
    Array.from({ length: 12 }, (_, i) => ({
      id: `t${i}`,
      batchId: 'b1',
      programId: 'p1',
      itemId: itemIds[i % 2],
      textHash: 'h',
      slot: i,
      vendorId: 'vendor-a',
      raterId: 'vendor-a:r1',
      kind: 'rate',
      guidelineVersion: 1,
      status: 'dispatched',
      payload: { criteria, context: {} },
    })),
  );
});

afterAll(async () => {
  await database?.drop();
});

const completion = (taskId: string, values = [1, 0], labelled = criteria): Completion => ({
  type: 'task.completed',
  taskId,
  raterId: 'r1',
  labels: labelled.map((criterion, i) => ({
    criterion,
    value: values[i] ?? 1,
    explanation: `why ${i}`,
    errorCodes: [],
  })),
});

test('one statement stores a batch: each task once, with labels, charge and inbox row; mismatches come back null', async () => {
  const out = await applyCompletions(database.sql, [
    { vendor, deliveryId: 'd0', event: completion('t0') },
    { vendor, deliveryId: 'd1', event: completion('t1', [0, 1]) },
    { vendor, deliveryId: 'd-missing', event: completion('no-such-task') },
    { vendor, deliveryId: 'd-wrong-criteria', event: completion('t2', [1], ['tone']) },
  ]);
  expect(out.map((o) => o && [o.status, o.batchId, o.body])).toEqual([
    [202, 'b1', { accepted: true, taskId: 't0', type: 'task.completed', labels: 2 }],
    [202, 'b1', { accepted: true, taskId: 't1', type: 'task.completed', labels: 2 }],
    null,
    null,
  ]);
  const stored = await database.db
    .select()
    .from(labels)
    .where(inArray(labels.taskId, ['t0', 't1', 't2']));
  expect(stored.map((l) => `${l.taskId}:${l.criterion}=${l.value}`).sort()).toEqual([
    't0:clarity=0',
    't0:tone=1',
    't1:clarity=1',
    't1:tone=0',
  ]);
  const rows = await database.db
    .select()
    .from(tasks)
    .where(inArray(tasks.id, ['t0', 't1', 't2']));
  expect(rows.map((t) => [t.id, t.status, t.costUsd]).sort()).toEqual([
    ['t0', 'completed', 0.5],
    ['t1', 'completed', 0.5],
    ['t2', 'dispatched', 0],
  ]);
  expect((await database.db.select().from(usageLedger)).map((l) => l.requestKey).sort()).toEqual(['t0', 't1']);
  const events = await database.db.select().from(vendorEvents).orderBy(vendorEvents.deliveryId);
  expect(events.map((e) => [e.deliveryId, e.taskId, e.disposition, e.responseStatus])).toEqual([
    ['d0', 't0', 'applied', 202],
    ['d1', 't1', 'applied', 202],
  ]);
  expect(out[0]!.eventId).toBe(events[0].id);

  // A repeat of a stored completion changes nothing and comes back null (the caller answers it).
  expect(await applyCompletions(database.sql, [{ vendor, deliveryId: 'd0', event: completion('t0') }])).toEqual([null]);
});

test('a used delivery id aborts its statement whole (division-by-zero guard)', async () => {
  await expect(
    applyCompletions(database.sql, [
      { vendor, deliveryId: 'd-fresh', event: completion('t3') },
      { vendor, deliveryId: 'd0', event: completion('t4') },
    ]),
  ).rejects.toMatchObject({ code: '22012' });
  const rows = await database.db
    .select()
    .from(tasks)
    .where(inArray(tasks.id, ['t3', 't4']));
  expect(rows.map((t) => t.status)).toEqual(['dispatched', 'dispatched']);
  expect(await database.db.select().from(vendorEvents).where(eq(vendorEvents.deliveryId, 'd-fresh'))).toEqual([]);
});

test('the batcher stores queued requests together, splits a batch that hits a used delivery id, and keeps one event per task per statement', async () => {
  let statements = 0;
  const counted = postgres(database.url, {
    max: 2,
    fetch_types: false,
    onnotice: () => undefined,
    debug: () => statements++,
  });
  const batcher = new CompletionBatcher(counted, { maxConcurrent: 1, maxBatch: 100 });
  const results = await Promise.all([
    batcher.apply(vendor, 'e3', completion('t3')), // runs alone: nothing was queued yet
    batcher.apply(vendor, 'e5', completion('t5')), // these queue behind it and go together
    batcher.apply(vendor, 'e6', completion('t6')),
    batcher.apply(vendor, 'e7', completion('t7')),
    batcher.apply(vendor, 'e7-again', completion('t7')), // same task: waits for a later statement
  ]);
  // The running programs' label rules (read once a minute), t3 alone, then t5-t7 in one statement,
  // then the second t7 answer alone.
  expect(statements).toBe(4);
  expect(results.map((r) => r?.status ?? null)).toEqual([202, 202, 202, 202, null]);

  const split = await Promise.all([
    batcher.apply(vendor, 'e8', completion('t8')),
    batcher.apply(vendor, 'e9', completion('t9')),
    batcher.apply(vendor, 'd1', completion('t10')), // d1 is t1's delivery id: the guard fires
    batcher.apply(vendor, 'e11', completion('t11')),
  ]);
  expect(split.map((r) => r?.status ?? null)).toEqual([202, 202, null, 202]);
  const rows = await database.db
    .select()
    .from(tasks)
    .where(inArray(tasks.id, ['t5', 't6', 't7', 't8', 't9', 't10', 't11']));
  expect(Object.fromEntries(rows.map((t) => [t.id, t.status]))).toEqual({
    t5: 'completed',
    t6: 'completed',
    t7: 'completed',
    t8: 'completed',
    t9: 'completed',
    t10: 'dispatched',
    t11: 'completed',
  });
  const events = await database.db.select().from(vendorEvents).where(eq(vendorEvents.taskId, 't7'));
  expect(events.map((e) => e.deliveryId)).toEqual(['e7']);
  expect((await database.db.select().from(labels).where(eq(labels.taskId, 't10'))).length).toBe(0);
  await counted.end();
});

test('a completion repeating a criterion is left to the general path without a statement', async () => {
  const batcher = new CompletionBatcher(database.sql, { maxConcurrent: 1, maxBatch: 100 });
  expect(await batcher.apply(vendor, 'rep', completion('t2', [1, 1], ['tone', 'tone']))).toBeNull();
});

test('a rate card the price rule refuses fails only its own events: the batch is re-applied event by event', async () => {
  await database.db.insert(tasks).values(
    ['t12', 't13', 't14'].map((id, i) => ({
      id,
      batchId: 'b1',
      programId: 'p1',
      itemId: 'p1-item-0',
      textHash: 'h',
      slot: 12 + i,
      vendorId: 'vendor-a',
      raterId: 'vendor-a:r1',
      kind: 'rate',
      guidelineVersion: 1,
      status: 'dispatched',
      payload: { criteria, context: {} },
    })),
  );
  const broken = { id: 'vendor-a', rateCard: { rate: 'half' } as unknown as Record<string, number> };
  const batcher = new CompletionBatcher(database.sql, { maxConcurrent: 1, maxBatch: 100 });
  const [first, ...rest] = [
    batcher.apply(vendor, 'f12', completion('t12')), // runs alone; the others queue behind it and go together
    batcher.apply(vendor, 'f13', completion('t13')),
    batcher.apply(broken, 'f14', completion('t14')),
  ].map((p) =>
    p.then(
      (r) => r?.status ?? null,
      (err: { code?: string; message?: string }) => ({ code: err.code, message: err.message }),
    ),
  );
  expect([await first, ...(await Promise.all(rest))]).toEqual([
    202,
    202,
    { code: '22023', message: 'rate card price "rate" must be a non-negative JSON number, not "half"' },
  ]);
  const rows = await database.db
    .select()
    .from(tasks)
    .where(inArray(tasks.id, ['t12', 't13', 't14']));
  expect(Object.fromEntries(rows.map((t) => [t.id, [t.status, t.costUsd]]))).toEqual({
    t12: ['completed', 0.5],
    t13: ['completed', 0.5],
    t14: ['dispatched', 0],
  });
});
