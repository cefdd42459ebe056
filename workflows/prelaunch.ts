/**
 * Pre-launch detection (`program/<slug>/prelaunch`): a long-lived workflow per program that the
 * catalog import (or any API that writes synopses) signals-with-start after committing. Each signal
 * says "items changed since T"; the workflow runs a production run over exactly the new or edited
 * synopses (`changedSince`, judged with the program's active prompts) with the fix loop on, so a
 * synopsis failing any criterion opens a fix cycle. Signals arriving during a run are merged into
 * the next one; import ids already applied are remembered across continue-as-new.
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createProductionActivities } from '../production/activities';
import type { ProgramPlan } from '../program/activities';
import { productionWorkflow, type ProductionSummary } from './production';
import { DATABASE } from './activity-options';
import { productionWorkflowId } from './ids';

export interface CatalogChanged {
  /** Idempotency key of the change (the import's timestamp); a repeated signal is ignored. */
  importId: string;
  /** Items with updated_at ≥ since are judged. */
  since: string;
}
export interface PrelaunchState {
  pendingSince: string | null;
  applied: string[];
  runs: number;
  last: ProductionSummary | null;
  skipped: string | null;
}

export const catalogChangedSignal = defineSignal<[CatalogChanged]>('catalogChanged');
export const prelaunchStatusQuery = defineQuery<PrelaunchState>('prelaunchStatus');

type Acts = ReturnType<typeof createProductionActivities> & {
  loadProgramPlan(programId: string): Promise<ProgramPlan>;
};
const acts = proxyActivities<Acts>(DATABASE);

const APPLIED_KEPT = 200;
const RUNS_PER_EXECUTION = 100;

export async function prelaunchWorkflow(input: { programId: string }, carried?: PrelaunchState): Promise<void> {
  const state: PrelaunchState = carried ?? { pendingSince: null, applied: [], runs: 0, last: null, skipped: null };
  setHandler(catalogChangedSignal, ({ importId, since }) => {
    if (state.applied.includes(importId)) return;
    state.applied = [...state.applied, importId].slice(-APPLIED_KEPT);
    // ISO timestamps order as strings: the earliest pending change covers the later ones.
    if (state.pendingSince === null || since < state.pendingSince) state.pendingSince = since;
  });
  setHandler(prelaunchStatusQuery, () => state);

  for (let runsHere = 0; runsHere < RUNS_PER_EXECUTION; runsHere++) {
    await condition(() => state.pendingSince !== null);
    const since = state.pendingSince as string;
    state.pendingSince = null;
    const plan = await acts.loadProgramPlan(input.programId);
    const prompts = await acts.activeJudgePrompts(input.programId);
    const missing = plan.criteria.filter((c) => !Object.keys(prompts).some((k) => k === c || k.startsWith(`${c}.`)));
    if (missing.length) {
      // Before the judges exist there is nothing to detect with; the initial production run covers these items.
      state.skipped = `no active judge for ${missing.join(', ')} (changes since ${since})`;
      continue;
    }
    state.runs++;
    const runId = `prelaunch-${state.runs}`;
    state.last = await executeChild(productionWorkflow, {
      workflowId: productionWorkflowId(input.programId, runId),
      staticSummary: `pre-launch: synopses new or edited since ${since}`,
      args: [
        {
          programId: input.programId,
          runId,
          mode: 'sync',
          itemSelection: { kind: 'changedSince', since },
          criteria: plan.criteria,
          prompts,
          // The spec's samples per criterion and model: what judge development validated.
          samples: plan.judges.criterionSamples ?? plan.judges.samples,
          model: plan.judges.model,
          fixLoop: true,
          maxFixAttempts: plan.production.maxFixAttempts,
          writerVendorId: plan.production.writerVendor,
        },
      ],
    });
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof prelaunchWorkflow>(input, state);
}
