/**
 * Vendor records against a real PostgreSQL and the real gateway over HTTP: a second program
 * naming a vendor never changes it; secrets are sealed at rest and a missing or wrong key is named;
 * a rotated-out secret is accepted during its grace and refused (401) after it; a vendor in use
 * cannot be removed; plaintext secrets of an older database are sealed at start, or refused.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import YAML from 'yaml';
import { createLogger } from '../platform/logger';
import { checkProgramPrerequisites, ProgramRegistrationError, registerProgram } from '../program/registration';
import { validateProgramSpec } from '../schema/program-spec';
import { items, programs, shows, taskBatches, tasks, vendorSecrets, vendors } from '../schema/tables';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { buildGateway, type Gateway } from '../workers/gateway';
import {
  addVendor,
  describeVendors,
  loadVendor,
  removeVendor,
  rotateVendorSecret,
  sealLegacyVendorSecrets,
  type VendorFields,
} from './registry';
import { signHeaders } from './signing';

const KEY = Buffer.alloc(32, 'k').toString('base64');
const OTHER_KEY = Buffer.alloc(32, 'o').toString('base64');
const source = { env: {}, secretKey: KEY };
const pm = { actor: 'pm' };
let database: TestDatabase;
let gateway: Gateway;
let base: string;

const acme: VendorFields = {
  id: 'acme-labels',
  name: 'Acme Labeling Co.',
  kind: 'http',
  endpoint: 'https://vendor.example.com/judgeflow/tasks',
  rateCard: { rate: 0.6, review: 1.5, write: 12 },
  roles: ['rate', 'review', 'write'],
  config: {},
};

beforeAll(async () => {
  database = await createTestDatabase();
  await seedWorld(database.db, { programId: 'p1', items: 4, vendors: [] });
  await database.db.insert(shows).values({ id: 'show-r', title: 'Show', metadata: {} });
  await database.db
    .insert(items)
    .values(
      Array.from({ length: 40 }, (_, i) => ({ id: `r-${i}`, showId: 'show-r', text: `s ${i}`, textHash: `r${i}` })),
    );
  const config = testConfig({ JUDGEFLOW_SECRET_KEY: KEY, GATEWAY_MAX_SKEW_SECONDS: '300' }, database);
  gateway = await buildGateway({ db: database.db, config, logger: createLogger('test', 'silent') });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway?.app.close();
  await database?.drop();
});

/** The example spec with small rounds, its vendor replaced by `vendors`. */
function spec(id: string, specVendors: unknown[]) {
  const raw = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'));
  Object.assign(raw, { id, vendors: specVendors, goldExamples: [] });
  raw.rounds = { pilotSize: 5, calibrationSize: 5, maxCalibrationRounds: 2, goldenSetSize: 10 };
  raw.production = { ...raw.production, writerVendor: undefined };
  const result = validateProgramSpec(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

async function register(id: string, specVendors: unknown[], env: Record<string, string> = {}) {
  const s = spec(id, specVendors);
  const prereq = await checkProgramPrerequisites(database.db, s, env, {
    rpmLimit: 1000,
    model: 'gpt-4.1-mini',
    secretKey: KEY,
  });
  await registerProgram(database.db, s, prereq.estimate, prereq.vendors, prereq.selection);
}

const vendorState = async (id: string) => ({
  record: await database.db.select().from(vendors).where(eq(vendors.id, id)),
  secrets: await database.db.select().from(vendorSecrets).where(eq(vendorSecrets.vendorId, id)),
});

/** Every text column of a table, as PostgreSQL stores it. */
const raw = async (table: string) => JSON.stringify(await database.db.execute(sql.raw(`select * from ${table}`)));

describe('a program references vendors and never changes them', () => {
  const secret = newSecret();

  test('an inline vendor is registered once; a second program naming it with other values is refused, naming them', async () => {
    await register('first', [{ ...acme, secretEnv: 'ACME_SECRET' }], { ACME_SECRET: secret });
    const before = await vendorState('acme-labels');
    expect(before.secrets).toEqual([expect.objectContaining({ envName: 'ACME_SECRET', sealed: null })]);

    const other = { ...acme, endpoint: 'https://evil.example.com/tasks', secretEnv: 'OTHER_SECRET' };
    const attempt = register('second', [other], { OTHER_SECRET: newSecret() });
    await expect(attempt).rejects.toBeInstanceOf(ProgramRegistrationError);
    await expect(attempt).rejects.toThrow(
      /vendors\.0: vendor "acme-labels" is registered with other values \(endpoint: "https:\/\/vendor\.example\.com\/judgeflow\/tasks" registered, "https:\/\/evil\.example\.com\/tasks" in the spec; secret: env ACME_SECRET registered, env OTHER_SECRET in the spec\)/,
    );
    expect(await vendorState('acme-labels')).toEqual(before);
    expect(await database.db.select().from(programs).where(eq(programs.id, 'second'))).toEqual([]);
  });

  test('a reference by id, or the same inline vendor, uses the record as it is', async () => {
    const before = await vendorState('acme-labels');
    await register('by-id', [{ id: 'acme-labels' }]);
    await register('same-inline', [{ ...acme, secretEnv: 'ACME_SECRET' }], { ACME_SECRET: secret });
    expect(await vendorState('acme-labels')).toEqual(before);
    const [stored] = await database.db.select({ spec: programs.spec }).from(programs).where(eq(programs.id, 'by-id'));
    expect(stored.spec.vendors).toEqual([acme]);
  });

  test('an unknown or removed vendor, or roles it does not take, are refused', async () => {
    await expect(register('ghost', [{ id: 'nobody' }])).rejects.toThrow(
      /vendors\.0: no vendor "nobody": register it with `judgeflow vendor add nobody …`/,
    );
    await addVendor(
      database.db,
      { ...acme, id: 'raters-only', roles: ['rate'] },
      { signing: { env: 'X' } },
      source,
      pm,
    );
    await expect(register('writer', [{ id: 'raters-only', roles: ['write'] }])).rejects.toThrow(
      /roles: vendor raters-only takes rate, not write/,
    );
  });
});

describe('secrets at rest', () => {
  test('a secret given as a value is sealed: no table holds it, and it reads back with the key', async () => {
    const secret = newSecret();
    const token = 'ls-api-token-9f8e7d';
    await register('sealed', [
      {
        ...acme,
        id: 'studio-sealed',
        kind: 'label-studio',
        secret,
        config: { projectId: 3, apiToken: token },
      },
    ]);
    for (const table of ['vendors', 'vendor_secrets', 'programs', 'audit_log']) {
      const text = await raw(table);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice('whsec_'.length));
      expect(text).not.toContain(token);
    }
    const stored = await database.db.select().from(vendorSecrets).where(eq(vendorSecrets.vendorId, 'studio-sealed'));
    expect(stored.map((s) => [s.purpose, s.envName, s.sealed?.slice(0, 4)])).toEqual(
      expect.arrayContaining([
        ['signing', null, 'jf1:'],
        ['api-token', null, 'jf1:'],
      ]),
    );
    const vendor = await loadVendor(database.db, 'studio-sealed', source);
    expect(vendor?.secrets).toEqual([secret]);
    expect(vendor?.config).toEqual({ projectId: 3, apiToken: token });
  });

  test('a missing key, a wrong key and an unset variable are each named', async () => {
    await expect(loadVendor(database.db, 'studio-sealed', { env: {} })).rejects.toThrow(
      /vendor studio-sealed's signing secret: JUDGEFLOW_SECRET_KEY is not set/,
    );
    await expect(loadVendor(database.db, 'studio-sealed', { env: {}, secretKey: OTHER_KEY })).rejects.toThrow(
      /vendor studio-sealed's signing secret was sealed with another JUDGEFLOW_SECRET_KEY \(key id [0-9a-f]{8}; the one set is [0-9a-f]{8}\)/,
    );
    await expect(loadVendor(database.db, 'acme-labels', { env: {} })).rejects.toThrow(
      /vendor acme-labels's signing secret: environment variable ACME_SECRET is not set/,
    );
    await expect(
      addVendor(database.db, { ...acme, id: 'no-key' }, { signing: { value: newSecret() } }, { env: {} }, pm),
    ).rejects.toThrow(/JUDGEFLOW_SECRET_KEY is not set/);
    expect(await vendorState('no-key')).toEqual({ record: [], secrets: [] });
  });

  test('plaintext secrets of an older database are sealed at start, or the start is refused naming the vendor', async () => {
    const old = newSecret();
    await database.db.insert(vendors).values({
      id: 'legacy',
      name: 'Legacy',
      kind: 'label-studio',
      endpoint: 'http://127.0.0.1:9',
      legacySecrets: [old],
      config: { projectId: 1, apiToken: 'legacy-token' },
    });
    await database.db.insert(programs).values({
      id: 'old-program',
      name: 'old',
      spec: { vendors: [{ id: 'legacy', roles: ['rate', 'write'] }] },
      budgetUsd: 1,
      status: 'completed',
    });
    await expect(loadVendor(database.db, 'legacy', source)).rejects.toThrow(/still has plaintext secrets/);
    await expect(sealLegacyVendorSecrets(database.db, { env: {} })).rejects.toThrow(
      /vendors legacy keep plaintext secrets .* set JUDGEFLOW_SECRET_KEY/,
    );
    expect(await sealLegacyVendorSecrets(database.db, source)).toEqual(['legacy']);
    const text = await raw('vendors');
    expect(text).not.toContain(old);
    expect(text).not.toContain('legacy-token');
    const vendor = await loadVendor(database.db, 'legacy', source);
    expect(vendor?.secrets).toEqual([old]);
    expect(vendor?.config).toEqual({ projectId: 1, apiToken: 'legacy-token' });
    expect(vendor?.roles).toEqual(['rate', 'write']); // as its program gave them
    expect(await sealLegacyVendorSecrets(database.db, { env: {} })).toEqual([]);
  });
});

describe('rotation', () => {
  let task = 0;
  async function post(vendorId: string, secret: string) {
    const id = `rot-${++task}`;
    await database.db.insert(tasks).values({
      id,
      batchId: 'rot-batch',
      programId: 'p1',
      itemId: 'p1-item-0',
      textHash: 'h',
      slot: task,
      vendorId,
      raterId: null,
      kind: 'rate',
      guidelineVersion: 1,
      status: 'dispatched',
      payload: { criteria: ['tone'], context: {} },
    });
    const body = JSON.stringify({ type: 'task.declined', taskId: id, reason: 'busy' });
    const res = await fetch(`${base}/v1/vendors/${vendorId}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signHeaders(secret, body) },
      body,
    });
    if (res.status !== 202 && res.status !== 401) throw new Error(`${res.status} ${await res.text()}`);
    return res.status;
  }

  test('the old secret is accepted during the grace period and refused after it; the new one is the primary', async () => {
    await database.db
      .insert(taskBatches)
      .values({ id: 'rot-batch', programId: 'p1', phase: 'calibration', round: 1, kind: 'rate', guidelineVersion: 1 });
    const first = newSecret();
    const second = newSecret();
    await addVendor(database.db, { ...acme, id: 'rotating' }, { signing: { value: first } }, source, pm);
    expect(await post('rotating', first)).toBe(202);

    const until = await rotateVendorSecret(database.db, 'rotating', { value: second }, 6_000, source, pm);
    expect((await loadVendor(database.db, 'rotating', source))?.secrets).toEqual([second, first]);
    // The gateway re-reads a vendor whose cached copy refuses a signature at most once a second.
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await post('rotating', first)).toBe(202);
    expect(await post('rotating', second)).toBe(202);
    expect(await post('rotating', newSecret())).toBe(401);

    await new Promise((r) => setTimeout(r, until.getTime() - Date.now() + 100));
    expect(await post('rotating', first)).toBe(401);
    expect(await post('rotating', second)).toBe(202);
    const shown = await describeVendors(database.db, 'rotating');
    expect(shown[0].secrets).toEqual([
      expect.objectContaining({ purpose: 'signing', source: 'sealed', expiresAt: null }),
    ]);
    expect(JSON.stringify(shown)).not.toContain(second);
  });
});

describe('remove', () => {
  test('is refused while a program that has not ended uses the vendor, names them, and changes nothing', async () => {
    const before = await vendorState('acme-labels');
    await expect(removeVendor(database.db, 'acme-labels', pm)).rejects.toThrow(
      'vendor acme-labels is used by programs that have not ended: by-id, first, same-inline; remove it once they complete or are cancelled',
    );
    expect(await vendorState('acme-labels')).toEqual(before);
  });

  test('once they ended, its secrets are deleted and the gateway no longer knows it', async () => {
    await database.db.update(programs).set({ status: 'completed' });
    await removeVendor(database.db, 'rotating', pm);
    expect((await vendorState('rotating')).secrets).toEqual([]);
    expect(await loadVendor(database.db, 'rotating', source)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 5_100)); // the gateway's vendor cache
    const res = await fetch(`${base}/v1/vendors/rotating/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signHeaders(newSecret(), '{}') },
      body: '{}',
    });
    expect(res.status).toBe(404);
    await expect(removeVendor(database.db, 'rotating', pm)).rejects.toThrow(/no vendor "rotating" \(it was removed\)/);
    const audit = await database.db.execute(
      sql`select action from audit_log where entity = 'vendor' and entity_id = 'rotating' order by id`,
    );
    expect((audit as unknown as { action: string }[]).map((a) => a.action)).toEqual([
      'vendor_added',
      'vendor_secret_rotated',
      'vendor_removed',
    ]);
  });
});
