/**
 * The judge engine's batch activity as production judging and the fix loop call it (its contract:
 * judgments + item_verdicts written idempotently per run, heartbeats while it works).
 */
export interface JudgeItemsInput {
  programId: string;
  /** item_verdicts.run_id: the production run key `<programId>/<runId>`. */
  runId: string;
  itemIds: string[];
  criteria: string[];
  prompts: Record<string, string>;
  samples: number;
  model?: string;
  mode?: 'sync' | 'batch';
}
export interface JudgeItemsResult {
  judged: number;
  errors: number;
  failedItemIds: string[];
}
export interface JudgeItemsActivity {
  judgeItems(input: JudgeItemsInput): Promise<JudgeItemsResult>;
}
