/**
 * The evaluation program: phases in order as child workflows with readable ids
 * (program/<id>/pilot, …/calibration/<n>, …/golden-set, …/judges, …/production/<run>), PM gates
 * between them, and steering by validated Updates. State is small (ids, counts, summaries) and
 * travels across continue-as-new, including the steering request ids already applied.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import { PHASE_STEPS } from './program-phases';
import { acts, ProgramRun, type ProgramState } from './program-run';
import { registerSteering } from './program-steering';
import { notify } from './notify';

export type { ProgramState } from './program-run';

export interface ProgramInput {
  programId: string;
  /** Present after continue-as-new. */
  state?: ProgramState;
}

export interface ProgramResult {
  status: 'completed' | 'cancelled';
  state: ProgramState;
}

/** Continue-as-new well before Temporal's limits (the server also suggests it). */
const HISTORY_EVENTS_BEFORE_CONTINUE = 5_000;

export async function programWorkflow(input: ProgramInput): Promise<ProgramResult> {
  const { programId } = input;
  const run = new ProgramRun(programId);
  // Handlers are registered before the first await (a query or update may arrive at once); until
  // the plan is loaded they answer that the program is starting.
  const steering = registerSteering(run);
  run.start(await acts.loadProgramPlan(programId), input.state);
  const { state } = run;
  try {
    await run.setStatus('running');
    for (let phase = state.phase; phase !== 'completed'; phase = state.phase) {
      await run.checkpoint();
      await PHASE_STEPS[phase](run);
      if (
        state.phase !== 'completed' &&
        (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE)
      ) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof programWorkflow>({ programId, state });
      }
    }
    await run.setStatus('completed');
    await notify(run.plan.notifications, {
      id: 'program-completed',
      type: 'program.completed',
      programId,
      summary: `completed: ${state.production ? `${state.production.judged} items judged, ${state.production.failing} failing; ` : ''}spent $${state.spendUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}`,
      details: { production: state.production, spendUsd: state.spendUsd, budgetUsd: state.budgetUsd },
    });
    await condition(allHandlersFinished);
    return { status: 'completed', state };
  } catch (err) {
    if (!isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        await run.setStatus('failed');
        await notify(run.plan.notifications, {
          id: `program-failed/${workflowInfo().runId}`,
          type: 'program.failed',
          programId,
          summary: `failed in phase ${state.phase}: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`,
          details: { phase: state.phase, round: state.round },
        });
      });
      throw err;
    }
    // Cancelled: children (and their vendor tasks) are cancelled by Temporal; everything recorded stays.
    // Who cancelled: the `program cancel` request sent before it; a cancellation from elsewhere (the Temporal UI) names no one.
    const by = steering.cancelRequest();
    await CancellationScope.nonCancellable(async () => {
      await acts.recordDecision({
        programId,
        requestId: by?.requestId ?? `cancelled/${workflowInfo().runId}`,
        kind: 'cancelled',
        phase: state.phase,
        actor: by?.actor ?? 'unknown',
        note:
          by?.note || (by ? 'program cancelled' : 'program cancelled outside judgeflow (no program cancel request)'),
        data: { round: state.round },
      });
      await run.setStatus('cancelled');
    });
    return { status: 'cancelled', state };
  }
}
