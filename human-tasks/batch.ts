/** A batch of human tasks: what opens it, what closing it reports, task statuses and the limits assignment and QA work within. */

/** What the batch workflow is started with. */
export interface HumanTasksInput {
  batchId: string;
  programId: string;
  phase: 'pilot' | 'calibration' | 'golden-set' | 'review' | 'fix';
  round?: number;
  kind: 'rate' | 'review' | 'write';
  itemIds: string[];
  ratersPerItem: number;
  criteria: string[];
  vendorIds: string[];
  guidelineVersion: number;
  goldRate: number;
  minGoldAccuracy?: number;
  sla: { remindAfterMs: number; reassignAfterMs: number; deadlineMs: number };
  itemContext?: Record<string, Record<string, unknown>>;
}

export type TaskKind = 'rate' | 'review' | 'write';
/** Statuses in which a task still waits for its rater. */
export const OPEN_STATUSES = ['pending', 'dispatched'] as const;
/** A slot is given up after this many assignments (the item then counts as incomplete). */
export const MAX_ATTEMPTS_PER_SLOT = 6;

/** What closing a task batch reports (the batch workflow returns it). */
export interface CloseBatchResult {
  tasksCompleted: number;
  tasksReassigned: number;
  tasksExpired: number;
  labelsRecorded: number;
  itemsComplete: number;
  itemsIncomplete: number;
  costUsd: number;
  revisions?: { itemId: string; textHash: string; taskId: string }[];
}
