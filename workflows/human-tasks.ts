/**
 * One batch of human tasks (any phase): assign each item to k distinct raters with gold items
 * mixed in, dispatch through the vendor adapters, and wait for the vendors' events (signalled by
 * the gateway) under SLA timers: a reminder, then reassignment on breach, and a deadline that
 * closes the batch. Raters whose gold accuracy drops below the bar are paused and their open tasks
 * reassigned; a rater who fails one locale's qualification batch loses only that locale's work. State is ids and statuses only; the labels live in Postgres.
 *
 * A batch that cannot be opened — its vendor unreachable or refusing when its rater pool is read or
 * its tasks are first sent, after the activity's retries — fails with a VendorUnavailable failure
 * that names the vendor and the error, leaving its recorded tasks as they are: the program waits at
 * a vendor gate (program-phases.ts) and, once approved, runs the phase step again, which reopens
 * this batch (same id) and finds them.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CloseBatchResult, HumanTasksInput } from '../human-tasks/batch';
import { unpackOpenedBatch, type TaskRef } from '../human-tasks/ids';
import type { NotificationRoute } from '../notifications/events';
import type { VendorEventSignal } from '../schema/vendor-events';
import { VENDOR_CALL } from './activity-options';
import { programWorkflowId } from './ids';
import { notify } from './notify';

export type { HumanTasksInput } from '../human-tasks/batch';

/** Failure type of a batch whose vendor could not be reached or refused it when opening (details: VendorFailureDetails). */
export const VENDOR_UNAVAILABLE = 'VendorUnavailable';

export interface VendorFailureDetails {
  batchId: string;
  /** openTaskBatch or dispatchTasks. */
  activityType: string;
  /** The activity's last error, e.g. `vendor acme-labels unreachable: getaddrinfo ENOTFOUND vendor.example.com (GET …/raters)`. */
  error: string;
}

/** The VendorUnavailable failure for an opening activity that failed after its retries; anything else is returned as is. */
function asVendorFailure(err: unknown, batchId: string): unknown {
  if (!(err instanceof ActivityFailure) || isCancellation(err)) return err;
  const error = err.cause?.message ?? err.message;
  const details: VendorFailureDetails = { batchId, activityType: err.activityType, error };
  return ApplicationFailure.create({
    type: VENDOR_UNAVAILABLE,
    message: `${err.activityType} failed after its retries: ${error}`,
    nonRetryable: true,
    details: [details],
    cause: err,
  });
}

export interface HumanTasksResult extends CloseBatchResult {
  batchId: string;
  pausedRaters: string[];
  cancelled: boolean;
}

export interface HumanTasksStatus {
  batchId: string;
  guidelineVersion: number;
  counts: { open: number; completed: number; closed: number; total: number };
  reminders: number;
  slaBreaches: number;
  reassigned: number;
  droppedSlots: number;
  labelsRecorded: number;
  pausedRaters: string[];
  deadline: string;
}

/** One stored vendor event (may arrive more than once). */
export const vendorEventSignal = defineSignal<[VendorEventSignal]>('vendorEvent');
/**
 * Several stored events at once: the gateway and the reconciler coalesce a batch's events into one
 * signal, which keeps Temporal's per-execution signal count and server load low under bursts.
 */
export const vendorEventsSignal = defineSignal<[{ events: VendorEventSignal[] }]>('vendorEvents');
/** Sent by the parent when a guideline revision is published: tasks dispatched later carry it. */
export const guidelineVersionSignal = defineSignal<[{ version: number }]>('guidelineVersion');
export const humanTasksStatusQuery = defineQuery<HumanTasksStatus>('humanTasksStatus');

const MAX_TASKS_PER_ACTIVITY = 500;

const acts = proxyActivities<Activities>(VENDOR_CALL);

type TaskState = {
  itemId: string;
  raterId: string;
  gold: boolean;
  status: 'open' | 'completed' | 'closed';
  sentAt: number;
  reminded: boolean;
};

/** A batch's input, with the receivers of `sla.missed` from the program's plan (none: nothing is sent). */
export type HumanTasksWorkflowInput = HumanTasksInput & { notifications?: NotificationRoute[] };

export async function humanTasksWorkflow(input: HumanTasksWorkflowInput): Promise<HumanTasksResult> {
  const { batchId, sla } = input;
  const startedAt = Date.now();
  const deadline = startedAt + sla.deadlineMs;
  const tasks = new Map<string, TaskState>();
  /** Tasks the vendor declined or expired: reassigned at the next wake-up. */
  const toReassign = new Set<string>();
  const pausedRaters: string[] = [];
  let guidelineVersion = input.guidelineVersion;
  let goldCompletedSinceCheck = 0;
  let reminders = 0;
  let slaBreaches = 0;
  let reassigned = 0;
  let droppedSlots = 0;
  let labelsRecorded = 0;
  let open = 0;
  const criteriaCount = (itemId: string) => {
    if (input.kind === 'write') return 0;
    const only = input.itemContext?.[itemId]?.criteria;
    return Array.isArray(only) && only.length ? only.length : input.criteria.length;
  };

  // Dedupe by task status: a repeated signal finds its task already completed or closed.
  const applyEvent = ({ taskId, type }: VendorEventSignal) => {
    const task = tasks.get(taskId);
    if (!task || task.status !== 'open') return;
    open--;
    if (type === 'task.completed' || type === 'revision.submitted') {
      task.status = 'completed';
      labelsRecorded += criteriaCount(task.itemId);
      if (task.gold) goldCompletedSinceCheck++;
    } else {
      task.status = 'closed';
      toReassign.add(taskId);
    }
  };
  setHandler(vendorEventSignal, applyEvent);
  setHandler(vendorEventsSignal, ({ events }) => events.forEach(applyEvent));
  setHandler(guidelineVersionSignal, ({ version }) => {
    guidelineVersion = Math.max(guidelineVersion, version);
  });
  setHandler(humanTasksStatusQuery, () => {
    const counts = { open: 0, completed: 0, closed: 0, total: tasks.size };
    for (const t of tasks.values()) counts[t.status]++;
    return {
      batchId,
      guidelineVersion,
      counts,
      reminders,
      slaBreaches,
      reassigned,
      droppedSlots,
      labelsRecorded,
      pausedRaters,
      deadline: new Date(deadline).toISOString(),
    };
  });

  const track = (refs: TaskRef[]) => {
    for (const r of refs)
      tasks.set(r.id, {
        itemId: r.itemId,
        raterId: r.raterId,
        gold: r.gold,
        status: 'open',
        sentAt: Date.now(),
        reminded: false,
      });
    open += refs.length;
  };
  const dispatch = async (ids: string[]) => {
    for (let i = 0; i < ids.length; i += MAX_TASKS_PER_ACTIVITY) {
      const part = ids.slice(i, i + MAX_TASKS_PER_ACTIVITY);
      await acts.dispatchTasks({ taskIds: part, guidelineVersion, dueInMs: sla.reassignAfterMs });
      for (const id of part) {
        const t = tasks.get(id);
        if (t) t.sentAt = Date.now();
      }
    }
  };
  const reassign = async (ids: string[], reason: string) => {
    for (let i = 0; i < ids.length; i += MAX_TASKS_PER_ACTIVITY) {
      const part = ids.slice(i, i + MAX_TASKS_PER_ACTIVITY);
      const out = await acts.reassignTasks({ batchId, taskIds: part, vendorIds: input.vendorIds, reason });
      for (const id of part) {
        const t = tasks.get(id);
        // A task completed meanwhile stays open here until its completion signal arrives.
        if (t && t.status === 'open' && !out.completedMeanwhile.includes(id)) {
          t.status = 'closed';
          open--;
        }
      }
      droppedSlots += out.dropped.length;
      reassigned += out.replacements.length;
      track(out.replacements.filter((r) => !tasks.has(r.id)));
      await dispatch(out.replacements.map((r) => r.id));
    }
  };
  const openTasks = () => [...tasks].filter(([, t]) => t.status === 'open');
  // Evaluated on every activation (each signal): O(1), no scan over the tasks.
  const hasWork = () =>
    toReassign.size > 0 || (goldCompletedSinceCheck > 0 && input.minGoldAccuracy !== undefined) || open === 0;

  /** Reads the rater pools, records the tasks and sends them: the calls that fail when a vendor is unreachable or misconfigured. */
  const openBatch = async () => {
    const opened = await acts.openTaskBatch({
      batchId,
      programId: input.programId,
      phase: input.phase,
      round: input.round,
      kind: input.kind,
      itemIds: input.itemIds,
      ratersPerItem: input.ratersPerItem,
      criteria: input.criteria,
      vendorIds: input.vendorIds,
      guidelineVersion,
      goldRate: input.goldRate,
      itemContext: input.itemContext,
    });
    droppedSlots += opened.unassignedSlots;
    const refs = unpackOpenedBatch(batchId, input.itemIds, opened);
    track(refs);
    await dispatch(refs.map((t) => t.id));
  };

  let cancelled = false;
  let outcome: 'completed' | 'deadline' | 'cancelled' = 'completed';
  try {
    await openBatch().catch((err: unknown) => {
      throw asVendorFailure(err, batchId);
    });

    for (;;) {
      if (!open && !toReassign.size) break;
      const now = Date.now();
      if (now >= deadline) {
        outcome = 'deadline';
        break;
      }
      // Sleep until the earliest SLA moment (one timer for the whole batch), or until a signal needs work.
      let next = deadline;
      for (const [, t] of openTasks())
        next = Math.min(next, t.sentAt + (t.reminded ? sla.reassignAfterMs : sla.remindAfterMs));
      if (next > now) await condition(hasWork, next - now);

      if (toReassign.size) {
        const ids = [...toReassign];
        toReassign.clear();
        await reassign(ids, 'declined or expired by the vendor');
      }
      if (goldCompletedSinceCheck > 0 && input.minGoldAccuracy !== undefined) {
        goldCompletedSinceCheck = 0;
        const qa = await acts.evaluateRaters({
          programId: input.programId,
          batchId,
          minGoldAccuracy: input.minGoldAccuracy,
        });
        if (qa.paused.length) {
          pausedRaters.push(...qa.paused.filter((r) => !pausedRaters.includes(r)));
          const theirs = openTasks()
            .filter(([, t]) => qa.paused.includes(t.raterId))
            .map(([id]) => id);
          log.info('raters paused on gold accuracy', { paused: qa.paused, reassigning: theirs.length });
          await reassign(theirs, 'rater paused: gold accuracy below the bar');
        }
        // Results recorded before qualification was per locale have no unqualifiedTasks (their failed raters were paused).
        const unqualified = (qa.unqualifiedTasks ?? []).filter((id) => tasks.get(id)?.status === 'open');
        if (unqualified.length && patched('qualification-per-locale')) {
          log.info("work of raters who failed its locale's qualification", { reassigning: unqualified.length });
          await reassign(unqualified, "rater failed the qualification batch of the item's locale");
        }
      }
      const at = Date.now();
      const due = openTasks().filter(
        ([, t]) => !t.reminded && at >= t.sentAt + sla.remindAfterMs && at < t.sentAt + sla.reassignAfterMs,
      );
      if (due.length) {
        for (const [, t] of due) t.reminded = true;
        reminders += due.length;
        await acts.remindTasks({ taskIds: due.map(([id]) => id) });
      }
      const breached = openTasks().filter(([, t]) => at >= t.sentAt + sla.reassignAfterMs);
      if (breached.length) {
        slaBreaches += breached.length;
        await notify(input.notifications, {
          id: `sla-missed/${batchId.slice(programWorkflowId(input.programId).length + 1)}/${slaBreaches}`,
          type: 'sla.missed',
          programId: input.programId,
          summary: `${breached.length} ${input.phase} task(s) not completed within the SLA (${Math.round(sla.reassignAfterMs / 3_600_000)} h): reassigned to other raters`,
          details: {
            batchId,
            phase: input.phase,
            round: input.round ?? null,
            tasks: breached.length,
            raters: [...new Set(breached.map(([, t]) => t.raterId))].slice(0, 20),
          },
        });
        await reassign(
          breached.map(([id]) => id),
          'SLA breach: not completed in time',
        );
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelled = true;
    outcome = 'cancelled';
  }
  // Closing runs even when cancelled: open tasks are withdrawn, everything recorded stays.
  const result = await CancellationScope.nonCancellable(() =>
    acts.closeTaskBatch({ batchId, itemIds: input.itemIds, ratersPerItem: input.ratersPerItem, outcome }),
  );
  return { batchId, ...result, pausedRaters, cancelled };
}
