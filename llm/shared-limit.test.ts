/**
 * The shared pacer against the real PostgreSQL, on the real clock: pacers that stand for workers
 * on one pool start requests at the pool's limit together (never above it in any second) in about
 * equal parts; when one stops, the others take its part within a second; a 429 seen by one holds
 * the others; other pools are not affected; a database that does not answer makes requests wait
 * (never go unpaced) and a waiting request can still be abandoned.
 */
import { setMaxListeners } from 'node:events';
import { sql } from 'drizzle-orm';
import { connectDatabase, type Database } from '../platform/db';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { SharedPacer } from './shared-limit';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

/** A worker's judging page: `inFlight` requests at a time, each taking its pacer's next start (and `gapMs` on the wire), until stopped. */
function busyWorker(pacer: SharedPacer, inFlight = 20, gapMs = 5) {
  const starts: number[] = [];
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every request in flight listens, as a judging page's do
  const loops = Array.from({ length: inFlight }, async () => {
    while (!stop.signal.aborted) {
      await pacer.acquire(stop.signal);
      if (stop.signal.aborted) return;
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, gapMs)); // the request on the wire
    }
  });
  return {
    starts,
    stop: async () => {
      stop.abort();
      await Promise.all(loops);
    },
  };
}

const between = (starts: number[], from: number, to: number) => starts.filter((t) => t >= from && t < to).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The most starts in any window of `windowMs`. */
function maxInWindow(starts: number[], windowMs: number) {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

test('three workers on one pool: the limit together in equal parts; a stopped one’s part goes to the others within a second', async () => {
  const perMinute = 6000; // 100/s
  const pacers = [0, 1, 2].map(() => new SharedPacer({ db: database.db, pool: 'equal-parts', perMinute }));
  const t0 = Date.now();
  const workers = pacers.map((p) => busyWorker(p));
  await sleep(4000);
  const killedAt = Date.now();
  await workers[2].stop(); // the dead worker: its reserved slots are lost with it
  await sleep(3000);
  const end = Date.now();
  await Promise.all(workers.slice(0, 2).map((w) => w.stop()));

  const all = workers.flatMap((w) => w.starts);
  // Steady state after the first second (which may catch up one second of unused pool).
  const before = between(all, t0 + 1000, killedAt) / ((killedAt - t0 - 1000) / 1000) / 100;
  const parts = workers.map((w) => between(w.starts, t0 + 1000, killedAt) / between(all, t0 + 1000, killedAt));
  const after = between(all, killedAt + 1000, end) / ((end - killedAt - 1000) / 1000) / 100;
  const survivors = workers
    .slice(0, 2)
    .map((w) => between(w.starts, killedAt + 1000, end) / ((end - killedAt - 1000) / 10));
  console.log(JSON.stringify({ before, parts, after, survivors, maxPerSecond: maxInWindow(all, 1000) }));
  expect(before).toBeGreaterThan(0.95);
  expect(before).toBeLessThan(1.03);
  for (const part of parts) expect(Math.abs(part - 1 / 3)).toBeLessThan(0.1);
  expect(after).toBeGreaterThan(0.95);
  expect(after).toBeLessThan(1.03);
  for (const part of survivors) expect(part).toBeGreaterThan(0.4);
  // Never faster than the limit plus the one-second bucket, in any second.
  expect(maxInWindow(all, 1000)).toBeLessThanOrEqual(200 + 2); // + the slots at the window's two ends
  expect(
    maxInWindow(
      all.filter((t) => t >= t0 + 1000),
      1000,
    ),
  ).toBeLessThanOrEqual(105);
}, 30_000);

test('a nearly idle worker lends its part: the busy one gets the rest of the limit', async () => {
  const db = database.db;
  const idle = busyWorker(new SharedPacer({ db, pool: 'lend', perMinute: 3000 }), 1, 250); // ≤ 4 a second
  const busy = busyWorker(new SharedPacer({ db, pool: 'lend', perMinute: 3000 }));
  const t0 = Date.now();
  await sleep(3000);
  await Promise.all([busy.stop(), idle.stop()]);
  const rate = (between(busy.starts, t0 + 1000, t0 + 3000) + between(idle.starts, t0 + 1000, t0 + 3000)) / 2 / 50;
  const idlePart = between(idle.starts, t0 + 1000, t0 + 3000) / 2 / 50;
  console.log(JSON.stringify({ rate, idlePart }));
  expect(rate).toBeGreaterThan(0.95);
  expect(rate).toBeLessThan(1.05);
  expect(idlePart).toBeLessThan(0.1);
}, 20_000);

test('a 429 seen by one worker holds the others until its retry time; another pool is not held', async () => {
  const db = database.db;
  const a = new SharedPacer({ db, pool: 'paused', perMinute: 6000 });
  const b = busyWorker(new SharedPacer({ db, pool: 'paused', perMinute: 6000 }));
  const other = busyWorker(new SharedPacer({ db, pool: 'not-paused', perMinute: 6000 }));
  await sleep(1500);
  const pausedAt = Date.now();
  a.pause(pausedAt + 1500);
  await sleep(2500);
  await Promise.all([b.stop(), other.stop()]);
  // b learns of the pause at its next reservation: the slots it had reserved (≤ ~0.2 s) still start.
  const duringPause = between(b.starts, pausedAt + 300, pausedAt + 1500);
  const afterPause = between(b.starts, pausedAt + 1600, pausedAt + 2500);
  const otherDuring = between(other.starts, pausedAt + 300, pausedAt + 1500);
  console.log(JSON.stringify({ duringPause, afterPause, otherDuring }));
  expect(duringPause).toBe(0);
  expect(afterPause).toBeGreaterThan(60);
  // no catching up after a pause: at most the limit's pace
  expect(afterPause).toBeLessThanOrEqual(95);
  expect(otherDuring).toBeGreaterThan(100);
}, 20_000);

test('a database that does not answer: requests wait instead of going unpaced, and can be abandoned', async () => {
  const broken: Database = await connectDatabase(database.url, { max: 1 });
  await broken.close();
  const warnings: string[] = [];
  const pacer = new SharedPacer({
    db: broken.db,
    pool: 'broken',
    perMinute: 600_000,
    logger: { warn: (_obj: unknown, message: string) => warnings.push(message) } as never,
  });
  const stop = new AbortController();
  let started = false;
  const waiting = pacer.acquire(stop.signal).then(() => (started = true));
  await sleep(1500);
  expect(started).toBe(false);
  expect(warnings[0]).toMatch(/could not reserve LLM request slots from the shared pool/);
  stop.abort();
  await waiting; // resolves at once on abort (the caller sees its signal aborted)
  expect(stop.signal.aborted).toBe(true);
  // the pool row of a working database is one row per pool, whatever the number of workers
  const pools = await database.db.execute<{ pool: string }>(sql`select pool from llm_rate_pools order by pool`);
  expect(pools.map((r) => r.pool)).toEqual(['equal-parts', 'lend', 'not-paused', 'paused']);
}, 20_000);
