/** Programs, their guideline versions and the decision log. */
import {
  bigserial,
  doublePrecision,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';

export const programs = pgTable('programs', {
  id: text('id').primaryKey(), // the slug, also used in workflow ids: program/<id>
  name: text('name').notNull(),
  spec: json<Record<string, unknown>>('spec').notNull(),
  status: text('status').notNull().default('created'), // created|running|paused|waiting_gate|completed|cancelled|failed
  phase: text('phase').notNull().default('scoping'),
  budgetUsd: doublePrecision('budget_usd').notNull(),
  estimate: json<Record<string, unknown>>('estimate'),
  workflowId: text('workflow_id'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A guideline (rubric) version; tasks dispatched after its publication carry it. Versions count up
 * per program; a revision of one locale's guidelines (`locale`, null: the program's) is that
 * locale's from its version on, while other locales keep theirs.
 */
export const guidelineVersions = pgTable(
  'guideline_versions',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    version: integer('version').notNull(),
    locale: text('locale'),
    text: text('text').notNull(),
    criteria: json<Record<string, unknown>[]>('criteria').notNull(),
    note: text('note').notNull(),
    author: text('author').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.version] })],
);

/** The decision log: every PM decision with its reason (gates, revisions, targets, pauses). */
export const decisionLog = pgTable(
  'decision_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    /** Idempotency key of the steering request that produced it. */
    requestId: text('request_id').notNull(),
    kind: text('kind').notNull(), // gate_approved|guideline_published|targets_changed|budget_changed|paused|resumed|cancelled|phase_completed|vendor_failed|vendor_updated
    phase: text('phase'),
    actor: text('actor').notNull(),
    note: text('note').notNull().default(''),
    data: json<Record<string, unknown>>('data').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('decision_log_request').on(t.programId, t.requestId)],
);
