/**
 * Label Studio against a fake Label Studio over HTTP (test/fake-label-studio.ts, the recorded real
 * shapes) and a real Postgres: a webhook is stored only when the annotation Label Studio holds is
 * the one it describes (forged, altered, stale or unconfirmable ones change nothing), choices the
 * generated config does not offer are refused, and the project's labeling config and instructions
 * are generated from the rater packet and updated when a revision is published.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import YAML from 'yaml';
import { createGuidelineActivities, dispatchLinks, vendorAdapterCache } from '../human-tasks/guidelines';
import { createLogger } from '../platform/logger';
import { loadRaterPacket } from '../program/rater-packet';
import { validateProgramSpec, type ProgramSpecInput } from '../schema/program-spec';
import { guidelineVersions, labels, programs, taskBatches, tasks } from '../schema/tables';
import { guidelinesNoticeSchema, type RaterPacket } from '../schema/vendor-events';
import { startFakeLabelStudio, type FakeLabelStudio } from '../test/fake-label-studio';
import { createTestDatabase, testConfig, testDeps, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld, snapshot } from '../test/human-tasks-fixture';
import { choiceValue, labelStudioConfig } from '../vendors/label-studio-config';
import { verifySignature } from '../vendors/signing';
import { buildGateway, type Gateway } from './gateway';

let database: TestDatabase;
let gateway: Gateway;
let base: string;
let studio: FakeLabelStudio;
let vendorHttp: http.Server;
let vendorStatus = 200;
const notices: { body: string; headers: http.IncomingHttpHeaders }[] = [];
const lsToken = 'ls-static-token-0123456789';
const httpSecret = newSecret();
let itemIds: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  studio = await startFakeLabelStudio({ token: 'api-token', projectId: 7 });
  vendorHttp = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/tasks/guidelines') notices.push({ body, headers: req.headers });
      res.writeHead(vendorStatus, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => vendorHttp.listen(0, '127.0.0.1', r));
  ({ itemIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 4,
    gold: 1,
    vendors: [
      {
        id: 'studio',
        kind: 'label-studio',
        endpoint: studio.url,
        secrets: [lsToken],
        raters: ['17'],
        config: { projectId: 7, apiToken: 'api-token' },
      },
      {
        id: 'acme',
        endpoint: `http://127.0.0.1:${(vendorHttp.address() as AddressInfo).port}/v1/tasks`,
        secrets: [httpSecret],
      },
    ],
  }));
  const example = YAML.parse(
    fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'),
  ) as ProgramSpecInput;
  const vendor = { ...example.vendors[0], secret: 'x', secretEnv: undefined };
  const validation = validateProgramSpec({
    ...example,
    id: 'p1',
    vendors: [
      { ...vendor, id: 'studio', kind: 'label-studio' },
      { ...vendor, id: 'acme' },
    ],
    goldExamples: [{ itemId: 'p1-item-3', labels: { tone: 1, clarity: 0 }, explanation: 'two stacked clauses' }],
    production: { writerVendor: 'acme' },
  });
  if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
  const spec = validation.spec;
  await database.db
    .update(programs)
    .set({ spec: spec as unknown as Record<string, unknown> })
    .where(eq(programs.id, 'p1'));
  await database.db.insert(guidelineVersions).values({
    programId: 'p1',
    version: 1,
    text: 'Rate each criterion.',
    criteria: spec.criteria,
    note: 'initial',
    author: 'spec',
  });
  await database.db
    .insert(taskBatches)
    .values({ id: 'b1', programId: 'p1', phase: 'calibration', round: 1, kind: 'rate', guidelineVersion: 1 });
  for (const [i, id] of ['t-ls-0', 't-ls-1'].entries())
    await database.db.insert(tasks).values({
      id,
      batchId: 'b1',
      programId: 'p1',
      itemId: itemIds[i],
      textHash: 'h',
      slot: 0,
      vendorId: 'studio',
      raterId: 'studio:17',
      kind: 'rate',
      guidelineVersion: 1,
      status: 'dispatched',
      payload: { criteria: ['tone', 'clarity'], context: {} },
    });
  const config = testConfig({}, database);
  gateway = await buildGateway({ db: database.db, config, logger: createLogger('test', 'silent') });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await studio?.close();
  await new Promise<void>((r) => (vendorHttp ? vendorHttp.close(() => r()) : r()));
  await database?.drop();
});

const annotation = (id: number, tone: string[], clarity: string[], extra: object[] = []) => ({
  id,
  completed_by: 17,
  was_cancelled: false,
  updated_at: `2026-11-23T11:11:${String(id % 60).padStart(2, '0')}.579539Z`,
  result: [
    { from_name: 'tone', to_name: 'text', type: 'choices', value: { choices: tone } },
    { from_name: 'clarity', to_name: 'text', type: 'choices', value: { choices: clarity } },
    ...extra,
  ],
});
const hookOf = (taskId: string, a: ReturnType<typeof annotation>, lsTask = 41) => ({
  action: 'ANNOTATION_CREATED',
  task: { id: lsTask, data: { judgeflow_task_id: taskId, text: '…' } },
  annotation: a,
  project: { id: 7 },
});
const post = async (hook: unknown) => {
  const res = await fetch(`${base}/v1/vendors/studio/label-studio`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-judgeflow-token': lsToken },
    body: JSON.stringify(hook),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; details?: unknown } } };
};
const held = (a: ReturnType<typeof annotation>, lsTask = 41) =>
  studio.annotations.set(a.id, { ...a, task: lsTask, project: 7, created_username: ' jf@example.com, 1' });

test('a forged, altered, moved or unconfirmable webhook is refused and changes nothing', async () => {
  const before = await snapshot(database.db);
  // Label Studio has no annotation 500.
  expect(await post(hookOf('t-ls-0', annotation(500, ['pass'], ['pass'])))).toMatchObject({
    status: 404,
    body: { error: { code: 'annotation_not_found' } },
  });
  // Label Studio holds annotation 501 with a fail where the webhook says pass.
  held(annotation(501, ['fail'], ['pass']));
  expect(await post(hookOf('t-ls-0', annotation(501, ['pass'], ['pass'])))).toMatchObject({
    status: 409,
    body: { error: { code: 'annotation_mismatch', details: { differs: ['result'] } } },
  });
  // The annotation exists, but of another Label Studio task (and so of another judgeflow task).
  held(annotation(502, ['pass'], ['pass']), 99);
  expect((await post(hookOf('t-ls-0', annotation(502, ['pass'], ['pass'])))).body.error?.code).toBe(
    'annotation_mismatch',
  );
  // Updated since the webhook was sent: the newer save arrives by its own webhook or the poll.
  held({ ...annotation(503, ['pass'], ['pass']), updated_at: '2030-01-01T00:00:00Z' });
  expect((await post(hookOf('t-ls-0', annotation(503, ['pass'], ['pass'])))).body.error?.code).toBe(
    'annotation_mismatch',
  );
  // Label Studio down: 503, nothing stored (the poll finds it later).
  held(annotation(504, ['pass'], ['pass']));
  studio.failWith = 503;
  const down = await post(hookOf('t-ls-0', annotation(504, ['pass'], ['pass'])));
  studio.failWith = null;
  expect([down.status, down.body.error?.code]).toEqual([503, 'cannot_confirm']);
  expect(await snapshot(database.db)).toEqual(before);
});

test('choices the generated config does not offer are refused with 422 before Label Studio is asked', async () => {
  const before = await snapshot(database.db);
  const asked = studio.calls.length;
  for (const [tone, clarity] of [
    [['maybe'], ['pass']],
    [['pass', 'fail'], ['pass']],
    [[], ['fail']],
  ]) {
    const a = annotation(510, tone, clarity);
    held(a);
    const answer = await post(hookOf('t-ls-0', a));
    expect([answer.status, answer.body.error?.code]).toEqual([422, 'unknown_choice']);
    expect(answer.body.error?.details).toEqual([{ field: 'tone', choices: tone }]);
  }
  expect(studio.calls.length).toBe(asked);
  expect(await snapshot(database.db)).toEqual(before);
});

test('a confirmed annotation is stored with its error codes and explanation', async () => {
  const a = annotation(
    520,
    ['pass'],
    ['fail'],
    [
      { from_name: 'clarity_errors', to_name: 'text', type: 'choices', value: { choices: ['CLARITY_CONVOLUTED'] } },
      { from_name: 'clarity_explanation', to_name: 'text', type: 'textarea', value: { text: ['stacked clauses'] } },
    ],
  );
  held(a);
  const answer = await post(hookOf('t-ls-1', a));
  expect(answer.status).toBe(202);
  expect(studio.calls.at(-1)).toMatchObject({ method: 'GET', url: '/api/annotations/520/' });
  const stored = await database.db.select().from(labels).where(eq(labels.taskId, 't-ls-1'));
  expect(stored.map((l) => [l.criterion, l.value, l.explanation, l.errorCodes]).sort()).toEqual([
    ['clarity', 0, 'stacked clauses', ['CLARITY_CONVOLUTED']],
    ['tone', 1, '', []],
  ]);
});

test('the labeling config has one Choices per criterion with its values, the taxonomy as a multi-select, and reads back', async () => {
  const packet = (await loadRaterPacket(database.db, 'p1', 1))!;
  const config = labelStudioConfig(packet);
  const blocks = [
    ...config.matchAll(/<Choices name="([a-z_]+)"[^>]*choice="(single|multiple)"[^>]*>(.*?)<\/Choices>/g),
  ];
  expect(blocks.map((b) => [b[1], b[2]])).toEqual([
    ['tone', 'single'],
    ['tone_errors', 'multiple'],
    ['clarity', 'single'],
    ['clarity_errors', 'multiple'],
    ['precision', 'single'],
    ['precision_errors', 'multiple'],
    ['factuality', 'single'],
    ['factuality_errors', 'multiple'],
  ]);
  expect(blocks[0][3]).toBe('<Choice value="pass"/><Choice value="fail"/>');
  expect(blocks[1][3]).toContain('<Choice value="TONE_CLICKBAIT" hint="Sensational or clickbait wording"/>');
  // A scale criterion gets one choice per point, and each point reads back as its value.
  const likert: RaterPacket = {
    ...packet,
    criteria: [
      {
        ...packet.criteria[0],
        scale: 'likert',
        values: [1, 2, 3, 4, 5].map((v) => ({ value: v, label: String(v) })),
        errorCodes: [],
      },
    ],
  };
  expect(labelStudioConfig(likert)).toContain(
    '<Choices name="tone" toName="text" choice="single" required="true" showInline="true"><Choice value="1"/><Choice value="2"/><Choice value="3"/><Choice value="4"/><Choice value="5"/></Choices>',
  );
  expect(['pass', 'Fail', '4', 'maybe', '4.5'].map(choiceValue)).toEqual([1, 0, 4, null, null]);
});

test('dispatch configures the project from the packet once; a published revision patches it and notifies HTTP vendors', async () => {
  const deps = testDeps(database, testConfig({ GATEWAY_PUBLIC_URL: base }, database));
  const target = await vendorAdapterCache(database.db, deps.config)('studio');
  const patches = () => studio.calls.filter((c) => c.method === 'PATCH');
  const links = await dispatchLinks(database.db, deps.config, target, [{ programId: 'p1', version: 1 }], new Date());
  expect(patches()).toHaveLength(1);
  expect(studio.project.label_config).toContain('<Header value="p1: guidelines v1"/>');
  expect(studio.project).toMatchObject({ show_instruction: true });
  expect(studio.project.expert_instruction).toMatch(/Rate each criterion\..*Gold examples.*two stacked clauses/s);
  expect((await fetch(links.get('p1/1')!.url)).status).toBe(200);
  // The same version again: Label Studio already has it, nothing is patched.
  await dispatchLinks(database.db, deps.config, target, [{ programId: 'p1', version: 1 }], new Date());
  expect(patches()).toHaveLength(1);

  const packet1 = (await loadRaterPacket(database.db, 'p1', 1))!;
  await database.db.insert(guidelineVersions).values({
    programId: 'p1',
    version: 2,
    text: 'v2: compare with the gold examples first.',
    criteria: (await database.db.select().from(guidelineVersions).where(eq(guidelineVersions.programId, 'p1')))[0]
      .criteria,
    note: 'raters split on tone',
    author: 'pm',
  });
  const acts = createGuidelineActivities(deps);
  await acts.announceGuidelines({ programId: 'p1', version: 2, vendorId: 'studio' });
  expect(patches()).toHaveLength(2);
  expect(studio.project.expert_instruction).toContain('v2: compare with the gold examples first.');
  expect(studio.project.label_config).not.toBe(labelStudioConfig(packet1));

  await acts.announceGuidelines({ programId: 'p1', version: 2, vendorId: 'acme' });
  expect(notices).toHaveLength(1);
  const notice = guidelinesNoticeSchema.parse(JSON.parse(notices[0].body));
  expect(notice).toMatchObject({
    type: 'guidelines.published',
    programId: 'p1',
    version: 2,
    note: 'raters split on tone',
  });
  verifySignature([httpSecret], notices[0].body, notices[0].headers as Record<string, string>, 300);
  expect(await (await fetch(notice.guidelines.url)).json()).toMatchObject({ version: 2 });
  // A vendor that fails: retryable (5xx) or not (4xx) for Temporal; an unknown version is not retried.
  vendorStatus = 503;
  await expect(acts.announceGuidelines({ programId: 'p1', version: 2, vendorId: 'acme' })).rejects.toThrow(/503/);
  vendorStatus = 400;
  await expect(acts.announceGuidelines({ programId: 'p1', version: 2, vendorId: 'acme' })).rejects.toMatchObject({
    nonRetryable: true,
  });
  vendorStatus = 200;
  await expect(acts.announceGuidelines({ programId: 'p1', version: 9, vendorId: 'acme' })).rejects.toMatchObject({
    type: 'GuidelinesNotFound',
    nonRetryable: true,
  });
});
