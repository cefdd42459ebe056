/** `judgeflow audit` against a real PostgreSQL, as an operator runs it: the table, JSON, the filters and the refusals. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { recordAudit, type AuditEntry } from '../../governance/audit';
import { auditLog, programs, taskBatches, tasks } from '../../schema/tables';
import { createTestDatabase, type TestDatabase } from '../../test/harness';
import { newSecret, seedWorld } from '../../test/human-tasks-fixture';
import { parseSince } from './audit';

const CLI = path.join(__dirname, '..', '..', 'bin', 'judgeflow.js');
let database: TestDatabase;

const entry = (e: Partial<AuditEntry> & Pick<AuditEntry, 'action'>): AuditEntry => ({
  actor: 'ann',
  entity: 'program',
  entityId: 'audited',
  programId: 'audited',
  ...e,
});

beforeAll(async () => {
  database = await createTestDatabase();
  await seedWorld(database.db, {
    programId: 'audited',
    items: 2,
    gold: 0,
    criteria: ['tone'],
    vendors: [{ id: 'acme', secrets: [newSecret()], raters: ['ann', 'bob'] }],
  });
  await database.db.insert(programs).values({ id: 'other', name: 'other', spec: {}, budgetUsd: 1 });
  await database.db
    .insert(taskBatches)
    .values({ id: 'b1', programId: 'audited', phase: 'pilot', round: 0, kind: 'rate', guidelineVersion: 1 });
  const [item] = await database.sql<{ id: string }[]>`select id from items limit 1`;
  await database.db.insert(tasks).values({
    id: 't1',
    batchId: 'b1',
    programId: 'audited',
    itemId: item.id,
    textHash: 'h',
    slot: 0,
    vendorId: 'acme',
    raterId: 'acme:ann',
    kind: 'rate',
    guidelineVersion: 1,
  });
  const old = new Date(Date.now() - 3 * 86_400_000);
  await database.db.transaction(async (tx) => {
    await recordAudit(
      tx,
      entry({
        action: 'gate_approved',
        before: { gate: 'pilot', approved: false },
        after: { gate: 'pilot', approved: true },
        requestId: 'r1',
      }),
    );
    await recordAudit(
      tx,
      entry({
        action: 'budget_changed',
        actor: 'bob',
        before: { budgetUsd: 100 },
        after: { budgetUsd: 250 },
        requestId: 'r2',
        data: { note: 'two more rounds' },
      }),
    );
    // A rater of the program paused by hand (no program), one of no program of ours, another program's change.
    await recordAudit(
      tx,
      entry({
        action: 'rater_paused',
        entity: 'rater',
        entityId: 'acme:ann',
        programId: null,
        after: { status: 'paused' },
        data: { reason: 'shared account' },
      }),
    );
    await recordAudit(tx, entry({ action: 'rater_paused', entity: 'rater', entityId: 'acme:zed', programId: null }));
    await recordAudit(tx, entry({ action: 'targets_changed', programId: 'other', entityId: 'other' }));
  });
  // The first change three days ago, for --since.
  await database.sql`update audit_log set created_at = ${old.toISOString()} where request_id = 'r1'`;
});
afterAll(() => database?.drop());

function judgeflow(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'error' };
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8', env }, (e, out, err) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
    ),
  );
}

test('the trail: a table by default, JSON with --json, filtered by --since and --action; bad input exits 2', async () => {
  const [table, json, recent, budget, none, unknown, badSince] = await Promise.all([
    judgeflow('audited'),
    judgeflow('audited', '--json'),
    judgeflow('audited', '--since', '24h', '--json'),
    judgeflow('audited', '--action', 'budget_changed'),
    judgeflow('audited', '--action', 'cancelled'),
    judgeflow('nope'),
    judgeflow('audited', '--since', 'yesterday'),
  ]);
  expect([table.code, table.err]).toEqual([0, '']);
  const lines = table.out.trim().split('\n');
  expect(lines[0]).toMatch(/^when\s+actor\s+action\s+target\s+change\s+why\s+request$/);
  expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1))).toEqual([
    ['ann', 'gate_approved', 'program:audited', 'approved: false → true', 'r1'],
    ['bob', 'budget_changed', 'program:audited', 'budgetUsd: 100 → 250', 'two more rounds', 'r2'],
    ['ann', 'rater_paused', 'rater:acme:ann', '— → {"status":"paused"}', 'shared account', '—'],
  ]);
  const rows = JSON.parse(json.out) as Array<Record<string, unknown>>;
  expect(rows.map((r) => [r.action, r.actor, r.requestId])).toEqual([
    ['gate_approved', 'ann', 'r1'],
    ['budget_changed', 'bob', 'r2'],
    ['rater_paused', 'ann', null],
  ]);
  expect(rows[1]).toMatchObject({ before: { budgetUsd: 100 }, after: { budgetUsd: 250 }, programId: 'audited' });
  expect((JSON.parse(recent.out) as Array<{ action: string }>).map((r) => r.action)).toEqual([
    'budget_changed',
    'rater_paused',
  ]);
  expect(budget.out.trim().split('\n')).toHaveLength(2);
  expect([none.code, none.out.trim()]).toEqual([0, 'no audited changes in audited matching the filters']);
  expect([unknown.code, unknown.err.trim()]).toEqual([2, 'no program "nope" (see `judgeflow program list`)']);
  expect([badSince.code, badSince.err]).toEqual([2, expect.stringMatching(/--since: "yesterday" is neither/)]);
  expect(await database.db.$count(auditLog)).toBe(5); // reading changes nothing
});

test('--since takes an ISO time or a duration back from now', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  expect(parseSince('90m', now).toISOString()).toBe('2026-11-30T10:30:00.000Z');
  expect(parseSince('7d', now).toISOString()).toBe('2026-11-23T12:00:00.000Z');
  expect(parseSince('2026-11-01T08:00:00Z').toISOString()).toBe('2026-11-01T08:00:00.000Z');
  expect(() => parseSince('2026-13-45')).toThrow(/neither an ISO time/);
  expect(() => parseSince('soon')).toThrow(/neither an ISO time/);
});
