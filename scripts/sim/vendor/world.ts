/**
 * A small simulated world for human tasks: a program, shows and synopses from the simulated
 * catalog generator (so simulated raters can judge them), and vendors with their secrets and
 * raters. Used by the human-task tests (test/human-tasks-fixture.ts) and `npm run bench:gateway`.
 */
import { textHash } from '../../../catalog/text-hash';
import { generateShow, writeSynopsis } from '../model/world';
import { Rng } from '../model/rng';
import type { Db } from '../../../platform/db';
import { goldAnswers, items, programs, raters, shows, vendorSecrets, vendors } from '../../../schema/tables';
import { storedSecret } from '../../../vendors/registry';

export interface SeedVendor {
  id: string;
  kind?: 'http' | 'label-studio';
  endpoint?: string;
  secrets: string[];
  rateCard?: Record<string, number>;
  config?: Record<string, unknown>;
  /** Raters to register directly (external ids); the simulated vendor lists its own. */
  raters?: string[];
}

/**
 * The key simulated worlds seal their vendors' secrets with (test/harness.ts gives it to the
 * services under test as JUDGEFLOW_SECRET_KEY). Simulated secrets only: a real stack has its own key.
 */
export const SIM_SECRET_KEY = Buffer.alloc(32, 's').toString('base64');

/** A simulated vendor's record, its secrets sealed with SIM_SECRET_KEY. */
export async function insertSimVendor(db: Db, v: Omit<SeedVendor, 'raters'> & { name?: string }) {
  const source = { env: {}, secretKey: SIM_SECRET_KEY };
  const { apiToken, ...config } = v.config ?? {};
  await db.insert(vendors).values({
    id: v.id,
    name: v.name ?? v.id,
    kind: v.kind ?? 'http',
    endpoint: v.endpoint ?? 'http://127.0.0.1:9/unused',
    rateCard: v.rateCard ?? { rate: 0.5, review: 1, write: 5 },
    config,
  });
  const secrets = [
    ...v.secrets.map((value) => storedSecret(v.id, 'signing', { value }, source)),
    ...(typeof apiToken === 'string' ? [storedSecret(v.id, 'api-token', { value: apiToken }, source)] : []),
  ];
  if (secrets.length) await db.insert(vendorSecrets).values(secrets);
}

export async function seedWorld(
  db: Db,
  opts: { programId: string; items: number; vendors: SeedVendor[]; seed?: number; gold?: number; criteria?: string[] },
) {
  const seed = opts.seed ?? 7;
  await db.insert(programs).values({ id: opts.programId, name: opts.programId, spec: {}, budgetUsd: 1000 });
  const itemIds: string[] = [];
  for (let i = 0; i < opts.items; i++) {
    const { id, title, locale, ...metadata } = generateShow(seed, i);
    await db.insert(shows).values({ id, title, locale, metadata }).onConflictDoNothing();
    const text = writeSynopsis(generateShow(seed, i), Rng.for('fixture', seed, i)).text;
    const itemId = `${opts.programId}-item-${i}`;
    await db.insert(items).values({ id: itemId, showId: id, locale, text, textHash: textHash(text) });
    itemIds.push(itemId);
  }
  for (const v of opts.vendors) {
    await insertSimVendor(db, v);
    for (const r of v.raters ?? [])
      await db.insert(raters).values({ id: `${v.id}:${r}`, vendorId: v.id, externalId: r });
  }
  // The last `gold` items get known answers (pass on every criterion) and serve as gold items.
  const gold = itemIds.slice(itemIds.length - (opts.gold ?? 0));
  for (const itemId of gold)
    for (const criterion of opts.criteria ?? ['tone', 'clarity'])
      await db.insert(goldAnswers).values({ programId: opts.programId, itemId, criterion, label: 1 });
  return { itemIds: itemIds.slice(0, itemIds.length - gold.length), goldIds: gold };
}
