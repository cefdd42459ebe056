/**
 * The SIMULATED vendor (`judgeflow sim vendor`): an HTTP service that takes task dispatches
 * exactly as a real vendor endpoint does (signed, generic HTTP adapter protocol), lets its pool of
 * simulated raters work on them, and posts completions to judgeflow's gateway, signed with the
 * vendor secret, at least once (retries with the same webhook-id; duplicates at a configured
 * rate). It needs no database: a dispatch carries everything a rater needs, and raters read the
 * guidelines packet its link points to (packets.ts) — their accuracy follows the version they read.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { unitFor } from '../model/rng';
import type { Logger } from '../../../platform/logger';
import {
  dispatchRequestSchema,
  guidelinesNoticeSchema,
  taskIdsRequestSchema,
  type TaskDispatch,
  type VendorEvent,
} from '../../../schema/vendor-events';
import { signHeaders, SignatureError, verifySignature } from '../../../vendors/signing';
import { packetReader, type PacketReaderStats } from './packets';
import { buildPool, rateTask, readsLocale, writeTask, type RaterPoolOptions, type SimRater } from './raters';

export interface VendorSimOptions extends RaterPoolOptions {
  vendorId: string;
  secret: string;
  /** Base URL of judgeflow's gateway. */
  gatewayUrl: string;
  /** Mean task latency (exponential); 0 answers at once. */
  latencyMs: number;
  duplicateRate: number;
  /** Share of tasks a rater silently never does (SLA breaches). */
  noShowRate: number;
  /** Share of tasks a rater declines. */
  declineRate: number;
  logger: Logger;
  /** Called with each delivery the gateway answered 2xx (tests check none of them is lost). */
  onDelivered?: (deliveryId: string, taskId: string) => void;
}

export interface VendorSimStats extends PacketReaderStats {
  received: number;
  posted: number;
  duplicatesSent: number;
  noShows: number;
  declined: number;
  cancelled: number;
  reminders: number;
  failedPosts: number;
}

export interface VendorSim {
  app: FastifyInstance;
  stats: VendorSimStats;
  raters: SimRater[];
  /** Resolves when no task is scheduled or being posted. */
  idle(): Promise<void>;
}

const POST_ATTEMPTS = 8;
const SKEW_SECONDS = 300;

export function buildVendorSim(opts: VendorSimOptions): VendorSim {
  const log = opts.logger.child({ simulated: true });
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const raters = buildPool(opts);
  const byId = new Map(raters.map((r) => [r.id, r]));
  const stats: VendorSimStats = {
    received: 0,
    posted: 0,
    duplicatesSent: 0,
    noShows: 0,
    declined: 0,
    cancelled: 0,
    reminders: 0,
    failedPosts: 0,
    packetsFetched: 0,
    packetFetchFailures: 0,
    notices: 0,
  };
  const packets = packetReader(log, stats);
  const scheduled = new Map<string, NodeJS.Timeout>();
  const seen = new Set<string>();
  let posting = 0;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Like a real vendor endpoint, everything judgeflow sends must carry a valid signature.
  app.addHook('preHandler', async (req, reply) => {
    try {
      verifySignature([opts.secret], typeof req.body === 'string' ? req.body : '', req.headers, SKEW_SECONDS);
    } catch (err) {
      if (err instanceof SignatureError)
        return reply.code(401).send({ error: { code: err.code, message: `[simulated vendor] ${err.message}` } });
      throw err;
    }
  });

  const post = async (event: VendorEvent, duplicate: boolean) => {
    const body = JSON.stringify(event);
    const deliveryId = `sim_${randomUUID()}`;
    const deliver = async () => {
      for (let attempt = 1; attempt <= POST_ATTEMPTS; attempt++) {
        try {
          const res = await fetch(`${opts.gatewayUrl}/v1/vendors/${opts.vendorId}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...signHeaders(opts.secret, body, deliveryId) },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          if (res.ok) {
            opts.onDelivered?.(deliveryId, event.taskId);
            return true;
          }
          // 4xx other than 429: the gateway refused this event for good; retrying changes nothing.
          if (res.status < 500 && res.status !== 429) {
            log.warn(
              { taskId: event.taskId, status: res.status, body: await res.text() },
              '[simulated vendor] event refused',
            );
            return false;
          }
        } catch {
          // gateway down or slow: retry with backoff, same webhook-id
        }
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5_000)));
      }
      return false;
    };
    posting++;
    try {
      if (await deliver()) stats.posted++;
      else stats.failedPosts++;
      if (duplicate) {
        stats.duplicatesSent++;
        await deliver();
      }
    } finally {
      posting--;
    }
  };

  const work = async (task: TaskDispatch) => {
    const rater = byId.get(task.raterId) ?? raters[0];
    const duplicate = unitFor(opts.seed, task.taskId, 'duplicate') < opts.duplicateRate;
    let event: VendorEvent;
    if (!readsLocale(rater, task.item.locale)) {
      // judgeflow routes by the locales the rater list gives: a task outside them is a routing bug
      stats.declined++;
      event = {
        type: 'task.declined',
        taskId: task.taskId,
        raterId: rater.id,
        reason: `[simulated] rater ${rater.id} does not rate ${task.item.locale}`,
      };
    } else if (unitFor(opts.seed, task.taskId, 'decline') < opts.declineRate) {
      stats.declined++;
      event = { type: 'task.declined', taskId: task.taskId, raterId: rater.id, reason: '[simulated] rater declined' };
    } else if (task.kind === 'write') {
      event = {
        type: 'revision.submitted',
        taskId: task.taskId,
        raterId: rater.id,
        text: writeTask(task, opts),
        notes: '[simulated writer] revised the failing criteria',
      };
    } else {
      const version = await packets.versionFor(rater.id, task);
      event = {
        type: 'task.completed',
        taskId: task.taskId,
        raterId: rater.id,
        labels: rateTask(
          rater,
          task,
          opts,
          version,
          packets.scalesOf(task.programId),
          packets.taxonomyOf(task.programId),
        ),
      };
    }
    await post(event, duplicate);
  };

  app.post('/v1/tasks', async (req, reply) => {
    const parsed = dispatchRequestSchema.safeParse(JSON.parse(String(req.body)));
    if (!parsed.success)
      return reply.code(400).send({
        error: {
          code: 'invalid_dispatch',
          message: '[simulated vendor] invalid dispatch',
          details: parsed.error.issues,
        },
      });
    let accepted = 0;
    for (const task of parsed.data.tasks) {
      if (seen.has(task.taskId)) continue; // idempotent by task id, as the adapter contract requires
      seen.add(task.taskId);
      stats.received++;
      accepted++;
      if (unitFor(opts.seed, task.taskId, 'no-show') < opts.noShowRate) {
        stats.noShows++;
        continue;
      }
      const delay = opts.latencyMs > 0 ? -Math.log(1 - unitFor(opts.seed, task.taskId, 'latency')) * opts.latencyMs : 0;
      scheduled.set(
        task.taskId,
        setTimeout(() => {
          scheduled.delete(task.taskId);
          posting++; // reading the packet is work in progress too: idle() waits for it
          void work(task).finally(() => posting--);
        }, delay),
      );
    }
    log.debug({ accepted }, '[simulated vendor] tasks received');
    return reply.code(202).send({ accepted, simulated: true });
  });

  app.post('/v1/tasks/cancel', async (req, reply) => {
    const { taskIds } = taskIdsRequestSchema.parse(JSON.parse(String(req.body)));
    for (const id of taskIds) {
      const timer = scheduled.get(id);
      if (timer) {
        clearTimeout(timer);
        scheduled.delete(id);
        stats.cancelled++;
      }
    }
    return reply.code(200).send({ cancelled: taskIds.length, simulated: true });
  });

  app.post('/v1/tasks/remind', async (req, reply) => {
    const { taskIds } = taskIdsRequestSchema.parse(JSON.parse(String(req.body)));
    stats.reminders += taskIds.length;
    return reply.code(200).send({ reminded: taskIds.length, simulated: true });
  });

  app.post('/v1/tasks/guidelines', async (req, reply) => {
    const notice = guidelinesNoticeSchema.parse(JSON.parse(String(req.body)));
    packets.notice(notice.programId, notice.guidelines);
    return reply.code(200).send({ received: true, simulated: true });
  });

  app.get('/v1/tasks/raters', async () => ({
    raters: raters.map((r) => ({ id: r.id, qualification: r.locales ? { locales: Object.keys(r.locales) } : {} })),
    simulated: true,
  }));
  app.get('/healthz', async () => ({ ok: true, simulated: true }));

  app.addHook('onClose', async () => {
    for (const timer of scheduled.values()) clearTimeout(timer);
    scheduled.clear();
  });

  return {
    app,
    stats,
    raters,
    idle: async () => {
      while (scheduled.size || posting) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
