/**
 * Contract test of the Label Studio adapter, built from what a real Label Studio (1.23.2) returned
 * to scripts/label-studio-check.ts (test/fixtures/label-studio/recorded.json): the webhook bodies it
 * sent are translated into the right events, and the adapter talks HTTP to a server that answers
 * with the recorded responses (idempotent import, cancel by deletion, users as raters, polling
 * with the Data Manager's updated_at filter yields the same deliveries as the webhooks).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { VendorRow } from './adapter';
import { createLabelStudioAdapter, translateLabelStudioWebhook } from './label-studio';
import type { TaskDispatch } from '../schema/vendor-events';

const recorded = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../test/fixtures/label-studio/recorded.json'), 'utf8'),
);

/** A webhook as the delivery it becomes (what polling yields for the same save). */
const delivered = (body: unknown) => {
  const hook = translateLabelStudioWebhook(body);
  return hook && { deliveryId: hook.deliveryId, event: hook.event };
};

test('the recorded run against the real server imported once, delivered the webhook with the static token, and cancelled by deletion', () => {
  expect(recorded.labelStudioVersion.release).toBe('1.23.2');
  expect(recorded.importedOnce).toBe(true);
  expect(recorded.webhookCalls.map((c: { body: { action: string } }) => c.body.action)).toEqual([
    'ANNOTATION_CREATED',
    'ANNOTATION_UPDATED',
    'ANNOTATION_CREATED',
  ]);
  expect(
    recorded.webhookCalls.every(
      (c: { headers: Record<string, string> }) => c.headers['x-judgeflow-token'] === 'static-token',
    ),
  ).toBe(true);
  expect(recorded.afterCancel).toEqual(['check-batch:item-1:0:0', 'check-batch:item-3:0:0']);
});

test('the real ANNOTATION_CREATED body translates into task.completed with the annotator as rater', () => {
  const body = recorded.webhookCalls[0].body;
  expect(translateLabelStudioWebhook(body)).toMatchObject({
    deliveryId: `ls_${body.annotation.id}_${body.annotation.updated_at}`,
    event: {
      type: 'task.completed',
      taskId: 'check-batch:item-1:0:0',
      raterId: String(body.annotation.completed_by),
      labels: [
        { criterion: 'tone', value: 1, explanation: '', errorCodes: [] },
        { criterion: 'clarity', value: 0, explanation: 'two stacked clauses', errorCodes: [] },
      ],
    },
  });
  // An update of the same annotation is a new delivery; other actions carry no answer.
  const updated = {
    ...body,
    action: 'ANNOTATION_UPDATED',
    annotation: { ...body.annotation, updated_at: '2030-01-01T00:00:00Z' },
  };
  expect(translateLabelStudioWebhook(updated)?.deliveryId).toBe(`ls_${body.annotation.id}_2030-01-01T00:00:00Z`);
  expect(translateLabelStudioWebhook({ ...body, action: 'TASKS_CREATED' })).toBeNull();
  expect(() => translateLabelStudioWebhook({ ...body, task: { id: 1, data: {} } })).toThrow();
});

test('the real webhook of a skipped task (a cancelled annotation) translates into task.declined', () => {
  const body = recorded.webhookCalls[2].body;
  expect(body.annotation.was_cancelled).toBe(true);
  expect(translateLabelStudioWebhook(body)).toMatchObject({
    deliveryId: `ls_${body.annotation.id}_${body.annotation.updated_at}`,
    event: {
      type: 'task.declined',
      taskId: 'check-batch:item-3:0:0',
      raterId: String(body.annotation.completed_by),
      reason: 'skipped in Label Studio',
    },
  });
});

test('the real server filtered by updated_at: only tasks saved after the cursor came back', () => {
  const ids = (page: { tasks: { data: { judgeflow_task_id: string } }[] }) =>
    page.tasks.map((t) => t.data.judgeflow_task_id);
  expect(ids(recorded.pollAllResponse)).toEqual([
    'check-batch:item-1:0:0',
    'check-batch:item-2:0:0',
    'check-batch:item-3:0:0',
  ]);
  expect(ids(recorded.pollSinceResponse)).toEqual(['check-batch:item-1:0:0', 'check-batch:item-3:0:0']);
  // What the adapter polled on the real server are exactly the webhook deliveries of the same saves.
  const hooked = recorded.webhookCalls.map((c: { body: unknown }) => delivered(c.body));
  expect(recorded.polledAll.events).toEqual([hooked[0]]);
  expect(recorded.polledSince.events).toEqual([hooked[1], hooked[2]]);
});

describe('the adapter against recorded responses', () => {
  let server: http.Server;
  const calls: { method: string; url: string; auth?: string; body: string }[] = [];
  let adapter: ReturnType<typeof createLabelStudioAdapter>;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        calls.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        const json = (status: number, value: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.method === 'GET' && req.url!.startsWith('/api/tasks?')) {
          const query = new URL(req.url!, 'http://x').searchParams;
          if (query.get('fields') !== 'all') return json(200, recorded.tasksPage);
          return json(200, query.has('query') ? recorded.pollSinceResponse : recorded.pollAllResponse);
        }
        if (req.method === 'GET' && req.url === '/api/users') return json(200, recorded.users);
        if (req.method === 'POST' && /^\/api\/projects\/\d+\/import$/.test(req.url!))
          return json(201, { task_count: JSON.parse(body).length });
        if (req.method === 'DELETE' && /^\/api\/tasks\/\d+$/.test(req.url!)) return res.writeHead(204).end();
        return json(404, { detail: 'not found' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const vendor = {
      id: 'studio',
      kind: 'label-studio',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      secrets: ['static-token'],
      rateCard: {},
      config: { projectId: recorded.project.id, apiTokenEnv: 'STUDIO_TOKEN' },
    } as unknown as VendorRow;
    adapter = createLabelStudioAdapter(vendor, { STUDIO_TOKEN: 'tok' });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    calls.length = 0;
  });

  const task = (i: number): TaskDispatch => ({
    taskId: `check-batch:item-${i}:0:0`,
    batchId: 'check-batch',
    programId: 'check',
    kind: 'rate',
    raterId: '1',
    item: { id: `item-${i}`, textHash: 'h', text: `text ${i}`, locale: 'en-US' },
    show: { title: `Show ${i}` },
    criteria: ['tone', 'clarity'],
    guidelineVersion: 2,
    dueAt: '2030-01-01T00:00:00Z',
    context: {},
  });

  test('dispatch imports only tasks the project does not have yet', async () => {
    await adapter.dispatch([task(1), task(2), task(4)]);
    const imports = calls.filter((c) => c.method === 'POST');
    expect(imports.map((c) => c.url)).toEqual([`/api/projects/${recorded.project.id}/import`]);
    expect(
      JSON.parse(imports[0].body).map((t: { data: { judgeflow_task_id: string; guideline_version: number } }) => [
        t.data.judgeflow_task_id,
        t.data.guideline_version,
      ]),
    ).toEqual([['check-batch:item-4:0:0', 2]]);
    expect(calls.every((c) => c.auth === 'Token tok')).toBe(true);
    calls.length = 0;
    await adapter.dispatch([task(1)]);
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  test('cancel deletes the Label Studio task carrying the judgeflow id; unknown ids are ignored', async () => {
    const lsId = recorded.tasksPage.tasks.find(
      (t: { data: { judgeflow_task_id: string } }) => t.data.judgeflow_task_id === 'check-batch:item-2:0:0',
    ).id;
    await adapter.cancel(['check-batch:item-2:0:0', 'never-dispatched']);
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual([`/api/tasks/${lsId}`]);
  });

  test('poll lists every annotation first, then asks only for tasks saved since the cursor minus the overlap', async () => {
    const hooked = recorded.webhookCalls.map((c: { body: unknown }) => delivered(c.body));
    const first = await adapter.poll!(null);
    expect(first).toEqual({ events: [hooked[0]], cursor: recorded.webhookCalls[0].body.annotation.updated_at });
    const listed = new URL(calls[0].url, 'http://x').searchParams;
    expect([listed.get('project'), listed.get('fields'), listed.has('query')]).toEqual([
      String(recorded.project.id),
      'all',
      false,
    ]);

    calls.length = 0;
    const next = await adapter.poll!(first.cursor);
    expect(next).toEqual({
      events: [hooked[1], hooked[2]],
      cursor: recorded.webhookCalls[2].body.annotation.updated_at,
    });
    const query = JSON.parse(new URL(calls[0].url, 'http://x').searchParams.get('query')!);
    expect(query).toEqual({
      filters: {
        conjunction: 'and',
        items: [
          {
            filter: 'filter:tasks:updated_at',
            operator: 'greater',
            type: 'Datetime',
            value: new Date(Date.parse(first.cursor!) - 120_000).toISOString(),
          },
        ],
      },
    });
    // The same shape the real server accepted (only the value differs: the recording had no overlap).
    expect(query.filters.items[0]).toMatchObject({
      ...recorded.pollSinceQuery.filters.items[0],
      value: expect.any(String),
    });

    // Annotations saved before the overlap window are not returned again.
    const later = new Date(Date.parse(next.cursor!) + 120_000 + 1).toISOString();
    expect((await adapter.poll!(later)).events).toEqual([]);
  });

  test('raters are the Label Studio users', async () => {
    expect(await adapter.listRaters()).toEqual(
      recorded.users.map((u: { id: number }) => ({ id: String(u.id), qualification: {} })),
    );
  });

  test('a vendor without an API token is a configuration error', () => {
    expect(() =>
      createLabelStudioAdapter(
        {
          id: 'x',
          kind: 'label-studio',
          endpoint: 'http://x',
          secrets: [],
          config: { projectId: 1 },
        } as unknown as VendorRow,
        {},
      ),
    ).toThrow(/apiTokenEnv/);
  });
});
