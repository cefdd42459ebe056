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

export interface CriterionAgreement {
  value: number | null;
  ci95: [number, number] | null;
  meetsTarget: boolean;
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
  promptHash: string;
  devAccuracy: number | null;
  testAccuracy: number | null;
  tpr: number | null;
  tnr: number | null;
  meetsTarget: boolean;
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
  goldenSet: { items: number; dev: number; test: number; reviewed: number } | null;
  judges: JudgeSummary[];
  production: { runId: string; judged: number; total: number; failing: number } | null;
  startedAt: string;
  /** Expected completion from the estimate and the progress so far. */
  eta: string | null;
  decisions: number;
}

export const programStatusQuery = defineQuery<ProgramStatus>('status');
