/**
 * The gateway against a real Postgres over real HTTP: every documented status (signatures,
 * schema failures, duplicates, cross-vendor attempts, closed tasks, size and media type limits,
 * overload) and that a refused request leaves the database unchanged.
 */
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { signHeaders } from '../vendors/signing';
import { labels, taskBatches, tasks, usageLedger, vendorEvents } from '../schema/tables';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld, snapshot } from '../test/human-tasks-fixture';
import { createLogger } from '../platform/logger';
import { startFakeLabelStudio, type FakeLabelStudio } from '../test/fake-label-studio';
import { buildGateway, type Gateway } from './gateway';

let database: TestDatabase;
let gateway: Gateway;
let base: string;
let studio: FakeLabelStudio;
const secretA1 = newSecret();
const secretA2 = newSecret();
const secretB = newSecret();
const lsToken = 'ls-static-token-0123456789';
const criteria = ['tone', 'clarity'];
let itemIds: string[];

async function addTask(id: string, vendorId: string, raterId: string, itemId: string, slot = 0) {
  await database.db.insert(tasks).values({
    id,
    batchId: 'batch-1',
    programId: 'p1',
    itemId,
    textHash: 'h',
    slot,
    vendorId,
    raterId: `${vendorId}:${raterId}`,
    kind: 'rate',
    guidelineVersion: 1,
    status: 'dispatched',
    payload: { criteria, context: {} },
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  studio = await startFakeLabelStudio({ token: 'x', projectId: 1 });
  ({ itemIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 4,
    vendors: [
      { id: 'vendor-a', secrets: [secretA1, secretA2], raters: ['r1', 'r2'] },
      { id: 'vendor-b', secrets: [secretB], raters: ['r9'] },
      {
        id: 'studio',
        kind: 'label-studio',
        endpoint: studio.url,
        secrets: [lsToken],
        raters: ['17'],
        config: { projectId: 1, apiToken: 'x' },
      },
    ],
  }));
  await database.db
    .insert(taskBatches)
    .values({ id: 'batch-1', programId: 'p1', phase: 'calibration', round: 2, kind: 'rate', guidelineVersion: 1 });
  for (let i = 0; i < 4; i++) await addTask(`t${i}`, 'vendor-a', 'r1', itemIds[i]);
  await addTask('t-b', 'vendor-b', 'r9', itemIds[0], 1);
  await addTask('t4', 'vendor-a', 'r2', itemIds[2], 1);
  await addTask('t-ls', 'studio', '17', itemIds[1], 1);
  const config = testConfig({ GATEWAY_BODY_LIMIT_BYTES: '8192', GATEWAY_MAX_SKEW_SECONDS: '300' }, database);
  gateway = await buildGateway({ db: database.db, config, logger: createLogger('test', 'silent') });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await database?.drop();
  await studio?.close();
});

const completion = (taskId: string, raterId = 'r1', values: [number, number] = [1, 0]) => ({
  type: 'task.completed',
  taskId,
  raterId,
  labels: [
    { criterion: 'tone', value: values[0], explanation: 'fits the show' },
    { criterion: 'clarity', value: values[1], explanation: 'stacked clauses', errorCodes: ['CONVOLUTED'] },
  ],
});

async function post(
  body: unknown,
  opts: {
    vendor?: string;
    secret?: string;
    id?: string;
    at?: Date;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
) {
  const text = opts.raw ?? JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    ...signHeaders(opts.secret ?? secretA1, text, opts.id, opts.at),
    ...opts.headers,
  };
  const res = await fetch(`${base}/v1/vendors/${opts.vendor ?? 'vendor-a'}/events`, {
    method: 'POST',
    headers,
    body: text,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

/** Sends a request that must be refused, and checks the database did not change. */
async function refused(
  send: () => Promise<{ status: number; body: Record<string, any> }>,
  status: number,
  code: string,
) {
  const before = await snapshot(database.db);
  const res = await send();
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(await snapshot(database.db)).toEqual(before);
  return res;
}

describe('signatures', () => {
  test('a valid signed completion is stored with its labels and charge before the 202', async () => {
    const res = await post(completion('t0'), { id: 'msg-valid-1' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: true, taskId: 't0', type: 'task.completed', labels: 2 });
    const stored = await database.db.select().from(labels).where(eq(labels.taskId, 't0'));
    expect(stored.map((l) => [l.criterion, l.value, l.raterId, l.phase, l.round]).sort()).toEqual([
      ['clarity', 0, 'vendor-a:r1', 'calibration', 2],
      ['tone', 1, 'vendor-a:r1', 'calibration', 2],
    ]);
    expect(stored.find((l) => l.criterion === 'clarity')?.errorCodes).toEqual(['CONVOLUTED']);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, 't0'));
    expect([task.status, task.costUsd]).toEqual(['completed', 0.5]);
    const ledger = await database.db.select().from(usageLedger).where(eq(usageLedger.requestKey, 't0'));
    expect(ledger.map((l) => [l.kind, l.costUsd, l.vendorId])).toEqual([['human_task', 0.5, 'vendor-a']]);
    const [event] = await database.db.select().from(vendorEvents).where(eq(vendorEvents.deliveryId, 'msg-valid-1'));
    expect([event.disposition, event.responseStatus, event.signalledAt]).toEqual(['applied', 202, null]);
  });

  test('a delivery id reused for another task gets the original answer and applies nothing', async () => {
    const before = await snapshot(database.db);
    const res = await post(completion('t4', 'r2'), { id: 'msg-valid-1' });
    expect([res.status, res.body, res.headers.get('x-judgeflow-duplicate')]).toEqual([
      202,
      { accepted: true, taskId: 't0', type: 'task.completed', labels: 2 },
      'true',
    ]);
    expect(await snapshot(database.db)).toEqual(before);
  });

  test('the second secret of a rotation is accepted', async () => {
    expect((await post(completion('t1'), { secret: secretA2 })).status).toBe(202);
  });

  test('a wrong secret gets 401 bad_signature', async () => {
    await refused(() => post(completion('t2'), { secret: newSecret() }), 401, 'bad_signature');
  });

  test('a tampered body gets 401 bad_signature', async () => {
    const signed = JSON.stringify(completion('t2'));
    const sent = JSON.stringify(completion('t2', 'r1', [0, 0]));
    await refused(
      async () => {
        const res = await fetch(`${base}/v1/vendors/vendor-a/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signHeaders(secretA1, signed) },
          body: sent,
        });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      },
      401,
      'bad_signature',
    );
  });

  test('expired and future timestamps get 401 timestamp_out_of_range', async () => {
    await refused(
      () => post(completion('t2'), { at: new Date(Date.now() - 10 * 60_000) }),
      401,
      'timestamp_out_of_range',
    );
    await refused(
      () => post(completion('t2'), { at: new Date(Date.now() + 10 * 60_000) }),
      401,
      'timestamp_out_of_range',
    );
  });

  test('missing signature headers get 401 missing_headers', async () => {
    await refused(
      async () => {
        const res = await fetch(`${base}/v1/vendors/vendor-a/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(completion('t2')),
        });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      },
      401,
      'missing_headers',
    );
  });

  test('a replayed delivery within the skew gets the original answer and changes nothing', async () => {
    const body = JSON.stringify(completion('t2'));
    const headers = { 'content-type': 'application/json', ...signHeaders(secretA1, body, 'msg-replay') };
    const first = await fetch(`${base}/v1/vendors/vendor-a/events`, { method: 'POST', headers, body });
    const firstBody = await first.json();
    expect(first.status).toBe(202);
    const before = await snapshot(database.db);
    const again = await fetch(`${base}/v1/vendors/vendor-a/events`, { method: 'POST', headers, body });
    expect([again.status, await again.json(), again.headers.get('x-judgeflow-duplicate')]).toEqual([
      202,
      firstBody,
      'true',
    ]);
    expect(await snapshot(database.db)).toEqual(before);
  });

  test('a captured delivery replayed after the skew window gets 401', async () => {
    const at = new Date(Date.now() - 301_000);
    await refused(() => post(completion('t3'), { id: 'msg-old', at }), 401, 'timestamp_out_of_range');
  });
});

describe('schema failures (400 with issue paths)', () => {
  const cases: [string, unknown, string][] = [
    ['missing taskId', { type: 'task.completed', raterId: 'r1', labels: completion('t3').labels }, 'taskId'],
    ['unknown event type', { ...completion('t3'), type: 'task.finished' }, 'type'],
    ['wrong value type', { ...completion('t3'), labels: [{ criterion: 'tone', value: 'yes' }] }, 'labels.0.value'],
    ['value out of range', { ...completion('t3'), labels: [{ criterion: 'tone', value: 11 }] }, 'labels.0.value'],
    ['non-integer value', { ...completion('t3'), labels: [{ criterion: 'tone', value: 0.5 }] }, 'labels.0.value'],
    ['empty labels', { ...completion('t3'), labels: [] }, 'labels'],
    [
      'too long explanation',
      { ...completion('t3'), labels: [{ criterion: 'tone', value: 1, explanation: 'x'.repeat(5001) }] },
      'labels.0.explanation',
    ],
    ['not an object', [1, 2, 3], ''],
  ];
  test.each(cases)('%s', async (_name, body, path) => {
    const res = await refused(() => post(body), 400, 'invalid_event');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  test('a body that is not JSON gets 400 invalid_json', async () => {
    await refused(() => post(undefined, { raw: '{"type": "task.completed",' }), 400, 'invalid_json');
  });

  test('labels that do not name each criterion of the task once get 400 labels_do_not_match_task', async () => {
    const res = await refused(
      () =>
        post({
          ...completion('t3'),
          labels: [
            { criterion: 'tone', value: 1 },
            { criterion: 'tone', value: 0 },
            { criterion: 'vibes', value: 1 },
          ],
        }),
      400,
      'labels_do_not_match_task',
    );
    expect(res.body.error.details).toEqual({ unknown: ['vibes'], missing: ['clarity'], repeated: ['tone'] });
  });
});

describe('authorization', () => {
  test("another vendor's task gets 404, exactly like a missing task", async () => {
    await refused(() => post(completion('t3', 'r9'), { vendor: 'vendor-b', secret: secretB }), 404, 'task_not_found');
    await refused(() => post(completion('nope')), 404, 'task_not_found');
  });

  test("signing with one vendor's secret on another vendor's URL gets 401", async () => {
    await refused(() => post(completion('t-b', 'r9'), { vendor: 'vendor-b', secret: secretA1 }), 401, 'bad_signature');
  });

  test("another vendor's rater gets 404 rater_not_found", async () => {
    await refused(() => post(completion('t3', 'r9')), 404, 'rater_not_found');
  });

  test('an unknown vendor gets 404 vendor_not_found', async () => {
    await refused(() => post(completion('t3'), { vendor: 'ghost' }), 404, 'vendor_not_found');
  });

  test('a conflicting second answer to a completed task gets 409 and is kept for audit only', async () => {
    const labelsBefore = await database.db.select().from(labels).where(eq(labels.taskId, 't0'));
    const res = await post(completion('t0', 'r1', [0, 1]), { id: 'msg-conflict' });
    expect([res.status, res.body.error.code]).toEqual([409, 'task_closed']);
    expect(await database.db.select().from(labels).where(eq(labels.taskId, 't0'))).toEqual(labelsBefore);
    const [audit] = await database.db.select().from(vendorEvents).where(eq(vendorEvents.deliveryId, 'msg-conflict'));
    expect([audit.disposition, audit.responseStatus, (audit.body as { labels: unknown[] }).labels.length]).toEqual([
      'conflict',
      409,
      2,
    ]);
    // The duplicate of a refused delivery gets the same refusal.
    const again = await post(completion('t0', 'r1', [0, 1]), { id: 'msg-conflict' });
    expect([again.status, again.body]).toEqual([409, res.body]);
  });
});

describe('limits and media types', () => {
  test('an oversize body gets 413 body_too_large', async () => {
    const big = {
      ...completion('t3'),
      labels: [
        { criterion: 'tone', value: 1, explanation: 'x'.repeat(4000) },
        { criterion: 'clarity', value: 1, explanation: 'y'.repeat(4500) },
      ],
    };
    await refused(() => post(big), 413, 'body_too_large');
  });

  test('a body that is not application/json gets 415', async () => {
    await refused(
      () => post(completion('t3'), { headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
  });

  test('beyond the in-flight limit vendors get 429 with Retry-After', async () => {
    const config = testConfig({ GATEWAY_MAX_IN_FLIGHT: '1' }, database);
    const small = await buildGateway({ db: database.db, config, logger: createLogger('test', 'silent') });
    await small.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(small.app.server.address() as AddressInfo).port}/v1/vendors/vendor-a/events`;
      const body = JSON.stringify(completion('nope'));
      const answers = await Promise.all(
        Array.from({ length: 40 }, () =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...signHeaders(secretA1, body) },
            body,
          }),
        ),
      );
      const limited = answers.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0].headers.get('retry-after')).toBe('1');
      expect(((await limited[0].json()) as { error: { code: string } }).error.code).toBe('overloaded');
    } finally {
      await small.app.close();
    }
  });
});

describe('other events and endpoints', () => {
  test('declined and expired tasks are recorded as such', async () => {
    expect(
      (await post({ type: 'task.declined', taskId: 't3', raterId: 'r1', reason: 'conflict of interest' })).status,
    ).toBe(202);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, 't3'));
    expect(task.status).toBe('declined');
    // A completion after the decline is refused: the task is closed.
    expect((await post(completion('t3'))).status).toBe(409);
  });

  test('a Label Studio annotation webhook is authenticated by its static token and translated', async () => {
    const hook = {
      action: 'ANNOTATION_CREATED',
      task: { id: 41, data: { judgeflow_task_id: 't-ls', text: '…' } },
      annotation: {
        id: 901,
        completed_by: 17,
        updated_at: '2026-01-01T10:00:00Z',
        result: [
          { from_name: 'tone', to_name: 'text', type: 'choices', value: { choices: ['pass'] } },
          { from_name: 'clarity', to_name: 'text', type: 'choices', value: { choices: ['fail'] } },
          { from_name: 'clarity_explanation', to_name: 'text', type: 'textarea', value: { text: ['too long'] } },
        ],
      },
    };
    // Label Studio holds the annotation the webhook describes (the gateway re-reads it).
    studio.annotations.set(901, { ...hook.annotation, task: 41, project: 1 });
    const send = (token: string) =>
      fetch(`${base}/v1/vendors/studio/label-studio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-judgeflow-token': token },
        body: JSON.stringify(hook),
      });
    const before = await snapshot(database.db);
    expect((await send('wrong')).status).toBe(401);
    expect(await snapshot(database.db)).toEqual(before);
    expect((await send(lsToken)).status).toBe(202);
    const stored = await database.db.select().from(labels).where(eq(labels.taskId, 't-ls'));
    expect(stored.map((l) => [l.criterion, l.value, l.explanation, l.raterId]).sort()).toEqual([
      ['clarity', 0, 'too long', 'studio:17'],
      ['tone', 1, '', 'studio:17'],
    ]);
    const dup = await send(lsToken);
    expect([dup.status, dup.headers.get('x-judgeflow-duplicate')]).toEqual([202, 'true']);
  });

  test('/openapi.json, /healthz and /readyz answer', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/vendors/{vendorId}/events');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const missing = await fetch(`${base}/v2/nothing`);
    expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([
      404,
      'not_found',
    ]);
  });
});
