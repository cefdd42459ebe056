/**
 * The gateway's /metrics after real deliveries: an accepted completion, a refused signature, an
 * unknown vendor and a schema failure are counted by type and status; latency is observed per
 * route; the inbox lag is the age of the oldest stored event not signalled yet (no Temporal client
 * here, so an applied event stays unsignalled).
 */
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { signHeaders } from '../vendors/signing';
import { taskBatches, tasks } from '../schema/tables';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { createLogger } from '../platform/logger';
import { buildGateway, type Gateway } from './gateway';

let database: TestDatabase;
let gateway: Gateway;
let base: string;
const secret = newSecret();

beforeAll(async () => {
  database = await createTestDatabase();
  const { itemIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 1,
    vendors: [{ id: 'vendor-a', secrets: [secret], raters: ['r1'] }],
  });
  await database.db
    .insert(taskBatches)
    .values({ id: 'batch-1', programId: 'p1', phase: 'calibration', round: 1, kind: 'rate', guidelineVersion: 1 });
  await database.db.insert(tasks).values({
    id: 't0',
    batchId: 'batch-1',
    programId: 'p1',
    itemId: itemIds[0],
    textHash: 'h',
    slot: 0,
    vendorId: 'vendor-a',
    raterId: 'vendor-a:r1',
    kind: 'rate',
    guidelineVersion: 1,
    status: 'dispatched',
    payload: { criteria: ['tone'], context: {} },
  });
  gateway = await buildGateway({
    db: database.db,
    config: testConfig({}, database),
    logger: createLogger('t', 'silent'),
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await database?.drop();
});

const post = async (vendor: string, body: string, signWith = secret) =>
  (
    await fetch(`${base}/v1/vendors/${vendor}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signHeaders(signWith, body) },
      body,
    })
  ).status;

/** The value of one sample of the exposition text, e.g. `judgeflow_gateway_events_total{type="x",status="202"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(match[3]);
  }
  return undefined;
}

test('events by type and status, refused ones included; latency per route; the inbox lag', async () => {
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };
  const before = await scrape();
  expect(sample(before, 'judgeflow_gateway_inbox_lag_seconds')).toBe(0);

  const completion = JSON.stringify({
    type: 'task.completed',
    taskId: 't0',
    raterId: 'r1',
    labels: [{ criterion: 'tone', value: 1, explanation: 'fits' }],
  });
  expect(await post('vendor-a', completion)).toBe(202);
  expect(await post('vendor-a', completion, newSecret())).toBe(401);
  expect(await post('nobody', completion)).toBe(404);
  expect(await post('vendor-a', JSON.stringify({ type: 'task.completed', taskId: 't0' }))).toBe(400);
  await new Promise((r) => setTimeout(r, 1100));

  const after = await scrape();
  const events = (labels: Record<string, string>) => sample(after, 'judgeflow_gateway_events_total', labels);
  expect(events({ type: 'task.completed', status: '202' })).toBe(1);
  expect(events({ type: 'unparsed', status: '401' })).toBe(1);
  expect(events({ type: 'unparsed', status: '404' })).toBe(1);
  expect(events({ type: 'unparsed', status: '400' })).toBe(1);
  // Not a vendor event: the scrape itself is timed, never counted as one.
  expect(sample(after, 'judgeflow_gateway_events_total', { status: '200' })).toBeUndefined();
  const route = '/v1/vendors/:vendorId/events';
  expect(
    sample(after, 'judgeflow_gateway_request_duration_seconds_count', { route, method: 'POST', status: '2xx' }),
  ).toBe(1);
  expect(
    sample(after, 'judgeflow_gateway_request_duration_seconds_count', { route, method: 'POST', status: '4xx' }),
  ).toBe(3);
  // The applied completion waits for its signal (this gateway has no Temporal client): a second old.
  const [{ n }] = await database.db.execute<{ n: number }>(
    sql`select count(*)::int as n from vendor_events where signalled_at is null`,
  );
  expect(n).toBe(1);
  expect(sample(after, 'judgeflow_gateway_inbox_lag_seconds')).toBeGreaterThanOrEqual(1);
  expect(sample(after, 'judgeflow_gateway_inbox_lag_seconds')).toBeLessThan(60);
});
