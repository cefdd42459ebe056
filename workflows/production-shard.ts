/**
 * A production run's shard (`…/production/<runId>/shard-<n>`, started by production.ts): judges one
 * id range page by page and starts the fix loops of its failing items (`program/<slug>/fix/<itemId>`,
 * started by an activity so they outlive the run and never hold it).
 *
 * Before each page a shard waits while the run is paused (the run passes the program's
 * `productionPauseSignal` on to it) and until the program's budget covers the page's estimated cost
 * (production/budget.ts), checking again with doubling waits and saying why in its current details.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createProductionActivities, ShardRange } from '../production/activities';
import type { createJudgingActivities } from '../judging/activities';
import type { createProductionBatchActivities } from '../production/batch';
import type { createProductionBudgetActivities, PageStart } from '../production/budget';
import type { createWorkflowStartActivities, DetachedStart } from '../activities/workflow-starts';
import { fixLoopWorkflow, type FixLoopInput } from './fix-loop';
import { DATABASE, LLM_BATCH_API, LLM_PAGE } from './activity-options';
import { fixLoopWorkflowId } from './ids';
import {
  productionPauseSignal,
  type BatchSettings,
  type ItemSelection,
  type ProductionInput,
  type ProductionPause,
} from './production-messages';

export interface ShardInput extends Omit<
  ProductionInput,
  'runId' | 'itemSelection' | 'maxConcurrentShards' | 'shardSize'
> {
  runKey: string;
  selection: ItemSelection;
  range: ShardRange;
  batchSize: number;
  /** The shard's number in the run (names its provider batches). */
  shard: number;
}
export interface ShardResult {
  judged: number;
  errors: number;
  failing: number;
  fixLoopsStarted: number;
}

/** How long a cancelled run waits for its batches to stop, to ingest what they ran (the provider takes up to ~10 min). */
const CANCELLED_BATCH_WAIT_MS = 3_600_000;

export const BATCH_DEFAULTS: Required<BatchSettings> = { pollFirstSeconds: 5, pollMaxSeconds: 300, submissions: 3 };

/** Patch id of the per-page gate: pause and budget checked before each page (histories recorded before it replay without). */
export const PAGE_GATE = 'production-page-gate';

/**
 * Patch id of fix loops started by an activity (activities/workflow-starts.ts) instead of as child
 * workflows, whose starts queued behind the running fix loops' work and held the shard.
 */
export const DETACHED_FIX_LOOPS = 'detached-fix-loops';

const acts = proxyActivities<ReturnType<typeof createProductionActivities>>(DATABASE);
const judge = proxyActivities<Pick<ReturnType<typeof createJudgingActivities>, 'judgeItems'>>(LLM_PAGE);
const batches = proxyActivities<ReturnType<typeof createProductionBatchActivities>>(LLM_BATCH_API);
const budget = proxyActivities<ReturnType<typeof createProductionBudgetActivities>>(DATABASE);
const starts = proxyActivities<ReturnType<typeof createWorkflowStartActivities>>(DATABASE);

/** First and longest wait between budget checks of a page (as the fix loop's): a wait of weeks stays a few hundred events. */
const BUDGET_RECHECK_FIRST_MS = 60_000;
const BUDGET_RECHECK_MAX_MS = 6 * 3_600_000;

/**
 * One shard: pages of items through the judging activity, then fix loops for the failing ones. In
 * batch mode every page first goes through the Batch API (judgeByBatch); the judging activity then
 * requests only what the batches left missing, over the sync API, and computes the verdicts.
 */
export async function productionShardWorkflow(input: ShardInput): Promise<ShardResult> {
  const pause: ProductionPause = { paused: false };
  setHandler(productionPauseSignal, (p) => {
    pause.paused = p.paused;
    pause.reason = p.reason;
  });
  const result: ShardResult = { judged: 0, errors: 0, failing: 0, fixLoopsStarted: 0 };
  const pages = input.mode === 'batch' ? await judgeByBatch(input, pause) : undefined;
  let after = input.range.after;
  for (let page = 0; ; page++) {
    const itemIds = pages
      ? (pages[page] ?? [])
      : await acts.shardItems({
          programId: input.programId,
          selection: input.selection,
          after,
          through: input.range.through,
          limit: input.batchSize,
        });
    if (!itemIds.length) break;
    after = itemIds[itemIds.length - 1];
    const gated = patched(PAGE_GATE);
    // In batch mode the budget let the page through before its batch was submitted; a pause still holds its sync pass.
    if (gated) await (pages ? whileUnpaused(pause, page) : startPage(input, pause, page, itemIds, 'sync'));
    const judged = await judge.judgeItems.executeWithOptions(
      {
        ...LLM_PAGE,
        summary: `page ${page + 1}: ${itemIds.length} items × ${judgedText(input)}${pages ? ' (what the batches left)' : ''}`,
      },
      [
        {
          programId: input.programId,
          runId: input.runKey,
          itemIds,
          criteria: input.criteria,
          prompts: input.prompts,
          samples: input.samples,
          model: input.model,
        },
      ],
    );
    if (gated) await budget.finishProductionPage({ runKey: input.runKey, shard: input.shard, page });
    result.judged += itemIds.length;
    result.errors += judged.failedItemIds.length;
    const failing = await acts.failingItems({ runKey: input.runKey, itemIds });
    result.failing += failing.length;
    if (input.fixLoop && failing.length) {
      if (patched(DETACHED_FIX_LOOPS)) {
        const { started } = await starts.startDetachedWorkflows({
          workflowType: 'fixLoopWorkflow',
          starts: failing.map((item) => fixLoopStart(input, item.itemId, item.failingCriteria)),
        });
        result.fixLoopsStarted += started;
      } else {
        // Started together: one workflow task for the page instead of a round trip per item.
        const started = await Promise.all(
          failing.map((item) => startFixLoop(input, item.itemId, item.failingCriteria)),
        );
        result.fixLoopsStarted += started.filter(Boolean).length;
      }
    }
  }
  return result;
}

/**
 * Before a page: waits while the run is paused, then until the program's budget covers the page's
 * estimated cost — checked again after 1 min, doubling to 6 h, as the fix loop does — saying why in
 * the shard's current details (the Temporal UI) while it waits.
 */
async function startPage(
  input: ShardInput,
  pause: ProductionPause,
  page: number,
  itemIds: string[],
  mode: 'sync' | 'batch',
) {
  for (let waitMs = BUDGET_RECHECK_FIRST_MS; ; waitMs = Math.min(waitMs * 2, BUDGET_RECHECK_MAX_MS)) {
    await whileUnpaused(pause, page);
    const r: PageStart = await budget.reserveProductionPage({
      programId: input.programId,
      runKey: input.runKey,
      shard: input.shard,
      page,
      itemIds,
      criteria: input.criteria,
      prompts: input.prompts,
      samples: input.samples,
      model: input.model,
      mode,
    });
    if (r.started) break;
    setCurrentDetails(
      `waiting for budget: spent $${r.spentUsd.toFixed(2)} + pages in progress $${r.reservedUsd.toFixed(2)} + page ${page + 1} (${r.requests} requests) $${r.usd.toFixed(2)} exceeds $${r.budgetUsd.toFixed(2)}; raise it with \`judgeflow program budget\``,
    );
    await sleep(waitMs, { summary: 'waiting for budget' });
  }
  setCurrentDetails('');
}

/** Waits while the run is paused (no command: a pause costs the history only its signals). */
async function whileUnpaused(pause: ProductionPause, page: number) {
  if (!pause.paused) return;
  setCurrentDetails(
    `paused: ${pause.reason || 'paused'}; page ${page + 1} starts when the program is resumed (\`judgeflow program resume\`)`,
  );
  await condition(() => !pause.paused);
  setCurrentDetails('');
}

/**
 * Batch mode: one batch per page, all submitted at once, polled together on durable timers with
 * doubling waits (so a day-long batch costs a few hundred polls, not one per second), ingested as
 * each finishes; a page with samples still missing is resubmitted up to `submissions` batches in
 * all. Returns the pages (item ids) for the sync pass.
 */
async function judgeByBatch(input: ShardInput, pause: ProductionPause): Promise<string[][]> {
  const settings = { ...BATCH_DEFAULTS, ...input.batch };
  const pages: string[][] = [];
  for (let after = input.range.after; ;) {
    const itemIds = await acts.shardItems({
      programId: input.programId,
      selection: input.selection,
      after,
      through: input.range.through,
      limit: input.batchSize,
    });
    if (!itemIds.length) break;
    pages.push(itemIds);
    after = itemIds[itemIds.length - 1];
  }
  const pageInput = (page: number) => ({
    programId: input.programId,
    runKey: input.runKey,
    shard: input.shard,
    page,
    itemIds: pages[page],
    criteria: input.criteria,
    prompts: input.prompts,
    samples: input.samples,
    model: input.model,
  });
  let open: { page: number; attempt: number; batchId: string }[] = [];
  const submit = async (page: number, attempt: number) => {
    const { batchId } = await batches.submitJudgingBatch({ ...pageInput(page), attempt });
    if (batchId) open.push({ page, attempt, batchId });
  };
  try {
    if (patched(PAGE_GATE))
      // Each page's batch is submitted once the run is not paused and the budget covers it at the batch price.
      await Promise.all(
        pages.map(async (itemIds, page) => {
          await startPage(input, pause, page, itemIds, 'batch');
          await submit(page, 1);
        }),
      );
    else await Promise.all(pages.map((_, page) => submit(page, 1)));
    await pollUntilIngested({ resubmit: true });
  } catch (err) {
    if (isCancellation(err) && open.length)
      await CancellationScope.nonCancellable(async () => {
        // A cancelled run stops its open batches, so nobody pays for lines not yet run; what the
        // provider ran before stopping is billed, so it is ingested and no later run pays for it again.
        await batches.cancelProviderBatches({ batchIds: open.map((o) => o.batchId) });
        await pollUntilIngested({ resubmit: false, giveUpAt: Date.now() + CANCELLED_BATCH_WAIT_MS });
      });
    throw err;
  }
  return pages;

  async function pollUntilIngested(opts: { resubmit: boolean; giveUpAt?: number }) {
    let wait = settings.pollFirstSeconds;
    while (open.length && (opts.giveUpAt === undefined || Date.now() < opts.giveUpAt)) {
      await sleep(wait * 1000, { summary: `poll ${open.length} provider batch(es) in ${wait} s` });
      wait = Math.min(wait * 2, settings.pollMaxSeconds);
      const states = await batches.providerBatchStatus({ batchIds: open.map((o) => o.batchId) });
      const finished = open.filter((_, k) => states[k].done);
      if (!finished.length) continue;
      open = open.filter((_, k) => !states[k].done);
      const before = open.length;
      await Promise.all(
        finished.map(async (o) => {
          const { missing } = await batches.ingestJudgingBatch({
            ...pageInput(o.page),
            attempt: o.attempt,
            batchId: o.batchId,
          });
          if (opts.resubmit && missing > 0 && o.attempt < settings.submissions) await submit(o.page, o.attempt + 1);
        }),
      );
      // A resubmitted batch is new: poll it from the first wait again.
      if (open.length > before) wait = settings.pollFirstSeconds;
    }
  }
}

/** "tone, clarity × 5 samples" or "tone × 5, precision × 1 samples" (activity summaries). */
const judgedText = ({ criteria, samples }: Pick<ShardInput, 'criteria' | 'samples'>) =>
  typeof samples === 'number'
    ? `${criteria.join(', ')} × ${samples} samples`
    : `${criteria.map((c) => `${c} × ${samples[c]}`).join(', ')} samples`;

function fixLoopStart(input: ShardInput, itemId: string, failingCriteria: string[]): DetachedStart {
  const args: FixLoopInput = {
    programId: input.programId,
    itemId,
    runKey: input.runKey,
    failingCriteria,
    criteria: input.criteria,
    prompts: input.prompts,
    samples: input.samples,
    model: input.model,
    maxAttempts: input.maxFixAttempts,
    writerVendorId: input.writerVendorId,
  };
  return {
    workflowId: fixLoopWorkflowId(input.programId, itemId),
    summary: `fix ${itemId}: fails ${failingCriteria.join(', ')}`,
    args: [args],
  };
}

/** Histories before DETACHED_FIX_LOOPS: each fix loop a child workflow of the shard, abandoned on close. */
async function startFixLoop(input: ShardInput, itemId: string, failingCriteria: string[]): Promise<boolean> {
  const { workflowId, summary, args } = fixLoopStart(input, itemId, failingCriteria);
  try {
    await startChild(fixLoopWorkflow, {
      workflowId,
      staticSummary: summary,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: args as [FixLoopInput],
    });
    return true;
  } catch (err) {
    // A fix loop already running for this item keeps going; it re-judges the item's latest text itself.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
