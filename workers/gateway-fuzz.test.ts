/**
 * Property-based test of the gateway (fast-check) against a real Postgres over real HTTP: thousands
 * of correctly signed random deliveries — random structure, wrong types, huge numbers, deep
 * nesting, strings with NUL bytes and lone UTF-16 surrogates, duplicate and oversize delivery ids,
 * odd vendor paths, Label Studio webhooks — and
 *   - no answer is a 5xx (a vendor retries a 5xx forever, so input must never cause one);
 *   - an otherwise valid event with NUL or a lone surrogate in any of its fields gets
 *     400 invalid_event naming that field;
 *   - afterwards, every task that no accepted (202) event named is exactly as before, and labels,
 *     charges and revisions exist only for accepted tasks.
 * FUZZ_SEED=<n> replays a run (fast-check prints the seed of a failing one).
 */
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { createLogger } from '../platform/logger';
import { taskBatches, tasks } from '../schema/tables';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld, snapshot } from '../test/human-tasks-fixture';
import { signHeaders } from '../vendors/signing';
import { startFakeLabelStudio, type FakeLabelStudio } from '../test/fake-label-studio';
import { buildGateway, type Gateway } from './gateway';

jest.setTimeout(120_000);

const secretA = newSecret();
const secretB = newSecret();
const lsToken = 'ls-fuzz-token-0123456789';
const criteria = ['tone', 'clarity'];
const RATE = Array.from({ length: 60 }, (_, i) => `a-rate-${i}`);
const WRITE = Array.from({ length: 12 }, (_, i) => `a-write-${i}`);
const LS = Array.from({ length: 20 }, (_, i) => `ls-${i}`);
/** Another vendor's tasks: the fuzzer names them too, and must never change them. */
const FOREIGN = Array.from({ length: 10 }, (_, i) => `b-rate-${i}`);
const ALL_TASKS = [...RATE, ...WRITE, ...LS, ...FOREIGN];

let database: TestDatabase;
let gateway: Gateway;
let base: string;

let studio: FakeLabelStudio;

beforeAll(async () => {
  database = await createTestDatabase();
  // Label Studio holds none of the fuzzer's annotations: the well-formed ones are refused as forged.
  studio = await startFakeLabelStudio({ token: 'x', projectId: 1 });
  const { itemIds } = await seedWorld(database.db, {
    programId: 'pf',
    items: 16,
    vendors: [
      { id: 'vendor-a', secrets: [secretA], raters: ['r1', 'r2'] },
      { id: 'vendor-b', secrets: [secretB], raters: ['r9'] },
      {
        id: 'studio',
        kind: 'label-studio',
        endpoint: studio.url,
        secrets: [lsToken],
        raters: ['17', '18'],
        config: { projectId: 1, apiToken: 'x' },
      },
    ],
  });
  for (const [id, kind] of [
    ['fz-rate', 'rate'],
    ['fz-write', 'write'],
  ] as const)
    await database.db
      .insert(taskBatches)
      .values({ id, programId: 'pf', phase: 'calibration', round: 1, kind, guidelineVersion: 1 });
  const task = (id: string, i: number, vendorId: string, rater: string, kind: 'rate' | 'write', itemId: string) => ({
    id,
    batchId: kind === 'write' ? 'fz-write' : 'fz-rate',
    programId: 'pf',
    itemId,
    textHash: 'h',
    slot: i,
    vendorId,
    raterId: `${vendorId}:${rater}`,
    kind,
    guidelineVersion: 1,
    status: 'dispatched' as const,
    payload: { criteria, context: {} },
  });
  // Items 0–11 carry rating tasks (slots keep them unique); items 12–15 carry the write tasks.
  await database.db
    .insert(tasks)
    .values([
      ...RATE.map((id, i) => task(id, i, 'vendor-a', i % 2 ? 'r2' : 'r1', 'rate', itemIds[i % 12])),
      ...LS.map((id, i) => task(id, 100 + i, 'studio', '17', 'rate', itemIds[i % 12])),
      ...FOREIGN.map((id, i) => task(id, 200 + i, 'vendor-b', 'r9', 'rate', itemIds[i % 12])),
      ...WRITE.map((id, i) => task(id, i, 'vendor-a', 'r1', 'write', itemIds[12 + (i % 4)])),
    ]);
  const config = testConfig({ GATEWAY_BODY_LIMIT_BYTES: String(256 * 1024), GATEWAY_MAX_IN_FLIGHT: '1000' }, database);
  gateway = await buildGateway({ db: database.db, config, logger: createLogger('test', 'silent') });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await database?.drop();
  await studio?.close();
});

// ---- The known cases, one by one ---------------------------------------------------------------

describe('text PostgreSQL cannot store gets 400 invalid_event naming the field, and nothing is stored', () => {
  const completion = (over: Record<string, unknown> = {}, explanation = 'fine') => ({
    type: 'task.completed',
    taskId: 'a-rate-0',
    raterId: 'r1',
    labels: [
      { criterion: 'tone', value: 1 },
      { criterion: 'clarity', value: 0, explanation, errorCodes: ['LONG'] },
    ],
    ...over,
  });
  const cases: [string, unknown, string][] = [
    ['NUL in the task id', completion({ taskId: 'a-rate-0\u0000' }), 'taskId'],
    ['NUL in the rater id', completion({ raterId: 'r\u00001' }), 'raterId'],
    ['a lone high surrogate in an explanation', completion({}, 'stacked \uD83D clauses'), 'labels.1.explanation'],
    [
      'a lone low surrogate in an error code',
      completion({
        labels: [
          { criterion: 'tone', value: 1 },
          { criterion: 'clarity', value: 0, errorCodes: ['\uDE00'] },
        ],
      }),
      'labels.1.errorCodes.0',
    ],
    [
      'NUL in a criterion',
      completion({
        labels: [
          { criterion: 'to\u0000ne', value: 1 },
          { criterion: 'clarity', value: 0 },
        ],
      }),
      'labels.0.criterion',
    ],
    ['NUL in a decline reason', { type: 'task.declined', taskId: 'a-rate-0', reason: 'busy\u0000' }, 'reason'],
    ['NUL in an expiry reason', { type: 'task.expired', taskId: 'a-rate-0', reason: '\u0000' }, 'reason'],
    [
      'NUL in a revision',
      { type: 'revision.submitted', taskId: 'a-write-0', raterId: 'r1', text: 'A calm\u0000 synopsis.' },
      'text',
    ],
    [
      'a lone surrogate in revision notes',
      { type: 'revision.submitted', taskId: 'a-write-0', raterId: 'r1', text: 'A calm synopsis.', notes: '\uDFFF' },
      'notes',
    ],
  ];
  test.each(cases)('%s', async (_name, event, path) => {
    const before = await snapshot(database.db);
    const text = JSON.stringify(event);
    const res = await fetch(`${base}/v1/vendors/vendor-a/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signHeaders(secretA, text) },
      body: text,
    });
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect([res.status, body.error.code]).toEqual([400, 'invalid_event']);
    expect(body.error.details.map((d) => d.path)).toContain(path);
    expect(body.error.message).toContain(path);
    expect(await snapshot(database.db)).toEqual(before);
  });

  test('a vendor id no vendor can have in the URL gets 404 vendor_not_found', async () => {
    for (const vendor of ['%00', '%ED%A0%80', 'v'.repeat(101)]) {
      const text = JSON.stringify(completion());
      const res = await fetch(`${base}/v1/vendors/${vendor}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signHeaders(secretA, text) },
        body: text,
      });
      expect(res.status).toBeLessThan(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(
        /^(vendor_not_found|bad_url|bad_request)$/,
      );
    }
  });

  test('the Label Studio webhook goes through the same validation', async () => {
    const hook = (taskId: string, updatedAt: string, explanation: string, fromName = 'tone') => ({
      action: 'ANNOTATION_CREATED',
      task: { id: 41, data: { judgeflow_task_id: taskId } },
      annotation: {
        id: 7,
        completed_by: 17,
        updated_at: updatedAt,
        result: [
          { from_name: fromName, to_name: 'text', type: 'choices', value: { choices: ['pass'] } },
          { from_name: 'clarity', to_name: 'text', type: 'choices', value: { choices: ['fail'] } },
          { from_name: 'clarity_explanation', to_name: 'text', type: 'textarea', value: { text: [explanation] } },
          // A deeply nested value where text is expected is ignored, not a stack overflow.
          { from_name: 'tone_explanation', to_name: 'text', type: 'textarea', value: { text: '<deep>' } },
        ],
      },
    });
    const send = (body: unknown) =>
      fetch(`${base}/v1/vendors/studio/label-studio`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-judgeflow-token': lsToken },
        body: JSON.stringify(body).replaceAll('"<deep>"', `${'['.repeat(5000)}${']'.repeat(5000)}`),
      });
    const before = await snapshot(database.db);
    for (const [body, path] of [
      [hook('ls-0\u0000', '2026-01-01T00:00:00Z', 'ok'), 'task.data.judgeflow_task_id'],
      [hook('ls-0', '2026-01-01T00:00:00Z\u0000', 'ok'), 'annotation.updated_at'],
      [hook('ls-0', '2026-01-01T00:00:00Z', 'too \uD800 long'), 'labels.1.explanation'],
      [hook('ls-0', '2026-01-01T00:00:00Z', 'ok', 'to\u0000ne'), 'labels.0.criterion'],
    ] as const) {
      const res = await send(body);
      const answer = (await res.json()) as { error: { code: string; details: { path: string }[] } };
      expect([res.status, answer.error.code]).toEqual([400, 'invalid_event']);
      expect(answer.error.details.map((d) => d.path)).toContain(path);
    }
    // A deeply nested value where choices are expected is an unknown choice (422), not a stack overflow.
    const deepChoices = hook('ls-0', '2026-01-01T00:00:00Z', 'ok');
    deepChoices.annotation.result.push({
      from_name: 'mood',
      to_name: 'text',
      type: 'choices',
      value: { choices: '<deep>' as never },
    });
    const res = await send(deepChoices);
    const answer = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, answer.error.code]).toEqual([422, 'unknown_choice']);
    expect(answer.error.message).toContain('mood="(an array, not of strings)"');
    expect(await snapshot(database.db)).toEqual(before);
  });
});

// ---- Arbitraries -------------------------------------------------------------------------------

const NASTY = [
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\uDFFF\uD800',
  '\uD83D\uDE00',
  '\u2028',
  '\uFFFE',
  '\\u0000',
  '</synopsis>',
  "'; drop table tasks; --",
  '%00',
  '\r\n',
  '',
];
const clean = (s: string) => s.replace(/\u0000|[\uD800-\uDFFF]/gu, '');
/** Any text, NUL bytes and lone surrogates included. */
const anyText = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
      { weight: 1, arbitrary: fc.constantFrom(...NASTY) },
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(''));
/** Text PostgreSQL can store. */
const goodText = fc.string({ unit: 'binary', maxLength: 40 }).map(clean);

/**
 * Values JSON.stringify cannot write (numbers beyond float64, overflow, deep nesting) go in as
 * placeholders that are replaced in the signed body text.
 */
const RAW = [
  '1e999',
  '-1e999',
  '123456789012345678901234567890',
  '1e-400',
  '-0.0',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
];
const raw = fc.nat({ max: RAW.length - 1 }).map((k) => `\u0001RAW${k}\u0001`);
const substituteRaw = (text: string) => text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, k: string) => RAW[Number(k)]);

/** A value of any JSON type, for fields that expect another. */
const wrong = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: raw },
  { weight: 1, arbitrary: anyText },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2 ** 53 + 1, -1, 11, 0.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, true, null, [], {}),
  },
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: arb }, { weight: 1, arbitrary: wrong });

const label = (criterion: string) =>
  fc.record(
    {
      criterion: fc.constant(criterion),
      value: fc.integer({ min: 0, max: 1 }),
      explanation: goodText,
      errorCodes: fc.array(
        goodText.filter((s) => s.length > 0),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: ['criterion', 'value'] },
  );

/** Events that would be accepted (or refused for state: closed task, another vendor's task…). */
const plausible = fc.oneof(
  fc.record({
    type: fc.constant('task.completed'),
    taskId: fc.constantFrom(...RATE, ...FOREIGN, ...WRITE),
    raterId: fc.constantFrom('r1', 'r2'),
    labels: fc.tuple(label('tone'), label('clarity'), fc.boolean()).map(([a, b, swap]) => (swap ? [b, a] : [a, b])),
  }),
  fc.record(
    {
      type: fc.constant('task.declined'),
      taskId: fc.constantFrom(...RATE, ...FOREIGN),
      raterId: fc.constantFrom('r1', 'r2'),
      reason: goodText,
    },
    { requiredKeys: ['type', 'taskId'] },
  ),
  fc.record(
    { type: fc.constant('task.expired'), taskId: fc.constantFrom(...RATE, ...FOREIGN), reason: goodText },
    { requiredKeys: ['type', 'taskId'] },
  ),
  fc.record(
    {
      type: fc.constant('revision.submitted'),
      taskId: fc.constantFrom(...WRITE, ...RATE),
      raterId: fc.constantFrom('r1', 'r2'),
      text: goodText.filter((s) => s.length > 0),
      notes: goodText,
    },
    { requiredKeys: ['type', 'taskId', 'raterId', 'text'] },
  ),
);

/** Every string of an event and where it is (`labels.0.explanation`), but the discriminator. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return path.length && path.join('.') !== 'type' ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...path, i]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
  return [];
}
function update(value: unknown, path: (string | number)[], change: (s: string) => string): unknown {
  if (!path.length) return change(value as string);
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
  copy[path[0]] = update(copy[path[0]], path.slice(1), change);
  return copy;
}

/** A plausible event with a NUL byte or a lone surrogate put into one of its strings. */
const poisoned = fc
  .tuple(plausible, fc.nat(), fc.nat(), fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'))
  .map(([event, pick, at, bad]) => {
    const paths = stringPaths(event);
    const path = paths[pick % paths.length];
    return {
      event: update(event, path, (s) => s.slice(0, at % (s.length + 1)) + bad + s.slice(at % (s.length + 1))),
      path: path.join('.'),
    };
  });

/** Random structure: the schema's keys with values of any type, extra keys, or any JSON at all. */
const chaotic = fc.oneof(
  plausible.chain((event) => {
    const keys = Object.keys(event);
    return fc.tuple(fc.constantFrom(...keys), wrong).map(([k, v]) => ({ ...event, [k]: v }));
  }),
  fc.record(
    {
      type: maybe(
        fc.constantFrom('task.completed', 'task.declined', 'task.expired', 'revision.submitted', 'task.finished'),
      ),
      taskId: maybe(fc.oneof(fc.constantFrom(...ALL_TASKS), anyText)),
      raterId: maybe(fc.oneof(fc.constantFrom('r1', 'r2', 'r9'), anyText)),
      labels: maybe(
        fc.array(
          fc.record(
            {
              criterion: maybe(fc.oneof(fc.constantFrom(...criteria), anyText)),
              value: wrong,
              explanation: maybe(anyText),
              errorCodes: maybe(fc.array(anyText)),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
      ),
      text: maybe(anyText),
      notes: maybe(anyText),
      reason: maybe(anyText),
      occurredAt: maybe(
        fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          anyText,
        ),
      ),
      extra: wrong,
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(anyText, wrong, { maxKeys: 4 }),
  wrong,
);

type Delivery =
  | { to: 'events'; vendor: string; id: string; body: unknown; mangle: 'none' | 'literal-nul'; poisonedPath?: string }
  | { to: 'label-studio'; hook: unknown; poisoned: boolean };

let counter = 0;
const freshId = fc.constant(null).map(() => `fuzz-${process.pid}-${++counter}`);
const deliveryId = fc.oneof(
  { weight: 12, arbitrary: freshId },
  { weight: 2, arbitrary: fc.constantFrom('dup-0', 'dup-1', 'dup-2') },
  { weight: 1, arbitrary: fc.integer({ min: 201, max: 400 }).map((n) => 'i'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 })
      .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, '_').trim() || 'x'),
  },
);
const vendorPath = fc.oneof(
  { weight: 30, arbitrary: fc.constant('vendor-a') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%00',
      '%ED%A0%80',
      '%E0%A4%A',
      'v'.repeat(150),
      'vendor-b',
      'studio',
      'ghost',
      '%F0%9F%98%80',
      '..%2F..',
    ),
  },
);

const eventDelivery: fc.Arbitrary<Delivery> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      to: fc.constant('events' as const),
      vendor: vendorPath,
      id: deliveryId,
      body: plausible,
      mangle: fc.constant('none' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      to: fc.constant('events' as const),
      vendor: vendorPath,
      id: deliveryId,
      body: chaotic,
      mangle: fc.constantFrom('none' as const, 'none' as const, 'literal-nul' as const),
    }),
  },
  // Poisoned events go with a fresh id to the right URL, so their answer is determined by the body alone.
  {
    weight: 3,
    arbitrary: fc
      .record({
        to: fc.constant('events' as const),
        vendor: fc.constant('vendor-a'),
        id: freshId,
        poison: poisoned,
        mangle: fc.constant('none' as const),
      })
      .map(({ poison, ...d }) => ({ ...d, body: poison.event, poisonedPath: poison.path })),
  },
);

/** A Label Studio annotation webhook, plausible or not; `poisoned` when a field the event uses holds NUL or a lone surrogate. */
const lsDelivery: fc.Arbitrary<Delivery> = fc
  .record({
    action: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('ANNOTATION_CREATED', 'ANNOTATION_UPDATED') },
      { weight: 1, arbitrary: maybe(fc.constantFrom('TASK_DELETED', 'PROJECT_UPDATED')) },
    ),
    taskId: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...LS, ...RATE) }, { weight: 1, arbitrary: wrong }),
    annotationId: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1, max: 10_000 }) },
      { weight: 1, arbitrary: wrong },
    ),
    completedBy: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(17, 18, 99) },
      { weight: 1, arbitrary: fc.constant({ id: 17 }) },
      { weight: 1, arbitrary: wrong },
    ),
    updatedAt: fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .date({ min: new Date(2025, 0, 1), max: new Date(2027, 0, 1), noInvalidDate: true })
          .map((d) => d.toISOString()),
      },
      { weight: 1, arbitrary: wrong },
    ),
    cancelled: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(false, false, false, true) },
      { weight: 1, arbitrary: wrong },
    ),
    values: fc.tuple(fc.constantFrom('pass', 'fail', 'Pass', 'maybe'), fc.constantFrom('pass', 'fail')),
    explanation: maybe(fc.oneof(goodText, fc.array(goodText, { maxLength: 3 }))),
    extra: fc.option(
      fc.record({
        from_name: anyText,
        type: fc.constantFrom('choices', 'textarea', 'rating'),
        value: fc.dictionary(fc.constantFrom('choices', 'text', 'rating'), wrong),
      }),
      { nil: undefined },
    ),
    poison: fc.option(
      fc.tuple(
        fc.constantFrom('taskId', 'updatedAt', 'criterion', 'explanation'),
        fc.constantFrom('\u0000', '\uD800', '\uDC00'),
      ),
      { nil: undefined },
    ),
  })
  .map((h) => {
    const poison = (s: string) => (h.poison ? `${s.slice(0, 1)}${h.poison[1]}${s.slice(1)}` : s);
    const at = (field: string) => h.poison?.[0] === field;
    const taskId = at('taskId') && typeof h.taskId === 'string' ? poison(h.taskId) : h.taskId;
    const updatedAt = at('updatedAt') && typeof h.updatedAt === 'string' ? poison(h.updatedAt) : h.updatedAt;
    const explanation = at('explanation')
      ? poison(typeof h.explanation === 'string' ? `${h.explanation}.` : 'why')
      : h.explanation;
    const result: unknown[] = [
      {
        from_name: at('criterion') ? poison('tone') : 'tone',
        to_name: 'text',
        type: 'choices',
        value: { choices: [h.values[0]] },
      },
      { from_name: 'clarity', to_name: 'text', type: 'choices', value: { choices: [h.values[1]] } },
      { from_name: 'clarity_explanation', to_name: 'text', type: 'textarea', value: { text: explanation } },
      ...(h.extra ? [h.extra] : []),
    ];
    const hook = {
      action: h.action,
      task: { id: 41, data: { judgeflow_task_id: taskId, text: '…' } },
      annotation: {
        id: h.annotationId,
        completed_by: h.completedBy,
        was_cancelled: h.cancelled,
        updated_at: updatedAt,
        result,
      },
    };
    // Poison decides the answer only when everything else about the hook is well-formed.
    const wellFormed =
      (h.action === 'ANNOTATION_CREATED' || h.action === 'ANNOTATION_UPDATED') &&
      typeof h.taskId === 'string' &&
      typeof h.annotationId === 'number' &&
      (typeof h.completedBy === 'number' ||
        (typeof h.completedBy === 'object' &&
          h.completedBy !== null &&
          !Array.isArray(h.completedBy) &&
          typeof (h.completedBy as { id?: unknown }).id === 'number')) &&
      typeof h.updatedAt === 'string' &&
      (h.cancelled === true || h.cancelled === false) &&
      !h.cancelled &&
      (typeof explanation === 'string' || Array.isArray(explanation) || at('explanation')) &&
      !h.extra;
    return { to: 'label-studio' as const, hook, poisoned: !!h.poison && wellFormed };
  });

const delivery = fc.oneof({ weight: 5, arbitrary: eventDelivery }, { weight: 1, arbitrary: lsDelivery });

// ---- Sending and checking ----------------------------------------------------------------------

const accepted = new Set<string>();
const statuses = new Map<string, number>();

async function send(d: Delivery): Promise<{ status: number; body: any }> {
  let res: Response;
  if (d.to === 'events') {
    let text = substituteRaw(JSON.stringify(d.body) ?? 'null');
    if (d.mangle === 'literal-nul') text = text.replace(/\\u0000/g, '\u0000');
    res = await fetch(`${base}/v1/vendors/${d.vendor}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signHeaders(secretA, text, d.id) },
      body: text,
    });
  } else {
    const text = substituteRaw(JSON.stringify(d.hook));
    res = await fetch(`${base}/v1/vendors/studio/label-studio`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-judgeflow-token': lsToken },
      body: text,
    });
  }
  const body: any = await res.json().catch(() => undefined);
  const key = `${res.status} ${body?.error?.code ?? (body?.accepted ? 'accepted' : body?.ignored ? 'ignored' : '?')}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  if (res.status === 202 && body?.accepted && typeof body.taskId === 'string') accepted.add(body.taskId);
  return { status: res.status, body };
}

function check(d: Delivery, res: { status: number; body: any }) {
  if (res.status >= 500)
    throw new Error(`answered ${res.status} ${JSON.stringify(res.body)} to ${JSON.stringify(d).slice(0, 2000)}`);
  if (res.status >= 400 && typeof res.body?.error?.code !== 'string')
    throw new Error(`error ${res.status} without an error code: ${JSON.stringify(res.body)}`);
  if (d.to === 'events' && d.poisonedPath !== undefined) {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'invalid_event' });
    expect(res.body.error.details.map((i: { path: string }) => i.path)).toContain(d.poisonedPath);
    expect(res.body.error.message).toContain(d.poisonedPath);
  }
  if (d.to === 'label-studio' && d.poisoned)
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'invalid_event' });
}

/** Every row a delivery can change, keyed by the task (or item) it belongs to. */
async function state() {
  const rows = async (query: ReturnType<typeof sql>) =>
    (await database.db.execute(query)) as unknown as Record<string, unknown>[];
  return {
    tasks: new Map((await rows(sql`select * from tasks`)).map((r) => [r.id as string, r])),
    items: new Map((await rows(sql`select * from items`)).map((r) => [r.id as string, r])),
    labels: await rows(sql`select task_id from labels`),
    ledger: await rows(sql`select request_key from usage_ledger where kind = 'human_task'`),
    revisions: await rows(sql`select item_id from item_revisions`),
  };
}

test('thousands of signed random deliveries: no 5xx, poisoned fields get 400 invalid_event, unnamed tasks unchanged', async () => {
  const before = await state();
  const started = Date.now();
  let sent = 0;
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  // Each run posts a few deliveries at once, as vendors do (and as the gateway batches them).
  await fc.assert(
    fc.asyncProperty(fc.array(delivery, { minLength: 4, maxLength: 16 }), async (batch) => {
      const answers = await Promise.all(batch.map(send));
      sent += batch.length;
      batch.forEach((d, i) => check(d, answers[i]));
    }),
    { numRuns: 230, seed },
  );
  await gateway.flushSignals();
  const after = await state();
  console.log(
    JSON.stringify({
      sent,
      seconds: (Date.now() - started) / 1000,
      accepted: accepted.size,
      statuses: Object.fromEntries([...statuses].sort()),
    }),
  );

  expect(sent).toBeGreaterThan(2000);
  // The generators reach every kind of answer that matters: accepted, refused for state, invalid.
  expect(accepted.size).toBeGreaterThan(10);
  expect([...statuses.keys()]).toEqual(
    expect.arrayContaining([
      '400 invalid_event',
      '400 invalid_json',
      '400 bad_webhook_id',
      '404 task_not_found',
      '409 task_closed',
      '404 vendor_not_found',
    ]),
  );

  const changed = [...after.tasks.keys()].filter(
    (id) => JSON.stringify(after.tasks.get(id)) !== JSON.stringify(before.tasks.get(id)),
  );
  expect(changed.filter((id) => !accepted.has(id))).toEqual([]);
  expect(FOREIGN.filter((id) => accepted.has(id))).toEqual([]);
  expect(after.tasks.size).toBe(before.tasks.size);
  expect(after.labels.filter((l) => !accepted.has(l.task_id as string))).toEqual([]);
  expect(after.ledger.filter((l) => !accepted.has(l.request_key as string))).toEqual([]);
  // Items change only through an accepted revision of one of their write tasks.
  const revisedItems = new Set(
    WRITE.filter((id) => accepted.has(id)).map((id) => before.tasks.get(id)!.item_id as string),
  );
  const changedItems = [...after.items.keys()].filter(
    (id) => JSON.stringify(after.items.get(id)) !== JSON.stringify(before.items.get(id)),
  );
  expect(changedItems.filter((id) => !revisedItems.has(id))).toEqual([]);
  expect(after.revisions.filter((r) => !revisedItems.has(r.item_id as string))).toEqual([]);
});
