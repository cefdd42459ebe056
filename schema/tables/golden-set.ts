/** Agreement per round and the golden set. */
import { boolean, doublePrecision, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';
import { items } from './catalog';
import { programs } from './program';

export const agreementReports = pgTable(
  'agreement_reports',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    phase: text('phase').notNull(),
    round: integer('round').notNull().default(0),
    criterion: text('criterion').notNull(),
    guidelineVersion: integer('guideline_version').notNull(),
    items: integer('items').notNull(),
    raters: integer('raters').notNull(),
    ratings: integer('ratings').notNull(),
    /** percent agreement, alpha, kappas, AC1, intervals, notes: the stats module's output. */
    metrics: json<Record<string, unknown>>('metrics').notNull(),
    meetsTarget: boolean('meets_target').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.phase, t.round, t.criterion] })],
);

export const goldenLabels = pgTable(
  'golden_labels',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    criterion: text('criterion').notNull(),
    label: integer('label').notNull(),
    explanation: text('explanation').notNull(),
    source: text('source').notNull(), // unanimous|llm_aggregate|dawid_skene|majority|adjudicated
    /** The spec's golden.aggregation when the label was made: llm|dawid-skene|majority. */
    method: text('method').notNull().default('llm'),
    /**
     * How sure the aggregate is of the label: the Dawid–Skene posterior, else the share of ratings
     * that gave it. Null on labels stored before it was recorded.
     */
    confidence: doublePrecision('confidence'),
    /** Ratings the label was made from. */
    ratings: integer('ratings'),
    needsReview: boolean('needs_review').notNull().default(false),
    reviewed: boolean('reviewed').notNull().default(false),
    split: text('split').notNull(), // dev|test
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.itemId, t.criterion] })],
);
