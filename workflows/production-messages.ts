/**
 * What a production run shares with its shards and with the program that starts it: the run's
 * input (most of which each shard gets too) and the pause the program sends the run, which the run
 * passes on to its shards. Its own module so the run (production.ts) and the shard
 * (production-shard.ts) can both depend on it without depending on each other; and the run's
 * progress query, which `program status` asks without loading the workflows.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ItemSelection } from '../production/activities';
import type { JudgeSamples } from '../judging/samples';

export type { ItemSelection } from '../production/activities';

export interface ProductionInput {
  programId: string;
  runId: string;
  mode: 'sync' | 'batch';
  itemSelection: ItemSelection;
  criteria: string[];
  /** Judge prompt hash per key (`criterion` or `criterion.agent`). */
  prompts: Record<string, string>;
  /** Samples per criterion (the spec's `judge.samples`), or one number for every criterion. */
  samples: JudgeSamples;
  model?: string;
  fixLoop: boolean;
  maxFixAttempts: number;
  writerVendorId?: string;
  /** Items per shard workflow (default: defaultShardSize). */
  shardSize?: number;
  /** Items per judging activity, a page (default: defaultPageSize, about 1,000 judge calls). */
  batchSize?: number;
  /** Shard workflows running at once (default 8). */
  maxConcurrentShards?: number;
  /** Batch mode's polling and resubmission (defaults in BATCH_DEFAULTS). */
  batch?: BatchSettings;
}

export interface BatchSettings {
  /** First wait between a submit and a status poll; each further wait doubles, up to pollMaxSeconds. */
  pollFirstSeconds?: number;
  pollMaxSeconds?: number;
  /** Batches per page at most (the first, then resubmissions of what is still missing); the rest is judged sync. */
  submissions?: number;
}

/** The program paused or resumed: a run starts no new shard and its shards no new page until resumed. */
export interface ProductionPause {
  paused: boolean;
  /** Why (the program's pause note). */
  reason?: string;
}
export const productionPauseSignal = defineSignal<[ProductionPause]>('productionPause');

/** Patch id of the program's pause and resume passed on to its running production run (program-steering.ts). */
export const PAUSE_REACHES_PRODUCTION = 'pause-reaches-production';

export interface ProductionProgress {
  runId: string;
  runKey: string;
  mode: 'sync' | 'batch';
  total: number;
  /** Items whose judging finished (with or without errors). */
  judged: number;
  /** Items with an LLM error on some criterion (never counted as a pass). */
  errors: number;
  /** Items failing at least one criterion. */
  failing: number;
  fixLoopsStarted: number;
  shardsDone: number;
  shardsRunning: number;
  executions: number;
  done: boolean;
  /** Why the run is paused (no new page starts), or null. */
  paused?: string | null;
}

export const productionStatusQuery = defineQuery<ProductionProgress>('productionStatus');
