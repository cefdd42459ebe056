/**
 * The report of a program as data: what reporting/queries/ read from Postgres and what the sections
 * (reporting/sections/) turn into text, tables and charts. Types only, so both sides depend on it
 * and not on each other.
 */
import type { VendorScore } from '../human-tasks/accounting';
import type { AuditRow } from '../governance/audit-trail';
import type { BehaviorValidation } from './behavior/analysis';
import type { CodeAgreement, PairAgreement, RaterConsensus, SplitItem } from '../stats/disagreement';

export interface PhaseSpan {
  phase: string;
  start: string;
  end: string | null;
}
export interface AgreementPoint {
  phase: string;
  round: number;
  criterion: string;
  guidelineVersion: number;
  items: number;
  raters: number;
  value: number | null;
  /** The metric and level of `value`: a Likert criterion's may differ from the program's (nominal). */
  metric: string;
  level: string;
  ci95: [number, number] | null;
  meetsTarget: boolean;
  /** A multilingual program's round: the same measure in each locale (the round meets the target only if all do). */
  byLocale?: Record<string, Pick<AgreementPoint, 'items' | 'raters' | 'value' | 'ci95' | 'meetsTarget'>>;
}
export interface RaterQuality {
  raterId: string;
  vendorId: string;
  status: string;
  pausedReason: string | null;
  goldLabels: number;
  goldCorrect: number;
  accuracy: number | null;
  /** Share of the rater's labels that match the golden set's final label. */
  goldenSetLabels: number;
  goldenSetAgreement: number | null;
  /** Accuracy on the earlier and later half of the rater's answers on the basis, in time order. */
  driftBasis: 'gold questions' | 'golden set';
  earlyAccuracy: number | null;
  lateAccuracy: number | null;
  drift: boolean;
}
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}
export interface JudgeVersion {
  criterion: string;
  promptHash: string;
  parentHash: string | null;
  origin: string;
  status: string;
  createdAt: string;
  model: string;
  split: string;
  samples: number;
  accuracy: number | null;
  accuracyCi95: [number, number] | null;
  tpr: number | null;
  tnr: number | null;
}
export interface OptimizerStep {
  criterion: string;
  runId: string;
  step: number;
  promptHash: string;
  devAccuracy: number | null;
  selected: boolean;
}
export interface HeldOut {
  criterion: string;
  promptHash: string;
  model: string;
  accuracy: number | null;
  accuracyCi95: [number, number] | null;
  confusion: Confusion;
  items: number;
  /** A Likert criterion's judge: its scale and score agreement (accuracy is pass/fail at passAt). */
  likert?: { points: number; passAt: number; exact: number; withinOne: number };
}
export interface ProductionCriterion {
  runId: string;
  criterion: string;
  passed: number;
  failed: number;
  errors: number;
  passRate: number | null;
}
/** One locale of a multilingual program's catalog as it stands: its items, judged, pass rates, or why it was skipped. */
export interface LocaleReport {
  locale: string;
  /** The program's items in this locale. */
  items: number;
  /** Its golden items, split as its judges were developed (dev) and measured (test) on them. */
  golden: { items: number; dev: number; test: number };
  /** Its items with a verdict on their current text. */
  judged: number;
  criteria: Array<Omit<ProductionCriterion, 'runId'>>;
  /** Why production did not judge it (its decision log note), else null. */
  skipped: string | null;
}
/** The guidelines and rubrics one locale reads now (the packet's and the judge prompts' rule). */
export interface LocaleGuidelines {
  locale: string;
  /** Its newest own revision, else the program's newest; null before any is published. */
  version: number | null;
  /** own: the locale's revision; spec: the spec's text for the locale; program: the program's revision. */
  guidelines: 'own' | 'spec' | 'program';
  /** Per criterion, the rubric's version: `v<N>` (the revision its text dates from), or `spec` (the locale's own there). */
  rubrics: Record<string, string>;
}
export interface CostRow {
  key: string;
  costUsd: number;
}

/** What one rating round's raters split on (the top few of each list). */
export interface RoundDisagreements {
  phase: string;
  round: number;
  labels: number;
  splitItems: SplitItem[];
  codes: CodeAgreement[];
  furthestRaters: RaterConsensus[];
}
export interface DisagreementReport {
  rounds: RoundDisagreements[];
  /** Rater pairs over every rating round's answers (the heatmap). */
  raterIds: string[];
  pairs: PairAgreement[];
  /** Per criterion: the first round that met the agreement target (pilot = round 0), and when. */
  speed: Array<{ criterion: string; phase: string | null; round: number | null; rounds: number; days: number | null }>;
  /** Criteria with Likert scales (their votes read as scale points, not pass/fail). */
  likert: string[];
}

export interface ProgramReport {
  generatedAt: string;
  program: {
    id: string;
    name: string;
    status: string;
    phase: string;
    budgetUsd: number;
    createdAt: string;
    criteria: string[];
    agreementTarget: number;
    agreementMetric: string;
    judgeAccuracyTarget: number;
  };
  timeline: PhaseSpan[];
  agreement: AgreementPoint[];
  disagreements: DisagreementReport;
  raters: RaterQuality[];
  golden: {
    composition: Array<{ criterion: string; split: string; pass: number; fail: number }>;
    /** Labels by the method that made them (the spec's golden.aggregation) and source, with their mean confidence and ratings. */
    bySource: Array<{
      method: string;
      source: string;
      labels: number;
      meanConfidence: number | null;
      ratingsPerLabel: number | null;
    }>;
    needsReview: number;
    reviewed: number;
    reviews: Array<{ itemId: string; criterion: string; label: number; explanation: string }>;
  };
  judges: { versions: JudgeVersion[]; trajectory: OptimizerStep[]; heldOut: HeldOut[] };
  production: {
    runs: Array<{
      id: string;
      mode: string;
      status: string;
      totalItems: number;
      judgedItems: number;
      failedItems: number;
    }>;
    criteria: ProductionCriterion[];
    /** Latest verdict per item on its current text, across production runs and fix re-judging. */
    current: Array<Omit<ProductionCriterion, 'runId'>>;
  };
  /** A multilingual program only: its catalog per locale. */
  locales?: LocaleReport[];
  fixLoop: {
    cycles: Array<{ status: string; count: number }>;
    attempts: Array<{ outcome: string; count: number }>;
    meanAttemptsToPass: number | null;
    /** Cycles whose last re-judge still errored (newest first, at most 50): never counted as passed. */
    needsReview: Array<{ itemId: string; attempt: number; errors: Record<string, string> }>;
  };
  cost: { totalUsd: number; budgetUsd: number; byPhase: CostRow[]; byVendor: CostRow[]; byModel: CostRow[] };
  /** The vendor scorecard: each vendor (raterId null), then its raters. */
  vendors: VendorScore[];
  decisions: Array<{
    at: string;
    kind: string;
    phase: string | null;
    actor: string;
    note: string;
    guidelineVersion: number | null;
  }>;
  /** Revisions in version order; `locale`: the one locale it revises, null: program-wide. */
  guidelines: Array<{ version: number; locale: string | null; author: string; note: string; at: string }>;
  /** A multilingual program only: what each locale's raters and judges read now. */
  localeGuidelines?: LocaleGuidelines[];
  /** Who changed what, when (governance/audit-trail.ts), oldest first. */
  audit: AuditRow[];
  behavior: BehaviorValidation | null;
}
