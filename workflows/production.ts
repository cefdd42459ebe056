/**
 * Production judging: the run workflow (`program/<slug>/production/<runId>`) cuts the selected items
 * into shards (id ranges found by keyset paging, so no workflow carries item ids beyond one page) and
 * runs them as child workflows (production-shard.ts), at most `maxConcurrentShards` at once. It
 * continues-as-new with its cursor every SHARDS_PER_EXECUTION shards, and each shard judges at most
 * `shardSize` items in pages of `batchSize`, so every history is bounded whatever the catalog size.
 *
 * The program's pause reaches the run as `productionPauseSignal`: the run starts no new shard, passes
 * it on to its shards and carries it across continue-as-new.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { createProductionActivities } from '../production/activities';
import { samplesFor, type JudgeSamples } from '../judging/samples';
import { DATABASE } from './activity-options';
import { productionRunKey, productionShardWorkflowId } from './ids';
import { productionShardWorkflow } from './production-shard';
import {
  productionPauseSignal,
  productionStatusQuery,
  type ProductionInput,
  type ProductionPause,
  type ProductionProgress,
} from './production-messages';

export { productionStatusQuery, type ProductionProgress } from './production-messages';

/** What the run returns (the program workflow reads judged, total, failing). */
export type ProductionSummary = ProductionProgress;

export interface ProductionCursor {
  after: string | null;
  assigned: number;
  shardIndex: number;
  progress: ProductionProgress;
}

type ProductionActivities = ReturnType<typeof createProductionActivities>;
const acts = proxyActivities<ProductionActivities>(DATABASE);

/** A new execution after this many shards keeps the run's history bounded. */
export const SHARDS_PER_EXECUTION = 50;

/**
 * Items per page: about 1,000 judge calls (criteria × samples each), 250 to 1,000 items. Each page
 * costs the shard five activities and their workflow tasks whatever its size, so a one-criterion
 * run of a million items takes 1,000 pages, where 250-item pages made it 4,000 (BENCHMARKS.md, issue 18).
 */
export function defaultPageSize(criteria: string[], samples: JudgeSamples) {
  const callsPerItem = criteria.reduce((n, criterion) => n + (samplesFor(samples, criterion) || 1), 0);
  return Math.min(1000, Math.max(250, Math.round(1000 / Math.max(1, callsPerItem))));
}

/**
 * About four shards per slot, 25 items to four pages each: every slot stays busy and progress
 * (counted per finished shard) moves in steps of a few percent on a small run, while a catalog of
 * hundreds of thousands still takes few shards and continue-as-news.
 */
export const defaultShardSize = (total: number, maxConcurrentShards: number, pageSize: number) =>
  Math.min(4 * pageSize, Math.max(25, Math.ceil(total / (maxConcurrentShards * 4))));

export async function productionWorkflow(
  input: ProductionInput,
  cursor?: ProductionCursor,
): Promise<ProductionSummary> {
  const runKey = productionRunKey(input.programId, input.runId);
  const maxRunning = input.maxConcurrentShards ?? 8;
  if (!cursor) {
    const { total } = await acts.startProductionRun({
      programId: input.programId,
      runKey,
      mode: input.mode,
      selection: input.itemSelection,
      params: {
        criteria: input.criteria,
        prompts: input.prompts,
        samples: input.samples,
        model: input.model ?? null,
        fixLoop: input.fixLoop,
      },
    });
    cursor = {
      after: null,
      assigned: 0,
      shardIndex: 0,
      progress: {
        runId: input.runId,
        runKey,
        mode: input.mode,
        total,
        judged: 0,
        errors: 0,
        failing: 0,
        fixLoopsStarted: 0,
        shardsDone: 0,
        shardsRunning: 0,
        executions: 1,
        done: false,
      },
    };
  }
  const state = cursor;
  const progress = state.progress;
  // Sizes only shape new shards' inputs, never a recorded command: a changed default replays as before.
  const pageSize = input.batchSize ?? defaultPageSize(input.criteria, input.samples);
  const shardSize = input.shardSize ?? defaultShardSize(progress.total, maxRunning, pageSize);
  setHandler(productionStatusQuery, () => ({ ...progress }));
  // Shards started and not closed: a pause or resume is passed on to them.
  const shards = new Map<number, ChildWorkflowHandle<typeof productionShardWorkflow>>();
  const pauseOf = (): ProductionPause => ({ paused: Boolean(progress.paused), reason: progress.paused ?? undefined });
  const showPause = () =>
    setCurrentDetails(
      progress.paused
        ? `paused: ${progress.paused}; no new page starts until the program is resumed (\`judgeflow program resume\`)`
        : '',
    );
  setHandler(productionPauseSignal, (p) => {
    progress.paused = p.paused ? p.reason || 'paused' : null;
    showPause();
    for (const shard of shards.values()) void shard.signal(productionPauseSignal, pauseOf()).catch(() => undefined); // a shard that just closed needs nothing
  });
  if (progress.paused) showPause(); // paused before continue-as-new

  const limit = 'limit' in input.itemSelection ? input.itemSelection.limit : undefined;
  const running = new Map<number, Promise<void>>();
  let shardFailure: unknown;
  let startedHere = 0;
  let exhausted = false;
  const { runId: _r, itemSelection, maxConcurrentShards: _m, shardSize: _s, ...common } = input;

  try {
    while (true) {
      while (!progress.paused && !exhausted && running.size < maxRunning && startedHere < SHARDS_PER_EXECUTION) {
        const size = limit === undefined ? shardSize : Math.min(shardSize, limit - state.assigned);
        const range =
          size > 0
            ? await acts.nextShard({ programId: input.programId, selection: itemSelection, after: state.after, size })
            : null;
        if (!range) {
          exhausted = true;
          break;
        }
        state.after = range.through;
        state.assigned += range.count;
        const index = ++state.shardIndex;
        startedHere++;
        // startChild + result: the same commands as executeChild, and a handle to pass a pause on to.
        const shard = startChild(productionShardWorkflow, {
          workflowId: productionShardWorkflowId(input.programId, input.runId, index),
          staticSummary: `shard ${index}: ${range.count} items (${range.after ?? 'start'} … ${range.through}], ${input.mode}`,
          args: [{ ...common, runKey, selection: itemSelection, range, batchSize: pageSize, shard: index }],
        })
          .then((handle) => {
            shards.set(index, handle);
            // Paused while the shard was starting: it has not seen the signal.
            if (progress.paused) void handle.signal(productionPauseSignal, pauseOf()).catch(() => undefined);
            return handle.result();
          })
          .then(
            (r) => {
              progress.shardsDone++;
              progress.judged += r.judged;
              progress.errors += r.errors;
              progress.failing += r.failing;
              progress.fixLoopsStarted += r.fixLoopsStarted;
            },
            (err: unknown) => {
              shardFailure ??= err;
            },
          )
          .finally(() => {
            running.delete(index);
            shards.delete(index);
            progress.shardsRunning = running.size;
          });
        running.set(index, shard);
        progress.shardsRunning = running.size;
      }
      if (running.size === 0) {
        if (!progress.paused || exhausted || startedHere >= SHARDS_PER_EXECUTION) break;
        await condition(() => !progress.paused);
        continue;
      }
      const before = progress.shardsDone;
      const pausedBefore = Boolean(progress.paused);
      // Also woken by a resume, to start the shards the pause held back.
      await condition(
        () => progress.shardsDone > before || shardFailure !== undefined || (pausedBefore && !progress.paused),
      );
      if (shardFailure !== undefined) throw shardFailure;
      if (progress.shardsDone > before)
        await acts.updateProductionRun({ runKey, judged: progress.judged, failed: progress.errors });
    }
  } catch (err) {
    // Cancelled (or a shard failed): the shards still running are cancelled with the run; wait for
    // them to stop (a batch shard cancels its provider batches), since closing first would terminate them.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(running.values());
      await acts.updateProductionRun({
        runKey,
        judged: progress.judged,
        failed: progress.errors,
        status: isCancellation(err) ? 'cancelled' : 'failed',
      });
    });
    throw err;
  }

  if (!exhausted) {
    progress.executions++;
    await continueAsNew<typeof productionWorkflow>(input, state);
  }
  progress.done = true;
  await acts.updateProductionRun({ runKey, judged: progress.judged, failed: progress.errors, status: 'completed' });
  return { ...progress };
}
