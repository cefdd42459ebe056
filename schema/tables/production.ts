/** Production runs, verdicts, provider batches and the fix loop. */
import { sql } from 'drizzle-orm';
import {
  bigint,
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

export const productionRuns = pgTable('production_runs', {
  id: text('id').primaryKey(),
  programId: text('program_id')
    .notNull()
    .references(() => programs.id),
  mode: text('mode').notNull(), // sync|batch
  status: text('status').notNull().default('running'),
  params: json<Record<string, unknown>>('params').notNull().default({}),
  totalItems: integer('total_items').notNull().default(0),
  judgedItems: integer('judged_items').notNull().default(0),
  failedItems: integer('failed_items').notNull().default(0),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});

/** The consensus verdict of an item × criterion in a run (one row, whatever the samples). */
export const itemVerdicts = pgTable(
  'item_verdicts',
  {
    runId: text('run_id').notNull(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    textHash: text('text_hash').notNull(),
    criterion: text('criterion').notNull(),
    /** 1 pass, 0 fail, null: the judgment errored. Every reader counts null as an error, never a pass. */
    verdict: integer('verdict'),
    samples: integer('samples').notNull(),
    summary: text('summary').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.itemId, t.textHash, t.criterion] }),
    // A run's counts by verdict and its errors, read by status during a run without touching the rows.
    index('item_verdicts_run_verdict').on(t.runId, t.verdict, t.criterion),
  ],
);

/**
 * Each run's verdicts per criterion, kept with item_verdicts by statement-level triggers (migration
 * 0021), so status during a run of a million items reads a row per criterion instead of counting the
 * run's index entries (0.5–2.5 s at 1M). Counted as stored, on whatever text each verdict was for:
 * production/verdicts.ts takes out verdicts on texts edited since and applies retries.
 */
export const runVerdictTally = pgTable(
  'run_verdict_tally',
  {
    runId: text('run_id').notNull(),
    criterion: text('criterion').notNull(),
    pass: bigint('pass', { mode: 'number' }).notNull().default(0),
    fail: bigint('fail', { mode: 'number' }).notNull().default(0),
    error: bigint('error', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.criterion] })],
);

/**
 * A production page's budget reservation: from the check that let the page start until it is done,
 * its estimated cost counts against the program's budget together with the ledger's spend, so
 * shards checking at once cannot overshoot it between them. (run, shard, page) makes a retried
 * check find it.
 */
export const productionPages = pgTable(
  'production_pages',
  {
    runKey: text('run_key').notNull(),
    shard: integer('shard').notNull(),
    page: integer('page').notNull(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    /** LLM requests the page was expected to make (samples not stored yet, panel merges). */
    requests: integer('requests').notNull(),
    estimateUsd: doublePrecision('estimate_usd').notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.runKey, t.shard, t.page] }),
    index('production_pages_open')
      .on(t.programId)
      .where(sql`finished_at is null`),
  ],
);

/** Provider Batch API jobs of batch-mode runs. */
/** A Batch API submission of one production page; (run, shard, page, attempt) is what makes a retried submit find it. */
export const providerBatches = pgTable(
  'provider_batches',
  {
    id: text('id').primaryKey(), // provider's batch id
    runId: text('run_id').notNull(),
    shard: integer('shard').notNull(),
    page: integer('page').notNull(),
    attempt: integer('attempt').notNull(),
    status: text('status').notNull(),
    inputFileId: text('input_file_id').notNull(),
    outputFileId: text('output_file_id'),
    errorFileId: text('error_file_id'),
    requestCount: integer('request_count').notNull(),
    /** Set in the transaction that stored the batch's judgments and ledger rows: a re-ingest writes nothing. */
    ingestedAt: timestamp('ingested_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('provider_batches_submission').on(t.runId, t.shard, t.page, t.attempt)],
);

export const fixCycles = pgTable(
  'fix_cycles',
  {
    id: text('id').primaryKey(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    itemId: text('item_id')
      .notNull()
      .references(() => items.id),
    openedForHash: text('opened_for_hash').notNull(),
    status: text('status').notNull().default('open'), // open|passed|escalated|needs_review|cancelled
    attempts: integer('attempts').notNull().default(0),
    failingCriteria: json<string[]>('failing_criteria').notNull(),
    createdAt: createdAt(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('fix_cycles_item_hash').on(t.programId, t.itemId, t.openedForHash)],
);

/** Every human intervention in the fix loop, kept as data for the learning loop. */
export const fixAttempts = pgTable(
  'fix_attempts',
  {
    fixCycleId: text('fix_cycle_id')
      .notNull()
      .references(() => fixCycles.id),
    attempt: integer('attempt').notNull(),
    writerId: text('writer_id'),
    failingCriteria: json<string[]>('failing_criteria').notNull(),
    beforeHash: text('before_hash').notNull(),
    afterHash: text('after_hash'),
    outcome: text('outcome'), // passed|failed|escalated|needs_review (the re-judge still errored after its retries)
    stillFailing: json<string[]>('still_failing'),
    /** Criteria whose re-judge errored, with the judge's error: why an attempt needs review. */
    errors: json<Record<string, string>>('errors'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.fixCycleId, t.attempt] })],
);
