/** `judgeflow vendor add|list|show|rotate-secret|remove` against a real PostgreSQL, as an operator runs them. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { programs, vendorSecrets, vendors } from '../../schema/tables';
import { createTestDatabase, type TestDatabase } from '../../test/harness';
import { newSecret } from '../../test/human-tasks-fixture';

jest.setTimeout(240_000);
const CLI = path.join(__dirname, '..', '..', 'bin', 'judgeflow.js');
const KEY = Buffer.alloc(32, 'c').toString('base64');
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

function judgeflow(
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: database.url,
    LOG_LEVEL: 'error',
    JUDGEFLOW_SECRET_KEY: undefined,
    ...opts.env,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'vendor', ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(opts.stdin ?? '');
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

const ADD = ['--name', 'Acme', '--kind', 'http', '--endpoint', 'https://acme.example.com/tasks'];
const CARD = ['--rate-card', 'rate=0.5,review=1.2,write=8'];
const rows = async (id: string) => ({
  vendors: await database.db.select().from(vendors).where(eq(vendors.id, id)),
  secrets: await database.db.select().from(vendorSecrets).where(eq(vendorSecrets.vendorId, id)),
});

test('add seals a secret read from stdin; list and show never print it', async () => {
  const secret = newSecret();
  const added = await judgeflow(['add', 'acme', ...ADD, ...CARD, '--roles', 'rate,review,write', '--secret-stdin'], {
    stdin: `${secret}\n`,
    env: { JUDGEFLOW_SECRET_KEY: KEY },
  });
  expect([added.code, added.err]).toEqual([0, '']);
  expect(added.out.trim()).toBe('vendor acme added (http, https://acme.example.com/tasks; secret sealed)');
  const stored = JSON.stringify(await rows('acme'));
  expect(stored).not.toContain(secret.slice('whsec_'.length));
  expect(stored).toContain('"sealed":"jf1:');

  const [list, show] = await Promise.all([judgeflow(['list', '--json']), judgeflow(['show', 'acme'])]);
  expect([list.code, show.code]).toEqual([0, 0]);
  expect(JSON.parse(list.out)).toEqual([
    expect.objectContaining({
      id: 'acme',
      roles: ['rate', 'review', 'write'],
      rateCard: { rate: 0.5, review: 1.2, write: 8 },
      secrets: [expect.objectContaining({ purpose: 'signing', source: 'sealed', expiresAt: null })],
      programs: [],
    }),
  ]);
  expect(show.out).toMatch(/^secrets {3}signing sealed \(primary\)$/m);
  for (const text of [list.out, show.out]) expect(text).not.toContain(secret.slice('whsec_'.length));
});

test('bad input, a missing key, a taken id or no secret exit 2 with what to fix, and store nothing', async () => {
  const [bad, noKey, taken, noSecret, both] = await Promise.all([
    judgeflow(['add', 'bad', ...ADD.slice(0, 2), '--kind', 'ftp', '--endpoint', 'nope', '--rate-card', 'rate=x']),
    judgeflow(['add', 'keyless', ...ADD, ...CARD, '--secret-stdin'], { stdin: newSecret() }),
    judgeflow(['add', 'acme', ...ADD, ...CARD, '--secret-env', 'ACME_SECRET']),
    judgeflow(['add', 'nosecret', ...ADD, ...CARD]),
    judgeflow(['add', 'both', ...ADD, ...CARD, '--secret-env', 'X', '--generate-secret']),
  ]);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/^vendor bad cannot be added:$/m);
  expect(bad.err).toMatch(/^ {2}- --kind: /m);
  expect(bad.err).toMatch(/^ {2}- --endpoint: /m);
  expect(bad.err).toMatch(/^ {2}- --rate-card \(rate\): /m);
  expect([noKey.code, noKey.err]).toEqual([2, expect.stringMatching(/JUDGEFLOW_SECRET_KEY is not set/)]);
  expect([taken.code, taken.err]).toEqual([2, expect.stringMatching(/^vendor acme already exists/)]);
  for (const r of [noSecret, both])
    expect([r.code, r.err.trim()]).toEqual([
      2,
      'the signing secret: give one of --secret-env NAME, --secret-stdin or --generate-secret',
    ]);
  for (const id of ['bad', 'keyless', 'nosecret', 'both']) expect(await rows(id)).toEqual({ vendors: [], secrets: [] });
});

test('rotate-secret makes the new secret primary and keeps the old one for the grace period', async () => {
  const [bogus, unknown] = await Promise.all([
    judgeflow(['rotate-secret', 'acme', '--secret-env', 'ACME_NEXT', '--grace', 'soon']),
    judgeflow(['rotate-secret', 'nobody', '--secret-env', 'ACME_NEXT']),
  ]);
  expect([bogus.code, bogus.err.trim()]).toEqual([
    2,
    '--grace: expected a duration like 90s, 30m, 24h or 3d, got "soon"',
  ]);
  expect([unknown.code, unknown.err]).toEqual([2, expect.stringMatching(/no vendor "nobody"/)]);
  const rotated = await judgeflow(['rotate-secret', 'acme', '--secret-env', 'ACME_NEXT', '--grace', '2h']);
  expect([rotated.code, rotated.err]).toEqual([0, '']);
  expect(rotated.out).toMatch(
    /^vendor acme: the new secret \(env ACME_NEXT\) is the primary; the previous ones are accepted until \S+Z$/m,
  );
  const show = await judgeflow(['show', 'acme', '--json']);
  const { secrets } = JSON.parse(show.out) as { secrets: { source: string; expiresAt: string | null }[] };
  expect(secrets.map((s) => s.source)).toEqual(['env ACME_NEXT', 'sealed']);
  expect(secrets[0].expiresAt).toBeNull();
  const graceMs = Date.parse(secrets[1].expiresAt ?? '') - Date.now();
  expect(graceMs).toBeGreaterThan(7_000_000);
  expect(graceMs).toBeLessThanOrEqual(7_200_000);
});

test('remove is refused while a program that has not ended uses the vendor, then removes it', async () => {
  await database.db
    .insert(programs)
    .values({ id: 'uses-acme', name: 'x', spec: { vendors: [{ id: 'acme' }] }, budgetUsd: 1, status: 'running' });
  const refused = await judgeflow(['remove', 'acme']);
  expect([refused.code, refused.err.trim()]).toEqual([
    2,
    'vendor acme is used by programs that have not ended: uses-acme; remove it once they complete or are cancelled',
  ]);
  expect((await rows('acme')).secrets).toHaveLength(2);
  await database.db.update(programs).set({ status: 'cancelled' }).where(eq(programs.id, 'uses-acme'));
  const removed = await judgeflow(['remove', 'acme', '--note', 'contract ended']);
  expect([removed.code, removed.out.trim()]).toEqual([0, 'vendor acme removed']);
  expect((await rows('acme')).secrets).toEqual([]);
  const [list, again] = await Promise.all([judgeflow(['list']), judgeflow(['remove', 'acme'])]);
  expect(list.out.trim()).toBe('no vendors (judgeflow vendor add)');
  expect([again.code, again.err]).toEqual([2, expect.stringMatching(/no vendor "acme" \(it was removed\)/)]);
  const audit = (await database.db.execute(
    sql`select action, data from audit_log where entity = 'vendor' and entity_id = 'acme' order by id`,
  )) as unknown as { action: string; data: Record<string, unknown> }[];
  expect(audit.map((a) => a.action)).toEqual(['vendor_added', 'vendor_secret_rotated', 'vendor_removed']);
  expect(audit[2].data).toEqual({ note: 'contract ended' });
});
