/**
 * Steering a running program: the validated Updates a program manager sends from the CLI (approve
 * a gate, publish guidelines, pause, resume, targets, budget) and the status query. Validators
 * refuse a bad request, and one from anyone but the spec's owners (program-access.ts), before
 * anything changes; every request carries an id, so a retried command is a no-op.
 */
import { getExternalWorkflowHandle, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { VENDOR_NOTICE } from './activity-options';
import { guidelineVersionSignal } from './human-tasks';
import {
  approveGateUpdate,
  changeBudgetUpdate,
  changeTargetsUpdate,
  pauseUpdate,
  programStatusQuery,
  publishGuidelinesUpdate,
  requestCancelUpdate,
  resumeUpdate,
  type SteeringResult,
} from './messages';
import { steeringRefusal } from './program-access';
import { acts, type ProgramRun } from './program-run';
import { PAUSE_REACHES_PRODUCTION, productionPauseSignal } from './production-messages';
import { productionWorkflowId } from './ids';
import { STEERING_IO_IN_MAIN_CODE, steeringIo } from './steering-io';

const MAX_REMEMBERED_REQUESTS = 500;
/** A published revision is announced to every vendor of the program (their tool reconfigured, open tasks told). */
export const GUIDELINES_REACH_VENDORS = 'guidelines-reach-vendors';
const notices = proxyActivities<Activities>(VENDOR_NOTICE);

/** Registers every steering handler; call before the first await (an update may arrive at once). */
export function registerSteering(run: ProgramRun) {
  const { io, settled } = steeringIo(patched(STEERING_IO_IN_MAIN_CODE));
  run.steeringSettled = settled;
  const seen = (requestId: string) => run.state.appliedRequests.includes(requestId);
  const remember = (requestId: string) => {
    run.state.appliedRequests = [...run.state.appliedRequests, requestId].slice(-MAX_REMEMBERED_REQUESTS);
    run.state.decisions += 1;
  };
  const duplicate: SteeringResult = { applied: false, duplicate: true, message: 'already applied' };
  const decide = async (
    requestId: string,
    kind: string,
    actor: string,
    note: string | undefined,
    data: Record<string, unknown>,
  ) => {
    remember(requestId);
    const decision = { programId: run.programId, requestId, kind, phase: run.state.phase, actor, note, data };
    await io(() => acts.recordDecision(decision));
  };
  /** A running production run learns of a pause or resume: its shards start no new page while paused. */
  const tellProduction = async () => {
    if (run.state.phase !== 'production' || !run.state.production || !patched(PAUSE_REACHES_PRODUCTION)) return;
    const pause = { paused: run.state.paused, reason: run.state.pausedReason ?? undefined };
    const production = getExternalWorkflowHandle(productionWorkflowId(run.programId, run.state.production.runId));
    // Not started yet (it starts after the pause checkpoint) or already closed: nothing to tell.
    await io(() => production.signal(productionPauseSignal, pause).catch(() => undefined));
  };
  /** What every steering request needs: a started program, a request id, and an owner as its actor (spec `owners`). */
  const admit = (req: { requestId: string; actor: string }) => {
    run.requireReady();
    if (!req.requestId || typeof req.requestId !== 'string') throw new Error('requestId is required');
    const refusal = steeringRefusal(run.programId, run.plan.access, req.actor);
    if (refusal) throw new Error(refusal);
  };

  setHandler(
    approveGateUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      run.state.approvedGates = [...run.state.approvedGates, req.gate];
      await decide(req.requestId, 'gate_approved', req.actor, req.note, {
        gate: req.gate,
        evidence: run.gate?.evidence ?? {},
      });
      return { applied: true, duplicate: false, message: `gate ${req.gate} approved` };
    },
    {
      validator: (req) => {
        admit(req);
        if (seen(req.requestId)) return;
        if (!run.gate) throw new Error(`no gate is waiting for approval (phase ${run.state.phase})`);
        if (req.gate && req.gate !== run.gate.name)
          throw new Error(`the program waits at gate "${run.gate.name}", not "${req.gate}"`);
      },
    },
  );

  setHandler(
    publishGuidelinesUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      const locale = req.locale ? { locale: req.locale } : {};
      const publication = {
        programId: run.programId,
        version: req.version,
        text: req.text,
        note: req.note,
        actor: req.actor,
        requestId: req.requestId,
        ...locale,
      };
      await io(() => acts.publishGuidelineVersion(publication));
      // Versions count per program: a locale's revision takes the next number, other locales' tasks read theirs.
      run.state.guidelineVersion = req.version;
      await decide(req.requestId, 'guideline_published', req.actor, req.note, { version: req.version, ...locale });
      if (patched(GUIDELINES_REACH_VENDORS)) {
        const { rate, review, write } = run.plan.vendorsFor;
        // Not awaited: the update answers at once, and a vendor that is down is retried on its own.
        for (const vendorId of new Set([...rate, ...review, ...write]))
          void notices
            .announceGuidelines({ programId: run.programId, version: req.version, vendorId })
            .catch(() => undefined);
      }
      if (run.currentBatchId) {
        // Tasks dispatched from now on carry the new version; a batch that already finished ignores it.
        const batch = getExternalWorkflowHandle(run.currentBatchId);
        await io(() => batch.signal(guidelineVersionSignal, { version: req.version }).catch(() => undefined));
      }
      return {
        applied: true,
        duplicate: false,
        message: `guidelines v${req.version}${req.locale ? ` of ${req.locale}` : ''} published`,
      };
    },
    {
      validator: (req) => {
        admit(req);
        if (seen(req.requestId)) return;
        if (!Number.isInteger(req.version) || req.version <= run.state.guidelineVersion)
          throw new Error(`version must be an integer above the current v${run.state.guidelineVersion}`);
        if (!req.text?.trim()) throw new Error('the guideline text is empty');
        if (!req.note?.trim()) throw new Error('a decision-log note is required (why this revision)');
        if (req.locale !== undefined && !run.plan.locales?.includes(req.locale))
          throw new Error(
            `locale ${req.locale} is not one of the program's (${run.plan.locales?.join(', ') ?? 'it has no locales:'})`,
          );
      },
    },
  );

  setHandler(
    pauseUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      run.state.paused = true;
      run.state.pausedReason = req.note?.trim() || `paused by ${req.actor}`;
      await decide(req.requestId, 'paused', req.actor, req.note, {});
      await tellProduction();
      return {
        applied: true,
        duplicate: false,
        message: 'paused: no new work starts until resumed (running batches finish)',
      };
    },
    {
      validator: (req) => {
        admit(req);
        if (!seen(req.requestId) && run.state.paused) throw new Error(`already paused (${run.state.pausedReason})`);
      },
    },
  );

  setHandler(
    resumeUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      run.state.paused = false;
      run.state.pausedReason = null;
      await decide(req.requestId, 'resumed', req.actor, req.note, {});
      await tellProduction();
      return { applied: true, duplicate: false, message: 'resumed' };
    },
    {
      validator: (req) => {
        admit(req);
        if (seen(req.requestId)) return;
        if (!run.state.paused) throw new Error('the program is not paused');
        if (run.state.spendUsd >= run.state.budgetUsd)
          throw new Error(
            `spend $${run.state.spendUsd.toFixed(2)} has reached the budget $${run.state.budgetUsd.toFixed(2)}: raise the budget first`,
          );
      },
    },
  );

  setHandler(
    changeTargetsUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      const before = { ...run.state.targets };
      run.state.targets = {
        ...run.state.targets,
        ...(req.agreement !== undefined ? { agreement: req.agreement } : {}),
        ...(req.judgeAccuracy !== undefined ? { judgeAccuracy: req.judgeAccuracy } : {}),
      };
      await decide(req.requestId, 'targets_changed', req.actor, req.note, { before, after: run.state.targets });
      return { applied: true, duplicate: false, message: 'targets changed' };
    },
    {
      validator: (req) => {
        admit(req);
        if (req.agreement === undefined && req.judgeAccuracy === undefined)
          throw new Error('give agreement and/or judgeAccuracy');
        for (const [name, v] of [
          ['agreement', req.agreement],
          ['judgeAccuracy', req.judgeAccuracy],
        ] as const)
          if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 1))
            throw new Error(`${name} must be in (0, 1]`);
      },
    },
  );

  setHandler(
    changeBudgetUpdate,
    async (req) => {
      if (seen(req.requestId)) return duplicate;
      const before = run.state.budgetUsd;
      run.state.budgetUsd = req.usd;
      const budget = {
        programId: run.programId,
        status: run.status,
        phase: run.state.phase,
        budgetUsd: req.usd,
        budgetChange: { requestId: req.requestId, actor: req.actor, note: req.note },
      };
      await io(() => acts.setProgramState(budget));
      await decide(req.requestId, 'budget_changed', req.actor, req.note, { before, after: req.usd });
      if (run.state.paused && run.state.pausedReason?.startsWith('budget cap') && run.state.spendUsd < req.usd) {
        run.state.paused = false;
        run.state.pausedReason = null;
      }
      return { applied: true, duplicate: false, message: `budget is now $${req.usd}` };
    },
    {
      validator: (req) => {
        admit(req);
        if (!(typeof req.usd === 'number' && Number.isFinite(req.usd) && req.usd > 0))
          throw new Error('the budget must be a positive number of USD');
      },
    },
  );

  let cancelRequest: { requestId: string; actor: string; note?: string } | undefined;
  setHandler(
    requestCancelUpdate,
    (req) => {
      cancelRequest = req;
      return { applied: true, duplicate: false, message: 'cancellation requested' };
    },
    { validator: admit },
  );

  setHandler(programStatusQuery, () => run.statusView());
  /** Who asked to cancel (`program cancel`), if anyone did before the cancellation arrived. */
  return { cancelRequest: () => cancelRequest };
}
