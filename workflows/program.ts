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
  registerSteering(run);
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
    await condition(allHandlersFinished);
    return { status: 'completed', state };
  } catch (err) {
    if (!isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.setStatus('failed'));
      throw err;
    }
    // Cancelled: children (and their vendor tasks) are cancelled by Temporal; everything recorded stays.
    await CancellationScope.nonCancellable(async () => {
      await acts.recordDecision({
        programId,
        requestId: `cancelled/${workflowInfo().runId}`,
        kind: 'cancelled',
        phase: state.phase,
        actor: 'pm',
        note: 'program cancelled',
        data: { round: state.round },
      });
      await run.setStatus('cancelled');
    });
    return { status: 'cancelled', state };
  }
}
