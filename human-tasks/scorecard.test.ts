/**
 * The vendor scorecard (vendorReport) against a real Postgres, on tasks whose figures are known:
 * per vendor and per rater, tasks, SLA hit rate, turnaround p50/p95 (percentile_cont, interpolated),
 * declines, reassignments, expiries and spend; one program or all of them; `vendor report`'s CSV.
 */
import { taskBatches, tasks } from '../schema/tables';
import { vendorReportCsv } from '../scripts/commands/vendor';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { vendorReport } from './accounting';

let database: TestDatabase;
let itemIds: string[];
const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  ({ itemIds } = await seedWorld(database.db, {
    programId: 'p1',
    items: 10,
    vendors: [
      { id: 'acme', secrets: [newSecret()], raters: ['r1', 'r2'] },
      { id: 'beta', secrets: [newSecret()], raters: ['r3'] },
    ],
  }));
  await seedWorld(database.db, { programId: 'p2', items: 1, vendors: [] });
  await database.db.insert(taskBatches).values(
    ['p1', 'p2'].map((programId) => ({
      id: `${programId}-b`,
      programId,
      phase: 'calibration',
      round: 1,
      kind: 'rate',
      guidelineVersion: 1,
    })),
  );
  let slot = 0;
  /** A task dispatched at T0, due 60 minutes later; `doneMin`: completed after that many minutes. */
  const task = (rater: string, status: string, doneMin?: number, costUsd = 0, programId = 'p1') => ({
    id: `t${slot}`,
    batchId: `${programId}-b`,
    programId,
    itemId: programId === 'p1' ? itemIds[slot % itemIds.length] : 'p2-item-0',
    textHash: 'h',
    slot: slot++,
    vendorId: rater.split(':')[0],
    raterId: rater,
    kind: 'rate',
    guidelineVersion: 1,
    status,
    dispatchedAt: new Date(T0),
    dueAt: new Date(T0 + 60 * MIN),
    completedAt: doneMin === undefined ? null : new Date(T0 + doneMin * MIN),
    costUsd,
  });
  await database.db.insert(tasks).values([
    // acme:r1 — completed at 10, 20, 30 and 90 minutes (the last one late), one reassigned away.
    task('acme:r1', 'completed', 10, 0.5),
    task('acme:r1', 'completed', 20, 0.5),
    task('acme:r1', 'completed', 30, 0.5),
    task('acme:r1', 'completed', 90, 0.5),
    task('acme:r1', 'reassigned'),
    // acme:r2 — one completed on time, one declined, one expired, one still open.
    task('acme:r2', 'completed', 40, 0.5),
    task('acme:r2', 'declined'),
    task('acme:r2', 'expired'),
    task('acme:r2', 'dispatched'),
    // beta:r3 — nothing completed yet.
    task('beta:r3', 'dispatched'),
    // Another program's task: only in the all-programs report.
    task('acme:r1', 'completed', 5, 2, 'p2'),
  ]);
});

afterAll(async () => {
  await database?.drop();
});

test('per vendor and per rater: tasks, SLA hit rate, turnaround p50/p95, declines, reassignments and spend', async () => {
  const rows = await vendorReport(database.db, 'p1');
  expect(rows.map((r) => [r.vendorId, r.raterId])).toEqual([
    ['acme', null],
    ['acme', 'acme:r1'],
    ['acme', 'acme:r2'],
    ['beta', null],
    ['beta', 'beta:r3'],
  ]);
  const [acme, r1, r2, beta, r3] = rows;
  // r1: 3 of 5 decided on time (4 completed, 1 late; the reassigned task counts as missed).
  expect(r1).toMatchObject({ tasks: 5, completed: 4, declined: 0, reassigned: 1, expired: 0, costUsd: 2 });
  expect(r1.slaHitRate).toBeCloseTo(3 / 5);
  // percentile_cont over 10, 20, 30, 90 minutes: p50 = 25, p95 = 30 + 0.85 × 60 = 81 minutes.
  expect(r1.turnaroundP50Ms).toBe(25 * MIN);
  expect(r1.turnaroundP95Ms).toBe(81 * MIN);
  expect(r2).toMatchObject({ tasks: 4, completed: 1, declined: 1, reassigned: 0, expired: 1, costUsd: 0.5 });
  expect(r2.slaHitRate).toBeCloseTo(1 / 2);
  expect(r2.turnaroundP50Ms).toBe(40 * MIN);
  // The vendor: its raters together (10, 20, 30, 40, 90 → p50 30 minutes), 4 on time of 7 decided.
  expect(acme).toMatchObject({ tasks: 9, completed: 5, declined: 1, reassigned: 1, expired: 1, costUsd: 2.5 });
  expect(acme.slaHitRate).toBeCloseTo(4 / 7);
  expect(acme.turnaroundP50Ms).toBe(30 * MIN);
  // Nothing decided yet: no rate and no turnaround, not 0.
  for (const r of [beta, r3])
    expect(r).toMatchObject({
      tasks: 1,
      completed: 0,
      slaHitRate: null,
      turnaroundP50Ms: null,
      turnaroundP95Ms: null,
      costUsd: 0,
    });
});

test('without a program: every program; an unknown program: no rows', async () => {
  const all = await vendorReport(database.db);
  expect(all.find((r) => r.raterId === 'acme:r1')).toMatchObject({ tasks: 6, completed: 5, costUsd: 4 });
  expect(all.find((r) => r.vendorId === 'acme' && r.raterId === null)).toMatchObject({ tasks: 10, costUsd: 4.5 });
  expect(await vendorReport(database.db, 'no-such-program')).toEqual([]);
});

test('CSV: one header and one line per vendor and rater, empty cells for missing figures', async () => {
  const lines = vendorReportCsv(await vendorReport(database.db, 'p1'))
    .trimEnd()
    .split('\n');
  expect(lines[0]).toBe(
    'vendor,rater,tasks,completed,declined,reassigned,expired,sla_hit_rate,turnaround_p50_ms,turnaround_p95_ms,spend_usd',
  );
  expect(lines).toHaveLength(6);
  expect(lines[1]).toBe('acme,,9,5,1,1,1,0.5714,1800000,4800000,2.5');
  expect(lines[5]).toBe('beta,beta:r3,1,0,0,0,0,,,,0');
});
