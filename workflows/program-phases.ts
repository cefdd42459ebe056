/**
 * The program's phases, one step each: each runs its phase's child workflow, records what it
 * produced in the program's state, passes its PM gate and names the next phase. A step whose
 * human-task batch could not reach its vendor waits at a vendor gate and runs again once approved.
 */
import { ApplicationFailure, executeChild, patched } from '@temporalio/workflow';
import { VENDOR_UNAVAILABLE, type VendorFailureDetails } from './human-tasks';
import { calibrationRoundWorkflow } from './calibration';
import { goldenSetWorkflow } from './golden-set';
import {
  calibrationWorkflowId,
  goldenSetWorkflowId,
  judgeDevelopmentWorkflowId,
  pilotWorkflowId,
  productionWorkflowId,
  taskBatchId,
} from './ids';
import { judgeDevelopmentWorkflow, localeGate, type LocaleJudges } from './judge-development';
import type { LocaleProduction, Phase } from './messages';
import { pilotWorkflow } from './pilot';
import type { RatingRoundResult } from './rating-round';
import { productionWorkflow } from './production';
import { acts, type ProgramRun } from './program-run';
import { digestMarkdown } from '../stats/disagreement';

/** The round's disagreements under its gate in the Temporal UI; the evidence keeps them as data. */
const disagreementDetails = ({ disagreements: d, summary }: RatingRoundResult) =>
  d
    ? `What the raters of ${summary.phase === 'pilot' ? 'the pilot' : `round ${summary.round}`} split on:\n\n${digestMarkdown(d)}`
    : '';

async function scoping(run: ProgramRun) {
  await run.passGate('scoping', 'review the estimate before anything is spent', { estimate: run.plan.estimate });
  run.state.phase = 'pilot';
}

async function pilot(run: ProgramRun) {
  const { plan, state, programId } = run;
  const workflowId = pilotWorkflowId(programId);
  run.currentBatchId = taskBatchId(workflowId, 'tasks');
  const result = await executeChild(pilotWorkflow, {
    ...run.childOptions(
      workflowId,
      'pilot',
      `pilot: ${plan.rounds.pilotSize} items × ${plan.raters.pilotPerItem} raters`,
    ),
    args: [
      {
        plan: { ...plan, targets: state.targets },
        phase: 'pilot',
        round: 0,
        guidelineVersion: state.guidelineVersion,
        workflowId,
      },
    ],
  });
  run.finishRound(result);
  await run.roundNotice(result.summary);
  await run.passGate(
    'pilot',
    'pilot agreement: revise the guidelines or proceed to calibration',
    { agreement: result.summary.agreement, disagreements: result.disagreements },
    false,
    disagreementDetails(result),
  );
  state.phase = 'calibration';
  state.round = 1;
}

/** One calibration round; the phase repeats until every criterion meets the target or the rounds run out. */
async function calibration(run: ProgramRun) {
  const { plan, state, programId } = run;
  const round = state.round;
  const workflowId = calibrationWorkflowId(programId, round);
  run.currentBatchId = taskBatchId(workflowId, 'tasks');
  const result = await executeChild(calibrationRoundWorkflow, {
    ...run.childOptions(
      workflowId,
      'calibration',
      `calibration round ${round} of at most ${plan.rounds.maxCalibrationRounds} (guidelines v${state.guidelineVersion})`,
      round,
    ),
    args: [
      {
        plan: { ...plan, targets: state.targets },
        phase: 'calibration',
        round,
        guidelineVersion: state.guidelineVersion,
        workflowId,
      },
    ],
  });
  run.finishRound(result);
  await run.roundNotice(result.summary);
  if (result.summary.allMeetTarget) {
    await acts.recordDecision({
      programId,
      requestId: `target-reached/${round}`,
      kind: 'phase_completed',
      phase: 'calibration',
      actor: 'judgeflow',
      note: `every criterion met the agreement target in round ${round}`,
      data: { round, agreement: result.summary.agreement },
    });
    state.phase = 'golden-set';
  } else if (round >= plan.rounds.maxCalibrationRounds) {
    await run.passGate(
      'calibration',
      `agreement target not reached after ${round} rounds: approve to build the golden set anyway, or cancel`,
      { rounds: state.rounds.filter((r) => r.phase === 'calibration'), disagreements: result.disagreements },
      true,
      disagreementDetails(result),
    );
    state.phase = 'golden-set';
  } else {
    await run.passGate(
      `calibration/${round}`,
      'below target: publish a guideline revision for the next round, or approve to continue as is',
      { agreement: result.summary.agreement, disagreements: result.disagreements },
      false,
      disagreementDetails(result),
    );
    state.round = round + 1;
  }
}

async function goldenSet(run: ProgramRun) {
  const { plan, state, programId } = run;
  const workflowId = goldenSetWorkflowId(programId);
  const result = await executeChild(goldenSetWorkflow, {
    ...run.childOptions(workflowId, 'golden-set', `golden set: ${plan.rounds.goldenSetSize} items, model in the loop`),
    args: [{ plan, guidelineVersion: state.guidelineVersion, workflowId }],
  });
  run.addTasks(result.tasks);
  const { items, dev, test, reviewed, method, meanConfidence, ratingsPerLabel } = result;
  state.goldenSet = { items, dev, test, reviewed, method, meanConfidence, ratingsPerLabel };
  await run.passGate('golden-set', 'golden set ready: approve to develop the judges', {
    ...state.goldenSet,
    sentToReview: result.sentToReview,
  });
  state.phase = 'judges';
}

async function judges(run: ProgramRun) {
  const { plan, state, programId } = run;
  const workflowId = judgeDevelopmentWorkflowId(programId);
  const result = await executeChild(judgeDevelopmentWorkflow, {
    ...run.childOptions(workflowId, 'judges', `judges for ${plan.criteria.join(', ')}: dev, optimize, held-out test`),
    args: [{ plan: { ...plan, targets: state.targets }, guidelineVersion: state.guidelineVersion, workflowId }],
  });
  state.judges = result.judges;
  state.prompts = result.prompts;
  const perLocale = result.locales && localeGate(result.judges, result.locales);
  if (result.locales) state.localeJudges = result.locales;
  await run.passGate(
    'judges',
    perLocale
      ? perLocale.reason
      : result.allMeetTarget
        ? 'every judge meets the accuracy target on the held-out set'
        : 'some judges are below the accuracy target on the held-out set: approve to judge production anyway',
    { judges: result.judges, ...(perLocale ? { locales: perLocale.evidence } : {}) },
    !result.allMeetTarget,
  );
  state.phase = 'production';
}

/** Patch id of a multilingual program's production: one run per validated locale, the other locales skipped. */
export const PRODUCTION_PER_LOCALE = 'production-per-locale';

/**
 * A multilingual program's production: each locale whose judges were validated gets its own run
 * (`…/production/initial-<locale>`) over its items only, with its own judges; a locale without
 * validated judges is never judged by another locale's: its items are counted, recorded as skipped
 * in the decision log and shown per locale in the status.
 */
async function productionPerLocale(run: ProgramRun, localeJudges: Record<string, LocaleJudges>) {
  const { plan, state, programId } = run;
  const selection = (locale: string) => ({ kind: 'all' as const, limit: plan.production.limit, locale });
  const locales: Record<string, LocaleProduction> = {};
  state.production = { runId: 'initial', judged: 0, total: 0, failing: 0, errors: 0, locales };
  await Promise.all(
    Object.entries(localeJudges).map(async ([locale, judges]) => {
      if (!judges.validated) {
        const total = await acts.countSelection({ programId, selection: selection(locale) });
        const skipped = `no judge validated for ${locale}: its judges are below the accuracy target on its held-out set`;
        locales[locale] = { runId: null, judged: 0, total, failing: 0, skipped };
        await acts.recordDecision({
          programId,
          requestId: `locale-skipped/${locale}`,
          kind: 'locale_skipped',
          phase: 'production',
          actor: 'judgeflow',
          note: `${total} ${locale} item(s) not judged: ${skipped}`,
          data: { locale, items: total },
        });
        state.decisions += 1;
        return;
      }
      const runId = `initial-${locale}`;
      locales[locale] = { runId, judged: 0, total: 0, failing: 0 };
      const result = await executeChild(productionWorkflow, {
        ...run.childOptions(
          productionWorkflowId(programId, runId),
          'production',
          `production judging of ${locale} (${plan.production.mode}) with its validated judges`,
        ),
        args: [{ ...productionInput(run, runId, judges.prompts), itemSelection: selection(locale) }],
      });
      locales[locale] = {
        runId,
        judged: result.judged,
        total: result.total,
        failing: result.failing,
        errors: result.errors,
      };
    }),
  );
  const sum = (k: 'judged' | 'total' | 'failing' | 'errors') =>
    Object.values(locales).reduce((n, l) => n + (l.skipped ? 0 : (l[k] ?? 0)), 0);
  state.production = {
    runId: 'initial',
    judged: sum('judged'),
    total: sum('total'),
    failing: sum('failing'),
    errors: sum('errors'),
    locales,
  };
  state.phase = 'completed';
}

/** What a production run of the program judges with: the validated judges' samples and model. */
function productionInput(run: ProgramRun, runId: string, prompts: Record<string, string>) {
  const { plan, programId } = run;
  return {
    programId,
    runId,
    mode: plan.production.mode,
    itemSelection: { kind: 'all' as const, limit: plan.production.limit },
    criteria: plan.criteria,
    prompts,
    // What judge development validated: the spec's samples per criterion (a plan recorded before
    // they existed has only the program-wide number) and the spec's model, else JUDGE_MODEL.
    samples: plan.judges.criterionSamples ?? plan.judges.samples,
    model: plan.judges.model,
    fixLoop: plan.production.fixLoop,
    maxFixAttempts: plan.production.maxFixAttempts,
    writerVendorId: plan.vendorsFor.write[0],
  };
}

async function production(run: ProgramRun) {
  const { plan, state, programId } = run;
  if (state.localeJudges && patched(PRODUCTION_PER_LOCALE)) return productionPerLocale(run, state.localeJudges);
  const runId = 'initial';
  const workflowId = productionWorkflowId(programId, runId);
  state.production = { runId, judged: 0, total: 0, failing: 0 };
  const result = await executeChild(productionWorkflow, {
    ...run.childOptions(
      workflowId,
      'production',
      `production judging (${plan.production.mode}) with the validated panel`,
    ),
    args: [productionInput(run, runId, state.prompts)],
  });
  state.production = {
    runId,
    judged: result.judged,
    total: result.total,
    failing: result.failing,
    errors: result.errors,
  };
  state.phase = 'completed';
}

/** Patch id of the vendor gate (histories recorded before it fail the program as they did). */
export const VENDOR_GATE = 'vendor-gate';

/** The VendorUnavailable failure somewhere in a failure's cause chain (a batch → its round → this step). */
function vendorFailureOf(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++)
    if (e instanceof ApplicationFailure && e.type === VENDOR_UNAVAILABLE) return e;
  return undefined;
}

/**
 * A step whose human-task batch could not reach its vendor after the activity's retries (endpoint
 * unreachable, a 4xx such as a bad signature) does not fail the program: it waits at gate
 * `vendor/<phase>` (`vendor/calibration/<round>`; `…/2` for a second time) with the error as
 * evidence, never approved automatically. Approving runs the step again: its child workflows start
 * anew under the same ids and reopen the batch, which finds the tasks it recorded.
 */
function withVendorGate(phase: Phase, step: (run: ProgramRun) => Promise<void>) {
  return async (run: ProgramRun) => {
    for (;;) {
      try {
        return await step(run);
      } catch (err) {
        const failure = vendorFailureOf(err);
        if (!failure || !patched(VENDOR_GATE)) throw err;
        const details = (failure.details?.[0] ?? {}) as Partial<VendorFailureDetails>;
        const gate = run.gateName(`vendor/${phase}${phase === 'calibration' ? `/${run.state.round}` : ''}`);
        await acts.recordDecision({
          programId: run.programId,
          requestId: `${gate}/blocked`,
          kind: 'vendor_failed',
          phase: run.state.phase,
          actor: 'judgeflow',
          note: failure.message,
          data: { gate, ...details },
        });
        run.state.decisions += 1;
        await run.passGate(
          gate,
          `a vendor call failed after its retries — ${failure.message}. Fix the vendor (endpoint, secret, or its service), then approve to run the ${phase} step again`,
          { ...details },
          true,
        );
      }
    }
  };
}

/** The step of every phase but the last. */
export const PHASE_STEPS: Record<Exclude<Phase, 'completed'>, (run: ProgramRun) => Promise<void>> = {
  scoping,
  pilot: withVendorGate('pilot', pilot),
  calibration: withVendorGate('calibration', calibration),
  'golden-set': withVendorGate('golden-set', goldenSet),
  judges,
  production,
};
