/**
 * The steering changes' audit rows, written by the program activities that persist each change,
 * against a real PostgreSQL: one row per change with before/after, none for a retry, none for a
 * decision nobody made, and none when the change's transaction fails.
 */
import { asc, eq } from 'drizzle-orm';
import { auditLog, decisionLog, guidelineVersions, programs } from '../schema/tables';
import { createProgramActivities } from '../program/activities';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';

let database: TestDatabase;
let acts: ReturnType<typeof createProgramActivities>;
const spec = { criteria: [{ id: 'tone' }] };

beforeAll(async () => {
  database = await createTestDatabase();
  acts = createProgramActivities(testDeps(database));
  await database.db.insert(programs).values([
    { id: 'steer', name: 'steer', spec, budgetUsd: 100 },
    { id: 'atomic', name: 'atomic', spec, budgetUsd: 100 },
  ]);
});
afterAll(() => database?.drop());

/** Fails with the audit trigger's error (drizzle wraps it as the cause of its "Failed query"). */
async function refusedByAudit(change: Promise<unknown>) {
  const err = (await change.then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & { cause?: Error }) | undefined;
  expect(err?.cause?.message ?? err?.message).toMatch(/audit refused/);
}

const audit = (programId: string) =>
  database.db.select().from(auditLog).where(eq(auditLog.programId, programId)).orderBy(asc(auditLog.id));

test('each steering decision writes one audit row with before/after; a retry and a decision nobody made write none', async () => {
  const base = { programId: 'steer', phase: 'calibration', actor: 'ann' };
  const decisions = [
    { ...base, requestId: 'r-gate', kind: 'gate_approved', note: 'ok', data: { gate: 'pilot', evidence: {} } },
    { ...base, requestId: 'r-pause', kind: 'paused', note: 'vendor outage' },
    { ...base, requestId: 'r-resume', kind: 'resumed' },
    {
      ...base,
      requestId: 'r-targets',
      kind: 'targets_changed',
      data: { before: { agreement: 0.8 }, after: { agreement: 0.7 } },
    },
    { ...base, requestId: 'r-cancel', kind: 'cancelled', actor: 'bob' },
    { ...base, requestId: 'target-reached/1', kind: 'phase_completed', actor: 'judgeflow' },
  ];
  for (const d of decisions) {
    await acts.recordDecision(d);
    await acts.recordDecision(d); // an activity retried after its commit
  }
  const rows = await audit('steer');
  expect(rows.map((r) => [r.action, r.actor, r.requestId, r.entity, r.entityId, r.before, r.after])).toEqual([
    [
      'gate_approved',
      'ann',
      'r-gate',
      'program',
      'steer',
      { gate: 'pilot', approved: false },
      { gate: 'pilot', approved: true },
    ],
    ['paused', 'ann', 'r-pause', 'program', 'steer', { paused: false }, { paused: true, reason: 'vendor outage' }],
    ['resumed', 'ann', 'r-resume', 'program', 'steer', { paused: true }, { paused: false }],
    ['targets_changed', 'ann', 'r-targets', 'program', 'steer', { agreement: 0.8 }, { agreement: 0.7 }],
    [
      'cancelled',
      'bob',
      'r-cancel',
      'program',
      'steer',
      { status: 'running', phase: 'calibration' },
      { status: 'cancelled', phase: 'calibration' },
    ],
  ]);
  expect(rows[0].data).toEqual({ phase: 'calibration', note: 'ok' });
  expect(await database.db.select().from(decisionLog).where(eq(decisionLog.programId, 'steer'))).toHaveLength(6);
});

test('a budget change is audited with the stored budget before it; a state change without one is not', async () => {
  const change = { programId: 'steer', status: 'running', phase: 'calibration', budgetUsd: 250 };
  const budgetChange = { requestId: 'r-budget', actor: 'ann', note: 'two more rounds' };
  await acts.setProgramState({ ...change, budgetChange });
  await acts.setProgramState({ ...change, budgetChange }); // retried
  await acts.setProgramState({ programId: 'steer', status: 'paused', phase: 'calibration' });
  const rows = (await audit('steer')).filter((r) => r.action === 'budget_changed');
  expect(rows.map((r) => [r.actor, r.requestId, r.before, r.after, r.data])).toEqual([
    ['ann', 'r-budget', { budgetUsd: 100 }, { budgetUsd: 250 }, { phase: 'calibration', note: 'two more rounds' }],
  ]);
});

test('a guideline publish is audited with the version it replaced; republishing the same version is not', async () => {
  await database.db
    .insert(guidelineVersions)
    .values({ programId: 'steer', version: 1, text: 'v1', criteria: [], note: 'initial', author: 'spec' });
  const publish = { programId: 'steer', version: 2, text: 'v2', note: 'raters split on tone', actor: 'ann' };
  await acts.publishGuidelineVersion({ ...publish, requestId: 'r-v2' });
  await acts.publishGuidelineVersion({ ...publish, requestId: 'r-v2' });
  const rows = (await audit('steer')).filter((r) => r.action === 'guideline_published');
  expect(rows.map((r) => [r.entity, r.entityId, r.requestId, r.before, r.after, r.data])).toEqual([
    ['guidelines', 'steer', 'r-v2', { version: 1 }, { version: 2 }, { note: 'raters split on tone' }],
  ]);
});

test('a change whose transaction fails leaves neither the change nor an audit row', async () => {
  // An audit write that fails must take the change down with it (and the other way round).
  await database.sql.unsafe(`
    create function refuse_atomic() returns trigger language plpgsql as $$
    begin if new.program_id = 'atomic' then raise exception 'audit refused'; end if; return new; end $$;
    create trigger refuse_atomic before insert on audit_log for each row execute function refuse_atomic();`);
  try {
    const budgetChange = { requestId: 'r-atomic', actor: 'ann' };
    await refusedByAudit(
      acts.setProgramState({ programId: 'atomic', status: 'running', phase: 'pilot', budgetUsd: 999, budgetChange }),
    );
    await refusedByAudit(
      acts.recordDecision({ programId: 'atomic', requestId: 'r-p', kind: 'paused', phase: 'pilot', actor: 'ann' }),
    );
    await refusedByAudit(
      acts.publishGuidelineVersion({ programId: 'atomic', version: 2, text: 'v2', note: 'n', actor: 'ann' }),
    );
  } finally {
    await database.sql.unsafe('drop trigger refuse_atomic on audit_log; drop function refuse_atomic();');
  }
  const [program] = await database.db.select().from(programs).where(eq(programs.id, 'atomic'));
  expect(program.budgetUsd).toBe(100);
  expect(await database.db.select().from(decisionLog).where(eq(decisionLog.programId, 'atomic'))).toEqual([]);
  expect(await database.db.select().from(guidelineVersions).where(eq(guidelineVersions.programId, 'atomic'))).toEqual(
    [],
  );
  // A decision for a program that does not exist fails on its own row: no audit row either.
  await expect(
    acts.recordDecision({ programId: 'nope', requestId: 'r-x', kind: 'paused', phase: 'pilot', actor: 'ann' }),
  ).rejects.toThrow();
  expect(await database.db.select().from(auditLog).where(eq(auditLog.requestId, 'r-x'))).toEqual([]);
  expect(await audit('atomic')).toEqual([]);
});
