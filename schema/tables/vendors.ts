/**
 * Vendors are records of their own (`judgeflow vendor add`), referenced by programs and never
 * rewritten by one. Their secrets live in vendor_secrets, never in plaintext: each is either the
 * name of an environment variable or the value sealed with JUDGEFLOW_SECRET_KEY (vendors/secrets.ts).
 */
import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';

export const vendors = pgTable('vendors', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').notNull(), // http|label-studio
  endpoint: text('endpoint'),
  /**
   * Plaintext signing secrets of databases from before vendor_secrets: sealed into it and cleared
   * at the worker's or the stack's start (vendors/registry.ts sealLegacyVendorSecrets).
   */
  legacySecrets: json<string[]>('secrets'),
  rateCard: json<Record<string, number>>('rate_card').notNull().default({}),
  /** Task kinds the vendor takes (rate, review, write). */
  roles: json<string[]>('roles').notNull().default(['rate', 'review']),
  config: json<Record<string, unknown>>('config').notNull().default({}),
  createdAt: createdAt(),
  /** Set by `judgeflow vendor remove`: the record stays for the tasks and charges that name it. */
  removedAt: timestamp('removed_at', { withTimezone: true }),
});

export const vendorSecrets = pgTable(
  'vendor_secrets',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    vendorId: text('vendor_id')
      .notNull()
      .references(() => vendors.id),
    /** signing: Standard Webhooks secret (Label Studio: the webhook's static token); api-token: Label Studio's API token. */
    purpose: text('purpose').notNull(),
    /** The environment variable holding the value (comma-separated values are several secrets)… */
    envName: text('env_name'),
    /** …or the value sealed with JUDGEFLOW_SECRET_KEY (AES-256-GCM). */
    sealed: text('sealed'),
    createdAt: createdAt(),
    /** Set when a rotation replaces it: still accepted until then (the grace period). */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [
    index('vendor_secrets_vendor').on(t.vendorId, t.purpose),
    check('vendor_secrets_one_source', sql`(${t.envName} is null) <> (${t.sealed} is null)`),
  ],
);
