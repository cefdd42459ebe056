/**
 * One round of human rating (the pilot, or a calibration round): draw fresh items, send them to k
 * raters through the human-task child workflow, then compute agreement per criterion and what the
 * raters split on (the digest the round's gate shows). A multilingual program draws the round in
 * each locale (tasks reach that locale's raters) and measures agreement per locale too.
 */
import { executeChild, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RoundDigest } from '../program/disagreements';
import type { ProgramPlan } from '../program/activities';
import { humanTasksWorkflow, type HumanTasksResult } from './human-tasks';
import type { RoundSummary } from './messages';
import { MeetsTargetKey, MinAgreementKey } from './search-attributes';
import { DATABASE } from './activity-options';
import { taskBatchId } from './ids';
import { drawByLocale, drawLocales } from './locale-draw';

// Workflow time (new Date() is deterministic inside workflows) stamps the summary.
const { computeAgreement, summarizeDisagreements } = proxyActivities<Activities>(DATABASE);

/** Patch id of the round's disagreement digest (histories recorded before it run no such activity). */
export const DISAGREEMENT_DIGEST = 'disagreement-digest';
/** Patch id of a multilingual program's rounds: the round's size drawn in each locale (one draw each). */
export const LOCALE_ROUNDS = 'locale-rounds';

export interface RatingRoundInput {
  plan: ProgramPlan;
  phase: 'pilot' | 'calibration';
  round: number;
  guidelineVersion: number;
  /** Workflow id of this round (program/<slug>/pilot or …/calibration/<n>); tasks go to <id>/tasks. */
  workflowId: string;
}

export interface RatingRoundResult {
  summary: RoundSummary;
  tasks: HumanTasksResult;
  /** What the round's raters split on, for its gate (absent in rounds run before the digest existed). */
  disagreements?: RoundDigest;
}

export async function runRatingRound(input: RatingRoundInput): Promise<RatingRoundResult> {
  const { plan, phase, round } = input;
  const size = phase === 'pilot' ? plan.rounds.pilotSize : plan.rounds.calibrationSize;
  // Each locale gets the whole round size: its agreement is measured, and must meet the target, alone.
  const locales = drawLocales(plan, LOCALE_ROUNDS);
  const itemIds = await drawByLocale(
    plan.programId,
    phase === 'pilot' ? 'pilot' : `calibration/${round}`,
    size,
    locales,
  );
  const batchId = taskBatchId(input.workflowId, 'tasks');
  const tasks = await executeChild(humanTasksWorkflow, {
    workflowId: batchId,
    staticSummary: `${phase}${phase === 'calibration' ? ` round ${round}` : ''}: ${itemIds.length} items × ${phase === 'pilot' ? plan.raters.pilotPerItem : plan.raters.perItem} raters`,
    args: [
      {
        batchId,
        programId: plan.programId,
        phase,
        round,
        kind: 'rate',
        itemIds,
        ratersPerItem: phase === 'pilot' ? plan.raters.pilotPerItem : plan.raters.perItem,
        criteria: plan.criteria,
        vendorIds: plan.vendorsFor.rate,
        guidelineVersion: input.guidelineVersion,
        goldRate: plan.raters.goldRate,
        minGoldAccuracy: plan.raters.minGoldAccuracy,
        sla: plan.sla,
        notifications: plan.notifications,
      },
    ],
  });
  const agreement = await computeAgreement({
    programId: plan.programId,
    phase,
    round,
    criteria: plan.criteria,
    guidelineVersion: input.guidelineVersion,
    target: plan.targets.agreement,
    metric: plan.targets.agreementMetric,
    ...(locales && { locales }),
  });
  const disagreements = patched(DISAGREEMENT_DIGEST)
    ? await summarizeDisagreements({
        programId: plan.programId,
        phase,
        round: phase === 'pilot' ? 0 : round,
        ...(locales && { locales }),
      })
    : undefined;
  const values = Object.values(agreement).map((a) => a.value ?? 0);
  const allMeetTarget = Object.values(agreement).every((a) => a.meetsTarget);
  if (plan.searchAttributes)
    upsertSearchAttributes([
      { key: MinAgreementKey, value: values.length ? Math.min(...values) : 0 },
      { key: MeetsTargetKey, value: allMeetTarget },
    ]);
  return {
    summary: {
      phase,
      round,
      guidelineVersion: input.guidelineVersion,
      items: itemIds.length,
      agreement,
      allMeetTarget,
      finishedAt: new Date().toISOString(),
    },
    tasks,
    disagreements,
  };
}
