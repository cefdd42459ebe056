/**
 * Every workflow id, task-batch id and run key, built in one place. Pure: workflows, activities,
 * the CLI and the gateway all import it. Ids are readable paths under `program/<id>`, so the
 * Temporal UI lists a program's phases together.
 */

export const programWorkflowId = (programId: string) => `program/${programId}`;

export const pilotWorkflowId = (programId: string) => `${programWorkflowId(programId)}/pilot`;
export const calibrationWorkflowId = (programId: string, round: number) =>
  `${programWorkflowId(programId)}/calibration/${round}`;
export const goldenSetWorkflowId = (programId: string) => `${programWorkflowId(programId)}/golden-set`;
export const judgeDevelopmentWorkflowId = (programId: string) => `${programWorkflowId(programId)}/judges`;
export const prelaunchWorkflowId = (programId: string) => `${programWorkflowId(programId)}/prelaunch`;
export const fixLoopWorkflowId = (programId: string, itemId: string) => `${programWorkflowId(programId)}/fix/${itemId}`;

export const productionWorkflowId = (programId: string, runId: string) =>
  `${programWorkflowId(programId)}/production/${runId}`;
export const productionShardWorkflowId = (programId: string, runId: string, shard: number) =>
  `${productionWorkflowId(programId, runId)}/shard-${shard}`;

/** A criterion's optimizer run under judge development (`…/judges/optimize/<criterion>`) or started by hand (`…/optimize/<criterion>/<suffix>`). */
export const optimizationWorkflowId = (parentWorkflowId: string, criterion: string, suffix?: string) =>
  `${parentWorkflowId}/optimize/${criterion}${suffix ? `/${suffix}` : ''}`;

/** One notification of a program (`…/notify/<event id>`): started once per event, left to run on its own. */
export const notifyWorkflowId = (programId: string, eventId: string) =>
  `${programWorkflowId(programId)}/notify/${eventId}`;

/** The human-task batch a phase workflow runs as its child: `<phase workflow id>/<name>` (tasks, tasks-2, review, write-1). */
export const taskBatchId = (phaseWorkflowId: string, name: string) => `${phaseWorkflowId}/${name}`;

/** A production run's key in the database (production_runs.id, item_verdicts.run_id). */
export const productionRunKey = (programId: string, runId: string) => `${programId}/${runId}`;
/** The run key of one fix-loop attempt's re-judging: its verdicts stay apart from the run's. */
export const fixAttemptRunKey = (runKey: string, itemId: string, attempt: number) =>
  `${runKey}/fix/${itemId}/${attempt}`;
