/**
 * Task assignment activities against real Postgres and a vendor reached over HTTP: qualification
 * is respected, an item never gets the same rater twice, retries change nothing, and reassignment
 * never goes back to a rater who had the item.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { verifySignature } from '../vendors/signing';
import { raters, tasks } from '../schema/tables';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { unpackOpenedBatch } from './ids';
import { createHumanTaskActivities, type OpenBatchInput } from './activities';

let database: TestDatabase;
let server: http.Server;
const secret = newSecret();
const received: { url: string; body: string }[] = [];
let acts: ReturnType<typeof createHumanTaskActivities>;
let itemIds: string[];

const pool = [
  { id: 'r1', qualification: { kinds: ['rate'] } },
  { id: 'r2', qualification: { locales: ['fr-FR'] } },
  { id: 'r3', qualification: { criteria: ['tone'] } },
  { id: 'r4', qualification: {} },
  { id: 'r5', qualification: { kinds: ['rate', 'review'], criteria: ['tone', 'clarity'] } },
  { id: 'r6', qualification: { kinds: ['write'] } },
];

beforeAll(async () => {
  database = await createTestDatabase();
  // A vendor endpoint that checks judgeflow's signature like a real one must.
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        verifySignature([secret], body, req.headers as Record<string, string>, 300);
      } catch {
        return res.writeHead(401).end();
      }
      received.push({ url: req.url!, body });
      if (req.url === '/v1/tasks/raters')
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ raters: pool }));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/tasks`;
  ({ itemIds } = await seedWorld(database.db, {
    programId: 'p',
    items: 6,
    vendors: [{ id: 'v', endpoint, secrets: [secret] }],
  }));
  acts = createHumanTaskActivities(testDeps(database));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await database?.drop();
});

/** Opens a batch and unpacks its tasks as the workflow does. */
const open = async (input: OpenBatchInput) => {
  const opened = await acts.openTaskBatch(input);
  return { ...opened, tasks: unpackOpenedBatch(input.batchId, input.itemIds, opened) };
};

const batch = (over: Partial<OpenBatchInput> = {}): OpenBatchInput => ({
  batchId: 'b1',
  programId: 'p',
  phase: 'pilot',
  kind: 'rate',
  itemIds,
  ratersPerItem: 2,
  criteria: ['tone', 'clarity'],
  vendorIds: ['v'],
  guidelineVersion: 1,
  goldRate: 0,
  ...over,
});

test('only qualified raters are assigned, each item to distinct raters, load balanced; a retry returns the same tasks', async () => {
  const opened = await open(batch());
  // r2 (fr-FR only), r3 (tone only) and r6 (write only) do not qualify for en-US rate tasks on tone+clarity.
  expect(new Set(opened.tasks.map((t) => t.raterId))).toEqual(new Set(['v:r1', 'v:r4', 'v:r5']));
  expect(opened.tasks).toHaveLength(12);
  for (const id of itemIds)
    expect(new Set(opened.tasks.filter((t) => t.itemId === id).map((t) => t.raterId)).size).toBe(2);
  const load = ['v:r1', 'v:r4', 'v:r5'].map((r) => opened.tasks.filter((t) => t.raterId === r).length);
  expect(load).toEqual([4, 4, 4]);
  expect((await database.db.select().from(raters)).length).toBe(pool.length);
  const again = await open(batch());
  expect(new Set(again.tasks.map((t) => t.id))).toEqual(new Set(opened.tasks.map((t) => t.id)));
  expect((await database.db.select().from(tasks).where(eq(tasks.batchId, 'b1'))).length).toBe(12);
});

// Later batches are other rounds: within one phase and round an item's raters never repeat across batches.
test('slots without a qualified rater are reported, not filled twice', async () => {
  const opened = await open(batch({ batchId: 'b2', round: 2, ratersPerItem: 4, itemIds: itemIds.slice(0, 2) }));
  expect(opened.unassignedSlots).toBe(2);
  expect(opened.tasks).toHaveLength(6);
});

test('dispatch sends what a rater needs, signed; reassignment never returns to a rater who had the item; a retry returns the same replacement', async () => {
  const opened = await open(batch({ batchId: 'b3', round: 3, itemIds: itemIds.slice(0, 1), ratersPerItem: 1 }));
  received.length = 0;
  await acts.dispatchTasks({ taskIds: opened.tasks.map((t) => t.id), guidelineVersion: 2, dueInMs: 60_000 });
  const sent = JSON.parse(received.find((r) => r.url === '/v1/tasks')!.body).tasks[0];
  expect(sent).toMatchObject({
    taskId: opened.tasks[0].id,
    kind: 'rate',
    criteria: ['tone', 'clarity'],
    guidelineVersion: 2,
    raterId: opened.tasks[0].raterId.split(':')[1],
  });
  expect(sent.item.text.length).toBeGreaterThan(20);
  expect(typeof sent.show.title).toBe('string');

  const first = await acts.reassignTasks({
    batchId: 'b3',
    taskIds: [opened.tasks[0].id],
    vendorIds: ['v'],
    reason: 'test',
  });
  expect(first.replacements).toHaveLength(1);
  expect(first.replacements[0].raterId).not.toBe(opened.tasks[0].raterId);
  expect(received.some((r) => r.url === '/v1/tasks/cancel' && r.body.includes(opened.tasks[0].id))).toBe(true);
  const retry = await acts.reassignTasks({
    batchId: 'b3',
    taskIds: [opened.tasks[0].id],
    vendorIds: ['v'],
    reason: 'test',
  });
  expect(retry.replacements).toEqual(first.replacements);
  // Keep reassigning: the three qualified raters are used once each, then the slot is given up.
  const second = await acts.reassignTasks({
    batchId: 'b3',
    taskIds: [first.replacements[0].id],
    vendorIds: ['v'],
    reason: 'test',
  });
  const third = await acts.reassignTasks({
    batchId: 'b3',
    taskIds: [second.replacements[0].id],
    vendorIds: ['v'],
    reason: 'test',
  });
  expect(new Set([opened.tasks[0].raterId, first.replacements[0].raterId, second.replacements[0].raterId]).size).toBe(
    3,
  );
  expect(third).toEqual({ replacements: [], dropped: [second.replacements[0].id], completedMeanwhile: [] });
});

test('more batches open at once than the pool has connections, and each finishes: none waits for a second connection', async () => {
  // A program's fix loops open a write batch each, all at once; the test pool has 10 connections.
  const opening = Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      acts.openTaskBatch(
        batch({ batchId: `many-${i}`, phase: 'calibration', round: 100 + i, itemIds: itemIds.slice(0, 2) }),
      ),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error('12 batches did not open in 30 s: a transaction waits for a connection the others hold')),
      30_000,
    );
  });
  const opened = await Promise.race([opening, stuck]).finally(() => clearTimeout(timer));
  expect(opened.map((o) => unpackOpenedBatch('x', itemIds.slice(0, 2), o).length)).toEqual(Array(12).fill(4));
}, 60_000);
