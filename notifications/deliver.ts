/**
 * Sends one program notification to one receiver of the spec's `notifications:` — a JSON event
 * signed with Standard Webhooks (vendors/signing.ts, the gateway's code) or a Slack incoming-webhook
 * message — and records every attempt in notification_deliveries. URLs and secrets named by
 * environment variable are read from the worker's environment when sending, never stored.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { ActivityDeps } from '../activities/deps';
import type { Db } from '../platform/db';
import type { NotificationSpec } from '../schema/program-spec';
import { notificationDeliveries, programs } from '../schema/tables';
import { signHeaders } from '../vendors/signing';
import { NOTIFY } from '../workflows/activity-options';
import type { NotificationEvent, NotificationEventType } from './events';

/** The webhook body (Standard Webhooks' `{type, timestamp, data}` convention). */
export function webhookPayload(event: NotificationEvent) {
  return {
    type: event.type,
    timestamp: event.at,
    data: { eventId: event.id, programId: event.programId, summary: event.summary, ...event.details },
  };
}

const TITLES: Record<NotificationEventType, string> = {
  'gate.waiting': 'Gate waiting for approval',
  'sla.missed': 'SLA missed',
  'budget.warning': 'Budget at 80%',
  'budget.reached': 'Budget reached',
  'round.target_met': 'Round met its target',
  'round.target_missed': 'Round missed its target',
  'program.completed': 'Program completed',
  'program.failed': 'Program failed',
};

/** Slack's three reserved characters, escaped as its message format asks. */
const slackText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook message: `text` for notifications and clients without blocks, the same in blocks. */
export function slackMessage(event: NotificationEvent) {
  const title = `${TITLES[event.type]}: ${event.programId}`;
  return {
    text: slackText(`${title} — ${event.summary}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: slackText(event.summary).slice(0, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${event.type}\` · ${event.at}` }] },
    ],
  };
}

/** Receivers answering with these may take the same request later; any other 4xx never will. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

export function createNotificationActivities({ db, config, logger }: Pick<ActivityDeps, 'db' | 'config' | 'logger'>) {
  return {
    /**
     * Sends `event` to receiver `receiverId` once. Throws on failure so that the NOTIFY policy
     * retries it; a receiver that refuses for good (a 4xx other than 408/425/429, an unknown
     * receiver, an unset URL or secret) fails without retries. Each attempt is recorded.
     */
    async deliverNotification(input: {
      event: NotificationEvent;
      receiverId: string;
    }): Promise<{ responseStatus: number }> {
      const { event, receiverId } = input;
      const { attempt } = Context.current().info;
      let responseStatus: number | null = null;
      try {
        const receiver = await receiverOf(db, event.programId, receiverId);
        const url = receiver.url ?? config.env[receiver.urlEnv ?? ''];
        if (!url)
          throw permanent(`environment variable ${receiver.urlEnv} (the URL of receiver ${receiverId}) is not set`);
        const secret = receiver.kind === 'webhook' ? config.env[receiver.secretEnv ?? ''] : undefined;
        if (receiver.kind === 'webhook' && !secret)
          throw permanent(
            `environment variable ${receiver.secretEnv} (the signing secret of receiver ${receiverId}) is not set`,
          );
        const body = JSON.stringify(receiver.kind === 'slack' ? slackMessage(event) : webhookPayload(event));
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            // The id stays the same across retries, so a receiver drops a delivery it already has.
            ...(secret ? signHeaders(secret, body, `${event.programId}/${event.id}`) : {}),
          },
          body,
          signal: AbortSignal.any([
            AbortSignal.timeout(config.notifications.timeoutMs),
            Context.current().cancellationSignal,
          ]),
        });
        responseStatus = res.status;
        const text = await res.text().catch(() => '');
        if (!res.ok) {
          const message = `receiver ${receiverId} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
          throw res.status < 500 && !RETRYABLE_4XX.has(res.status) ? permanent(message) : new Error(message);
        }
        await record(db, receiverId, event, 'delivered', attempt, responseStatus, null);
        return { responseStatus };
      } catch (err) {
        const error = errorMessage(err, config.notifications.timeoutMs);
        const last = (err instanceof ApplicationFailure && err.nonRetryable) || attempt >= NOTIFY.retry.maximumAttempts;
        await record(db, receiverId, event, last ? 'failed' : 'failing', attempt, responseStatus, error);
        logger.warn({ receiverId, eventId: event.id, attempt, error }, 'notification not delivered');
        throw err instanceof ApplicationFailure ? err : new Error(error);
      }
    },
  };
}

const permanent = (message: string) => ApplicationFailure.nonRetryable(message, 'NotificationRefused');

function errorMessage(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const e = err as Error & { cause?: { message?: string } };
  return e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
}

async function receiverOf(db: Db, programId: string, receiverId: string): Promise<NotificationSpec> {
  const [row] = await db.select({ spec: programs.spec }).from(programs).where(eq(programs.id, programId));
  const receiver = (row?.spec.notifications as NotificationSpec[] | undefined)?.find((n) => n.id === receiverId);
  if (!receiver) throw permanent(`program ${programId} has no notification receiver "${receiverId}"`);
  return receiver;
}

async function record(
  db: Db,
  receiverId: string,
  event: NotificationEvent,
  status: 'delivered' | 'failing' | 'failed',
  attempts: number,
  responseStatus: number | null,
  lastError: string | null,
) {
  await db
    .insert(notificationDeliveries)
    .values({
      programId: event.programId,
      receiverId,
      eventId: event.id,
      type: event.type,
      payload: event as unknown as Record<string, unknown>,
      status,
      attempts,
      responseStatus,
      lastError,
    })
    .onConflictDoUpdate({
      target: [notificationDeliveries.programId, notificationDeliveries.receiverId, notificationDeliveries.eventId],
      set: { status, attempts, responseStatus, lastError, updatedAt: sql`now()` },
    });
}
