/**
 * Label Studio, which cannot sign a webhook and never retries one: its webhook route (a static
 * token header, then the annotation re-read from Label Studio's API, so a forged body is never
 * stored) and the polling fallback that finds the answers whose webhook was lost. Polling asks
 * every adapter that can poll; Label Studio's is the one that does.
 */
import { timingSafeEqual } from 'node:crypto';
import { and, eq, exists, inArray } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OPEN_STATUSES } from '../human-tasks/batch';
import type { Config } from '../platform/config';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { tasks, vendors } from '../schema/tables';
import { vendorEventSchema, type VendorEvent } from '../schema/vendor-events';
import { createVendorAdapter, type VendorRow } from '../vendors';
import { loadVendor } from '../vendors/registry';
import { createLabelStudioAdapter, translateAnnotation, translateLabelStudioWebhook } from '../vendors/label-studio';
import { checkDeliveryId, deliveryIdProblem, HttpError, invalidBody, sendError } from './gateway-validation';

/** The header Label Studio webhooks carry (configured as a custom header in Label Studio). */
export const LABEL_STUDIO_TOKEN_HEADER = 'x-judgeflow-token';

/** The gateway's inbox: stores one event under its delivery id; `duplicate` if that id was stored before. */
export type StoreEvent = (
  row: VendorRow,
  deliveryId: string,
  event: VendorEvent,
) => Promise<{ status: number; body: unknown; duplicate: boolean }>;

type Hook = NonNullable<ReturnType<typeof translateLabelStudioWebhook>>;

/**
 * The annotation as Label Studio holds it must be the one the webhook describes (same task, rater,
 * result and save time); otherwise the webhook is forged or stale and refused. A stale one's newer
 * save arrives by its own webhook or the poll.
 */
async function confirmAnnotation(row: VendorRow, env: Config['env'], hook: Hook): Promise<void> {
  let held: Awaited<ReturnType<ReturnType<typeof createLabelStudioAdapter>['annotation']>>;
  try {
    held = await createLabelStudioAdapter(row, env).annotation(hook.annotationId);
  } catch (err) {
    throw new HttpError(
      503,
      'cannot_confirm',
      `the annotation could not be confirmed with Label Studio (${(err as Error).message}); nothing was stored, the poll picks it up once Label Studio answers`,
    );
  }
  if (!held)
    throw new HttpError(
      404,
      'annotation_not_found',
      `Label Studio has no annotation ${hook.annotationId}: the webhook was not sent by it, nothing was stored`,
    );
  const translated = translateAnnotation(hook.event.taskId, held, hook.action);
  const project = (held as { project?: unknown }).project;
  const differs = [
    held.task !== undefined && held.task !== hook.labelStudioTaskId && 'task',
    project !== undefined && project !== (row.config as { projectId?: unknown }).projectId && 'project',
    translated.updatedAt !== hook.updatedAt && 'updated_at',
    JSON.stringify(translated.event) !== JSON.stringify(hook.event) && 'result',
  ].filter((d): d is string => typeof d === 'string');
  if (differs.length)
    throw new HttpError(
      409,
      'annotation_mismatch',
      `annotation ${hook.annotationId} in Label Studio differs from the webhook (${differs.join(', ')}): forged or superseded, nothing was stored`,
      { differs },
    );
}

/**
 * POST /v1/vendors/:vendorId/label-studio: the token checked, the webhook translated and checked,
 * the annotation confirmed with Label Studio, then `receive`d like any event.
 */
export function labelStudioRoute(
  app: FastifyInstance,
  env: Config['env'],
  vendorOf: (params: unknown) => Promise<VendorRow>,
  receive: (row: VendorRow, deliveryId: string, parse: () => VendorEvent, reply: FastifyReply) => Promise<unknown>,
) {
  app.post('/v1/vendors/:vendorId/label-studio', async (req, reply) => {
    const row = await vendorOf(req.params);
    if (row.kind !== 'label-studio')
      return sendError(reply, 404, 'not_found', `vendor ${row.id} is not a Label Studio vendor`);
    const token = Buffer.from(String(req.headers[LABEL_STUDIO_TOKEN_HEADER] ?? ''));
    if (!row.secrets.some((s) => Buffer.from(s).length === token.length && timingSafeEqual(Buffer.from(s), token)))
      return sendError(
        reply,
        401,
        'bad_token',
        `the ${LABEL_STUDIO_TOKEN_HEADER} header does not match an active secret of this vendor`,
      );
    let translated: ReturnType<typeof translateLabelStudioWebhook>;
    try {
      translated = translateLabelStudioWebhook(JSON.parse(String(req.body)));
    } catch (err) {
      throw invalidBody(err);
    }
    if (!translated) return reply.code(200).send({ ignored: true });
    // What the body itself gets wrong is answered first, before Label Studio is asked anything.
    checkDeliveryId(translated.deliveryId);
    let event: VendorEvent;
    try {
      event = vendorEventSchema.parse(translated.event);
    } catch (err) {
      throw invalidBody(err);
    }
    if (translated.unknownChoices.length)
      return sendError(
        reply,
        422,
        'unknown_choice',
        `choices judgeflow's labeling config does not offer: ${translated.unknownChoices
          .map((u) => `${u.field}=${JSON.stringify(u.choices)}`.slice(0, 200))
          .join('; ')} (a criterion takes exactly one of its values: pass/fail, or a point of its scale)`,
        translated.unknownChoices,
      );
    await confirmAnnotation(row, env, translated);
    return receive(row, translated.deliveryId, () => event, reply);
  });
}

/**
 * One round of the polling fallback: every vendor with open tasks whose adapter can poll is
 * asked for answers saved since its cursor, and each is stored exactly like its webhook delivery
 * (same delivery id: an answer that came both ways is one event). Cursors live in memory: after
 * a restart the first round re-reads everything, which the inbox absorbs as duplicates.
 */
export function vendorPoller(
  db: Db,
  config: Config,
  logger: Logger,
  store: StoreEvent,
): () => Promise<{ polled: number; stored: number }> {
  const pollCursors = new Map<string, string | null>();
  return async () => {
    const ids = await db
      .select({ id: vendors.id })
      .from(vendors)
      .where(
        exists(
          db
            .select({ id: tasks.id })
            .from(tasks)
            .where(and(eq(tasks.vendorId, vendors.id), inArray(tasks.status, OPEN_STATUSES))),
        ),
      );
    let polled = 0;
    let storedNow = 0;
    for (const { id } of ids) {
      try {
        const row = await loadVendor(db, id, config);
        if (!row) continue;
        const adapter = createVendorAdapter(row, config.env);
        if (!adapter.poll) continue;
        const { events, cursor } = await adapter.poll(pollCursors.get(row.id) ?? null);
        polled++;
        for (const e of events) {
          const parsed = vendorEventSchema.safeParse(e.event);
          const badId = deliveryIdProblem(e.deliveryId);
          if (badId) {
            logger.warn(
              { vendorId: row.id, deliveryId: e.deliveryId.slice(0, 200), problem: badId },
              'polled answer has an unusable delivery id; skipped',
            );
            continue;
          }
          if (!parsed.success) {
            logger.warn(
              { vendorId: row.id, deliveryId: e.deliveryId, issues: parsed.error.issues },
              'polled answer does not match the event schema; skipped',
            );
            continue;
          }
          const answer = await store(row, e.deliveryId, parsed.data);
          if (!answer.duplicate) storedNow++;
        }
        pollCursors.set(row.id, cursor);
      } catch (err) {
        logger.warn({ err, vendorId: id }, 'polling the vendor failed; the next round retries');
      }
    }
    if (storedNow) logger.info({ stored: storedNow }, 'polling stored answers whose webhook had not arrived');
    return { polled, stored: storedNow };
  };
}
