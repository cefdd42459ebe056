/**
 * Notifications, fire and forget: a workflow that reaches an event (a gate waiting, an SLA missed,
 * the budget at 80 % or 100 %, a round's outcome, the program's end) starts a notifyWorkflow child
 * for it and goes on at once. The child is abandoned by its parent (ParentClosePolicy.ABANDON), so it
 * outlives a program that completes or fails meanwhile, and sends to each receiver with its own
 * retries (NOTIFY). A receiver that answers 500 or hangs costs the program nothing: its failure is
 * logged here and recorded by the activity (notification_deliveries), and nothing awaits it.
 */
import {
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { receiversFor, type NotificationEvent, type NotificationRoute } from '../notifications/events';
import { NOTIFY } from './activity-options';
import { notifyWorkflowId } from './ids';

/** Patch id of notifications: histories recorded before them never start a notifyWorkflow. */
export const NOTIFICATIONS = 'notifications';

const acts = proxyActivities<Activities>(NOTIFY);

export interface NotifyInput {
  event: NotificationEvent;
  receivers: string[];
}

/** Sends one event to each of its receivers in parallel; returns who got it and who did not. */
export async function notifyWorkflow({
  event,
  receivers,
}: NotifyInput): Promise<{ delivered: string[]; failed: string[] }> {
  const delivered: string[] = [];
  const failed: string[] = [];
  await Promise.all(
    receivers.map(async (receiverId) => {
      try {
        await acts.deliverNotification({ event, receiverId });
        delivered.push(receiverId);
      } catch (err) {
        failed.push(receiverId);
        log.warn('notification not delivered after its retries', {
          receiverId,
          eventId: event.id,
          error: err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err),
        });
      }
    }),
  );
  return { delivered, failed };
}

/**
 * Starts the notification of `event` when a receiver wants it, and returns once it has started.
 * `event.id` makes it once per event: the same event reached again (a step run again after a vendor
 * gate, a checkpoint after continue-as-new) finds its notifyWorkflow already there.
 */
export async function notify(
  routes: readonly NotificationRoute[] | undefined,
  event: Omit<NotificationEvent, 'at'>,
): Promise<void> {
  const receivers = receiversFor(routes, event.type);
  if (!receivers.length || !patched(NOTIFICATIONS)) return;
  try {
    await startChild(notifyWorkflow, {
      workflowId: notifyWorkflowId(event.programId, event.id),
      args: [{ event: { ...event, at: new Date().toISOString() }, receivers }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `${event.type} → ${receivers.join(', ')}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
