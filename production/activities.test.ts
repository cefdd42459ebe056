import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCatalog } from '../catalog/import';
import { createProductionActivities, type ItemSelection } from './activities';
import { eq } from 'drizzle-orm';
import { programs, usageLedger, vendors } from '../schema/tables';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';

let database: TestDatabase;
let acts: ReturnType<typeof createProductionActivities>;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  acts = createProductionActivities(testDeps(database));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'production-'));
  await database.db.insert(programs).values({ id: 'p1', name: 'p1', spec: {}, budgetUsd: 100 });
  await database.db.insert(vendors).values({
    id: 'writers',
    name: 'writers',
    kind: 'http',
    endpoint: 'http://127.0.0.1:9/v1/tasks',
    rateCard: { rate: 1, review: 2, write: 30 },
    config: {},
  });
});
afterAll(async () => {
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const catalog = (name: string, synopses: [string, string][]) => {
  const file = path.join(dir, name);
  const lines = [
    JSON.stringify({ kind: 'show', id: 'show-1', title: 'Show' }),
    ...synopses.map(([id, text]) => JSON.stringify({ kind: 'synopsis', id, showId: 'show-1', text })),
  ];
  fs.writeFileSync(file, lines.join('\n'));
  return file;
};

/** Walks a selection the way the run and its shards do: shards of `shardSize`, pages of `page`. */
async function walk(selection: ItemSelection, shardSize: number, page: number) {
  const seen: string[] = [];
  let shards = 0;
  let after: string | null = null;
  for (
    let range = await acts.nextShard({ programId: 'p1', selection, after, size: shardSize });
    range;
    range = await acts.nextShard({ programId: 'p1', selection, after, size: shardSize })
  ) {
    shards++;
    expect(range.count).toBeLessThanOrEqual(shardSize);
    let cursor = range.after;
    let inShard = 0;
    for (
      let ids = await acts.shardItems({
        programId: 'p1',
        selection,
        after: cursor,
        through: range.through,
        limit: page,
      });
      ids.length;
      ids = await acts.shardItems({ programId: 'p1', selection, after: cursor, through: range.through, limit: page })
    ) {
      expect(ids.length).toBeLessThanOrEqual(page);
      seen.push(...ids);
      inShard += ids.length;
      cursor = ids[ids.length - 1];
    }
    expect(inShard).toBe(range.count);
    after = range.through;
  }
  return { seen, shards };
}

test('shards and pages cover every selected item exactly once, in id order', async () => {
  const ids = Array.from({ length: 103 }, (_, i) => `item-${String(i).padStart(4, '0')}`);
  await importCatalog(
    database.sql,
    catalog(
      'all.jsonl',
      ids.map((id) => [id, `Text of ${id}.`]),
    ),
  );
  const { seen, shards } = await walk({ kind: 'all' }, 10, 3);
  expect(shards).toBe(11);
  expect(seen).toEqual(ids);
  expect(new Set(seen).size).toBe(seen.length);

  const { total } = await acts.startProductionRun({
    programId: 'p1',
    runKey: 'p1/r1',
    mode: 'sync',
    selection: { kind: 'all', limit: 50 },
    params: {},
  });
  expect(total).toBe(50);
  const again = await acts.startProductionRun({
    programId: 'p1',
    runKey: 'p1/r1',
    mode: 'sync',
    selection: { kind: 'all', limit: 50 },
    params: {},
  });
  expect(again.total).toBe(50);
  const rows = await database.sql`select total_items, status from production_runs where id = 'p1/r1'`;
  expect(rows).toEqual([{ total_items: 50, status: 'running' }]);
});

test('changedSince selects exactly the synopses an import created or edited', async () => {
  const edit = await importCatalog(
    database.sql,
    catalog('edit.jsonl', [
      ['item-0005', 'Text of item-0005.'], // unchanged
      ['item-0007', 'A new text for item 7.'], // edited
      ['item-9999', 'A brand new synopsis.'], // new
    ]),
  );
  expect(edit).toMatchObject({ newItems: 1, editedItems: 1, unchangedItems: 1 });
  const { seen } = await walk({ kind: 'changedSince', since: edit.importedAt }, 1, 1);
  expect(seen).toEqual(['item-0007', 'item-9999']);
  const future = new Date(Date.parse(edit.importedAt) + 60_000).toISOString();
  expect(
    await acts.nextShard({
      programId: 'p1',
      selection: { kind: 'changedSince', since: future },
      after: null,
      size: 10,
    }),
  ).toBeNull();
  expect((await walk({ kind: 'items', itemIds: ['item-0003', 'nope', 'item-0001'] }, 5, 5)).seen).toEqual([
    'item-0001',
    'item-0003',
  ]);
  expect((await walk({ kind: 'items', itemIds: [] }, 5, 5)).seen).toEqual([]);
});

test('failing items, judges’ summaries and fix cycles follow the item’s current text', async () => {
  const [item] = await database.sql<{ text_hash: string }[]>`select text_hash from items where id = 'item-0001'`;
  await database.sql`insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples, summary) values
    ('p1/r1', 'p1', 'item-0001', ${item.text_hash}, 'tone', 0, 3, 'Too flat.'),
    ('p1/r1', 'p1', 'item-0001', ${item.text_hash}, 'clarity', 1, 3, 'Clear.'),
    ('p1/r1', 'p1', 'item-0001', 'an-older-hash', 'precision', 0, 3, 'Old text.'),
    ('p1/r1', 'p1', 'item-0002', 'an-older-hash', 'tone', 0, 3, 'Old text.')`;
  expect(await acts.failingItems({ runKey: 'p1/r1', itemIds: ['item-0001', 'item-0002', 'item-0003'] })).toEqual([
    { itemId: 'item-0001', failingCriteria: ['tone'] },
  ]);
  expect(await acts.failingItems({ runKey: 'p1/r1', itemIds: [] })).toEqual([]);
  expect(await acts.judgeSummaries({ runKey: 'p1/r1', itemId: 'item-0001', criteria: ['tone', 'precision'] })).toEqual({
    tone: 'Too flat.',
  });

  const cycle = await acts.openFixCycle({ programId: 'p1', itemId: 'item-0001', failingCriteria: ['tone'] });
  expect(cycle).toMatchObject({ textHash: item.text_hash, status: 'open', attempts: 0 });
  expect(await acts.openFixCycle({ programId: 'p1', itemId: 'item-0001', failingCriteria: ['tone'] })).toEqual(cycle);
  await acts.startFixAttempt({
    programId: 'p1',
    cycleId: cycle.cycleId,
    attempt: 1,
    failingCriteria: ['tone'],
    beforeHash: item.text_hash,
    writerVendorId: 'writers',
  });
  await acts.startFixAttempt({
    programId: 'p1',
    cycleId: cycle.cycleId,
    attempt: 1,
    failingCriteria: ['tone'],
    beforeHash: item.text_hash,
    writerVendorId: 'writers',
  });
  await acts.finishFixAttempt({
    cycleId: cycle.cycleId,
    attempt: 1,
    taskId: null,
    afterHash: 'h2',
    outcome: 'failed',
    stillFailing: ['tone'],
  });
  expect(await acts.openFixCycle({ programId: 'p1', itemId: 'item-0001', failingCriteria: ['tone'] })).toMatchObject({
    status: 'open',
    attempts: 1,
  });
  await acts.startFixAttempt({
    programId: 'p1',
    cycleId: cycle.cycleId,
    attempt: 2,
    failingCriteria: ['tone'],
    beforeHash: 'h2',
    writerVendorId: 'writers',
  });
  await acts.finishFixAttempt({
    cycleId: cycle.cycleId,
    attempt: 2,
    taskId: null,
    afterHash: 'h3',
    outcome: 'passed',
    stillFailing: [],
  });
  expect(await acts.openFixCycle({ programId: 'p1', itemId: 'item-0001', failingCriteria: ['tone'] })).toMatchObject({
    status: 'passed',
    attempts: 2,
  });
  const attempts =
    await database.sql`select attempt, before_hash, after_hash, outcome, still_failing from fix_attempts order by attempt`;
  expect(attempts).toEqual([
    { attempt: 1, before_hash: item.text_hash, after_hash: 'h2', outcome: 'failed', still_failing: ['tone'] },
    { attempt: 2, before_hash: 'h2', after_hash: 'h3', outcome: 'passed', still_failing: [] },
  ]);
  await expect(
    acts.openFixCycle({ programId: 'p1', itemId: 'no-such-item', failingCriteria: ['tone'] }),
  ).rejects.toThrow(/unknown item no-such-item/);
});

test('a fix attempt starts only when spend, open writer tasks and its own stay within the budget', async () => {
  const start = (cycleId: string, itemId: string, attempt = 1) =>
    acts.startFixAttempt({
      programId: 'p1',
      cycleId,
      attempt,
      failingCriteria: ['tone'],
      beforeHash: itemId,
      writerVendorId: 'writers',
    });
  await database.db
    .insert(usageLedger)
    .values({ requestKey: 'task:earlier', programId: 'p1', phase: 'pilot', kind: 'human_task', costUsd: 50 });
  const a = await acts.openFixCycle({ programId: 'p1', itemId: 'item-0002', failingCriteria: ['tone'] });
  const b = await acts.openFixCycle({ programId: 'p1', itemId: 'item-0003', failingCriteria: ['tone'] });
  // $50 spent + $30 for a's writer: within $100.
  expect(await start(a.cycleId, 'item-0002')).toEqual({ started: true });
  // b would make it $50 + $30 (a, not charged yet) + $30.
  expect(await start(b.cycleId, 'item-0003')).toEqual({
    started: false,
    committedUsd: 80,
    writeUsd: 30,
    budgetUsd: 100,
  });
  expect(await database.sql`select fix_cycle_id from fix_attempts where fix_cycle_id = ${b.cycleId}`).toEqual([]);
  // A retry of the started attempt changes nothing and still answers started.
  expect(await start(a.cycleId, 'item-0002')).toEqual({ started: true });
  await database.db.update(programs).set({ budgetUsd: 200 }).where(eq(programs.id, 'p1'));
  expect(await start(b.cycleId, 'item-0003')).toEqual({ started: true });
  expect(await acts.openFixCycle({ programId: 'p1', itemId: 'item-0003', failingCriteria: ['tone'] })).toMatchObject({
    attempts: 1,
  });
  await expect(
    acts.startFixAttempt({
      programId: 'p1',
      cycleId: b.cycleId,
      attempt: 2,
      failingCriteria: ['tone'],
      beforeHash: 'x',
      writerVendorId: 'nobody',
    }),
  ).rejects.toThrow(/unknown writer vendor nobody/);
});
