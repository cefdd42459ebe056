/**
 * The polling fallback for Label Studio, whose webhooks are never retried: the gateway polls the
 * project (a server answering with what a real Label Studio 1.23.2 returned, recorded by
 * scripts/label-studio-check.ts) and stores what it finds through the same inbox as the webhooks.
 * An annotation that arrived both ways is one event; one whose webhook was lost still arrives.
 */
import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { createLogger } from '../platform/logger';
import { labels, taskBatches, tasks, vendorEvents } from '../schema/tables';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { buildGateway, type Gateway } from './gateway';

const recorded = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../test/fixtures/label-studio/recorded.json'), 'utf8'),
);
const token = 'static-token';

let database: TestDatabase;
let gateway: Gateway;
let studio: http.Server;
let base: string;
let studioDown = false;
const listed: string[] = [];

beforeAll(async () => {
  studio = http.createServer((req, res) => {
    // The webhooks' annotations as Label Studio holds them (the gateway confirms each webhook).
    const annotation = /^\/api\/annotations\/(\d+)\/$/.exec(req.url!);
    if (annotation) {
      const held = [recorded.annotation, recorded.skippedAnnotation].find((a) => a.id === Number(annotation[1]));
      return res.writeHead(held ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(held ?? {}));
    }
    listed.push(req.url!);
    const query = new URL(req.url!, 'http://x').searchParams;
    if (studioDown) return res.writeHead(503).end('{"detail":"down"}');
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(query.has('query') ? recorded.pollSinceResponse : recorded.pollAllResponse));
  });
  await new Promise<void>((r) => studio.listen(0, '127.0.0.1', r));
  database = await createTestDatabase();
  const { itemIds } = await seedWorld(database.db, {
    programId: 'check',
    items: 3,
    vendors: [
      {
        id: 'studio',
        kind: 'label-studio',
        endpoint: `http://127.0.0.1:${(studio.address() as AddressInfo).port}`,
        secrets: [token],
        raters: ['1'],
        config: { projectId: recorded.project.id, apiToken: 'tok' },
      },
      // Open tasks at a vendor whose adapter cannot poll: skipped without a request.
      { id: 'plain', secrets: [newSecret()], raters: ['r1'] },
    ],
  });
  await database.db.insert(taskBatches).values({
    id: 'check-batch',
    programId: 'check',
    phase: 'golden-set',
    round: 0,
    kind: 'rate',
    guidelineVersion: 1,
  });
  // The task ids the recorded project carries in data.judgeflow_task_id.
  await database.db.insert(tasks).values(
    [1, 2, 3].map((i) => ({
      id: `check-batch:item-${i}:0:0`,
      batchId: 'check-batch',
      programId: 'check',
      itemId: itemIds[i - 1],
      textHash: 'h',
      slot: 0,
      vendorId: 'studio',
      raterId: 'studio:1',
      kind: 'rate',
      guidelineVersion: 1,
      status: 'dispatched',
      payload: { criteria: ['tone', 'clarity'], context: {} },
    })),
  );
  await database.db.insert(tasks).values({
    id: 'plain-task',
    batchId: 'check-batch',
    programId: 'check',
    itemId: itemIds[0],
    textHash: 'h',
    slot: 1,
    vendorId: 'plain',
    raterId: 'plain:r1',
    kind: 'rate',
    guidelineVersion: 1,
    status: 'dispatched',
    payload: { criteria: ['tone'], context: {} },
  });
  gateway = await buildGateway({
    db: database.db,
    config: testConfig({}, database),
    logger: createLogger('test', 'silent'),
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await new Promise<void>((r) => (studio ? studio.close(() => r()) : r()));
  await database?.drop();
});

const webhook = (i: number) =>
  fetch(`${base}/v1/vendors/studio/label-studio`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-judgeflow-token': token },
    body: JSON.stringify(recorded.webhookCalls[i].body),
  });
const inbox = async () =>
  (
    await database.db.select().from(vendorEvents).where(eq(vendorEvents.vendorId, 'studio')).orderBy(vendorEvents.id)
  ).map((e) => [e.deliveryId, e.taskId, e.type, e.disposition, e.responseStatus]);
const statuses = async () =>
  Object.fromEntries(
    (
      await database.db
        .select()
        .from(tasks)
        .where(inArray(tasks.vendorId, ['studio', 'plain']))
    ).map((t) => [t.id, t.status]),
  );
const delivery = (i: number) =>
  `ls_${recorded.webhookCalls[i].body.annotation.id}_${recorded.webhookCalls[i].body.annotation.updated_at}`;

test('a webhook and a poll of the same annotation are one event; answers whose webhook was lost are stored by the poll', async () => {
  // The first annotation arrives by webhook.
  expect((await webhook(0)).status).toBe(202);

  // The first poll lists everything: the same annotation is the same delivery, nothing changes.
  expect(await gateway.pollVendors()).toEqual({ polled: 1, stored: 0 });
  expect(listed.every((u) => u.includes('fields=all') && !u.includes('query='))).toBe(true);
  expect(await inbox()).toEqual([[delivery(0), 'check-batch:item-1:0:0', 'task.completed', 'applied', 202]]);

  // The update of that annotation and the skipped task 3 were never delivered by webhook: the
  // next poll (filtered since the cursor) stores both: the update is a second answer to a
  // completed task (kept for audit), the skip declines task 3.
  listed.length = 0;
  expect(await gateway.pollVendors()).toEqual({ polled: 1, stored: 2 });
  expect(listed).toHaveLength(1);
  expect(listed[0]).toContain('query=');
  expect(await inbox()).toEqual([
    [delivery(0), 'check-batch:item-1:0:0', 'task.completed', 'applied', 202],
    [delivery(1), 'check-batch:item-1:0:0', 'task.completed', 'conflict', 409],
    [delivery(2), 'check-batch:item-3:0:0', 'task.declined', 'applied', 202],
  ]);
  expect(await statuses()).toEqual({
    'check-batch:item-1:0:0': 'completed',
    'check-batch:item-2:0:0': 'dispatched',
    'check-batch:item-3:0:0': 'declined',
    'plain-task': 'dispatched',
  });
  const stored = await database.db.select().from(labels).where(eq(labels.taskId, 'check-batch:item-1:0:0'));
  expect(stored.map((l) => [l.criterion, l.value]).sort()).toEqual([
    ['clarity', 0],
    ['tone', 1],
  ]);

  // Late webhooks of what the poll already stored are duplicates; polling again changes nothing.
  const late = await webhook(2);
  expect([late.status, late.headers.get('x-judgeflow-duplicate')]).toEqual([202, 'true']);
  expect(await gateway.pollVendors()).toEqual({ polled: 1, stored: 0 });
  expect(await inbox()).toHaveLength(3);
});

test('a vendor that fails to answer is skipped until the next round; vendors without open tasks are not polled', async () => {
  studioDown = true;
  listed.length = 0;
  expect(await gateway.pollVendors()).toEqual({ polled: 0, stored: 0 });
  expect(listed).toHaveLength(1);
  studioDown = false;

  await database.db.update(tasks).set({ status: 'cancelled' }).where(eq(tasks.vendorId, 'studio'));
  listed.length = 0;
  expect(await gateway.pollVendors()).toEqual({ polled: 0, stored: 0 });
  expect(listed).toEqual([]);
});
