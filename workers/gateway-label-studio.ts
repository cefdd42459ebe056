/**
 * Label Studio, which cannot sign a webhook and never retries one: its webhook route (a static
 * token header instead of a signature) and the polling fallback that finds the answers whose
 * webhook was lost. Polling asks every adapter that can poll; Label Studio's is the one that does.
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
import { translateLabelStudioWebhook } from '../vendors/label-studio';
import { deliveryIdProblem, invalidBody, sendError } from './gateway-validation';

/** The header Label Studio webhooks carry (configured as a custom header in Label Studio). */
export const LABEL_STUDIO_TOKEN_HEADER = 'x-judgeflow-token';

/** The gateway's inbox: stores one event under its delivery id; `duplicate` if that id was stored before. */
export type StoreEvent = (
  row: VendorRow,
  deliveryId: string,
  event: VendorEvent,
) => Promise<{ status: number; body: unknown; duplicate: boolean }>;

/** POST /v1/vendors/:vendorId/label-studio: the token checked, the webhook translated, then `receive`d like any event. */
export function labelStudioRoute(
  app: FastifyInstance,
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
    const event = translated.event;
    return receive(row, translated.deliveryId, () => vendorEventSchema.parse(event), reply);
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
    const rows = await db
      .select()
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
    for (const row of rows) {
      try {
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
        logger.warn({ err, vendorId: row.id }, 'polling the vendor failed; the next round retries');
      }
    }
    if (storedNow) logger.info({ stored: storedNow }, 'polling stored answers whose webhook had not arrived');
    return { polled, stored: storedNow };
  };
}
