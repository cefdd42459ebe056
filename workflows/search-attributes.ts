/**
 * The custom search attributes every judgeflow workflow sets, so engineers can filter runs in the
 * Temporal Web UI (e.g. `JudgeflowProgram = "x" AND JudgeflowPhase = "calibration" AND JudgeflowMeetsTarget = false`).
 * The stack registers them at start; see platform/temporal.ts.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ProgramKey = defineSearchAttributeKey('JudgeflowProgram', SearchAttributeType.KEYWORD);
export const PhaseKey = defineSearchAttributeKey('JudgeflowPhase', SearchAttributeType.KEYWORD);
export const RoundKey = defineSearchAttributeKey('JudgeflowRound', SearchAttributeType.INT);
export const CriterionKey = defineSearchAttributeKey('JudgeflowCriterion', SearchAttributeType.KEYWORD_LIST);
export const VendorKey = defineSearchAttributeKey('JudgeflowVendor', SearchAttributeType.KEYWORD_LIST);
export const StatusKey = defineSearchAttributeKey('JudgeflowStatus', SearchAttributeType.KEYWORD);
export const MinAgreementKey = defineSearchAttributeKey('JudgeflowMinAgreement', SearchAttributeType.DOUBLE);
export const MeetsTargetKey = defineSearchAttributeKey('JudgeflowMeetsTarget', SearchAttributeType.BOOL);

export const SEARCH_ATTRIBUTES = [
  ProgramKey,
  PhaseKey,
  RoundKey,
  CriterionKey,
  VendorKey,
  StatusKey,
  MinAgreementKey,
  MeetsTargetKey,
] as const;
