import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';

/** A workflow to start that outlives its starter (the production shard's fix loops). */
export interface DetachedStart {
  workflowId: string;
  /** The Temporal UI's summary of the started workflow. */
  summary: string;
  args: unknown[];
}

/**
 * Starts workflows with the worker's own client rather than as child workflows: a child's start
 * waits in the parent's server-side transfer queue, and with hundreds of fix loops already running
 * that queue held production shards for minutes before their next page (the demo's production took
 * three times as long). A direct start is one round trip, and these workflows are abandoned by their
 * parent anyway.
 */
export function createWorkflowStartActivities() {
  return {
    /**
     * Starts each workflow on this worker's task queue; one already running under its id keeps going
     * and is not counted (after a retry of this activity, nor are those its first attempt started).
     */
    async startDetachedWorkflows(input: {
      workflowType: string;
      starts: DetachedStart[];
    }): Promise<{ started: number }> {
      const { client, info } = Context.current();
      const started = await Promise.all(
        input.starts.map(async ({ workflowId, summary, args }) => {
          try {
            await client.workflow.start(input.workflowType, {
              workflowId,
              taskQueue: info.taskQueue,
              args,
              staticSummary: summary,
            });
            return true;
          } catch (err) {
            if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
            throw err;
          }
        }),
      );
      return { started: started.filter(Boolean).length };
    },
  };
}
