/** `judgeflow rater list|pause|reinstate` against a real Postgres, as a program manager runs them. */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { auditLog, labels, raterActions, raters, taskBatches, tasks } from '../../schema/tables';
import { createTestDatabase, type TestDatabase } from '../../test/harness';
import { newSecret, seedWorld } from '../../test/human-tasks-fixture';

const CLI = path.join(__dirname, '..', '..', 'bin', 'judgeflow.js');
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  const { goldIds } = await seedWorld(database.db, {
    programId: 'cli-qa',
    items: 14,
    gold: 12,
    criteria: ['tone'],
    vendors: [{ id: 'acme', secrets: [newSecret()], raters: ['ann', 'bob'] }],
  });
  await database.db
    .insert(taskBatches)
    .values({ id: 'cli-b', programId: 'cli-qa', phase: 'calibration', round: 1, kind: 'rate', guidelineVersion: 1 });
  // ann: 12 gold answers, 9 right; bob: none.
  for (const [i, itemId] of goldIds.entries()) {
    const id = `cli-t${i}`;
    await database.db.insert(tasks).values({
      id,
      batchId: 'cli-b',
      programId: 'cli-qa',
      itemId,
      textHash: 'h',
      slot: 0,
      vendorId: 'acme',
      raterId: 'acme:ann',
      kind: 'rate',
      isGold: true,
      guidelineVersion: 1,
      status: 'completed',
    });
    await database.db.insert(labels).values({
      taskId: id,
      programId: 'cli-qa',
      itemId,
      raterId: 'acme:ann',
      criterion: 'tone',
      value: i < 9 ? 1 : 0,
      guidelineVersion: 1,
      phase: 'calibration',
      round: 1,
    });
  }
  await database.db
    .update(raters)
    .set({ driftFlaggedAt: new Date(), driftReason: 'accuracy 50.0% on the last 20 tasks vs 95.0% on the 20 before' })
    .where(eq(raters.id, 'acme:bob'));
});
afterAll(() => database?.drop());

function judgeflow(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'error' };
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, 'rater', ...args], { encoding: 'utf8', env }, (e, out, err) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
    ),
  );
}

test('list: vendor, status, gold answers, accuracy with its Wilson interval, drift flag', async () => {
  const { code, out, err } = await judgeflow('list', '--json');
  expect([code, err]).toEqual([0, '']);
  const [ann, bob] = JSON.parse(out) as Record<string, unknown>[];
  expect(ann).toMatchObject({ raterId: 'acme:ann', vendorId: 'acme', status: 'active', goldAnswers: 12, correct: 9 });
  expect(ann.accuracy).toBe(0.75);
  expect((ann.ci95 as number[])[0]).toBeCloseTo(0.4677, 4);
  expect((ann.ci95 as number[])[1]).toBeCloseTo(0.9111, 4);
  expect(bob).toMatchObject({
    goldAnswers: 0,
    accuracy: null,
    ci95: null,
    driftReason: expect.stringMatching(/50\.0%/),
  });
  const table = await judgeflow('list', '--program', 'cli-qa');
  expect(table.out).toMatch(/acme:ann\s+acme\s+active\s+12\s+75\.0% \(46\.8%–91\.1%\)\s+—/);
  expect(table.out).toMatch(/acme:bob\s+acme\s+active\s+0\s+—\s+FLAG/);
});

test('pause and reinstate record who and why; a repeat, an unknown rater or no reason is refused with exit 2', async () => {
  // No Temporal credential here: the actor is the OS user, unverified, with --actor as its label.
  const [pm, lead] = ['pm', 'lead'].map((label) => `os:${os.userInfo().username} (unverified: ${label})`);
  const paused = await judgeflow(
    'pause',
    'acme:ann',
    '--reason',
    'vendor reports a shared account',
    '--actor',
    'pm',
    '--request-id',
    'req-pause-ann',
  );
  expect([paused.code, paused.out.trim()]).toEqual([0, `acme:ann paused by ${pm}: vendor reports a shared account`]);
  const again = await judgeflow('pause', 'acme:ann', '--reason', 'twice');
  expect([again.code, again.err.trim()]).toEqual([2, 'rater acme:ann is paused: nothing to pause']);
  expect((await judgeflow('list')).out).toMatch(`paused by ${pm}: vendor reports a shared account`);
  const unknown = await judgeflow('reinstate', 'acme:nobody', '--reason', 'x');
  expect([unknown.code, unknown.err]).toEqual([2, expect.stringMatching(/no rater "acme:nobody"/)]);
  expect((await judgeflow('reinstate', 'acme:ann')).code).toBe(2); // --reason is required
  const back = await judgeflow('reinstate', 'acme:ann', '--reason', 'account split', '--actor', 'lead');
  expect(back.code).toBe(0);
  const [ann] = await database.db.select().from(raters).where(eq(raters.id, 'acme:ann'));
  expect([ann.status, ann.pausedBy, ann.reinstatedAt instanceof Date]).toEqual(['active', null, true]);
  const log = await database.db
    .select()
    .from(raterActions)
    .where(eq(raterActions.raterId, 'acme:ann'))
    .orderBy(raterActions.id);
  expect(log.map((a) => [a.action, a.actor, a.reason])).toEqual([
    ['paused', pm, 'vendor reports a shared account'],
    ['reinstated', lead, 'account split'],
  ]);
  // One audit row per change, none for the refused ones.
  const audit = await database.db.select().from(auditLog).where(eq(auditLog.entityId, 'acme:ann')).orderBy(auditLog.id);
  expect(audit.map((a) => [a.action, a.actor, a.entity, a.before, a.after])).toEqual([
    [
      'rater_paused',
      pm,
      'rater',
      { status: 'active' },
      { status: 'paused', reason: 'vendor reports a shared account' },
    ],
    [
      'rater_reinstated',
      lead,
      'rater',
      { status: 'paused', reason: 'vendor reports a shared account', pausedBy: pm },
      { status: 'active' },
    ],
  ]);
  expect(audit[0].requestId).toBe('req-pause-ann');
  expect(audit[1].requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(await database.db.select().from(auditLog).where(eq(auditLog.entityId, 'acme:nobody'))).toEqual([]);
  // QA counts only gold answers from the reinstatement on.
  const listed = JSON.parse((await judgeflow('list', '--json')).out) as { raterId: string; goldAnswers: number }[];
  expect(listed.find((r) => r.raterId === 'acme:ann')!.goldAnswers).toBe(0);
});
