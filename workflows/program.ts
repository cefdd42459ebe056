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
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProgramPlan } from '../program/activities';
import { calibrationRoundWorkflow } from './calibration';
import { goldenSetWorkflow } from './golden-set';
import { guidelineVersionSignal } from './human-tasks';
import { judgeDevelopmentWorkflow } from './judge-development';
import {
  approveGateUpdate,
  changeBudgetUpdate,
  changeTargetsUpdate,
  pauseUpdate,
  programStatusQuery,
  publishGuidelinesUpdate,
  resumeUpdate,
  type Phase,
  type ProgramStatus,
  type SteeringResult,
} from './messages';
import { pilotWorkflow } from './pilot';
import { productionWorkflow } from './production';
import type { RatingRoundResult } from './rating-round';
import { PhaseKey, ProgramKey, RoundKey, StatusKey } from './search-attributes';
import { calibrationWorkflowId, goldenSetWorkflowId, judgeDevelopmentWorkflowId, pilotWorkflowId, productionWorkflowId } from './ids';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 20 } });

export interface ProgramState {
  phase: Phase;
  round: number;
  guidelineVersion: number;
  targets: ProgramStatus['targets'];
  budgetUsd: number;
  paused: boolean;
  pausedReason: string | null;
  approvedGates: string[];
  /** Steering request ids already applied (bounded; a retried CLI call finds its id here). */
  appliedRequests: string[];
  rounds: ProgramStatus['rounds'];
  tasks: ProgramStatus['tasks'];
  goldenSet: ProgramStatus['goldenSet'];
  judges: ProgramStatus['judges'];
  prompts: Record<string, string>;
  production: ProgramStatus['production'];
  spendUsd: number;
  startedAt: string;
  decisions: number;
}

export interface ProgramInput {
  programId: string;
  /** Present after continue-as-new. */
  state?: ProgramState;
}

export interface ProgramResult {
  status: 'completed' | 'cancelled';
  state: ProgramState;
}

const MAX_REMEMBERED_REQUESTS = 500;
/** Continue-as-new well before Temporal's limits (the server also suggests it). */
const HISTORY_EVENTS_BEFORE_CONTINUE = 5_000;

export async function programWorkflow(input: ProgramInput): Promise<ProgramResult> {
  const { programId } = input;
    // Handlers are registered before the first await (a query or update may arrive at once); until
  // the plan is loaded they answer that the program is starting.
  let plan!: ProgramPlan;
  let state!: ProgramState;
  let ready = false;
  const requireReady = () => {
    if (!ready) throw new Error('the program is starting; try again in a moment');
  };
  let gate: ProgramStatus['gate'] = null;
  let status: ProgramStatus['status'] = 'running';
  /** The human-task batch running now, told about guideline revisions. */
  let currentBatchId: string | null = null;

  // ── Steering ────────────────────────────────────────────────────────────────────────────────
  const seen = (requestId: string) => state.appliedRequests.includes(requestId);
  const remember = (requestId: string) => {
    state.appliedRequests = [...state.appliedRequests, requestId].slice(-MAX_REMEMBERED_REQUESTS);
    state.decisions += 1;
  };
  const duplicate: SteeringResult = { applied: false, duplicate: true, message: 'already applied' };
  const decide = async (requestId: string, kind: string, actor: string, note: string | undefined, data: Record<string, unknown>) => {
    remember(requestId);
    await acts.recordDecision({ programId, requestId, kind, phase: state.phase, actor, note, data });
  };
  const requireRequestId = (requestId: string) => {
    requireReady();
    if (!requestId || typeof requestId !== 'string') throw new Error('requestId is required');
  };

  setHandler(
    approveGateUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      state.approvedGates = [...state.approvedGates, req.gate];
      await decide(req.requestId, 'gate_approved', req.actor, req.note, { gate: req.gate, evidence: gate?.evidence ?? {} });
      return { applied: true, duplicate: false, message: `gate ${req.gate} approved` };
    },
    {
      validator: (req) => {
        requireRequestId(req.requestId);
        if (seen(req.requestId)) return;
        if (!gate) throw new Error(`no gate is waiting for approval (phase ${state.phase})`);
        if (req.gate && req.gate !== gate.name) throw new Error(`the program waits at gate "${gate.name}", not "${req.gate}"`);
      },
    },
  );

  setHandler(
    publishGuidelinesUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      await acts.publishGuidelineVersion({ programId, version: req.version, text: req.text, note: req.note, actor: req.actor });
      state.guidelineVersion = req.version;
      await decide(req.requestId, 'guideline_published', req.actor, req.note, { version: req.version });
      if (currentBatchId) {
        // Tasks dispatched from now on carry the new version; a batch that already finished ignores it.
        await getExternalWorkflowHandle(currentBatchId)
          .signal(guidelineVersionSignal, { version: req.version })
          .catch(() => undefined);
      }
      return { applied: true, duplicate: false, message: `guidelines v${req.version} published` };
    },
    {
      validator: (req) => {
        requireRequestId(req.requestId);
        if (seen(req.requestId)) return;
        if (!Number.isInteger(req.version) || req.version <= state.guidelineVersion)
          throw new Error(`version must be an integer above the current v${state.guidelineVersion}`);
        if (!req.text?.trim()) throw new Error('the guideline text is empty');
        if (!req.note?.trim()) throw new Error('a decision-log note is required (why this revision)');
      },
    },
  );

  setHandler(
    pauseUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      state.paused = true;
      state.pausedReason = req.note?.trim() || `paused by ${req.actor}`;
      await decide(req.requestId, 'paused', req.actor, req.note, {});
      return { applied: true, duplicate: false, message: 'paused: no new work starts until resumed (running batches finish)' };
    },
    {
      validator: (req) => {
        requireRequestId(req.requestId);
        if (!seen(req.requestId) && state.paused) throw new Error(`already paused (${state.pausedReason})`);
      },
    },
  );

  setHandler(
    resumeUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      state.paused = false;
      state.pausedReason = null;
      await decide(req.requestId, 'resumed', req.actor, req.note, {});
      return { applied: true, duplicate: false, message: 'resumed' };
    },
    {
      validator: (req) => {
        requireRequestId(req.requestId);
        if (seen(req.requestId)) return;
        if (!state.paused) throw new Error('the program is not paused');
        if (state.spendUsd >= state.budgetUsd)
          throw new Error(`spend $${state.spendUsd.toFixed(2)} has reached the budget $${state.budgetUsd.toFixed(2)}: raise the budget first`);
      },
    },
  );

  setHandler(
    changeTargetsUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      const before = { ...state.targets };
      state.targets = {
        ...state.targets,
        ...(req.agreement !== undefined ? { agreement: req.agreement } : {}),
        ...(req.judgeAccuracy !== undefined ? { judgeAccuracy: req.judgeAccuracy } : {}),
      };
      await decide(req.requestId, 'targets_changed', req.actor, req.note, { before, after: state.targets });
      return { applied: true, duplicate: false, message: 'targets changed' };
    },
    {
      validator: (req) => {
        requireRequestId(req.requestId);
        if (req.agreement === undefined && req.judgeAccuracy === undefined) throw new Error('give agreement and/or judgeAccuracy');
        for (const [name, v] of [['agreement', req.agreement], ['judgeAccuracy', req.judgeAccuracy]] as const)
          if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 1)) throw new Error(`${name} must be in (0, 1]`);
      },
    },
  );

  setHandler(
    changeBudgetUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      const before = state.budgetUsd;
      state.budgetUsd = req.usd;
      await acts.setProgramState({ programId, status, phase: state.phase, budgetUsd: req.usd });
      await decide(req.requestId, 'budget_changed', req.actor, req.note, { before, after: req.usd });
      if (state.paused && state.pausedReason?.startsWith('budget cap') && state.spendUsd < req.usd) {
        state.paused = false;
        state.pausedReason = null;
      }
      return { applied: true, duplicate: false, message: `budget is now $${req.usd}` };
    },
    {
      validator: (req) => {
        requireRequestId(req.requestId);
        if (!(typeof req.usd === 'number' && Number.isFinite(req.usd) && req.usd > 0)) throw new Error('the budget must be a positive number of USD');
      },
    },
  );

  setHandler(programStatusQuery, (): ProgramStatus => {
    requireReady();
    return {
    programId,
    status,
    phase: state.phase,
    round: state.round,
    guidelineVersion: state.guidelineVersion,
    gate,
    pausedReason: state.pausedReason,
    targets: state.targets,
    budgetUsd: state.budgetUsd,
    spendUsd: state.spendUsd,
    rounds: state.rounds,
    agreement: state.rounds.at(-1)?.agreement ?? {},
    tasks: state.tasks,
    goldenSet: state.goldenSet,
    judges: state.judges,
    production: state.production,
    startedAt: state.startedAt,
    eta: eta(state, plan),
    decisions: state.decisions,
    };
  });

  // ── Helpers ─────────────────────────────────────────────────────────────────────────────────
  const setStatus = async (next: ProgramStatus['status']) => {
    status = next;
    if (plan.searchAttributes)
      upsertSearchAttributes([
        { key: ProgramKey, value: programId },
        { key: PhaseKey, value: state.phase },
        { key: RoundKey, value: state.round },
        { key: StatusKey, value: next },
      ]);
    await acts.setProgramState({ programId, status: next, phase: state.phase });
  };

  /** Before new work: wait while paused; pause at the budget cap and say why. */
  const checkpoint = async () => {
    const spend = await acts.programSpend(programId);
    state.spendUsd = spend.totalUsd;
    if (state.spendUsd >= state.budgetUsd && !state.paused) {
      state.paused = true;
      state.pausedReason = `budget cap reached: spent $${state.spendUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}; raise it with \`judgeflow program budget\``;
      await acts.recordDecision({ programId, requestId: `budget-cap/${state.phase}/${state.round}/${state.decisions}`, kind: 'paused', phase: state.phase, actor: 'judgeflow', note: state.pausedReason, data: spend });
      state.decisions += 1;
    }
    if (state.paused) {
      await setStatus('paused');
      await condition(() => !state.paused);
      await setStatus('running');
    }
  };

  /**
   * A PM gate. Manual: wait for approval. Auto: approve after the plan's grace period (0 = at once)
   * unless `forceManual` (a target missed is never waved through automatically).
   */
  const passGate = async (name: string, reason: string, evidence: Record<string, unknown>, forceManual = false) => {
    if (state.approvedGates.includes(name)) return;
    gate = { name, reason, evidence };
    const manual = forceManual || plan.gatePolicy === 'manual';
    if (manual) {
      await setStatus('waiting_gate');
      await condition(() => state.approvedGates.includes(name));
    } else {
      const approved = plan.autoGateAfterMs > 0 && (await condition(() => state.approvedGates.includes(name), plan.autoGateAfterMs));
      if (!approved) {
        state.approvedGates = [...state.approvedGates, name];
        await acts.recordDecision({ programId, requestId: `auto-gate/${name}`, kind: 'gate_approved', phase: state.phase, actor: 'auto', note: 'gate policy: auto', data: { gate: name, evidence } });
        state.decisions += 1;
      }
    }
    gate = null;
    await setStatus('running');
  };

  const addTasks = (r: { tasksCompleted: number; tasksReassigned: number; tasksExpired: number; labelsRecorded: number }) => {
    state.tasks = {
      completed: state.tasks.completed + r.tasksCompleted,
      reassigned: state.tasks.reassigned + r.tasksReassigned,
      expired: state.tasks.expired + r.tasksExpired,
      labels: state.tasks.labels + r.labelsRecorded,
    };
  };

  const childOptions = (workflowId: string, phase: Phase, summary: string, round?: number) => ({
    workflowId,
    staticSummary: summary,
    typedSearchAttributes: plan.searchAttributes
      ? [
          { key: ProgramKey, value: programId },
          { key: PhaseKey, value: phase },
          ...(round !== undefined ? [{ key: RoundKey, value: round }] : []),
        ]
      : [],
  });

  const finishRound = async (result: RatingRoundResult) => {
    state.rounds = [...state.rounds, result.summary];
    addTasks(result.tasks);
    currentBatchId = null;
  };

  // ── The phases ──────────────────────────────────────────────────────────────────────────────
  plan = await acts.loadProgramPlan(programId);
  state = input.state ?? {
    phase: 'scoping',
    round: 0,
    guidelineVersion: plan.guidelineVersion,
    targets: plan.targets,
    budgetUsd: plan.budgetUsd,
    paused: false,
    pausedReason: null,
    approvedGates: [],
    appliedRequests: [],
    rounds: [],
    tasks: { completed: 0, reassigned: 0, expired: 0, labels: 0 },
    goldenSet: null,
    judges: [],
    prompts: {},
    production: null,
    spendUsd: 0,
    startedAt: new Date().toISOString(),
    decisions: 0,
  };
  ready = true;
  try {
    await setStatus('running');
    while (state.phase !== 'completed') {
      await checkpoint();
      switch (state.phase) {
        case 'scoping': {
          await passGate('scoping', 'review the estimate before anything is spent', { estimate: plan.estimate });
          state.phase = 'pilot';
          break;
        }
        case 'pilot': {
          const workflowId = pilotWorkflowId(programId);
          currentBatchId = `${workflowId}/tasks`;
          const result = await executeChild(pilotWorkflow, {
            ...childOptions(workflowId, 'pilot', `pilot: ${plan.rounds.pilotSize} items × ${plan.raters.pilotPerItem} raters`),
            args: [{ plan: { ...plan, targets: state.targets }, phase: 'pilot', round: 0, guidelineVersion: state.guidelineVersion, workflowId }],
          });
          await finishRound(result);
          await passGate('pilot', 'pilot agreement: revise the guidelines or proceed to calibration', { agreement: result.summary.agreement });
          state.phase = 'calibration';
          state.round = 1;
          break;
        }
        case 'calibration': {
          const round = state.round;
          const workflowId = calibrationWorkflowId(programId, round);
          currentBatchId = `${workflowId}/tasks`;
          const result = await executeChild(calibrationRoundWorkflow, {
            ...childOptions(workflowId, 'calibration', `calibration round ${round} of at most ${plan.rounds.maxCalibrationRounds} (guidelines v${state.guidelineVersion})`, round),
            args: [{ plan: { ...plan, targets: state.targets }, phase: 'calibration', round, guidelineVersion: state.guidelineVersion, workflowId }],
          });
          await finishRound(result);
          if (result.summary.allMeetTarget) {
            await acts.recordDecision({ programId, requestId: `target-reached/${round}`, kind: 'phase_completed', phase: 'calibration', actor: 'judgeflow', note: `every criterion met the agreement target in round ${round}`, data: { round, agreement: result.summary.agreement } });
            state.phase = 'golden-set';
          } else if (round >= plan.rounds.maxCalibrationRounds) {
            await passGate('calibration', `agreement target not reached after ${round} rounds: approve to build the golden set anyway, or cancel`, { rounds: state.rounds.filter((r) => r.phase === 'calibration') }, true);
            state.phase = 'golden-set';
          } else {
            await passGate(`calibration/${round}`, 'below target: publish a guideline revision for the next round, or approve to continue as is', { agreement: result.summary.agreement });
            state.round = round + 1;
          }
          break;
        }
        case 'golden-set': {
          const workflowId = goldenSetWorkflowId(programId);
          const result = await executeChild(goldenSetWorkflow, {
            ...childOptions(workflowId, 'golden-set', `golden set: ${plan.rounds.goldenSetSize} items, model in the loop`),
            args: [{ plan, guidelineVersion: state.guidelineVersion, workflowId }],
          });
          addTasks(result.tasks);
          state.goldenSet = { items: result.items, dev: result.dev, test: result.test, reviewed: result.reviewed };
          await passGate('golden-set', 'golden set ready: approve to develop the judges', { ...state.goldenSet, sentToReview: result.sentToReview });
          state.phase = 'judges';
          break;
        }
        case 'judges': {
          const workflowId = judgeDevelopmentWorkflowId(programId);
          const result = await executeChild(judgeDevelopmentWorkflow, {
            ...childOptions(workflowId, 'judges', `judges for ${plan.criteria.join(', ')}: dev, optimize, held-out test`),
            args: [{ plan: { ...plan, targets: state.targets }, guidelineVersion: state.guidelineVersion, workflowId }],
          });
          state.judges = result.judges;
          state.prompts = result.prompts;
          await passGate(
            'judges',
            result.allMeetTarget ? 'every judge meets the accuracy target on the held-out set' : 'some judges are below the accuracy target on the held-out set: approve to judge production anyway',
            { judges: result.judges },
            !result.allMeetTarget,
          );
          state.phase = 'production';
          break;
        }
        case 'production': {
          const runId = 'initial';
          const workflowId = productionWorkflowId(programId, runId);
          state.production = { runId, judged: 0, total: 0, failing: 0 };
          const result = await executeChild(productionWorkflow, {
            ...childOptions(workflowId, 'production', `production judging (${plan.production.mode}) with the validated panel`),
            args: [
              {
                programId,
                runId,
                mode: plan.production.mode,
                itemSelection: { kind: 'all', limit: plan.production.limit },
                criteria: plan.criteria,
                prompts: state.prompts,
                samples: plan.judges.samples,
                fixLoop: plan.production.fixLoop,
                maxFixAttempts: plan.production.maxFixAttempts,
                writerVendorId: plan.vendorsFor.write[0],
              },
            ],
          });
          state.production = { runId, judged: result.judged, total: result.total, failing: result.failing };
          state.phase = 'completed';
          break;
        }
      }
      if (state.phase !== 'completed' && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE)) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof programWorkflow>({ programId, state });
      }
    }
    await setStatus('completed');
    await condition(allHandlersFinished);
    return { status: 'completed', state };
  } catch (err) {
    if (!isCancellation(err)) {
      await CancellationScope.nonCancellable(() => setStatus('failed'));
      throw err;
    }
    // Cancelled: children (and their vendor tasks) are cancelled by Temporal; everything recorded stays.
    await CancellationScope.nonCancellable(async () => {
      await acts.recordDecision({ programId, requestId: `cancelled/${workflowInfo().runId}`, kind: 'cancelled', phase: state.phase, actor: 'pm', note: 'program cancelled', data: { round: state.round } });
      await setStatus('cancelled');
    });
    return { status: 'cancelled', state };
  }
}

/** Expected completion: the estimate's duration, stretched by how far behind the phases are. */
function eta(state: ProgramState, plan: ProgramPlan): string | null {
  if (!plan.estimate) return null;
  const order: Phase[] = ['scoping', 'pilot', 'calibration', 'golden-set', 'judges', 'production', 'completed'];
  const done = Math.max(0.05, order.indexOf(state.phase) / (order.length - 1));
  const started = Date.parse(state.startedAt);
  const elapsed = Date.now() - started;
  const byEstimate = started + plan.estimate.expectedDays * 86_400_000;
  const byProgress = started + elapsed / done;
  return new Date(Math.max(byEstimate, byProgress)).toISOString();
}
