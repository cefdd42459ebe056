/**
 * One human-task price rule (the SQL function judgeflow_task_cost_usd, migration 0003) on every
 * path that prices a task, against a real Postgres: over rate cards with rate / review / write /
 * perTask prices, missing keys and zeros, the gateway's batched statement, its one-by-one path
 * (applyVendorEvent) and taskCostUsd (the fix loop's budget check) charge the same, and that is the
 * expected price; the budget check prices a writer by a perTask card; a card that does not hold a
 * number where the rule reads one is refused by every path, charging nothing.
 */
import { inArray } from 'drizzle-orm';
import { createProductionActivities } from '../production/activities';
import { programs, taskBatches, tasks, usageLedger, vendors } from '../schema/tables';
import type { VendorEvent } from '../schema/vendor-events';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { applyCompletions, type Completion } from '../workers/gateway-completions';
import { taskCostUsd } from './accounting';
import { applyVendorEvent } from './inbox';

type Kind = 'rate' | 'review' | 'write';
const KINDS: Kind[] = ['rate', 'review', 'write'];

const cards: { name: string; card: Record<string, unknown>; expected: Record<Kind, number> }[] = [
  { name: 'a price per kind', card: { rate: 0.5, review: 1, write: 5 }, expected: { rate: 0.5, review: 1, write: 5 } },
  { name: 'perTask only', card: { perTask: 2 }, expected: { rate: 2, review: 2, write: 2 } },
  {
    name: 'one kind, perTask for the others',
    card: { rate: 0.25, perTask: 2 },
    expected: { rate: 0.25, review: 2, write: 2 },
  },
  { name: 'one kind, no perTask', card: { review: 1.5 }, expected: { rate: 0, review: 1.5, write: 0 } },
  { name: 'an empty card', card: {}, expected: { rate: 0, review: 0, write: 0 } },
  {
    name: 'a zero price is a price, not a missing one',
    card: { rate: 0, write: 0, perTask: 3 },
    expected: { rate: 0, review: 3, write: 0 },
  },
  { name: 'a zero perTask', card: { write: 7, perTask: 0 }, expected: { rate: 0, review: 0, write: 7 } },
  {
    name: 'a JSON null is a missing price',
    card: { rate: null, perTask: 1.25 },
    expected: { rate: 1.25, review: 1.25, write: 1.25 },
  },
  {
    name: 'keys the rule does not read are ignored',
    card: { rate: 0.1, review: 0.2, write: 0.3, perTask: 9, currency: 'USD' },
    expected: { rate: 0.1, review: 0.2, write: 0.3 },
  },
];

let database: TestDatabase;
let itemIds: string[];
const criteria = ['tone', 'clarity'];
let slot = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ itemIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 5,
    vendors: [{ id: 'v', secrets: [newSecret()], raters: ['r1'] }],
  }));
  await database.db.insert(taskBatches).values(
    KINDS.map((kind) => ({
      id: `b-${kind}`,
      programId: 'p1',
      phase: 'calibration',
      round: 1,
      kind,
      guidelineVersion: 1,
    })),
  );
});

afterAll(async () => {
  await database?.drop();
});

/** An open task of `kind` assigned to rater r1 of vendor v (write tasks revise their own item). */
async function task(id: string, kind: Kind, itemId = itemIds[0]) {
  await database.db.insert(tasks).values({
    id,
    batchId: `b-${kind}`,
    programId: 'p1',
    itemId,
    textHash: 'h',
    slot: slot++,
    vendorId: 'v',
    raterId: 'v:r1',
    kind,
    guidelineVersion: 1,
    status: 'dispatched',
    payload: kind === 'write' ? { criteria } : { criteria, context: {} },
  });
}

const completion = (taskId: string): Completion => ({
  type: 'task.completed',
  taskId,
  raterId: 'r1',
  labels: criteria.map((criterion) => ({ criterion, value: 1, explanation: '', errorCodes: [] })),
});
const revision = (taskId: string): VendorEvent => ({
  type: 'revision.submitted',
  taskId,
  raterId: 'r1',
  text: `Revised by ${taskId}.`,
  notes: '',
});
const oneByOne = (rateCard: unknown, event: VendorEvent) =>
  database.db.transaction((tx) =>
    applyVendorEvent(tx, { id: 'v', rateCard: rateCard as Record<string, number> }, event),
  );

/** What each path stored for its tasks: the task's cost and its ledger charge, which must agree. */
async function charges(ids: string[]): Promise<Record<string, number>> {
  const taskRows = await database.db
    .select({ id: tasks.id, costUsd: tasks.costUsd, status: tasks.status })
    .from(tasks)
    .where(inArray(tasks.id, ids));
  const ledger = await database.db
    .select({ key: usageLedger.requestKey, costUsd: usageLedger.costUsd })
    .from(usageLedger)
    .where(inArray(usageLedger.requestKey, ids));
  const charged = Object.fromEntries(ledger.map((l) => [l.key, l.costUsd]));
  for (const t of taskRows) {
    expect(t.status).toBe('completed');
    expect([t.id, charged[t.id]]).toEqual([t.id, t.costUsd]);
  }
  expect(ledger.length).toBe(ids.length);
  return charged;
}

test('the batched statement, applyVendorEvent and taskCostUsd charge the same, the expected price, for every card and kind', async () => {
  // The batched path: every rate and review completion of every card in ONE statement, each row
  // priced by its own card (as for completions of different vendors arriving together).
  const batched = cards.flatMap((c, i) =>
    (['rate', 'review'] as const).map((kind) => ({ id: `c${i}-${kind}-batched`, kind, card: c.card })),
  );
  for (const t of batched) await task(t.id, t.kind);
  const out = await applyCompletions(
    database.sql,
    batched.map((t) => ({
      vendor: { id: 'v', rateCard: t.card as Record<string, number> },
      deliveryId: `d-${t.id}`,
      event: completion(t.id),
    })),
  );
  expect(out.map((o) => o?.status)).toEqual(batched.map(() => 202));

  // The one-by-one path: the same completions, and writer revisions (which only it applies).
  const single = cards.flatMap((c, i) => KINDS.map((kind) => ({ id: `c${i}-${kind}-one`, kind, card: c.card })));
  for (const t of single) {
    await task(t.id, t.kind, t.kind === 'write' ? itemIds[1] : itemIds[0]);
    const result = await oneByOne(t.card, t.kind === 'write' ? revision(t.id) : completion(t.id));
    expect([t.id, result.status]).toEqual([t.id, 202]);
  }

  const byBatch = await charges(batched.map((t) => t.id));
  const byOne = await charges(single.map((t) => t.id));
  const got: Record<string, Record<string, Record<string, number>>> = {};
  const want: typeof got = {};
  for (const [i, c] of cards.entries()) {
    got[c.name] = {};
    want[c.name] = {};
    for (const kind of KINDS) {
      const paths: Record<string, number> = {
        oneByOne: byOne[`c${i}-${kind}-one`],
        taskCostUsd: await taskCostUsd(database.db, c.card, kind),
      };
      if (kind !== 'write') paths.batched = byBatch[`c${i}-${kind}-batched`];
      got[c.name][kind] = paths;
      want[c.name][kind] = Object.fromEntries(Object.keys(paths).map((p) => [p, c.expected[kind]]));
    }
  }
  expect(got).toEqual(want);
});

test("the fix loop's budget check prices a writer task by a perTask card", async () => {
  const acts = createProductionActivities(testDeps(database));
  await database.db.insert(programs).values({ id: 'pb', name: 'pb', spec: {}, budgetUsd: 100 });
  await database.db.insert(vendors).values({
    id: 'per-task-writers',
    name: 'per-task-writers',
    kind: 'http',
    endpoint: 'http://127.0.0.1:9/unused',
    rateCard: { rate: 1, perTask: 40 },
    config: {},
  });
  const start = async (itemId: string) => {
    const cycle = await acts.openFixCycle({ programId: 'pb', itemId, failingCriteria: ['tone'] });
    return acts.startFixAttempt({
      programId: 'pb',
      cycleId: cycle.cycleId,
      attempt: 1,
      failingCriteria: ['tone'],
      beforeHash: cycle.textHash,
      writerVendorId: 'per-task-writers',
    });
  };
  // $40 a writer task: two fit in $100, a third would make $120.
  expect(await start(itemIds[2])).toEqual({ started: true });
  expect(await start(itemIds[3])).toEqual({ started: true });
  expect(await start(itemIds[4])).toEqual({ started: false, committedUsd: 80, writeUsd: 40, budgetUsd: 100 });
});

test('a card without a number where the rule reads one is refused by every path, and nothing is charged', async () => {
  const refused = (key: string, value: string) => ({
    code: '22023',
    message: `rate card price "${key}" must be a non-negative JSON number, not ${value}`,
  });
  const viaDrizzle = (key: string, value: string) => ({ cause: refused(key, value) });
  await expect(taskCostUsd(database.db, { rate: '0.5' }, 'rate')).rejects.toMatchObject(viaDrizzle('rate', '"0.5"'));
  await expect(taskCostUsd(database.db, { write: -1 }, 'write')).rejects.toMatchObject(viaDrizzle('write', '-1'));
  await expect(taskCostUsd(database.db, { write: true }, 'write')).rejects.toMatchObject(viaDrizzle('write', 'true'));
  await expect(taskCostUsd(database.db, { perTask: '2' }, 'review')).rejects.toMatchObject(
    viaDrizzle('perTask', '"2"'),
  );
  await expect(taskCostUsd(database.db, null, 'rate')).rejects.toMatchObject({
    cause: { code: '22023', message: 'rate card must be a JSON object, not null' },
  });
  await expect(taskCostUsd(database.db, [1], 'rate')).rejects.toMatchObject({
    cause: { code: '22023', message: 'rate card must be a JSON object, not [1]' },
  });
  // Only the keys the rule reads for the kind are checked.
  expect(await taskCostUsd(database.db, { rate: 1, review: 'x' }, 'rate')).toBe(1);
  expect(await taskCostUsd(database.db, { rate: 1, perTask: 'x' }, 'rate')).toBe(1);

  const bad = { rate: 'free', perTask: 2 };
  await task('bad-batched', 'rate');
  await task('bad-one', 'rate');
  await task('bad-write', 'write', itemIds[1]);
  await expect(
    applyCompletions(database.sql, [
      {
        vendor: { id: 'v', rateCard: bad as unknown as Record<string, number> },
        deliveryId: 'd-bad',
        event: completion('bad-batched'),
      },
    ]),
  ).rejects.toMatchObject(refused('rate', '"free"'));
  await expect(oneByOne(bad, completion('bad-one'))).rejects.toMatchObject(viaDrizzle('rate', '"free"'));
  await expect(oneByOne({ write: '5' }, revision('bad-write'))).rejects.toMatchObject(viaDrizzle('write', '"5"'));
  const ids = ['bad-batched', 'bad-one', 'bad-write'];
  expect(
    (
      await database.db
        .select({ status: tasks.status, costUsd: tasks.costUsd })
        .from(tasks)
        .where(inArray(tasks.id, ids))
    ).map((t) => [t.status, t.costUsd]),
  ).toEqual(ids.map(() => ['dispatched', 0]));
  expect(await database.db.select().from(usageLedger).where(inArray(usageLedger.requestKey, ids))).toEqual([]);
});
