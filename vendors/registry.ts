/**
 * Vendor records (`judgeflow vendor add|list|show|rotate-secret|remove`): written here only, each
 * change with its audit row in the same transaction. Programs reference vendors and never rewrite
 * them (spec-vendors.ts). Secrets are stored as an environment variable's name or sealed
 * (secrets.ts); `loadVendor` reads them for the gateway and the adapters.
 */
import { and, desc, eq, gt, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { recordAudit, type DbTransaction } from '../governance/audit';
import type { Db } from '../platform/db';
import type { VendorSpec } from '../schema/program-spec';
import { programs, vendorSecrets, vendors } from '../schema/tables';
import type { VendorRecord, VendorRow } from './adapter';
import { sealSecret, secretValues, VendorSecretError, type SecretSource } from './secrets';

/** A secret as given: the name of the environment variable holding it, or the value (sealed before it is stored). */
export type SecretInput = { env: string } | { value: string };
export type SecretPurpose = 'signing' | 'api-token';

/** A vendor record's fields, as `vendor add` and an inline spec vendor give them. */
export type VendorFields = Required<Omit<VendorSpec, 'secret' | 'secretEnv'>>;

/** A refused registry change (unknown vendor, already there, still in use). Exit code 2 in the CLI. */
export class VendorRegistryError extends Error {
  readonly exitCode = 2;
}

export interface Actor {
  actor: string;
  requestId?: string;
  note?: string;
}

/** Program statuses in which a program may still call its vendors. */
const LIVE_STATUSES = ['created', 'running', 'paused', 'waiting_gate'];

/** The row that stores one secret: the variable's name, or the value sealed with JUDGEFLOW_SECRET_KEY. */
export function storedSecret(
  vendorId: string,
  purpose: SecretPurpose,
  input: SecretInput,
  source: SecretSource,
): typeof vendorSecrets.$inferInsert {
  return 'env' in input
    ? { vendorId, purpose, envName: input.env }
    : { vendorId, purpose, sealed: sealSecret(input.value, source, `vendor ${vendorId}'s ${purpose} secret`) };
}

/** Writes a new vendor record and its secrets (a removed vendor's id is taken over afresh). */
export async function insertVendor(
  tx: DbTransaction,
  fields: VendorFields,
  secrets: (typeof vendorSecrets.$inferInsert)[],
): Promise<void> {
  const { id, ...rest } = fields;
  await tx
    .insert(vendors)
    .values({ id, ...rest })
    .onConflictDoUpdate({ target: vendors.id, set: { ...rest, removedAt: null, legacySecrets: null } });
  await tx.insert(vendorSecrets).values(secrets);
}

/** `vendor add`: refused when the id is taken by a vendor that was not removed. */
export async function addVendor(
  db: Db,
  fields: VendorFields,
  secrets: { signing: SecretInput; apiToken?: SecretInput },
  source: SecretSource,
  by: Actor,
): Promise<void> {
  const rows = [
    storedSecret(fields.id, 'signing', secrets.signing, source),
    ...(secrets.apiToken ? [storedSecret(fields.id, 'api-token', secrets.apiToken, source)] : []),
  ];
  await db.transaction(async (tx) => {
    const [existing] = await tx.select().from(vendors).where(eq(vendors.id, fields.id)).for('update');
    if (existing && !existing.removedAt)
      throw new VendorRegistryError(
        `vendor ${fields.id} already exists (judgeflow vendor show ${fields.id}); change its secret with \`vendor rotate-secret\`, or remove it first`,
      );
    await insertVendor(tx, fields, rows);
    await recordAudit(tx, {
      ...audit(by, 'vendor_added', fields.id),
      after: { ...fields, secrets: rows.map(describeStored) },
    });
  });
}

/**
 * `vendor rotate-secret`: the new signing secret becomes the primary (outgoing requests are signed
 * with it); the current ones stay valid until `graceMs` from now. Returns that time.
 */
export async function rotateVendorSecret(
  db: Db,
  vendorId: string,
  secret: SecretInput,
  graceMs: number,
  source: SecretSource,
  by: Actor,
): Promise<Date> {
  const row = storedSecret(vendorId, 'signing', secret, source);
  const now = new Date();
  const until = new Date(now.getTime() + graceMs);
  await db.transaction(async (tx) => {
    await liveVendor(tx, vendorId);
    const signing = and(eq(vendorSecrets.vendorId, vendorId), eq(vendorSecrets.purpose, 'signing'));
    // Secrets past their grace are of no use any more: they go now.
    await tx.delete(vendorSecrets).where(and(signing, lte(vendorSecrets.expiresAt, now)));
    const replaced = await tx
      .update(vendorSecrets)
      .set({ expiresAt: until })
      .where(and(signing, or(isNull(vendorSecrets.expiresAt), gt(vendorSecrets.expiresAt, until))))
      .returning({ id: vendorSecrets.id });
    await tx.insert(vendorSecrets).values(row);
    await recordAudit(tx, {
      ...audit(by, 'vendor_secret_rotated', vendorId),
      after: { secret: describeStored(row), previousValidUntil: until.toISOString() },
      data: { ...(by.note ? { note: by.note } : {}), replaced: replaced.length, graceMs },
    });
  });
  return until;
}

/** `vendor remove`: refused while a live program references the vendor; its secrets are deleted, the record kept for its tasks. */
export async function removeVendor(db: Db, vendorId: string, by: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    const before = await liveVendor(tx, vendorId);
    const using = await programsUsing(tx, vendorId, LIVE_STATUSES);
    if (using.length)
      throw new VendorRegistryError(
        `vendor ${vendorId} is used by programs that have not ended: ${using.join(', ')}; remove it once they complete or are cancelled`,
      );
    await tx.delete(vendorSecrets).where(eq(vendorSecrets.vendorId, vendorId));
    await tx.update(vendors).set({ removedAt: new Date() }).where(eq(vendors.id, vendorId));
    await recordAudit(tx, { ...audit(by, 'vendor_removed', vendorId), before: publicFields(before) });
  });
}

/** A vendor and its valid secrets read, or undefined when there is none by that id (or it was removed). */
export async function loadVendor(db: Db, vendorId: string, source: SecretSource): Promise<VendorRow | undefined> {
  const [record] = await db
    .select()
    .from(vendors)
    .where(and(eq(vendors.id, vendorId), isNull(vendors.removedAt)));
  if (!record) return undefined;
  if (record.legacySecrets?.length)
    throw new VendorSecretError(
      `vendor ${vendorId} still has plaintext secrets from before they were sealed: start the worker or \`judgeflow stack\` once (with JUDGEFLOW_SECRET_KEY set) to seal them`,
    );
  const now = new Date();
  const stored = await db
    .select()
    .from(vendorSecrets)
    .where(
      and(eq(vendorSecrets.vendorId, vendorId), or(isNull(vendorSecrets.expiresAt), gt(vendorSecrets.expiresAt, now))),
    )
    .orderBy(desc(vendorSecrets.id));
  const read = (purpose: SecretPurpose) =>
    stored
      .filter((s) => s.purpose === purpose)
      .flatMap((s) => secretValues(s, source, `vendor ${vendorId}'s ${purpose} secret`));
  const secrets = read('signing');
  const [apiToken] = read('api-token');
  const expiries = stored.flatMap((s) => (s.expiresAt ? [s.expiresAt.getTime()] : []));
  return {
    ...publicFields(record),
    config: apiToken === undefined ? record.config : { ...record.config, apiToken },
    secrets,
    secretsValidUntil: expiries.length ? new Date(Math.min(...expiries)) : null,
  };
}

/** What `vendor list` and `vendor show` print: the record, where its secrets come from (never their values) and the programs using it. */
export async function describeVendors(db: Db, vendorId?: string) {
  const records = await db
    .select()
    .from(vendors)
    .where(vendorId ? eq(vendors.id, vendorId) : isNull(vendors.removedAt))
    .orderBy(vendors.id);
  if (vendorId && !records.length)
    throw new VendorRegistryError(`no vendor "${vendorId}" (judgeflow vendor list shows them)`);
  const secrets = records.length
    ? await db
        .select()
        .from(vendorSecrets)
        .where(
          inArray(
            vendorSecrets.vendorId,
            records.map((r) => r.id),
          ),
        )
        .orderBy(desc(vendorSecrets.id))
    : [];
  const now = Date.now();
  return Promise.all(
    records.map(async (r) => ({
      ...publicFields(r),
      removedAt: r.removedAt,
      secrets: secrets
        .filter((s) => s.vendorId === r.id && (!s.expiresAt || s.expiresAt.getTime() > now))
        .map((s) => ({ ...describeStored(s), createdAt: s.createdAt, expiresAt: s.expiresAt })),
      programs: await programsUsing(db, r.id, LIVE_STATUSES),
    })),
  );
}

/**
 * Seals what a database from before vendor_secrets keeps in plaintext (signing secrets, a Label
 * Studio `apiToken` in the config), and gives such a vendor the roles its newest program gave it;
 * run at the worker's and the stack's start. Without
 * JUDGEFLOW_SECRET_KEY it refuses, naming the vendors. Returns the vendors sealed.
 */
export async function sealLegacyVendorSecrets(db: Db, source: SecretSource): Promise<string[]> {
  const legacy = await db
    .select()
    .from(vendors)
    .where(or(isNotNull(vendors.legacySecrets), sql`${vendors.config} ? 'apiToken'`));
  if (legacy.length && !source.secretKey)
    throw new VendorSecretError(
      `vendors ${legacy.map((v) => v.id).join(', ')} keep plaintext secrets from before judgeflow sealed them: set JUDGEFLOW_SECRET_KEY (openssl rand -base64 32) and start again to seal them`,
    );
  for (const v of legacy)
    await db.transaction(async (tx) => {
      const { apiToken, ...config } = v.config;
      const rows = [
        ...(v.legacySecrets ?? []).map((value) => storedSecret(v.id, 'signing', { value }, source)),
        ...(typeof apiToken === 'string' ? [storedSecret(v.id, 'api-token', { value: apiToken }, source)] : []),
      ];
      if (rows.length) await tx.insert(vendorSecrets).values(rows);
      // Roles were the programs' then: the newest program naming the vendor gives them.
      const [named] = await tx
        .select({ spec: programs.spec })
        .from(programs)
        .where(sql`${programs.spec}->'vendors' @> ${JSON.stringify([{ id: v.id }])}::jsonb`)
        .orderBy(desc(programs.createdAt))
        .limit(1);
      const roles = (named?.spec.vendors as { id: string; roles?: string[] }[] | undefined)?.find(
        (x) => x.id === v.id,
      )?.roles;
      await tx
        .update(vendors)
        .set({ legacySecrets: null, config, roles: roles ?? v.roles })
        .where(eq(vendors.id, v.id));
      await recordAudit(tx, {
        ...audit({ actor: 'judgeflow' }, 'vendor_secrets_sealed', v.id),
        data: { secrets: rows.length },
      });
    });
  return legacy.map((v) => v.id);
}

/** The ids of programs in these statuses whose spec references the vendor. */
export async function programsUsing(db: Db | DbTransaction, vendorId: string, statuses = LIVE_STATUSES) {
  const rows = await db
    .select({ id: programs.id })
    .from(programs)
    .where(
      and(
        inArray(programs.status, statuses),
        sql`${programs.spec}->'vendors' @> ${JSON.stringify([{ id: vendorId }])}::jsonb`,
      ),
    )
    .orderBy(programs.id);
  return rows.map((r) => r.id);
}

async function liveVendor(tx: DbTransaction, vendorId: string): Promise<VendorRecord> {
  const [row] = await tx.select().from(vendors).where(eq(vendors.id, vendorId)).for('update');
  if (!row || row.removedAt)
    throw new VendorRegistryError(
      `no vendor "${vendorId}"${row ? ' (it was removed)' : ''}: judgeflow vendor list shows them`,
    );
  return row;
}

function publicFields(r: VendorRecord) {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    endpoint: r.endpoint,
    rateCard: r.rateCard,
    roles: r.roles,
    config: r.config,
    createdAt: r.createdAt,
    removedAt: r.removedAt,
  };
}

/** Where a stored secret comes from, never its value. */
export function describeStored(s: { purpose: string; envName?: string | null }) {
  return { purpose: s.purpose, source: s.envName ? `env ${s.envName}` : 'sealed' };
}

const audit = (by: Actor, action: string, vendorId: string) => ({
  actor: by.actor,
  action,
  entity: 'vendor',
  entityId: vendorId,
  requestId: by.requestId ?? null,
  data: by.note ? { note: by.note } : {},
});
