/**
 * A program spec's vendors against the registry: a reference (`{ id }`) must name a registered
 * vendor; an inline vendor is registered when its id is free and must match the registered one
 * field for field otherwise — a program never changes a vendor that other programs use.
 */
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { DbTransaction } from '../governance/audit';
import { recordAudit } from '../governance/audit';
import type { Db } from '../platform/db';
import type { VendorSpec } from '../schema/program-spec';
import { vendorSecrets, vendors } from '../schema/tables';
import { describeStored, insertVendor, storedSecret, type SecretInput, type VendorFields } from './registry';
import { secretValues, type SecretSource } from './secrets';

/** What the program's stored spec keeps of each vendor: the record's fields (never a secret), and the roles it gives it. */
export type ProgramVendor = VendorFields;

export interface SpecVendorPlan {
  vendors: ProgramVendor[];
  /** Inline vendors to register with the program, their secrets already in stored form. */
  add: { fields: VendorFields; secrets: (typeof vendorSecrets.$inferInsert)[] }[];
}

interface Problem {
  path: string;
  message: string;
}

/** Resolves every vendor of the spec; changes nothing. */
export async function planSpecVendors(
  db: Db,
  entries: VendorSpec[],
  source: SecretSource,
): Promise<{ plan: SpecVendorPlan; problems: Problem[] }> {
  const plan: SpecVendorPlan = { vendors: [], add: [] };
  const problems: Problem[] = [];
  for (const [i, entry] of entries.entries()) {
    const path = `vendors.${i}`;
    const [record] = await db.select().from(vendors).where(eq(vendors.id, entry.id));
    const inline = inlineFields(entry);
    if (!record || record.removedAt) {
      if (!inline) {
        problems.push({
          path,
          message: `${record ? `vendor "${entry.id}" was removed` : `no vendor "${entry.id}"`}: register it with \`judgeflow vendor add ${entry.id} …\`, or give the vendor inline (name, kind, endpoint, rateCard, secretEnv)`,
        });
        continue;
      }
      if (entry.secretEnv && !source.env[entry.secretEnv]) {
        problems.push({ path: `${path}.secretEnv`, message: `environment variable ${entry.secretEnv} is not set` });
        continue;
      }
      try {
        plan.add.push({ fields: inline, secrets: newSecrets(entry, source) });
        plan.vendors.push(inline);
      } catch (err) {
        problems.push({ path, message: (err as Error).message });
      }
      continue;
    }
    const registered = {
      id: record.id,
      name: record.name,
      endpoint: record.endpoint ?? '',
      config: record.config,
      // The record was validated with these types when it was added.
      kind: record.kind as VendorFields['kind'],
      rateCard: record.rateCard as VendorFields['rateCard'],
      roles: record.roles as VendorFields['roles'],
    };
    const differences = inline
      ? [...fieldDifferences(inline, registered), ...(await secretDifferences(db, entry, source))]
      : [];
    const outside = (entry.roles ?? []).filter((r) => !registered.roles.includes(r));
    if (!inline && outside.length)
      differences.push(`roles: vendor ${entry.id} takes ${registered.roles.join(', ')}, not ${outside.join(', ')}`);
    if (differences.length)
      problems.push({
        path,
        message: `vendor "${entry.id}" is registered with other values (${differences.join('; ')}); a program never changes a vendor: give its id alone, or change the vendor with \`judgeflow vendor\``,
      });
    else plan.vendors.push({ ...registered, roles: entry.roles ?? registered.roles });
  }
  return { plan, problems };
}

/** Registers the plan's inline vendors, inside the program's registration transaction. */
export async function registerSpecVendors(tx: DbTransaction, programId: string, plan: SpecVendorPlan): Promise<void> {
  for (const { fields, secrets } of plan.add) {
    await insertVendor(tx, fields, secrets);
    await recordAudit(tx, {
      actor: 'program-spec',
      action: 'vendor_added',
      entity: 'vendor',
      entityId: fields.id,
      programId,
      after: { ...fields, secrets: secrets.map(describeStored) },
    });
  }
}

/** The vendor's record fields from an inline entry, or null for a reference. */
function inlineFields(entry: VendorSpec): VendorFields | null {
  if (!entry.name || !entry.kind || !entry.endpoint || !entry.rateCard) return null;
  // A Label Studio API token given as a value is a secret: it is sealed, never kept in the config.
  const { apiToken: _token, ...config } = entry.config ?? {};
  return {
    id: entry.id,
    name: entry.name,
    kind: entry.kind,
    endpoint: entry.endpoint,
    rateCard: entry.rateCard,
    roles: entry.roles ?? ['rate', 'review'],
    config,
  };
}

function newSecrets(entry: VendorSpec, source: SecretSource) {
  const signing: SecretInput = entry.secretEnv ? { env: entry.secretEnv } : { value: entry.secret ?? '' };
  const token = entry.config?.apiToken;
  return [
    storedSecret(entry.id, 'signing', signing, source),
    ...(typeof token === 'string' ? [storedSecret(entry.id, 'api-token', { value: token }, source)] : []),
  ];
}

function fieldDifferences(inline: VendorFields, registered: VendorFields): string[] {
  const show = (v: unknown) => JSON.stringify(v);
  return (['name', 'kind', 'endpoint', 'rateCard', 'roles', 'config'] as const)
    .filter((f) => show(sorted(inline[f])) !== show(sorted(registered[f])))
    .map((f) => `${f}: ${show(registered[f])} registered, ${show(inline[f])} in the spec`);
}

const sorted = (v: unknown): unknown =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
    : v;

/** Whether the spec's secret is the vendor's current signing secret (by variable name, or by value when sealed). */
async function secretDifferences(db: Db, entry: VendorSpec, source: SecretSource): Promise<string[]> {
  const [current] = await db
    .select()
    .from(vendorSecrets)
    .where(
      and(eq(vendorSecrets.vendorId, entry.id), eq(vendorSecrets.purpose, 'signing'), isNull(vendorSecrets.expiresAt)),
    )
    .orderBy(desc(vendorSecrets.id))
    .limit(1);
  const registered = current ? describeStored(current).source : 'none';
  if (entry.secretEnv)
    return current?.envName === entry.secretEnv
      ? []
      : [`secret: ${registered} registered, env ${entry.secretEnv} in the spec`];
  if (!current?.sealed) return [`secret: ${registered} registered, a value in the spec`];
  const same = secretValues(current, source, `vendor ${entry.id}'s signing secret`)[0] === entry.secret;
  return same ? [] : ['secret: the spec gives another value than the registered one'];
}
