/**
 * How a program manager steers a running program: Temporal Updates (validated, so a bad request is
 * refused with a reason and changes nothing) and a status query. Every request carries a requestId:
 * the workflow remembers the ids it applied (across continue-as-new), so a retried CLI call is a no-op.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ProgramSpec } from '../schema/program-spec';

export const PHASES = ['scoping', 'pilot', 'calibration', 'golden-set', 'judges', 'production', 'completed'] as const;
export type Phase = (typeof PHASES)[number];

interface Steering {
  requestId: string;
  actor: string;
  note?: string;
}

export interface ApproveGateRequest extends Steering {
  /** The gate being approved; refused if the program waits at another one (or none). */
  gate: string;
}
export interface PublishGuidelinesRequest extends Steering {
  version: number;
  text: string;
  note: string;
  /** A multilingual program's locale whose guidelines this revises (others keep theirs); absent: the program's. */
  locale?: string;
}
export interface ChangeTargetsRequest extends Steering {
  agreement?: number;
  judgeAccuracy?: number;
}
export interface ChangeBudgetRequest extends Steering {
  usd: number;
}

export interface SteeringResult {
  applied: boolean;
  /** false when the same requestId was applied before (a retried call). */
  duplicate: boolean;
  message: string;
}

export const approveGateUpdate = defineUpdate<SteeringResult, [ApproveGateRequest]>('approveGate');
export const publishGuidelinesUpdate = defineUpdate<SteeringResult, [PublishGuidelinesRequest]>('publishGuidelines');
export const pauseUpdate = defineUpdate<SteeringResult, [Steering]>('pause');
export const resumeUpdate = defineUpdate<SteeringResult, [Steering]>('resume');
export const changeTargetsUpdate = defineUpdate<SteeringResult, [ChangeTargetsRequest]>('changeTargets');
export const changeBudgetUpdate = defineUpdate<SteeringResult, [ChangeBudgetRequest]>('changeBudget');
/**
 * Who cancels and why, sent just before the cancellation (which carries no identity): the owners
 * check applies, and the cancelled decision and its audit row name this actor and request.
 */
export const requestCancelUpdate = defineUpdate<SteeringResult, [Steering]>('requestCancel');

export interface CriterionAgreement {
  value: number | null;
  ci95: [number, number] | null;
  /** In a multilingual program: the overall value and every locale's meet the target. */
  meetsTarget: boolean;
  /** A multilingual program's agreement per locale code, with what it was measured on. */
  byLocale?: Record<string, LocaleAgreement>;
}

export interface LocaleAgreement {
  value: number | null;
  ci95: [number, number] | null;
  meetsTarget: boolean;
  items: number;
  raters: number;
  ratings: number;
}

export interface RoundSummary {
  phase: 'pilot' | 'calibration';
  round: number;
  guidelineVersion: number;
  items: number;
  agreement: Record<string, CriterionAgreement>;
  allMeetTarget: boolean;
  finishedAt: string;
}

export interface JudgeSummary {
  criterion: string;
  /** A multilingual program's judge: the locale it was developed and measured for. */
  locale?: string;
  promptHash: string;
  devAccuracy: number | null;
  testAccuracy: number | null;
  tpr: number | null;
  tnr: number | null;
  meetsTarget: boolean;
}

/** One locale's production in a multilingual program: its run, or the items it skipped and why. */
export interface LocaleProduction {
  runId: string | null;
  judged: number;
  total: number;
  failing: number;
  errors?: number;
  /** Set when the locale was not judged: no judge is validated for it (its `total` items are skipped). */
  skipped?: string;
  /** Per criterion, errors as errors (filled by the CLI from the database). */
  verdicts?: Record<string, { pass: number; fail: number; error: number }>;
}

export interface ProgramStatus {
  programId: string;
  status: 'running' | 'paused' | 'waiting_gate' | 'completed' | 'cancelled' | 'failed';
  phase: Phase;
  round: number;
  guidelineVersion: number;
  gate: { name: string; reason: string; evidence: Record<string, unknown> } | null;
  pausedReason: string | null;
  targets: ProgramSpec['targets'];
  budgetUsd: number;
  spendUsd: number;
  rounds: RoundSummary[];
  /** Agreement per criterion of the latest round (with intervals). */
  agreement: Record<string, CriterionAgreement>;
  tasks: { completed: number; reassigned: number; expired: number; labels: number };
  goldenSet: GoldenSetSummary | null;
  judges: JudgeSummary[];
  production: {
    runId: string;
    judged: number;
    total: number;
    failing: number;
    /** Items with a criterion in error (never counted as passing). */
    errors?: number;
    /** Per criterion, errors as errors (filled by the CLI from the database). */
    verdicts?: Record<string, { pass: number; fail: number; error: number }>;
    /** A multilingual program: each locale's run, or why it was skipped (no judge validated for it). */
    locales?: Record<string, LocaleProduction>;
  } | null;
  startedAt: string;
  /** Expected completion from the estimate and the progress so far. */
  eta: string | null;
  decisions: number;
  /** Fix cycles by outcome (filled by the CLI from the database); needsReview: the re-judge still errored. */
  fixLoop?: { open: number; passed: number; escalated: number; needsReview: number; cancelled: number };
  /** Activities of the program's open workflows that are failing and being retried (filled by the CLI from Temporal). */
  retrying?: RetryingActivity[];
  /** Open workflows of the program the CLI looked into for `retrying`, and those it left out (over its limit). */
  inspected?: { workflows: number; skipped: number };
}

/** An activity failing and being retried in one of a program's open workflows, from Temporal's describe. */
export interface RetryingActivity {
  workflowId: string;
  /** The workflow id below `program/<id>/` (`program` for the program workflow itself), e.g. `pilot/tasks`. */
  where: string;
  activityType: string;
  /** The attempt running or scheduled next. */
  attempt: number;
  /** null: unlimited. */
  maximumAttempts: number | null;
  lastError: string;
  nextAttemptAt: string | null;
}

export const programStatusQuery = defineQuery<ProgramStatus>('status');

/**
 * The golden set as built: items, split, reviews, and how its labels were made — the spec's method,
 * the labels' mean confidence and ratings per label (null where labels predate them).
 */
export interface GoldenSetSummary {
  items: number;
  dev: number;
  test: number;
  reviewed: number;
  /** Optional only because statuses of runs before they were recorded lack them. */
  method?: string | null;
  meanConfidence?: number | null;
  ratingsPerLabel?: number | null;
  /** A golden set over more than one locale: its items and split per locale code. */
  byLocale?: Record<string, { items: number; dev: number; test: number }>;
}
