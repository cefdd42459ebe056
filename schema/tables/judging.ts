/** Judge prompts, judgments, evaluations and optimizer candidates. */
import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';
import { items } from './catalog';
import { programs } from './program';

/** A judge prompt version; its id is the hash of its content, its lineage says where it came from. */
export const judgePrompts = pgTable(
  'judge_prompts',
  {
    hash: text('hash').primaryKey(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    criterion: text('criterion').notNull(),
    agent: text('agent').notNull().default(''), // factuality panel: plot|metadata|talent|awards
    template: text('template').notNull(),
    guidelineVersion: integer('guideline_version').notNull(),
    settings: json<Record<string, unknown>>('settings').notNull().default({}), // temperature, effort, samples
    parentHash: text('parent_hash'),
    origin: text('origin').notNull(), // manual|seed|optimizer
    status: text('status').notNull().default('candidate'), // candidate|active|retired
    createdAt: createdAt(),
  },
  (t) => [index('judge_prompts_program_criterion').on(t.programId, t.criterion)],
);

/** One LLM sample. Its natural key makes "never pay for the same judgment twice" a unique index. */
export const judgments = pgTable(
  'judgments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    textHash: text('text_hash').notNull(),
    criterion: text('criterion').notNull(),
    agent: text('agent').notNull().default(''),
    promptHash: text('prompt_hash').notNull(),
    model: text('model').notNull(),
    sampleIndex: integer('sample_index').notNull(),
    status: text('status').notNull(), // ok|error (an error is never a pass)
    verdict: integer('verdict'), // 1 pass, 0 fail (a Likert score ≥ the criterion's passAt passes)
    score: integer('score'), // a Likert criterion's score 1..points; null for binary criteria
    reasoning: text('reasoning').notNull().default(''),
    summary: text('summary').notNull().default(''),
    error: text('error'),
    mode: text('mode').notNull().default('sync'), // sync|batch
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('judgments_natural_key').on(
      t.itemId,
      t.textHash,
      t.criterion,
      t.agent,
      t.promptHash,
      t.model,
      t.sampleIndex,
    ),
    index('judgments_program').on(t.programId, t.criterion),
  ],
);

/** A judge's verdict on validation data, per criterion and prompt version, comparable over versions. */
export const judgeEvaluations = pgTable(
  'judge_evaluations',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    criterion: text('criterion').notNull(),
    promptHash: text('prompt_hash').notNull(),
    model: text('model').notNull(),
    split: text('split').notNull(), // dev|test
    samples: integer('samples').notNull(),
    metrics: json<Record<string, unknown>>('metrics').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.criterion, t.promptHash, t.model, t.split, t.samples] })],
);

export const optimizationCandidates = pgTable(
  'optimization_candidates',
  {
    runId: text('run_id').notNull(),
    promptHash: text('prompt_hash').notNull(),
    parentHash: text('parent_hash'),
    step: integer('step').notNull(),
    critique: text('critique').notNull().default(''),
    devAccuracy: doublePrecision('dev_accuracy'),
    devEvaluated: integer('dev_evaluated').notNull().default(0),
    selected: boolean('selected').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.promptHash] })],
);

/**
 * What one optimizer expansion (run × parent prompt × step) got from the LLM, stored as each answer
 * arrives: the critique (`request = 'critique'`, index 0) and each edit (`request = 'edit'`, index
 * k) with the candidate prompt it gave (null: empty or the parent unchanged). A retried
 * proposeCandidates reuses these rows and requests only the rest.
 */
export const optimizationRequests = pgTable(
  'optimization_requests',
  {
    runId: text('run_id').notNull(),
    parentHash: text('parent_hash').notNull(),
    step: integer('step').notNull(),
    request: text('request').notNull(), // critique|edit
    index: integer('index').notNull(),
    /** The critique, or the edited template. */
    output: text('output').notNull(),
    promptHash: text('prompt_hash'),
    /** LLM requests it took (a repair is a second one). */
    requests: integer('requests').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.parentHash, t.step, t.request, t.index] })],
);
