/** Raters, human tasks, their labels and the vendor event inbox. */
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
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
import { vendors } from './vendors';

export const raters = pgTable(
  'raters',
  {
    id: text('id').primaryKey(), // `${vendorId}:${externalId}`
    vendorId: text('vendor_id')
      .notNull()
      .references(() => vendors.id),
    externalId: text('external_id').notNull(),
    status: text('status').notNull().default('active'), // active|paused|disqualified
    /** locales, criteria and task kinds the rater is qualified for. */
    qualification: json<Record<string, unknown>>('qualification').notNull().default({}),
    pausedReason: text('paused_reason'),
    /** Who paused the rater: `qa` (gold accuracy, drift) or the person named by `judgeflow rater pause`. */
    pausedBy: text('paused_by'),
    pausedAt: timestamp('paused_at', { withTimezone: true }),
    /** QA reads only gold answers given after it: a reinstated rater starts afresh. */
    reinstatedAt: timestamp('reinstated_at', { withTimezone: true }),
    /** Set while detectDrift flags the rater's recent gold accuracy; the evidence is in driftReason. */
    driftFlaggedAt: timestamp('drift_flagged_at', { withTimezone: true }),
    driftReason: text('drift_reason'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('raters_vendor_external').on(t.vendorId, t.externalId)],
);

/** What was done to a rater, by whom and why: pauses, reinstatements, drift flags, qualification results. */
export const raterActions = pgTable(
  'rater_actions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    raterId: text('rater_id')
      .notNull()
      .references(() => raters.id),
    /** The program whose gold answers led to it; null for an action by hand. */
    programId: text('program_id'),
    action: text('action').notNull(), // paused|reinstated|drift_flagged|qualified|failed_qualification
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    data: json<Record<string, unknown>>('data').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('rater_actions_rater').on(t.raterId, t.id)],
);

/**
 * A rater's qualification batch for a program that requires one (spec `raters.qualification`), one
 * per locale they work in: passing on English gold says nothing of their Spanish.
 */
export const raterQualifications = pgTable(
  'rater_qualifications',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    raterId: text('rater_id')
      .notNull()
      .references(() => raters.id),
    locale: text('locale').notNull(),
    status: text('status').notNull().default('pending'), // pending|passed|failed
    goldAnswers: integer('gold_answers').notNull().default(0),
    correct: integer('correct').notNull().default(0),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.raterId, t.locale] })],
);

/** One batch of human tasks = one human-task child workflow. */
export const taskBatches = pgTable('task_batches', {
  id: text('id').primaryKey(), // equals the workflow id
  programId: text('program_id')
    .notNull()
    .references(() => programs.id),
  phase: text('phase').notNull(), // pilot|calibration|golden-set|review|fix
  round: integer('round'),
  kind: text('kind').notNull(), // rate|review|write
  status: text('status').notNull().default('open'), // open|completed|cancelled
  guidelineVersion: integer('guideline_version').notNull(),
  createdAt: createdAt(),
  closedAt: timestamp('closed_at', { withTimezone: true }),
});

/**
 * One assignment of one item to one rater (or writer). The id is the stable external id sent to
 * the vendor, so dispatching twice creates the task once on the vendor's side.
 */
export const tasks = pgTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    batchId: text('batch_id')
      .notNull()
      .references(() => taskBatches.id),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    /** The item's text hash when dispatched, so a label refers to the text the rater saw. */
    textHash: text('text_hash').notNull(),
    slot: integer('slot').notNull(), // 0..k-1: the k distinct raters an item needs
    attempt: integer('attempt').notNull().default(0), // increments on reassignment
    vendorId: text('vendor_id')
      .notNull()
      .references(() => vendors.id),
    raterId: text('rater_id').references(() => raters.id),
    kind: text('kind').notNull(), // rate|review|write
    isGold: boolean('is_gold').notNull().default(false),
    guidelineVersion: integer('guideline_version').notNull(),
    status: text('status').notNull().default('pending'), // pending|dispatched|completed|declined|expired|cancelled|reassigned
    payload: json<Record<string, unknown>>('payload').notNull().default({}),
    dueAt: timestamp('due_at', { withTimezone: true }),
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('tasks_slot_attempt').on(t.batchId, t.itemId, t.slot, t.attempt),
    index('tasks_batch_status').on(t.batchId, t.status),
    index('tasks_rater').on(t.raterId),
    // The vendor scorecard (program status, vendor report) groups a program's tasks by vendor and rater.
    index('tasks_program_vendor').on(t.programId, t.vendorId, t.raterId),
  ],
);

/** Known answers of gold items (seeded from the spec's gold examples), used to score raters. */
export const goldAnswers = pgTable(
  'gold_answers',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    criterion: text('criterion').notNull(),
    label: integer('label').notNull(),
    explanation: text('explanation').notNull().default(''),
  },
  (t) => [primaryKey({ columns: [t.programId, t.itemId, t.criterion] })],
);

/** A rater's answer for one criterion of one task. */
export const labels = pgTable(
  'labels',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    raterId: text('rater_id')
      .notNull()
      .references(() => raters.id),
    criterion: text('criterion').notNull(),
    value: integer('value').notNull(), // binary: 1 pass, 0 fail; Likert: 1..n
    explanation: text('explanation').notNull().default(''),
    errorCodes: json<string[]>('error_codes').notNull().default([]),
    guidelineVersion: integer('guideline_version').notNull(),
    phase: text('phase').notNull(),
    round: integer('round'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('labels_task_criterion').on(t.taskId, t.criterion),
    index('labels_program_phase').on(t.programId, t.phase, t.round),
  ],
);

/**
 * The gateway's durable inbox: an event is committed here before the vendor gets its 2xx, then
 * signalled to its workflow; the reconciler re-signals rows whose signal has not gone through.
 */
export const vendorEvents = pgTable(
  'vendor_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    vendorId: text('vendor_id')
      .notNull()
      .references(() => vendors.id),
    deliveryId: text('delivery_id').notNull(), // webhook-id
    type: text('type').notNull(),
    taskId: text('task_id'),
    body: json<Record<string, unknown>>('body').notNull(),
    /** What the gateway answered, returned unchanged to a duplicate delivery. */
    responseStatus: integer('response_status').notNull(),
    responseBody: json<Record<string, unknown>>('response_body').notNull(),
    /** applied: labels stored; conflict: kept for audit only; rejected: refused with a 4xx. */
    disposition: text('disposition').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    signalledAt: timestamp('signalled_at', { withTimezone: true }),
    signalAttempts: integer('signal_attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('vendor_events_delivery').on(t.vendorId, t.deliveryId),
    index('vendor_events_unsignalled')
      .on(t.signalledAt)
      .where(sql`signalled_at IS NULL`),
  ],
);
