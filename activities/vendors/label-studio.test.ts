/**
 * Contract test of the Label Studio adapter, built from what a real Label Studio (1.23.2) returned
 * to scripts/label-studio-check.ts (test/fixtures/label-studio/recorded.json): the webhook body it
 * sent is translated into the right event, and the adapter talks HTTP to a server that answers
 * with the recorded responses (idempotent import, cancel by deletion, users as raters).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { VendorRow } from './adapter';
import { createLabelStudioAdapter, translateLabelStudioWebhook } from './label-studio';
import type { TaskDispatch } from '../../schema/vendor-events';

const recorded = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../test/fixtures/label-studio/recorded.json'), 'utf8'));

test('the recorded run against the real server imported once, delivered the webhook with the static token, and cancelled by deletion', () => {
  expect(recorded.labelStudioVersion.release).toBe('1.23.2');
  expect(recorded.importedOnce).toBe(true);
  expect(recorded.webhookCalls).toHaveLength(1);
  expect(recorded.webhookCalls[0].headers['x-judgeflow-token']).toBe('static-token');
  expect(recorded.afterCancel).toEqual(['check-batch:item-1:0:0', 'check-batch:item-3:0:0']);
});

test("the real ANNOTATION_CREATED body translates into task.completed with the annotator as rater", () => {
  const body = recorded.webhookCalls[0].body;
  expect(translateLabelStudioWebhook(body)).toEqual({
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
  const updated = { ...body, action: 'ANNOTATION_UPDATED', annotation: { ...body.annotation, updated_at: '2030-01-01T00:00:00Z' } };
  expect(translateLabelStudioWebhook(updated)?.deliveryId).toBe(`ls_${body.annotation.id}_2030-01-01T00:00:00Z`);
  expect(translateLabelStudioWebhook({ ...body, action: 'TASKS_CREATED' })).toBeNull();
  expect(() => translateLabelStudioWebhook({ ...body, task: { id: 1, data: {} } })).toThrow();
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
        const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.method === 'GET' && req.url!.startsWith('/api/tasks?')) return json(200, recorded.tasksPage);
        if (req.method === 'GET' && req.url === '/api/users') return json(200, recorded.users);
        if (req.method === 'POST' && /^\/api\/projects\/\d+\/import$/.test(req.url!)) return json(201, { task_count: JSON.parse(body).length });
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
    taskId: `check-batch:item-${i}:0:0`, batchId: 'check-batch', programId: 'check', kind: 'rate', raterId: '1',
    item: { id: `item-${i}`, textHash: 'h', text: `text ${i}`, locale: 'en-US' }, show: { title: `Show ${i}` },
    criteria: ['tone', 'clarity'], guidelineVersion: 2, dueAt: '2030-01-01T00:00:00Z', context: {},
  });

  test('dispatch imports only tasks the project does not have yet', async () => {
    await adapter.dispatch([task(1), task(2), task(4)]);
    const imports = calls.filter((c) => c.method === 'POST');
    expect(imports.map((c) => c.url)).toEqual([`/api/projects/${recorded.project.id}/import`]);
    expect(JSON.parse(imports[0].body).map((t: { data: { judgeflow_task_id: string; guideline_version: number } }) => [t.data.judgeflow_task_id, t.data.guideline_version])).toEqual([
      ['check-batch:item-4:0:0', 2],
    ]);
    expect(calls.every((c) => c.auth === 'Token tok')).toBe(true);
    calls.length = 0;
    await adapter.dispatch([task(1)]);
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  test('cancel deletes the Label Studio task carrying the judgeflow id; unknown ids are ignored', async () => {
    const lsId = recorded.tasksPage.tasks.find((t: { data: { judgeflow_task_id: string } }) => t.data.judgeflow_task_id === 'check-batch:item-2:0:0').id;
    await adapter.cancel(['check-batch:item-2:0:0', 'never-dispatched']);
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual([`/api/tasks/${lsId}`]);
  });

  test('raters are the Label Studio users', async () => {
    expect(await adapter.listRaters()).toEqual(recorded.users.map((u: { id: number }) => ({ id: String(u.id), qualification: {} })));
  });

  test('a vendor without an API token is a configuration error', () => {
    expect(() => createLabelStudioAdapter({ id: 'x', kind: 'label-studio', endpoint: 'http://x', secrets: [], config: { projectId: 1 } } as unknown as VendorRow, {})).toThrow(/apiTokenEnv/);
  });
});
