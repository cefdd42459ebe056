/**
 * One program workflow's run-time state and the steps every phase shares: status and search
 * attributes, the pause and budget checkpoint, PM gates, and child workflow options. The steering
 * handlers (program-steering.ts) and the phase steps (program-phases.ts) work on one ProgramRun.
 */
import { condition, proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProgramPlan } from '../program/activities';
import { DATABASE } from './activity-options';
import { BUDGET_WARNING_SHARE } from '../notifications/events';
import type { Phase, ProgramStatus, RoundSummary } from './messages';
import { notify } from './notify';
import type { LocaleJudges } from './judge-development';
import type { RatingRoundResult } from './rating-round';
import { PhaseKey, ProgramKey, RoundKey, StatusKey } from './search-attributes';

export const acts = proxyActivities<Activities>(DATABASE);

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
  /** A multilingual program's judges per locale (what production judges each locale with, if validated). */
  localeJudges?: Record<string, LocaleJudges>;
  production: ProgramStatus['production'];
  spendUsd: number;
  startedAt: string;
  decisions: number;
}

export function initialState(plan: ProgramPlan): ProgramState {
  return {
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
}

export class ProgramRun {
  /** Set once the plan is loaded; handlers registered earlier answer that the program is starting. */
  plan!: ProgramPlan;
  state!: ProgramState;
  ready = false;
  gate: ProgramStatus['gate'] = null;
  status: ProgramStatus['status'] = 'running';
  /** The human-task batch running now, told about guideline revisions. */
  currentBatchId: string | null = null;
  /** On the steering-io-in-main-code path (set by registerSteering): whether no steering handler is still at work. */
  steeringSettled?: () => boolean;

  constructor(readonly programId: string) {}

  start(plan: ProgramPlan, state: ProgramState | undefined) {
    this.plan = plan;
    this.state = state ?? initialState(plan);
    this.ready = true;
  }

  requireReady() {
    if (!this.ready) throw new Error('the program is starting; try again in a moment');
  }

  async setStatus(next: ProgramStatus['status']) {
    this.status = next;
    if (this.plan.searchAttributes)
      upsertSearchAttributes([
        { key: ProgramKey, value: this.programId },
        { key: PhaseKey, value: this.state.phase },
        { key: RoundKey, value: this.state.round },
        { key: StatusKey, value: next },
      ]);
    await acts.setProgramState({ programId: this.programId, status: next, phase: this.state.phase });
  }

  /** Before new work: wait while paused; pause at the budget cap and say why. */
  async checkpoint() {
    const { state, programId } = this;
    const spend = await acts.programSpend(programId);
    state.spendUsd = spend.totalUsd;
    if (state.spendUsd >= state.budgetUsd && !state.paused) {
      state.paused = true;
      state.pausedReason = `budget cap reached: spent $${state.spendUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}; raise it with \`judgeflow program budget\``;
      await acts.recordDecision({
        programId,
        requestId: `budget-cap/${state.phase}/${state.round}/${state.decisions}`,
        kind: 'paused',
        phase: state.phase,
        actor: 'judgeflow',
        note: state.pausedReason,
        data: spend,
      });
      state.decisions += 1;
    }
    await this.budgetNotice();
    if (state.paused) {
      await this.setStatus('paused');
      await condition(() => !state.paused && this.settled());
      await this.setStatus('running');
    }
  }

  /**
   * A PM gate. Manual: wait for approval. Auto: approve after the plan's grace period (0 = at once)
   * unless `forceManual` (a target missed is never waved through automatically). `details`: Markdown
   * shown under the reason in the Temporal UI while the gate waits (a round's disagreements).
   */
  async passGate(name: string, reason: string, evidence: Record<string, unknown>, forceManual = false, details = '') {
    const { state, plan, programId } = this;
    if (state.approvedGates.includes(name)) return;
    this.gate = { name, reason, evidence };
    // The Temporal UI shows what the program waits for (current details are not part of the history).
    setCurrentDetails(
      `waiting at gate **${name}**: ${reason}${details ? `\n\n${details}` : ''}\n\napprove: \`judgeflow program approve ${programId} --gate ${name}\``,
    );
    const manual = forceManual || plan.gatePolicy === 'manual';
    // A gate that passes at once (auto, no grace period) waits for no one: nothing to tell.
    if (manual || plan.autoGateAfterMs > 0)
      await notify(plan.notifications, {
        id: `gate-waiting/${name}`,
        type: 'gate.waiting',
        programId,
        summary: `waiting at gate ${name}: ${reason}. Approve with \`judgeflow program approve ${programId} --gate ${name}\`${manual ? '' : ' (passes by itself after its grace period)'}`,
        details: { gate: name, manual },
      });
    if (manual) {
      await this.setStatus('waiting_gate');
      await condition(() => state.approvedGates.includes(name) && this.settled());
    } else {
      const approved =
        plan.autoGateAfterMs > 0 &&
        (await condition(() => state.approvedGates.includes(name) && this.settled(), plan.autoGateAfterMs));
      if (!approved && this.steeringSettled && state.approvedGates.includes(name)) {
        // Approved by a handler still at work when the grace period ended: it records the decision.
        await condition(this.steeringSettled);
      } else if (!approved) {
        state.approvedGates = [...state.approvedGates, name];
        await acts.recordDecision({
          programId,
          requestId: `auto-gate/${name}`,
          kind: 'gate_approved',
          phase: state.phase,
          actor: 'auto',
          note: 'gate policy: auto',
          data: { gate: name, evidence },
        });
        state.decisions += 1;
      }
    }
    this.gate = null;
    setCurrentDetails('');
    await this.setStatus('running');
  }

  private settled() {
    return this.steeringSettled?.() ?? true;
  }

  /** Spend at 80 % of the budget, then at 100 %: told once per budget (raising it re-arms both). */
  private async budgetNotice() {
    const { state, programId } = this;
    const share = state.budgetUsd > 0 ? state.spendUsd / state.budgetUsd : 0;
    const type = share >= 1 ? 'budget.reached' : share >= BUDGET_WARNING_SHARE ? 'budget.warning' : null;
    if (!type) return;
    await notify(this.plan.notifications, {
      id: `${type}/${state.budgetUsd}`,
      type,
      programId,
      summary: `spent $${state.spendUsd.toFixed(2)} of the $${state.budgetUsd.toFixed(2)} budget (${Math.floor(share * 100)}%)${type === 'budget.reached' ? ': paused until the budget is raised (`judgeflow program budget`)' : ''}`,
      details: { spendUsd: state.spendUsd, budgetUsd: state.budgetUsd, phase: state.phase },
    });
  }

  /** A pilot or calibration round met, or missed, the agreement target. */
  async roundNotice(summary: RoundSummary) {
    const label = summary.phase === 'pilot' ? 'the pilot' : `calibration round ${summary.round}`;
    const target = this.state.targets.agreement;
    const agreement = Object.fromEntries(Object.entries(summary.agreement).map(([c, a]) => [c, a.value]));
    const below = Object.entries(summary.agreement)
      .filter(([, a]) => !a.meetsTarget)
      .map(([c, a]) => `${c} ${a.value === null ? '—' : a.value.toFixed(2)}`);
    await notify(this.plan.notifications, {
      id: `round/${summary.phase}/${summary.round}`,
      type: summary.allMeetTarget ? 'round.target_met' : 'round.target_missed',
      programId: this.programId,
      summary: summary.allMeetTarget
        ? `${label} (guidelines v${summary.guidelineVersion}) met the agreement target ${target} on every criterion`
        : `${label} (guidelines v${summary.guidelineVersion}) missed the agreement target ${target}: ${below.join(', ')}`,
      details: {
        phase: summary.phase,
        round: summary.round,
        guidelineVersion: summary.guidelineVersion,
        target,
        agreement,
      },
    });
  }

  /** `base`, or `base/2`, `base/3`, … when a gate of that name was approved before (a gate passes once). */
  gateName(base: string): string {
    let name = base;
    for (let k = 2; this.state.approvedGates.includes(name); k++) name = `${base}/${k}`;
    return name;
  }

  addTasks(r: { tasksCompleted: number; tasksReassigned: number; tasksExpired: number; labelsRecorded: number }) {
    const t = this.state.tasks;
    this.state.tasks = {
      completed: t.completed + r.tasksCompleted,
      reassigned: t.reassigned + r.tasksReassigned,
      expired: t.expired + r.tasksExpired,
      labels: t.labels + r.labelsRecorded,
    };
  }

  finishRound(result: RatingRoundResult) {
    this.state.rounds = [...this.state.rounds, result.summary];
    this.addTasks(result.tasks);
    this.currentBatchId = null;
  }

  /** A phase child's id, summary and search attributes. */
  childOptions(workflowId: string, phase: Phase, summary: string, round?: number) {
    return {
      workflowId,
      staticSummary: summary,
      typedSearchAttributes: this.plan.searchAttributes
        ? [
            { key: ProgramKey, value: this.programId },
            { key: PhaseKey, value: phase },
            ...(round !== undefined ? [{ key: RoundKey, value: round }] : []),
          ]
        : [],
    };
  }

  statusView(): ProgramStatus {
    this.requireReady();
    const { state } = this;
    return {
      programId: this.programId,
      status: this.status,
      phase: state.phase,
      round: state.round,
      guidelineVersion: state.guidelineVersion,
      gate: this.gate,
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
      eta: eta(state, this.plan),
      decisions: state.decisions,
    };
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
