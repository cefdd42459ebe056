/** Member behaviour, the usage ledger, the audit log and smoke checks. */
import {
  bigserial,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';
import { items } from './catalog';
import { programs } from './program';

export const behaviorMetrics = pgTable(
  'behavior_metrics',
  {
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    period: text('period').notNull().default('all'),
    impressions: integer('impressions').notNull(),
    takeFraction: doublePrecision('take_fraction').notNull(),
    abandonmentRate: doublePrecision('abandonment_rate').notNull(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.period] })],
);

/**
 * Every LLM call and every human task charge. `requestKey` is the idempotency key of what was paid
 * for (a judgment's natural key, a task id…), so a retried activity never charges twice.
 */
export const usageLedger = pgTable(
  'usage_ledger',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestKey: text('request_key').notNull(),
    programId: text('program_id').references(() => programs.id),
    phase: text('phase').notNull(),
    kind: text('kind').notNull(), // judge|aggregate|merge|critique|edit|human_task
    model: text('model'), // null for human tasks
    vendorId: text('vendor_id'),
    mode: text('mode').notNull().default('sync'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    cachedTokens: integer('cached_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    /** Personal data replaced in the requests' messages before they were sent (llm/redaction.ts). */
    redactions: integer('redactions').notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull(),
    /** What the same usage would have cost at the other price (batch vs sync), for comparisons. */
    altCostUsd: doublePrecision('alt_cost_usd'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('usage_ledger_request').on(t.requestKey), index('usage_ledger_program').on(t.programId, t.phase)],
);

/**
 * Each program's spend, the usage ledger's sums kept current by statement-level triggers on it
 * (migration 0019), so the budget check before every production page reads one row instead of
 * summing the whole ledger: that sum grew with the run (0.46 s at 450k rows) and made a 1M run's
 * pages wait for each other under the program's budget lock.
 */
export const programSpendTotals = pgTable('program_spend', {
  programId: text('program_id').primaryKey(),
  humanUsd: doublePrecision('human_usd').notNull().default(0),
  llmUsd: doublePrecision('llm_usd').notNull().default(0),
});

/**
 * Every change a person or QA makes: who (`actor`), what (`action` on `entity`/`entityId`), the
 * state before and after, and the request id that made it (a steering update's id, the CLI's
 * request id), written in the change's own transaction by governance/audit.ts. A retried request
 * writes no second row (the unique index).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Null for a change outside any one program (a catalog import, a rater paused by hand). */
    programId: text('program_id'),
    actor: text('actor').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    action: text('action').notNull(),
    before: json<unknown>('before'),
    after: json<unknown>('after'),
    requestId: text('request_id'),
    /** Why and other context (the note, the reason, counts). */
    data: json<Record<string, unknown>>('data').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_entity').on(t.entity, t.entityId),
    index('audit_log_program_time').on(t.programId, t.createdAt),
    uniqueIndex('audit_log_request').on(t.requestId, t.action, t.entity, t.entityId),
  ],
);

/** The smoke workflow's round trip (stack up proves worker → Postgres → Temporal with it). */
export const smokeChecks = pgTable('smoke_checks', {
  id: text('id').primaryKey(),
  message: text('message').notNull(),
  createdAt: createdAt(),
});

/**
 * A provider limit shared by every worker that paces against it (llm/shared-limit.ts): the time of
 * the pool's next free request slot. Workers reserve slots in small batches by moving it forward;
 * a 429 moves it past the provider's retry time.
 */
export const llmRatePools = pgTable('llm_rate_pools', {
  pool: text('pool').primaryKey(),
  nextAt: timestamp('next_at', { withTimezone: true }).notNull(),
});
