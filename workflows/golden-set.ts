/**
 * The golden set, with the model in the loop (seed 004): several raters label each item, an LLM
 * guided by the rubric aggregates their labels and explanations into one label per criterion, and
 * items with substantial disagreement go back to a reviewer. Labels are split into dev and test.
 */
import { executeChild, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProgramPlan } from '../program/activities';
import { humanTasksWorkflow, type HumanTasksResult } from './human-tasks';
import { DATABASE, LLM_CALL } from './activity-options';
import { taskBatchId } from './ids';

const { drawItems, applyGoldenReviews, goldenSetSummary } = proxyActivities<Activities>(DATABASE);
const { aggregateGolden } = proxyActivities<Activities>(LLM_CALL);

/** Items per human-task batch and per aggregation call: keeps every history and payload small. */
const TASK_BATCH_ITEMS = 500;
const AGGREGATE_CHUNK = 100;

export interface GoldenSetInput {
  plan: ProgramPlan;
  guidelineVersion: number;
  workflowId: string;
}

export interface GoldenSetResult {
  items: number;
  dev: number;
  test: number;
  reviewed: number;
  sentToReview: number;
  tasks: Pick<HumanTasksResult, 'tasksCompleted' | 'tasksReassigned' | 'tasksExpired' | 'labelsRecorded'>;
}

export async function goldenSetWorkflow(input: GoldenSetInput): Promise<GoldenSetResult> {
  const { plan } = input;
  const itemIds = await drawItems({
    programId: plan.programId,
    purpose: 'golden-set',
    count: plan.rounds.goldenSetSize,
  });
  const common = {
    programId: plan.programId,
    phase: 'golden-set' as const,
    criteria: plan.criteria,
    guidelineVersion: input.guidelineVersion,
    goldRate: plan.raters.goldRate,
    minGoldAccuracy: plan.raters.minGoldAccuracy,
    sla: plan.sla,
  };
  const chunks = chunk(itemIds, TASK_BATCH_ITEMS);
  const results = await Promise.all(
    chunks.map((items, i) => {
      const batchId = taskBatchId(input.workflowId, `tasks-${i + 1}`);
      return executeChild(humanTasksWorkflow, {
        workflowId: batchId,
        staticSummary: `golden set: ${items.length} items × ${plan.raters.perItem} raters (batch ${i + 1}/${chunks.length})`,
        args: [
          {
            ...common,
            batchId,
            kind: 'rate',
            itemIds: items,
            ratersPerItem: plan.raters.perItem,
            vendorIds: plan.vendorsFor.rate,
          },
        ],
      });
    }),
  );

  // The model in the loop: one aggregation per item × criterion (unanimous items need no LLM call).
  const needsReview = new Map<string, string[]>();
  for (const criterion of plan.criteria) {
    for (const part of chunk(itemIds, AGGREGATE_CHUNK)) {
      const out = await aggregateGolden.executeWithOptions(
        { ...LLM_CALL, summary: `aggregate ${criterion} labels of ${part.length} items` },
        [{ programId: plan.programId, itemIds: part, criterion }],
      );
      for (const itemId of out.needsReview) needsReview.set(itemId, [...(needsReview.get(itemId) ?? []), criterion]);
    }
  }

  let reviewTasks: HumanTasksResult | undefined;
  if (needsReview.size) {
    const batchId = taskBatchId(input.workflowId, 'review');
    reviewTasks = await executeChild(humanTasksWorkflow, {
      workflowId: batchId,
      staticSummary: `golden set review: ${needsReview.size} items with substantial disagreement`,
      args: [
        {
          ...common,
          batchId,
          kind: 'review',
          itemIds: [...needsReview.keys()],
          ratersPerItem: 1,
          goldRate: 0,
          vendorIds: plan.vendorsFor.review,
          itemContext: Object.fromEntries([...needsReview].map(([itemId, criteria]) => [itemId, { criteria }])),
        },
      ],
    });
    await applyGoldenReviews({ programId: plan.programId, batchId });
  }
  const summary = await goldenSetSummary(plan.programId);
  const all = reviewTasks ? [...results, reviewTasks] : results;
  return {
    ...summary,
    sentToReview: needsReview.size,
    tasks: {
      tasksCompleted: sum(all, 'tasksCompleted'),
      tasksReassigned: sum(all, 'tasksReassigned'),
      tasksExpired: sum(all, 'tasksExpired'),
      labelsRecorded: sum(all, 'labelsRecorded'),
    },
  };
}

export function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

const sum = <K extends keyof HumanTasksResult>(list: HumanTasksResult[], key: K) =>
  list.reduce((total, r) => total + (r[key] as number), 0);
