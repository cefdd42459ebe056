/**
 * Routing by locale against real Postgres and a vendor reached over HTTP: in a program over en-US
 * and es-ES items, a task goes only to a rater whose locales (the vendor's rater list) hold its
 * item's, a bilingual rater takes both, a rater of neither gets nothing, the task's packet link opens
 * its locale's packet, and each rater's qualification batch is drawn from gold items in their own locales,
 * one per locale: qualified in en-US, a rater takes an es-ES batch before their es-ES work is sent.
 */
import http from 'node:http';
import { eq } from 'drizzle-orm';
import type { AddressInfo } from 'node:net';
import { textHash } from '../catalog/text-hash';
import { generateShow, writeSynopsis } from '../scripts/sim/model/world';
import { Rng } from '../scripts/sim/model/rng';
import { goldAnswers, items, labels, programs, raterQualifications, shows, tasks } from '../schema/tables';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { unpackOpenedBatch } from './ids';
import { listRaters } from './rater-qa';
import { createHumanTaskActivities } from './activities';

let database: TestDatabase;
let server: http.Server;
const secret = newSecret();
const dispatched: Array<{ raterId: string; item: { id: string; locale: string }; guidelines?: { url: string } }> = [];
let english: string[];
const spanish: string[] = [];

const pool = [
  { id: 'en1', qualification: { locales: ['en-US'] } },
  { id: 'en2', qualification: { locales: ['en-US'] } },
  { id: 'es1', qualification: { locales: ['es-ES'] } },
  { id: 'es2', qualification: { locales: ['es-ES'] } },
  { id: 'both', qualification: { locales: ['es-ES', 'en-US'] } },
  { id: 'fr1', qualification: { locales: ['fr-FR'] } },
];
const localesOf = new Map(pool.map((r) => [`v:${r.id}`, r.qualification.locales]));

beforeAll(async () => {
  database = await createTestDatabase();
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/tasks/raters')
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ raters: pool }));
      dispatched.push(...(JSON.parse(body) as { tasks: typeof dispatched }).tasks);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/tasks`;
  ({ itemIds: english } = await seedWorld(database.db, {
    programId: 'p',
    items: 8,
    vendors: [{ id: 'v', endpoint, secrets: [secret] }],
  }));
  for (let i = 0; i < 8; i++) {
    const { id, title, locale, ...metadata } = generateShow(7, i, 'es-ES');
    await database.db.insert(shows).values({ id, title, locale, metadata });
    const text = writeSynopsis(generateShow(7, i, 'es-ES'), Rng.for('fixture', 7, i)).text;
    await database.db.insert(items).values({ id: `p-es-${i}`, showId: id, locale, text, textHash: textHash(text) });
    spanish.push(`p-es-${i}`);
  }
  // a multilingual program: its dispatches link to the packet of the item's locale
  await database.db
    .update(programs)
    .set({ spec: { locales: [{ code: 'en-US' }, { code: 'es-ES' }] } })
    .where(eq(programs.id, 'p'));
  await database.db.insert(programs).values({
    id: 'q',
    name: 'q',
    spec: { criteria: [{ id: 'tone', scale: 'binary' }], raters: { qualification: { items: 2, minAccuracy: 0.5 } } },
    budgetUsd: 10,
  });
  // gold in both locales: the last two items of each
  await database.db.insert(goldAnswers).values(
    [...english.slice(6), ...spanish.slice(6)].map((itemId) => ({
      programId: 'q',
      itemId,
      criterion: 'tone',
      label: 1,
    })),
  );
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await database?.drop();
});

const input = (programId: string, batchId: string, itemIds: string[]) => ({
  batchId,
  programId,
  phase: 'calibration' as const,
  round: 1,
  kind: 'rate' as const,
  itemIds,
  ratersPerItem: 2,
  criteria: ['tone'],
  vendorIds: ['v'],
  guidelineVersion: 1,
  goldRate: 0,
});

test("each task goes to a rater of its item's locale, and the dispatch carries the locale", async () => {
  const acts = createHumanTaskActivities(testDeps(database));
  const itemIds = [...english.slice(0, 6), ...spanish.slice(0, 6)];
  const refs = unpackOpenedBatch('b1', itemIds, await acts.openTaskBatch(input('p', 'b1', itemIds)));
  expect(refs).toHaveLength(24);
  const localeOf = (id: string) => (spanish.includes(id) ? 'es-ES' : 'en-US');
  for (const t of refs) expect(localesOf.get(t.raterId)).toContain(localeOf(t.itemId));
  const who = (locale: string) => new Set(refs.filter((t) => localeOf(t.itemId) === locale).map((t) => t.raterId));
  expect(who('es-ES')).toEqual(new Set(['v:es1', 'v:es2', 'v:both']));
  expect(who('en-US')).toEqual(new Set(['v:en1', 'v:en2', 'v:both']));
  expect(refs.some((t) => t.raterId === 'v:fr1')).toBe(false);
  await acts.dispatchTasks({ taskIds: refs.map((t) => t.id), guidelineVersion: 1, dueInMs: 60_000 });
  expect(dispatched).toHaveLength(24);
  for (const d of dispatched) {
    expect([d.raterId, d.item.locale]).toEqual([d.raterId, localeOf(d.item.id)]);
    expect(new URL(d.guidelines!.url).searchParams.get('locale')).toBe(d.item.locale);
  }
});

test("a rater's qualification batch is gold in their own locales", async () => {
  const acts = createHumanTaskActivities(testDeps(database));
  const itemIds = [english[0], spanish[0]];
  const refs = unpackOpenedBatch('q1', itemIds, await acts.openTaskBatch(input('q', 'q1', itemIds)));
  const gold = refs.filter((t) => t.gold);
  expect(gold.length).toBeGreaterThan(0);
  for (const t of gold) {
    const locale = spanish.includes(t.itemId) ? 'es-ES' : 'en-US';
    expect([t.raterId, localesOf.get(t.raterId)]).toEqual([t.raterId, expect.arrayContaining([locale])]);
  }
  // a native es-ES rater's batch is Spanish only
  const es = gold.filter((t) => localesOf.get(t.raterId)!.join() === 'es-ES');
  expect(es.length).toBeGreaterThan(0);
  expect(es.every((t) => spanish.includes(t.itemId))).toBe(true);
});

test('a rater qualified in en-US takes an es-ES qualification batch, and their es-ES work waits for its pass', async () => {
  const spec = {
    criteria: [{ id: 'tone', scale: 'binary' }],
    raters: { qualification: { items: 2, minAccuracy: 0.5 } },
  };
  await database.db.insert(programs).values({ id: 'q2', name: 'q2', spec, budgetUsd: 10 });
  await database.db.insert(goldAnswers).values(
    [...english.slice(6), ...spanish.slice(6)].map((itemId) => ({
      programId: 'q2',
      itemId,
      criterion: 'tone',
      label: 1,
    })),
  );
  await database.db
    .insert(raterQualifications)
    .values({ programId: 'q2', raterId: 'v:both', locale: 'en-US', status: 'passed' });
  const acts = createHumanTaskActivities(testDeps(database));
  const itemIds = [english[0], spanish[0]];
  const refs = unpackOpenedBatch(
    'q2-1',
    itemIds,
    await acts.openTaskBatch({ ...input('q2', 'q2-1', itemIds), ratersPerItem: 3 }),
  );
  const mine = refs.filter((t) => t.raterId === 'v:both');
  // work in both locales, and a qualification batch in es-ES only: their en-US pass stands
  expect(
    mine
      .filter((t) => !t.gold)
      .map((t) => t.itemId)
      .sort(),
  ).toEqual(itemIds.slice().sort());
  const batch = mine.filter((t) => t.gold);
  expect(batch.map((t) => t.itemId).sort()).toEqual(spanish.slice(6).sort());
  expect((await listRaters(database.db, { programId: 'q2' })).find((r) => r.raterId === 'v:both')?.qualification).toBe(
    'en-US passed, es-ES pending',
  );

  await acts.dispatchTasks({ taskIds: refs.map((t) => t.id), guidelineVersion: 1, dueInMs: 60_000 });
  const statusOf = async (id: string) => (await database.db.select().from(tasks).where(eq(tasks.id, id)))[0].status;
  const work = (locale: string[]) => mine.find((t) => !t.gold && locale.includes(t.itemId))!.id;
  expect(await statusOf(work(english))).toBe('dispatched');
  expect(await statusOf(work(spanish))).toBe('pending');
  for (const t of batch) expect(await statusOf(t.id)).toBe('dispatched');

  // half the batch answered: not graded yet, the es-ES work still waits
  const answer = async (t: (typeof batch)[number]) => {
    await database.db.update(tasks).set({ status: 'completed' }).where(eq(tasks.id, t.id));
    await database.db.insert(labels).values({
      taskId: t.id,
      programId: 'q2',
      itemId: t.itemId,
      raterId: t.raterId,
      criterion: 'tone',
      value: 1,
      guidelineVersion: 1,
      phase: 'calibration',
      round: 1,
    });
  };
  await answer(batch[0]);
  expect((await acts.evaluateRaters({ programId: 'q2', batchId: 'q2-1', minGoldAccuracy: 0 })).qualified).toEqual([]);
  expect(await statusOf(work(spanish))).toBe('pending');
  await answer(batch[1]);
  expect((await acts.evaluateRaters({ programId: 'q2', batchId: 'q2-1', minGoldAccuracy: 0 })).qualified).toContain(
    'v:both',
  );
  expect(await statusOf(work(spanish))).toBe('dispatched');
  const rows = await database.db.select().from(raterQualifications).where(eq(raterQualifications.raterId, 'v:both'));
  expect(
    rows
      .filter((q) => q.programId === 'q2')
      .map((q) => [q.locale, q.status, q.correct])
      .sort(),
  ).toEqual([
    ['en-US', 'passed', 0],
    ['es-ES', 'passed', 2],
  ]);
});
