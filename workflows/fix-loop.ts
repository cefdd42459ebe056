/**
 * The writer fix loop of one synopsis (`program/<slug>/fix/<itemId>`): a writer task carrying the
 * failing criteria and the judges' summaries, the revision re-judged by the whole panel, then pass,
 * another attempt with what still fails, or escalation after `maxAttempts`. Every attempt is a
 * fix_attempts row (criteria, writer, before/after text hash, what still failed) for the learning loop.
 * An attempt starts only when the program's budget covers its writer task; until then the loop waits
 * (and says so in the Temporal UI) for the PM to raise the budget.
 *
 * An error is never a pass: a criterion whose re-judge errored is judged again after a durable wait
 * (REJUDGE_RETRY_WAITS_MS); still in error, the attempt and the cycle end `needs_review`.
 */
import {
  ActivityFailure,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  sleep,
} from '@temporalio/workflow';
import type { createProductionActivities, FixAttemptOutcome, FixAttemptStart } from '../production/activities';
import type { ProgramPlan } from '../program/activities';
import { humanTasksWorkflow } from './human-tasks';
import type { createJudgingActivities } from '../judging/activities';
import type { JudgeSamples } from '../judging/samples';
import { DATABASE, LLM_PAGE, LOCAL_DATABASE } from './activity-options';
import { fixAttemptRunKey, fixLoopWorkflowId, taskBatchId } from './ids';

export interface FixLoopInput {
  programId: string;
  itemId: string;
  /** The production run that found the failure (its item_verdicts hold the judges' summaries). */
  runKey: string;
  failingCriteria: string[];
  /** The whole panel re-judges a revision (a fix must not break another criterion). */
  criteria: string[];
  prompts: Record<string, string>;
  /** Samples per criterion, or one number for every criterion (the production run's). */
  samples: JudgeSamples;
  model?: string;
  maxAttempts: number;
  /** Default: the program's first vendor with the `write` role. */
  writerVendorId?: string;
}

export interface FixLoopResult {
  cycleId: string;
  /** needs_review: the last attempt's re-judge still errored after its retries (never counted as passed). */
  outcome: 'passed' | 'escalated' | 'needs_review' | 'already-closed';
  attempts: number;
  stillFailing: string[];
  /** needs_review: the criteria whose re-judge errored, with the judge's error. */
  errors?: Record<string, string>;
}

/** Patch id of the re-judge that treats an error as an error (histories recorded before it replay the old path). */
export const ERROR_NEVER_PASSES = 'error-never-passes';

/**
 * Patch id of the loop whose database calls are local activities: hundreds of loops run at once at
 * the end of production, and each remote call cost the server three events and a workflow task.
 */
export const FIX_LOOP_LOCAL_ACTIVITIES = 'fix-loop-local-activities';

/** Waits before judging an errored re-judge again; after the last retry, an error still there means needs_review. */
export const REJUDGE_RETRY_WAITS_MS = [60_000, 10 * 60_000];

/** What the panel said about one revision. */
interface Rejudged {
  failing: string[];
  /** Criteria in error, with the judge's error. */
  errors: Record<string, string>;
}

type FixActivities = ReturnType<typeof createProductionActivities> & {
  loadProgramPlan(programId: string): Promise<ProgramPlan>;
};
const remoteActs = proxyActivities<FixActivities>(DATABASE);
const localActs = proxyLocalActivities<FixActivities>(LOCAL_DATABASE);
const judge = proxyActivities<Pick<ReturnType<typeof createJudgingActivities>, 'judgeItems'>>(LLM_PAGE);

export async function fixLoopWorkflow(input: FixLoopInput): Promise<FixLoopResult> {
  const acts = patched(FIX_LOOP_LOCAL_ACTIVITIES) ? localActs : remoteActs;
  const cycle = await acts.openFixCycle({
    programId: input.programId,
    itemId: input.itemId,
    failingCriteria: input.failingCriteria,
  });
  if (cycle.status !== 'open')
    return { cycleId: cycle.cycleId, outcome: 'already-closed', attempts: cycle.attempts, stillFailing: [] };
  const plan = await acts.loadProgramPlan(input.programId);
  const vendorId = input.writerVendorId ?? plan.vendorsFor.write[0];
  if (!vendorId)
    throw new Error(
      `program ${input.programId} has no vendor with the write role: add one to the spec to run the fix loop`,
    );

  let failing = input.failingCriteria;
  let summaries = await acts.judgeSummaries({ runKey: input.runKey, itemId: input.itemId, criteria: failing });
  let beforeHash = cycle.textHash;
  for (let attempt = cycle.attempts + 1; attempt <= input.maxAttempts; attempt++) {
    await waitForBudget(() =>
      acts.startFixAttempt({
        programId: input.programId,
        cycleId: cycle.cycleId,
        attempt,
        failingCriteria: failing,
        beforeHash,
        writerVendorId: vendorId,
      }),
    );
    const batchId = taskBatchId(fixLoopWorkflowId(input.programId, input.itemId), `write-${attempt}`);
    const tasks = await executeChild(humanTasksWorkflow, {
      workflowId: batchId,
      staticSummary: `rewrite ${input.itemId} (attempt ${attempt}/${input.maxAttempts}): fails ${failing.join(', ')}`,
      args: [
        {
          batchId,
          programId: input.programId,
          phase: 'fix' as const,
          kind: 'write' as const,
          itemIds: [input.itemId],
          ratersPerItem: 1,
          criteria: failing,
          vendorIds: [vendorId],
          guidelineVersion: plan.guidelineVersion,
          goldRate: 0,
          minGoldAccuracy: 0,
          sla: plan.sla,
          itemContext: { [input.itemId]: { failingCriteria: failing, summaries } },
        },
      ],
    });
    const revision = tasks.revisions?.find((r) => r.itemId === input.itemId);
    const afterHash = revision?.textHash ?? (await acts.currentTextHash(input.itemId));
    // Each attempt's judgments live under their own run key, so the re-judging of a revision is kept apart.
    const runKey = fixAttemptRunKey(input.runKey, input.itemId, attempt);
    let judged: Rejudged;
    if (patched(ERROR_NEVER_PASSES)) judged = await rejudge(acts, input, runKey, attempt);
    else {
      // Histories recorded before the patch: an errored criterion was missing from the failing ones (and so passed).
      await judge.judgeItems({
        programId: input.programId,
        runId: runKey,
        itemIds: [input.itemId],
        criteria: input.criteria,
        prompts: input.prompts,
        samples: input.samples,
        model: input.model,
      });
      judged = {
        failing: (await acts.failingItems({ runKey, itemIds: [input.itemId] }))[0]?.failingCriteria ?? [],
        errors: {},
      };
    }
    const still = judged.failing;
    const errored = Object.keys(judged.errors);
    const outcome: FixAttemptOutcome = errored.length
      ? 'needs_review'
      : still.length === 0
        ? 'passed'
        : attempt === input.maxAttempts
          ? 'escalated'
          : 'failed';
    await acts.finishFixAttempt({
      cycleId: cycle.cycleId,
      attempt,
      taskId: revision?.taskId ?? null,
      afterHash,
      outcome,
      stillFailing: still,
      ...(errored.length ? { errors: judged.errors } : {}),
    });
    if (outcome === 'passed') return { cycleId: cycle.cycleId, outcome, attempts: attempt, stillFailing: [] };
    if (outcome === 'escalated') return { cycleId: cycle.cycleId, outcome, attempts: attempt, stillFailing: still };
    if (outcome === 'needs_review') {
      log.warn('fix attempt needs review: the re-judge still errored', {
        itemId: input.itemId,
        attempt,
        errors: judged.errors,
      });
      return { cycleId: cycle.cycleId, outcome, attempts: attempt, stillFailing: still, errors: judged.errors };
    }
    failing = still;
    summaries = await acts.judgeSummaries({ runKey, itemId: input.itemId, criteria: failing });
    beforeHash = afterHash;
  }
  // Restarted with every attempt already used (e.g. after a terminate): nothing left to try.
  await acts.closeFixCycle({ cycleId: cycle.cycleId, status: 'escalated' });
  return { cycleId: cycle.cycleId, outcome: 'escalated', attempts: input.maxAttempts, stillFailing: failing };
}

/**
 * The whole panel judges the revision; a criterion in error (or a judging page that failed after its
 * own retries) is judged again after each of REJUDGE_RETRY_WAITS_MS — stored judgments are not
 * requested again, only the errored samples — and what is still in error after the last is returned
 * as such, never as a pass. The Temporal UI shows the wait and why in the loop's current details.
 */
async function rejudge(
  acts: typeof remoteActs,
  input: FixLoopInput,
  runKey: string,
  attempt: number,
): Promise<Rejudged> {
  for (let retry = 0; ; retry++) {
    let pageError: string | undefined;
    try {
      await judge.judgeItems({
        programId: input.programId,
        runId: runKey,
        itemIds: [input.itemId],
        criteria: input.criteria,
        prompts: input.prompts,
        samples: input.samples,
        model: input.model,
      });
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      pageError = `judging failed: ${err.cause?.message ?? err.message}`;
    }
    const judged: Rejudged = pageError
      ? { failing: [], errors: Object.fromEntries(input.criteria.map((c) => [c, pageError])) }
      : await acts
          .failingItems({ runKey, itemIds: [input.itemId], criteria: input.criteria })
          .then(([row]) => ({ failing: row?.failingCriteria ?? [], errors: row?.errors ?? {} }));
    const errored = Object.keys(judged.errors);
    if (!errored.length || retry >= REJUDGE_RETRY_WAITS_MS.length) {
      setCurrentDetails(
        errored.length
          ? `needs review: the re-judge of attempt ${attempt} still errored on ${errored.join(', ')}: ${judged.errors[errored[0]]}`
          : '',
      );
      return judged;
    }
    const waitMs = REJUDGE_RETRY_WAITS_MS[retry];
    setCurrentDetails(
      `attempt ${attempt}: the re-judge errored on ${errored.join(', ')} (${judged.errors[errored[0]]}); judging again in ${Math.round(waitMs / 60_000)} min (retry ${retry + 1} of ${REJUDGE_RETRY_WAITS_MS.length}), then needs review`,
    );
    await sleep(waitMs, {
      summary: `re-judge errored on ${errored.join(', ')}: retry ${retry + 1} of ${REJUDGE_RETRY_WAITS_MS.length}`,
    });
  }
}

/** First and longest wait between budget checks: a raised budget is noticed within hours, and a wait of weeks stays a few hundred events. */
const BUDGET_RECHECK_FIRST_MS = 60_000;
const BUDGET_RECHECK_MAX_MS = 6 * 3_600_000;

/** Starts the attempt once the program's budget covers its writer task, checking again with growing waits until then. */
async function waitForBudget(start: () => Promise<FixAttemptStart>) {
  for (let waitMs = BUDGET_RECHECK_FIRST_MS; ; waitMs = Math.min(waitMs * 2, BUDGET_RECHECK_MAX_MS)) {
    const r = await start();
    if (r.started) break;
    setCurrentDetails(
      `waiting for budget: committed $${r.committedUsd.toFixed(2)} + writer task $${r.writeUsd.toFixed(2)} exceeds $${r.budgetUsd.toFixed(2)}; raise it with \`judgeflow program budget\``,
    );
    await sleep(waitMs, { summary: 'waiting for budget' });
  }
  setCurrentDetails('');
}
