/**
 * Rater QA against a real Postgres: nobody is paused before the minimum of gold answers or while
 * the Wilson interval still reaches the bar; a rater surely below it is paused with the evidence;
 * a reinstated rater starts afresh; drift is flagged, and paused where the spec says so; and a
 * program's qualification batch comes before a rater's work, which is sent only once they pass.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import {
  goldAnswers,
  labels,
  programs,
  raterActions,
  raterQualifications,
  raters,
  taskBatches,
  tasks,
} from '../schema/tables';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { createHumanTaskActivities } from './activities';
import { unpackOpenedBatch } from './ids';
import { evaluateRaters, pauseRater, reinstateRater } from './rater-qa';

let database: TestDatabase;
let server: http.Server;
let goldIds: string[];
let itemIds: string[];
const sent: string[] = [];
const pool = ['good', 'bad', 'few', 'unsure', 'drift', 'drift2'].map((id) => ({ id, qualification: {} }));

const raterSpec = (raters: Record<string, unknown>) => ({
  criteria: [{ id: 'tone', scale: 'binary' }],
  sla: { reassignAfter: '1h' },
  raters: { minGoldAccuracy: 0.7, minGoldAnswers: 10, onDrift: 'flag', ...raters },
});

beforeAll(async () => {
  database = await createTestDatabase();
  // A vendor that lists its raters and records the task ids it is sent.
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/tasks/raters')
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ raters: pool }));
      if (req.url === '/v1/tasks')
        sent.push(...(JSON.parse(body) as { tasks: { taskId: string }[] }).tasks.map((t) => t.taskId));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/tasks`;
  ({ itemIds, goldIds } = await seedWorld(database.db, {
    programId: 'qa',
    items: 16,
    gold: 6,
    criteria: ['tone'],
    vendors: [{ id: 'v', endpoint, secrets: [newSecret()], raters: pool.map((r) => r.id) }],
  }));
  await database.db
    .update(programs)
    .set({ spec: raterSpec({}) })
    .where(eq(programs.id, 'qa'));
  await database.db
    .insert(programs)
    .values({ id: 'qa-pause', name: 'qa-pause', spec: raterSpec({ onDrift: 'pause' }), budgetUsd: 10 });
  await database.db
    .insert(goldAnswers)
    .values(goldIds.map((itemId) => ({ programId: 'qa-pause', itemId, criterion: 'tone', label: 1 })));
  for (const programId of ['qa', 'qa-pause'])
    await database.db
      .insert(taskBatches)
      .values({ id: `${programId}-b`, programId, phase: 'calibration', round: 1, kind: 'rate', guidelineVersion: 1 });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await database?.drop();
});

let seq = 0;
/** Completed gold tasks of `rater` in `programId`'s batch, answered in this order (true = right). */
async function answer(rater: string, pattern: boolean[], programId = 'qa') {
  for (const right of pattern) {
    const id = `gold-${seq++}`;
    const itemId = goldIds[seq % goldIds.length];
    await database.db.insert(tasks).values({
      id,
      batchId: `${programId}-b`,
      programId,
      itemId,
      textHash: 'h',
      slot: seq,
      vendorId: 'v',
      raterId: `v:${rater}`,
      kind: 'rate',
      isGold: true,
      guidelineVersion: 1,
      status: 'completed',
      payload: { criteria: ['tone'] },
    });
    await database.db.insert(labels).values({
      taskId: id,
      programId,
      itemId,
      raterId: `v:${rater}`,
      criterion: 'tone',
      value: right ? 1 : 0,
      guidelineVersion: 1,
      phase: 'calibration',
      round: 1,
    });
  }
}
const times = (n: number, right: boolean) => Array<boolean>(n).fill(right);
const rater = async (id: string) =>
  (
    await database.db
      .select()
      .from(raters)
      .where(eq(raters.id, `v:${id}`))
  )[0];
const actions = async (id: string) =>
  (
    await database.db
      .select()
      .from(raterActions)
      .where(eq(raterActions.raterId, `v:${id}`))
      .orderBy(raterActions.id)
  ).map((a) => [a.action, a.actor]);
const qa = (programId = 'qa') =>
  evaluateRaters(database.db, { programId, batchId: `${programId}-b`, minGoldAccuracy: 0.7 });

test('a rater is paused only after the minimum of gold answers and when the upper bound is below the bar', async () => {
  await answer('good', times(12, true));
  await answer('few', times(9, false)); // all wrong, but only 9 of the 10 needed
  await answer('unsure', [...times(5, true), ...times(5, false)]); // 50%, interval up to 76%
  await answer('bad', [...times(3, true), ...times(9, false)]); // 25%, interval up to 53%
  const result = await qa();
  expect(result.paused).toEqual(['v:bad']);
  expect(result.accuracy).toMatchObject({ 'v:good': 1, 'v:few': 0, 'v:unsure': 0.5, 'v:bad': 0.25 });
  const bad = await rater('bad');
  expect([bad.status, bad.pausedBy]).toEqual(['paused', 'qa']);
  expect(bad.pausedReason).toMatch(
    /gold accuracy 25\.0% \(95% CI 8\.9%–53\.2%\) over 12 gold answers: the upper bound is below 70\.0%/,
  );
  expect(await actions('bad')).toEqual([['paused', 'qa']]);
  for (const id of ['good', 'few', 'unsure']) expect((await rater(id)).status).toBe('active');
  // Evaluating again changes nothing and logs nothing more.
  expect((await qa()).paused).toEqual([]);
  expect(await actions('bad')).toEqual([['paused', 'qa']]);
});

test('a reinstated rater is active again, with who and why, and judged only on gold answers from then on', async () => {
  expect(await reinstateRater(database.db, 'v:bad', { actor: 'pm@example.com', reason: 'retrained on v2' })).toBe(true);
  expect(await reinstateRater(database.db, 'v:bad', { actor: 'pm@example.com', reason: 'again' })).toBe(false);
  const bad = await rater('bad');
  expect([bad.status, bad.pausedReason, bad.reinstatedAt instanceof Date]).toEqual(['active', null, true]);
  const [log] = await database.db
    .select()
    .from(raterActions)
    .where(and(eq(raterActions.raterId, 'v:bad'), eq(raterActions.action, 'reinstated')));
  expect([log.actor, log.reason]).toEqual(['pm@example.com', 'retrained on v2']);
  // Their 9 wrong answers before the reinstatement no longer count.
  await new Promise((r) => setTimeout(r, 5));
  await answer('bad', times(4, true));
  const result = await qa();
  expect(result.paused).toEqual([]);
  expect(result.accuracy['v:bad']).toBe(1);
  // A pause by hand records who and why too.
  expect(await pauseRater(database.db, 'v:unsure', { actor: 'pm@example.com', reason: 'complaint from vendor' })).toBe(
    true,
  );
  expect((await rater('unsure')).pausedBy).toBe('pm@example.com');
  // Paused by hand while holding an open task of the batch: reported, so the workflow gives it to another.
  await database.db.insert(tasks).values({
    id: 'open-of-unsure',
    batchId: 'qa-b',
    programId: 'qa',
    itemId: itemIds[0],
    textHash: 'h',
    slot: 0,
    vendorId: 'v',
    raterId: 'v:unsure',
    kind: 'rate',
    guidelineVersion: 1,
    status: 'dispatched',
  });
  expect((await qa()).paused).toEqual(['v:unsure']);
  await database.db.update(tasks).set({ status: 'completed' }).where(eq(tasks.id, 'open-of-unsure'));
  await reinstateRater(database.db, 'v:unsure', { actor: 'pm@example.com', reason: 'cleared' });
});

test('drift is flagged with its evidence; paused only where the spec says onDrift: pause', async () => {
  // 20 right, then 10 of 20: 75% overall (the interval reaches 70%), but a significant fall.
  const pattern = [...times(20, true), ...Array.from({ length: 20 }, (_, i) => i % 2 === 0)];
  await answer('drift', pattern);
  const flagged = await qa();
  expect(flagged.driftFlagged).toEqual(['v:drift']);
  expect(flagged.paused).toEqual([]);
  const drift = await rater('drift');
  expect([drift.status, drift.driftFlaggedAt instanceof Date]).toEqual(['active', true]);
  expect(drift.driftReason).toMatch(/accuracy 50\.0% on the last 20 tasks vs 100\.0% on the 20 before/);
  expect(await actions('drift')).toEqual([['drift_flagged', 'qa']]);
  expect((await qa()).driftFlagged).toEqual([]); // flagged once

  await answer('drift2', pattern, 'qa-pause');
  const paused = await qa('qa-pause');
  expect([paused.driftFlagged, paused.paused]).toEqual([['v:drift2'], ['v:drift2']]);
  expect((await rater('drift2')).pausedReason).toMatch(/^drift: accuracy 50\.0%/);
});

test('with a qualification batch, raters answer gold items first; work is sent to those who pass, and never to those who fail', async () => {
  await database.db.insert(programs).values({
    id: 'qual',
    name: 'qual',
    spec: raterSpec({ qualification: { items: 3, minAccuracy: 0.66 } }),
    budgetUsd: 10,
  });
  await database.db
    .insert(goldAnswers)
    .values(goldIds.map((itemId) => ({ programId: 'qual', itemId, criterion: 'tone', label: 1 })));
  await database.db.update(raters).set({ status: 'paused' }).where(eq(raters.vendorId, 'v'));
  await database.db.update(raters).set({ status: 'active' }).where(eq(raters.id, 'v:good'));
  await database.db.update(raters).set({ status: 'active' }).where(eq(raters.id, 'v:few'));
  const acts = createHumanTaskActivities(testDeps(database));
  const input = {
    batchId: 'qual-1',
    programId: 'qual',
    phase: 'calibration' as const,
    round: 1,
    kind: 'rate' as const,
    itemIds: itemIds.slice(0, 4),
    ratersPerItem: 2,
    criteria: ['tone'],
    vendorIds: ['v'],
    guidelineVersion: 1,
    goldRate: 0,
  };
  const refs = unpackOpenedBatch('qual-1', input.itemIds, await acts.openTaskBatch(input));
  const qualification = refs.filter((t) => t.gold);
  const work = refs.filter((t) => !t.gold);
  expect(work).toHaveLength(8);
  expect(qualification.map((t) => t.raterId).sort()).toEqual(['v:few', 'v:few', 'v:few', 'v:good', 'v:good', 'v:good']);
  sent.length = 0;
  await acts.dispatchTasks({ taskIds: refs.map((t) => t.id), guidelineVersion: 1, dueInMs: 60_000 });
  // Only the qualification tasks go out; the work waits, pending.
  expect(sent.sort()).toEqual(qualification.map((t) => t.id).sort());
  const status = async (ids: string[]) =>
    new Set((await database.db.select().from(tasks)).filter((t) => ids.includes(t.id)).map((t) => t.status));
  expect(await status(work.map((t) => t.id))).toEqual(new Set(['pending']));

  // The gateway stores their answers: good gets all three right, few one of three.
  for (const t of qualification) {
    const right = t.raterId === 'v:good' || t === qualification.find((q) => q.raterId === 'v:few');
    await database.db.update(tasks).set({ status: 'completed' }).where(eq(tasks.id, t.id));
    await database.db.insert(labels).values({
      taskId: t.id,
      programId: 'qual',
      itemId: t.itemId,
      raterId: t.raterId,
      criterion: 'tone',
      value: right ? 1 : 0,
      guidelineVersion: 1,
      phase: 'calibration',
      round: 1,
    });
  }
  sent.length = 0;
  const result = await acts.evaluateRaters({ programId: 'qual', batchId: 'qual-1', minGoldAccuracy: 0.7 });
  // Failing a qualification pauses nobody: the rater's work held in its locale goes to others.
  expect([result.qualified, result.paused]).toEqual([['v:good'], []]);
  expect(result.unqualifiedTasks).toEqual(
    work
      .filter((t) => t.raterId === 'v:few')
      .map((t) => t.id)
      .sort(),
  );
  const goods = work.filter((t) => t.raterId === 'v:good').map((t) => t.id);
  expect(sent.sort()).toEqual(goods.sort());
  expect(await status(goods)).toEqual(new Set(['dispatched']));
  expect(
    (await database.db.select().from(raterQualifications).where(eq(raterQualifications.programId, 'qual'))).map((q) => [
      q.raterId,
      q.status,
      q.correct,
      q.goldAnswers,
    ]),
  ).toEqual(
    expect.arrayContaining([
      ['v:good', 'passed', 3, 3],
      ['v:few', 'failed', 1, 3],
    ]),
  );
  // The one who failed gets no work in the next batch; the one who passed takes no second qualification.
  const later = { ...input, batchId: 'qual-2', itemIds: itemIds.slice(4, 8), ratersPerItem: 1 };
  const next = unpackOpenedBatch('qual-2', later.itemIds, await acts.openTaskBatch(later));
  expect(next.map((t) => [t.raterId, t.gold])).toEqual(later.itemIds.map(() => ['v:good', false]));
});
