/**
 * Postgres is the system of record. Every fact has its natural key as a unique index, so that an
 * activity retried or replayed writes with `ON CONFLICT` and never doubles a label, a judgment or a
 * charge. Workflows carry only ids and small summaries; the data lives here.
 */
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const json = <T>(name: string) => jsonb(name).$type<T>();

// ── Programs and their guidelines ──────────────────────────────────────────────────────────────

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

/** A guideline (rubric) version; tasks dispatched after its publication carry it. */
export const guidelineVersions = pgTable(
  'guideline_versions',
  {
    programId: text('program_id').notNull().references(() => programs.id),
    version: integer('version').notNull(),
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
    programId: text('program_id').notNull().references(() => programs.id),
    /** Idempotency key of the steering request that produced it. */
    requestId: text('request_id').notNull(),
    kind: text('kind').notNull(), // gate_approved|guideline_published|targets_changed|budget_changed|paused|resumed|cancelled|phase_completed
    phase: text('phase'),
    actor: text('actor').notNull(),
    note: text('note').notNull().default(''),
    data: json<Record<string, unknown>>('data').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('decision_log_request').on(t.programId, t.requestId)],
);

// ── Catalog ────────────────────────────────────────────────────────────────────────────────────

export const shows = pgTable('shows', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  locale: text('locale').notNull().default('en-US'),
  /** genres, year, locations, talent, awards, plot summary… as the catalog gives them. */
  metadata: json<Record<string, unknown>>('metadata').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** An item to rate or judge: a synopsis. Its current text; past texts live in item_revisions. */
export const items = pgTable(
  'items',
  {
    id: text('id').primaryKey(),
    showId: text('show_id').notNull().references(() => shows.id),
    locale: text('locale').notNull().default('en-US'),
    text: text('text').notNull(),
    /** sha256 of the text: judgments are keyed by it, so an edit is judged again, an unchanged text never. */
    textHash: text('text_hash').notNull(),
    source: text('source').notNull().default('import'), // import|api|writer
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [index('items_show').on(t.showId), index('items_updated').on(t.updatedAt)],
);

export const itemRevisions = pgTable(
  'item_revisions',
  {
    itemId: text('item_id').notNull().references(() => items.id),
    textHash: text('text_hash').notNull(),
    text: text('text').notNull(),
    source: text('source').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.textHash] })],
);

/**
 * Which items a program drew for which purpose (pilot, calibration round n, golden set). Drawing is
 * recorded before tasks exist, so a retried draw returns the same items and rounds never overlap.
 */
export const programItems = pgTable(
  'program_items',
  {
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    purpose: text('purpose').notNull(), // pilot | calibration/3 | golden-set
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.itemId] }), index('program_items_purpose').on(t.programId, t.purpose)],
);

// ── Vendors, raters and human tasks ───────────────────────────────────────────────────────────

export const vendors = pgTable('vendors', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').notNull(), // http|label-studio
  endpoint: text('endpoint'),
  /** Active signing secrets (Standard Webhooks, `whsec_…`); two during a rotation. */
  secrets: json<string[]>('secrets').notNull(),
  rateCard: json<Record<string, number>>('rate_card').notNull().default({}),
  config: json<Record<string, unknown>>('config').notNull().default({}),
  createdAt: createdAt(),
});

export const raters = pgTable(
  'raters',
  {
    id: text('id').primaryKey(), // `${vendorId}:${externalId}`
    vendorId: text('vendor_id').notNull().references(() => vendors.id),
    externalId: text('external_id').notNull(),
    status: text('status').notNull().default('active'), // active|paused|disqualified
    /** locales, criteria and task kinds the rater is qualified for. */
    qualification: json<Record<string, unknown>>('qualification').notNull().default({}),
    pausedReason: text('paused_reason'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('raters_vendor_external').on(t.vendorId, t.externalId)],
);

/** One batch of human tasks = one human-task child workflow. */
export const taskBatches = pgTable('task_batches', {
  id: text('id').primaryKey(), // equals the workflow id
  programId: text('program_id').notNull().references(() => programs.id),
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
    batchId: text('batch_id').notNull().references(() => taskBatches.id),
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    /** The item's text hash when dispatched, so a label refers to the text the rater saw. */
    textHash: text('text_hash').notNull(),
    slot: integer('slot').notNull(), // 0..k-1: the k distinct raters an item needs
    attempt: integer('attempt').notNull().default(0), // increments on reassignment
    vendorId: text('vendor_id').notNull().references(() => vendors.id),
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
  ],
);

/** Known answers of gold items (seeded from the spec's gold examples), used to score raters. */
export const goldAnswers = pgTable(
  'gold_answers',
  {
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
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
    taskId: text('task_id').notNull().references(() => tasks.id),
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    raterId: text('rater_id').notNull().references(() => raters.id),
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
    vendorId: text('vendor_id').notNull().references(() => vendors.id),
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
    index('vendor_events_unsignalled').on(t.signalledAt).where(sql`signalled_at IS NULL`),
  ],
);

// ── Agreement and the golden set ──────────────────────────────────────────────────────────────

export const agreementReports = pgTable(
  'agreement_reports',
  {
    programId: text('program_id').notNull().references(() => programs.id),
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
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    criterion: text('criterion').notNull(),
    label: integer('label').notNull(),
    explanation: text('explanation').notNull(),
    source: text('source').notNull(), // unanimous|llm_aggregate|adjudicated
    needsReview: boolean('needs_review').notNull().default(false),
    reviewed: boolean('reviewed').notNull().default(false),
    split: text('split').notNull(), // dev|test
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.itemId, t.criterion] })],
);

// ── Judges ─────────────────────────────────────────────────────────────────────────────────────

/** A judge prompt version; its id is the hash of its content, its lineage says where it came from. */
export const judgePrompts = pgTable(
  'judge_prompts',
  {
    hash: text('hash').primaryKey(),
    programId: text('program_id').notNull().references(() => programs.id),
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
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    textHash: text('text_hash').notNull(),
    criterion: text('criterion').notNull(),
    agent: text('agent').notNull().default(''),
    promptHash: text('prompt_hash').notNull(),
    model: text('model').notNull(),
    sampleIndex: integer('sample_index').notNull(),
    status: text('status').notNull(), // ok|error (an error is never a pass)
    verdict: integer('verdict'),
    reasoning: text('reasoning').notNull().default(''),
    summary: text('summary').notNull().default(''),
    error: text('error'),
    mode: text('mode').notNull().default('sync'), // sync|batch
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('judgments_natural_key').on(t.itemId, t.textHash, t.criterion, t.agent, t.promptHash, t.model, t.sampleIndex),
    index('judgments_program').on(t.programId, t.criterion),
  ],
);

/** A judge's verdict on validation data, per criterion and prompt version, comparable over versions. */
export const judgeEvaluations = pgTable(
  'judge_evaluations',
  {
    programId: text('program_id').notNull().references(() => programs.id),
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

// ── Production judging and the fix loop ───────────────────────────────────────────────────────

export const productionRuns = pgTable('production_runs', {
  id: text('id').primaryKey(),
  programId: text('program_id').notNull().references(() => programs.id),
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
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    textHash: text('text_hash').notNull(),
    criterion: text('criterion').notNull(),
    verdict: integer('verdict'), // null: error (never a pass)
    samples: integer('samples').notNull(),
    summary: text('summary').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.itemId, t.textHash, t.criterion] })],
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
    programId: text('program_id').notNull().references(() => programs.id),
    itemId: text('item_id').notNull().references(() => items.id),
    openedForHash: text('opened_for_hash').notNull(),
    status: text('status').notNull().default('open'), // open|passed|escalated|cancelled
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
    fixCycleId: text('fix_cycle_id').notNull().references(() => fixCycles.id),
    attempt: integer('attempt').notNull(),
    writerId: text('writer_id'),
    failingCriteria: json<string[]>('failing_criteria').notNull(),
    beforeHash: text('before_hash').notNull(),
    afterHash: text('after_hash'),
    outcome: text('outcome'), // passed|failed|escalated
    stillFailing: json<string[]>('still_failing'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.fixCycleId, t.attempt] })],
);

// ── Member behaviour, money, audit ────────────────────────────────────────────────────────────

export const behaviorMetrics = pgTable(
  'behavior_metrics',
  {
    itemId: text('item_id').notNull().references(() => items.id),
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
    costUsd: doublePrecision('cost_usd').notNull(),
    /** What the same usage would have cost at the other price (batch vs sync), for comparisons. */
    altCostUsd: doublePrecision('alt_cost_usd'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('usage_ledger_request').on(t.requestKey), index('usage_ledger_program').on(t.programId, t.phase)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    programId: text('program_id'),
    actor: text('actor').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    action: text('action').notNull(),
    data: json<Record<string, unknown>>('data').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_entity').on(t.entity, t.entityId)],
);

/** The smoke workflow's round trip (stack up proves worker → Postgres → Temporal with it). */
export const smokeChecks = pgTable('smoke_checks', {
  id: text('id').primaryKey(),
  message: text('message').notNull(),
  createdAt: createdAt(),
});
