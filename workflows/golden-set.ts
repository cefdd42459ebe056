/**
 * The golden set, with the model in the loop (seed 004): several raters label each item, an LLM
 * guided by the rubric aggregates their labels and explanations into one label per criterion, and
 * items with substantial disagreement go back to a reviewer. Labels are split into dev and test.
 * A multilingual program draws goldenSetSize items in each locale (its raters are that locale's).
 *
 * The spec's `golden` may name Dawid–Skene or majority vote instead of the LLM (one statistical
 * pass per criterion over the whole set), and adaptive redundancy: two ratings per item, then waves
 * of one more rating for the items still undecided, up to `maxRatingsPerItem`. A wave is at most
 * goldenSetSize / 500 (≤ 40) batches in flight and its history grows by ~10 events per batch, so
 * even 15 ratings of 20,000 items stay far below Temporal's limits without continue-as-new.
 */
import { executeChild, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProgramPlan } from '../program/activities';
import { humanTasksWorkflow, type HumanTasksResult } from './human-tasks';
import { DATABASE, LLM_CALL } from './activity-options';
import { taskBatchId } from './ids';
import { drawByLocale, drawLocales } from './locale-draw';
import type { GoldenSetSummary } from './messages';

const { applyGoldenReviews, goldenSetSummary, goldenItemsToRate, aggregateGoldenByStatistics } =
  proxyActivities<Activities>(DATABASE);

/** Patch id of a multilingual program's golden set: goldenSetSize items drawn in each locale. */
export const LOCALE_GOLDEN_SET = 'locale-golden-set';
const { aggregateGolden } = proxyActivities<Activities>(LLM_CALL);

/** Items per human-task batch and per aggregation call: keeps every history and payload small. */
const TASK_BATCH_ITEMS = 500;
const AGGREGATE_CHUNK = 100;

export interface GoldenSetInput {
  plan: ProgramPlan;
  guidelineVersion: number;
  workflowId: string;
}

export interface GoldenSetResult extends GoldenSetSummary {
  sentToReview: number;
  tasks: Pick<HumanTasksResult, 'tasksCompleted' | 'tasksReassigned' | 'tasksExpired' | 'labelsRecorded'>;
}

export async function goldenSetWorkflow(input: GoldenSetInput): Promise<GoldenSetResult> {
  const { plan } = input;
  // goldenSetSize per locale: each locale's judges are developed and validated on its own dev/test split.
  const locales = drawLocales(plan, LOCALE_GOLDEN_SET);
  const itemIds = await drawByLocale(plan.programId, 'golden-set', plan.rounds.goldenSetSize, locales);
  const common = {
    programId: plan.programId,
    phase: 'golden-set' as const,
    criteria: plan.criteria,
    guidelineVersion: input.guidelineVersion,
    goldRate: plan.raters.goldRate,
    minGoldAccuracy: plan.raters.minGoldAccuracy,
    sla: plan.sla,
    notifications: plan.notifications,
  };
  const rate = (batch: RatingBatch) => {
    const batchId = taskBatchId(input.workflowId, batch.name);
    return executeChild(humanTasksWorkflow, {
      workflowId: batchId,
      staticSummary: batch.summary,
      args: [
        {
          ...common,
          batchId,
          kind: 'rate' as const,
          itemIds: batch.itemIds,
          ratersPerItem: batch.ratersPerItem,
          vendorIds: plan.vendorsFor.rate,
        },
      ],
    });
  };
  const golden = plan.golden;
  const results =
    golden?.redundancy === 'adaptive' && patched('golden-adaptive-redundancy')
      ? await rateInWaves(plan.programId, itemIds, golden.maxRatingsPerItem, rate)
      : await Promise.all(
          chunk(itemIds, TASK_BATCH_ITEMS).map((items, i, chunks) =>
            rate({
              name: `tasks-${i + 1}`,
              itemIds: items,
              ratersPerItem: plan.raters.perItem,
              summary: `golden set: ${items.length} items × ${plan.raters.perItem} raters (batch ${i + 1}/${chunks.length})`,
            }),
          ),
        );

  const needsReview = new Map<string, string[]>();
  const flag = (criterion: string, itemIds: string[]) => {
    for (const itemId of itemIds) needsReview.set(itemId, [...(needsReview.get(itemId) ?? []), criterion]);
  };
  const statistical = golden && golden.aggregation !== 'llm' && patched('golden-statistical-aggregation');
  for (const criterion of plan.criteria) {
    // Dawid–Skene learns each rater from all their labels, so it takes the whole set at once.
    if (statistical) {
      const out = await aggregateGoldenByStatistics.executeWithOptions(
        { ...DATABASE, summary: `${golden.aggregation} labels of ${criterion}` },
        [{ programId: plan.programId, criterion }],
      );
      flag(criterion, out.needsReview);
      continue;
    }
    // The model in the loop: one aggregation per item × criterion (unanimous items need no LLM call).
    for (const part of chunk(itemIds, AGGREGATE_CHUNK)) {
      const out = await aggregateGolden.executeWithOptions(
        { ...LLM_CALL, summary: `aggregate ${criterion} labels of ${part.length} items` },
        [{ programId: plan.programId, itemIds: part, criterion }],
      );
      flag(criterion, out.needsReview);
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

interface RatingBatch {
  name: string;
  itemIds: string[];
  ratersPerItem: number;
  summary: string;
}

/**
 * Adaptive redundancy: two ratings per item, then one more per wave for the items whose ratings
 * disagree or whose aggregate is below the spec's confidence (goldenItemsToRate), until none is left
 * or they have `maxRatings`. Each wave's raters are new to the item (openTaskBatch).
 */
async function rateInWaves(
  programId: string,
  itemIds: string[],
  maxRatings: number,
  rate: (batch: RatingBatch) => Promise<HumanTasksResult>,
): Promise<HumanTasksResult[]> {
  const results: HumanTasksResult[] = [];
  let open = chunk(itemIds, TASK_BATCH_ITEMS).map((items, i) => ({ index: i + 1, items }));
  const batches = open.length;
  for (let wave = 1; open.length; wave++) {
    const ratersPerItem = wave === 1 ? 2 : 1;
    results.push(
      ...(await Promise.all(
        open.map(({ index, items }) =>
          rate({
            name: wave === 1 ? `tasks-${index}` : `tasks-${index}-wave-${wave}`,
            itemIds: items,
            ratersPerItem,
            summary: `golden set wave ${wave}: ${items.length} items × ${ratersPerItem} raters (batch ${index}/${batches})`,
          }),
        ),
      )),
    );
    // After wave w an item has w + 1 ratings: the last wave brings it to maxRatings.
    if (wave + 1 >= maxRatings) break;
    const next = await Promise.all(open.map(({ items }) => goldenItemsToRate({ programId, itemIds: items })));
    open = open.map((c, i) => ({ ...c, items: next[i] })).filter((c) => c.items.length);
  }
  return results;
}

export function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

const sum = <K extends keyof HumanTasksResult>(list: HumanTasksResult[], key: K) =>
  list.reduce((total, r) => total + (r[key] as number), 0);
