/**
 * What the gateway refuses by the program's rules, over real HTTP and a real Postgres: a label
 * value outside its criterion's scale, an error code outside the taxonomy or of another criterion,
 * a paused rater, a rater of another vendor or none, a rater outside their locales, a rater not qualified for the task or not yet
 * through the program's qualification batch. Each gets its own code and stores nothing; the
 * batched statement leaves every one of them to the general path, and still takes the valid ones.
 */
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { signHeaders } from '../vendors/signing';
import { labels, programs, raterQualifications, raters, taskBatches, tasks } from '../schema/tables';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld, snapshot } from '../test/human-tasks-fixture';
import { createLogger } from '../platform/logger';
import { buildGateway, type Gateway } from './gateway';
import { applyCompletions, type Completion } from './gateway-completions';

let database: TestDatabase;
let gateway: Gateway;
let base: string;
const secretA = newSecret();
const secretB = newSecret();
const criteria = ['tone', 'overall'];
const taxonomy = [
  { code: 'TONE_CLICKBAIT', criterion: 'tone', description: 'clickbait' },
  { code: 'OVERALL_THIN', criterion: 'overall', description: 'says little' },
];
const spec = (qualification?: { items: number; minAccuracy: number }) => ({
  criteria: [
    { id: 'tone', scale: 'binary' },
    { id: 'overall', scale: 'likert', points: 5 },
  ],
  errorTaxonomy: taxonomy,
  raters: { minGoldAccuracy: 0.7, minGoldAnswers: 10, onDrift: 'flag', ...(qualification ? { qualification } : {}) },
});
let itemIds: string[];
let taskCount = 0;

/** A dispatched task of vendor-a assigned to `rater`, in program `programId`. */
async function task(rater = 'r1', opts: { programId?: string; qualification?: boolean } = {}) {
  const programId = opts.programId ?? 'rules';
  const id = `${programId}-t${taskCount++}`;
  await database.db.insert(tasks).values({
    id,
    batchId: `${programId}-batch`,
    programId,
    itemId: itemIds[taskCount % itemIds.length],
    textHash: 'h',
    slot: taskCount,
    vendorId: 'vendor-a',
    raterId: `vendor-a:${rater}`,
    kind: 'rate',
    guidelineVersion: 1,
    status: 'dispatched',
    payload: { criteria, context: {}, ...(opts.qualification ? { qualification: true } : {}) },
  });
  return id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  ({ itemIds } = await seedWorld(database.db, {
    programId: 'rules',
    items: 4,
    vendors: [
      { id: 'vendor-a', secrets: [secretA], raters: ['r1', 'r2', 'paused', 'fr-only'] },
      { id: 'vendor-b', secrets: [secretB], raters: ['r9'] },
    ],
  }));
  await database.db.update(programs).set({ spec: spec() }).where(eq(programs.id, 'rules'));
  await database.db
    .insert(programs)
    .values({ id: 'qual', name: 'qual', spec: spec({ items: 2, minAccuracy: 0.5 }), budgetUsd: 100 });
  for (const programId of ['rules', 'qual'])
    await database.db.insert(taskBatches).values({
      id: `${programId}-batch`,
      programId,
      phase: 'calibration',
      round: 1,
      kind: 'rate',
      guidelineVersion: 1,
    });
  await database.db
    .update(raters)
    .set({ status: 'paused', pausedReason: 'gold accuracy too low', pausedBy: 'qa' })
    .where(eq(raters.id, 'vendor-a:paused'));
  await database.db
    .update(raters)
    .set({ qualification: { locales: ['fr-FR'] } })
    .where(eq(raters.id, 'vendor-a:fr-only'));
  const config = testConfig({}, database);
  gateway = await buildGateway({ db: database.db, config, logger: createLogger('test', 'silent') });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await database?.drop();
});

type Label = { criterion: string; value: number; errorCodes?: string[] };
const valid: Label[] = [
  { criterion: 'tone', value: 0, errorCodes: ['TONE_CLICKBAIT'] },
  { criterion: 'overall', value: 5 },
];
const event = (taskId: string, raterId: string, labelled: Label[] = valid): Completion => ({
  type: 'task.completed',
  taskId,
  raterId,
  labels: labelled.map((l) => ({ explanation: '', errorCodes: [], ...l })),
});

async function deliver(body: Completion, vendor = 'vendor-a') {
  const text = JSON.stringify(body);
  const res = await fetch(`${base}/v1/vendors/${vendor}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signHeaders(vendor === 'vendor-a' ? secretA : secretB, text) },
    body: text,
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; details?: unknown } } };
}

/** Delivers an event that must be refused with `status` and `code`, and checks nothing was stored. */
async function expectRefused(body: Completion, status: number, code: string) {
  const before = await snapshot(database.db);
  const res = await deliver(body);
  expect([res.status, res.body.error?.code]).toEqual([status, code]);
  expect(await snapshot(database.db)).toEqual(before);
  return res.body.error;
}

describe('labels outside the program rules', () => {
  test('a value outside the binary scale gets 422 label_out_of_scale', async () => {
    const error = await expectRefused(
      event(await task(), 'r1', [{ criterion: 'tone', value: 2 }, valid[1]]),
      422,
      'label_out_of_scale',
    );
    expect(error?.details).toEqual({ criterion: 'tone', value: 2, min: 0, max: 1 });
  });

  test('a value outside the Likert 1..5 scale gets 422 label_out_of_scale', async () => {
    const error = await expectRefused(
      event(await task(), 'r1', [valid[0], { criterion: 'overall', value: 0 }]),
      422,
      'label_out_of_scale',
    );
    expect(error?.details).toEqual({ criterion: 'overall', value: 0, min: 1, max: 5 });
  });

  test('an error code outside the taxonomy gets 422 unknown_error_code', async () => {
    await expectRefused(
      event(await task(), 'r1', [{ criterion: 'tone', value: 0, errorCodes: ['MADE_UP'] }, valid[1]]),
      422,
      'unknown_error_code',
    );
  });

  test("another criterion's error code gets 422 error_code_of_other_criterion", async () => {
    const error = await expectRefused(
      event(await task(), 'r1', [{ criterion: 'tone', value: 0, errorCodes: ['OVERALL_THIN'] }, valid[1]]),
      422,
      'error_code_of_other_criterion',
    );
    expect(error?.details).toMatchObject({ criterion: 'tone', errorCode: 'OVERALL_THIN', codeCriterion: 'overall' });
  });

  test('labels inside the rules are stored, with their codes', async () => {
    const id = await task();
    expect((await deliver(event(id, 'r1'))).status).toBe(202);
    const stored = await database.db.select().from(labels).where(eq(labels.taskId, id));
    expect(stored.map((l) => [l.criterion, l.value, l.errorCodes]).sort()).toEqual([
      ['overall', 5, []],
      ['tone', 0, ['TONE_CLICKBAIT']],
    ]);
  });
});

describe('who may answer', () => {
  test('a paused rater gets 403 rater_paused, on their own task and on one routed to them', async () => {
    await expectRefused(event(await task('paused'), 'paused'), 403, 'rater_paused');
    await expectRefused(event(await task('r1'), 'paused'), 403, 'rater_paused');
  });

  test('a rater of another vendor and an unknown rater get 404 rater_not_found', async () => {
    // Rater ids are per vendor: vendor-a learns nothing about vendor-b's raters.
    await expectRefused(event(await task(), 'r9'), 404, 'rater_not_found');
    await expectRefused(event(await task(), 'vendor-b:r9'), 404, 'rater_not_found');
    await expectRefused(event(await task(), 'nobody'), 404, 'rater_not_found');
  });

  test('a rater answers only in their locales, their own task too: 403 rater_not_qualified_for_locale', async () => {
    // the vendor's rater list now says fr-FR only, and the task's item is en-US
    const error = await expectRefused(event(await task('fr-only'), 'fr-only'), 403, 'rater_not_qualified_for_locale');
    expect(error?.details).toEqual({ locale: 'en-US', raterLocales: ['fr-FR'] });
    await expectRefused(event(await task('r1'), 'fr-only'), 403, 'rater_not_qualified_for_locale');
  });

  test("a task routed to another rater needs that rater's qualification: 403 rater_not_qualified", async () => {
    await database.db
      .update(raters)
      .set({ qualification: { kinds: ['review'] } })
      .where(eq(raters.id, 'vendor-a:r2'));
    await expectRefused(event(await task('r1'), 'r2'), 403, 'rater_not_qualified');
    await database.db.update(raters).set({ qualification: {} }).where(eq(raters.id, 'vendor-a:r2'));
    // Another active, qualified rater of the vendor may take it.
    const id = await task('r1');
    expect((await deliver(event(id, 'r2'))).status).toBe(202);
    const [row] = await database.db.select().from(tasks).where(eq(tasks.id, id));
    expect([row.status, row.raterId]).toEqual(['completed', 'vendor-a:r2']);
  });

  test('in a program with a qualification batch, only qualification tasks come before a pass', async () => {
    const work = await task('r1', { programId: 'qual' });
    await expectRefused(event(work, 'r1'), 403, 'rater_not_qualified');
    expect((await deliver(event(await task('r1', { programId: 'qual', qualification: true }), 'r1'))).status).toBe(202);
    await database.db.insert(raterQualifications).values([
      { programId: 'qual', raterId: 'vendor-a:r1', locale: 'en-US', status: 'failed' },
      // a pass in another locale than the task's item does not count
      { programId: 'qual', raterId: 'vendor-a:r1', locale: 'es-ES', status: 'passed' },
    ]);
    await expectRefused(event(work, 'r1'), 403, 'rater_not_qualified');
    await database.db
      .update(raterQualifications)
      .set({ status: 'passed' })
      .where(eq(raterQualifications.programId, 'qual'));
    expect((await deliver(event(work, 'r1'))).status).toBe(202);
  });
});

test('the batched statement takes valid completions and leaves every refused one to the general path', async () => {
  const vendor = { id: 'vendor-a', rateCard: { rate: 0.5 } };
  const cases: [string, Completion][] = [
    ['valid', event(await task(), 'r1')],
    ['out of scale', event(await task(), 'r1', [{ criterion: 'tone', value: 3 }, valid[1]])],
    ['Likert 0', event(await task(), 'r1', [valid[0], { criterion: 'overall', value: 0 }])],
    ['unknown code', event(await task(), 'r1', [{ criterion: 'tone', value: 0, errorCodes: ['X'] }, valid[1]])],
    [
      'other criterion',
      event(await task(), 'r1', [{ criterion: 'tone', value: 0, errorCodes: ['OVERALL_THIN'] }, valid[1]]),
    ],
    ['paused', event(await task('paused'), 'paused')],
    ['outside locales', event(await task('fr-only'), 'fr-only')],
    ['not qualified yet', event(await task('r2', { programId: 'qual' }), 'r2')],
    ['qualification task', event(await task('r2', { programId: 'qual', qualification: true }), 'r2')],
  ];
  const before = await snapshot(database.db);
  const out = await applyCompletions(
    database.sql,
    cases.map(([name, e]) => ({ vendor, deliveryId: `batched-${name}`, event: e })),
  );
  expect(Object.fromEntries(cases.map(([name], i) => [name, out[i]?.status ?? null]))).toEqual({
    valid: 202,
    'out of scale': null,
    'Likert 0': null,
    'unknown code': null,
    'other criterion': null,
    paused: null,
    'outside locales': null,
    'not qualified yet': null,
    'qualification task': 202,
  });
  expect((await snapshot(database.db)).labels).toBe(before.labels + 4);
});
