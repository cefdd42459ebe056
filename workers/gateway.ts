/**
 * The vendor gateway: vendors post task events here, signed with Standard Webhooks. An event is
 * answered 2xx only after it and its labels are committed (durable inbox `vendor_events`, unique
 * per vendor + webhook-id; a duplicate gets the original answer and changes nothing). Then the
 * human-task workflow is signalled; the reconciler re-signals stored events whose signal did not
 * go through (gateway crash, Temporal unreachable). docs/vendors.md is the vendor-facing manual.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq, exists, inArray, sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type postgres from 'postgres';
import { z } from 'zod';
import { applyVendorEvent, unsignalledEvents, type RecordOutcome } from '../human-tasks/inbox';
import { OPEN_STATUSES } from '../human-tasks/batch';
import { createVendorAdapter, type VendorRow } from '../vendors';
import { translateLabelStudioWebhook } from '../vendors/label-studio';
import { SignatureError, verifySignature } from '../vendors/signing';
import { loadConfig, type Config } from '../platform/config';
import { connectDatabase, type Db } from '../platform/db';
import { createLogger, type Logger } from '../platform/logger';
import { connectClient, temporalTarget } from '../platform/temporal';
import { tasks, vendorEvents, vendors } from '../schema/tables';
import { unstorableText, vendorEventSchema, type VendorEvent, type VendorEventSignal } from '../schema/vendor-events';
import { vendorEventsSignal } from '../workflows/human-tasks';
import { CompletionBatcher } from './gateway-completions';
import { exitWithParent } from './worker';

export interface GatewayOptions {
  db: Db;
  config: Config;
  logger: Logger;
  /** Temporal client used to signal workflows; without one, the reconciler delivers later. */
  client?: Client;
}

const VENDOR_CACHE_MS = 5_000;
// Signals wake workflows, which wait for people: 250 ms adds nothing a rater notices, and under a
// burst it keeps Temporal and the worker (sharing the machine) at a few signals per second.
const SIGNAL_FLUSH_MS = 250;
const MAX_EVENTS_PER_SIGNAL = 1000;
const MAX_EVENTS_PER_STATEMENT = 100;
/** The header Label Studio webhooks carry (configured as a custom header in Label Studio). */
export const LABEL_STUDIO_TOKEN_HEADER = 'x-judgeflow-token';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const sendError = (reply: FastifyReply, status: number, code: string, message: string, details?: unknown) =>
  reply.code(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });

/**
 * Coalesces the events bound for each batch workflow into one signal per flush (every
 * SIGNAL_FLUSH_MS, or at MAX_EVENTS_PER_SIGNAL), then marks them signalled in one UPDATE. A failed
 * signal leaves `signalled_at` null: the reconciler delivers those events later.
 */
class SignalBatcher {
  private pending = new Map<string, VendorEventSignal[]>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  constructor(
    private readonly client: Client,
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}
  add(batchId: string, event: VendorEventSignal) {
    const list = this.pending.get(batchId) ?? [];
    list.push(event);
    this.pending.set(batchId, list);
    if (list.length >= MAX_EVENTS_PER_SIGNAL) this.send(batchId);
    // flush() never rejects: each signal catches its own failure and leaves the event to the reconciler.
    this.timer ??= setTimeout(() => void this.flush(), SIGNAL_FLUSH_MS);
  }
  private send(batchId: string) {
    const events = this.pending.get(batchId) ?? [];
    this.pending.delete(batchId);
    if (!events.length) return;
    const work = signalEvents(this.client, batchId, events)
      .then(() =>
        markSignalled(
          this.db,
          events.map((e) => e.eventId),
        ),
      )
      .catch((err: unknown) =>
        this.logger.warn({ err, batchId, events: events.length }, 'signal failed; the reconciler will deliver it'),
      )
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }
  /** Sends everything pending and waits for the signals in flight. */
  async flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const batchId of [...this.pending.keys()]) this.send(batchId);
    await Promise.all([...this.inFlight]);
  }
}

const markSignalled = async (db: Db, ids: number[], lastError: string | null = null) => {
  await db.update(vendorEvents).set({ signalledAt: new Date(), lastError }).where(inArray(vendorEvents.id, ids));
};

/** Signals a batch workflow with stored events; a closed workflow has nothing left to wake. */
export async function signalEvents(
  client: Client,
  batchId: string,
  events: VendorEventSignal[],
): Promise<'signalled' | 'workflow_closed'> {
  try {
    await client.workflow.getHandle(batchId).signal(vendorEventsSignal, { events });
    return 'signalled';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'workflow_closed';
    throw err;
  }
}

export interface Gateway {
  app: FastifyInstance;
  /** Sends the coalesced signals now and waits for them (tests, shutdown). */
  flushSignals(): Promise<void>;
  /** One round of the polling fallback (runGateway runs it every GATEWAY_POLL_INTERVAL_MS); returns vendors polled, events newly stored. */
  pollVendors(): Promise<{ polled: number; stored: number }>;
}

export async function buildGateway(opts: GatewayOptions): Promise<Gateway> {
  const { db, config, logger, client } = opts;
  const app = Fastify({
    bodyLimit: config.gateway.bodyLimitBytes,
    logger: false,
    return503OnClosing: true,
    // A URL the router cannot decode (e.g. a broken %-escape) gets the documented error body too.
    frameworkErrors: (err, _req, reply) => {
      void sendError(reply, 400, err.code === 'FST_ERR_BAD_URL' ? 'bad_url' : 'bad_request', err.message);
    },
  });
  const signals = client ? new SignalBatcher(client, db, logger) : undefined;
  // The hot path talks to postgres.js directly; drizzle() keeps its client there (platform/db.ts).
  const completions = new CompletionBatcher((db as Db & { $client: postgres.Sql }).$client, {
    maxConcurrent: config.gateway.statementsInFlight,
    maxBatch: MAX_EVENTS_PER_STATEMENT,
  });
  let inFlight = 0;

  const vendorCache = new Map<string, { row: VendorRow | undefined; at: number }>();
  const vendor = async (id: string): Promise<VendorRow> => {
    const cached = vendorCache.get(id);
    if (cached && Date.now() - cached.at < VENDOR_CACHE_MS && cached.row) return cached.row;
    const [row] = await db.select().from(vendors).where(eq(vendors.id, id));
    // Only vendors that exist are cached: ids from URLs are unbounded, and a miss is never read back.
    if (row) vendorCache.set(id, { row, at: Date.now() });
    if (!row) throw new HttpError(404, 'vendor_not_found', `unknown vendor ${id}`);
    return row;
  };

  // The raw body is needed to verify the signature, so JSON is parsed only after that.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof HttpError) return sendError(reply, err.status, err.code, err.message, err.details);
    // Zod only checks input here: a schema failure anywhere is the sender's, never a 500 to retry.
    if (err instanceof z.ZodError) {
      const invalid = invalidBody(err);
      return sendError(reply, invalid.status, invalid.code, invalid.message, invalid.details);
    }
    const status = err.statusCode ?? 500;
    const code =
      {
        FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
        FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
        FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
      }[err.code ?? ''] ?? (status >= 500 ? 'internal' : 'bad_request');
    if (status >= 500) logger.error({ err }, 'gateway error');
    return sendError(
      reply,
      status,
      code,
      status >= 500 ? 'internal error; the event was not stored, retry the delivery' : err.message,
    );
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url}`));

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    if (inFlight >= config.gateway.maxInFlight) {
      reply.header('retry-after', '1');
      return sendError(
        reply,
        429,
        'overloaded',
        `the gateway is at its limit of ${config.gateway.maxInFlight} events in flight; retry after 1s`,
      );
    }
    inFlight++;
    reply.raw.once('close', () => inFlight--);
  });

  /**
   * Stores and applies one authenticated, schema-valid event (the durable inbox) and queues the
   * signal; returns the answer: the original one for a delivery id already stored.
   */
  const store = async (
    row: VendorRow,
    deliveryId: string,
    event: VendorEvent,
  ): Promise<{ status: number; body: unknown; duplicate: boolean }> => {
    const stored = async () => {
      const [prior] = await db
        .select({ status: vendorEvents.responseStatus, body: vendorEvents.responseBody })
        .from(vendorEvents)
        .where(and(eq(vendorEvents.vendorId, row.id), eq(vendorEvents.deliveryId, deliveryId)));
      return { ...prior, duplicate: true };
    };
    const raced = Symbol('raced');
    // The common case first, with no lookup: a duplicate changes nothing there and comes back null.
    const fast = event.type === 'task.completed' ? await completions.apply(row, deliveryId, event) : null;
    let outcome: (RecordOutcome & { eventId?: number }) | null = fast && { ...fast, disposition: 'applied' };
    if (!outcome) {
      const prior = await stored();
      if (prior.status !== undefined) return prior;
    }
    try {
      outcome ??= await db.transaction(async (tx) => {
        const result: RecordOutcome & { eventId?: number } = await applyVendorEvent(tx, row, event);
        if (!result.disposition) return result;
        const [inserted] = await tx
          .insert(vendorEvents)
          .values({
            vendorId: row.id,
            deliveryId,
            type: event.type,
            taskId: event.taskId,
            body: event as unknown as Record<string, unknown>,
            responseStatus: result.status,
            responseBody: result.body,
            disposition: result.disposition,
            // Only applied events wake a workflow; the rest are kept for audit.
            signalledAt: result.disposition === 'applied' ? null : new Date(),
          })
          .onConflictDoNothing()
          .returning({ id: vendorEvents.id });
        if (!inserted) throw raced; // the same delivery committed concurrently: roll back, answer as it did
        return { ...result, eventId: inserted.id };
      });
    } catch (err) {
      if (err !== raced) throw err;
      return stored();
    }
    if (outcome.disposition === 'applied' && outcome.eventId !== undefined && outcome.batchId)
      signals?.add(outcome.batchId, { eventId: outcome.eventId, taskId: event.taskId, type: event.type });
    return { status: outcome.status, body: outcome.body, duplicate: false };
  };

  /** Parses, stores and answers one authenticated delivery. */
  const receive = async (row: VendorRow, deliveryId: string, parse: () => VendorEvent, reply: FastifyReply) => {
    checkDeliveryId(deliveryId);
    let event: VendorEvent;
    try {
      event = parse();
    } catch (err) {
      throw invalidBody(err);
    }
    const answer = await store(row, deliveryId, event);
    if (answer.duplicate) reply.header('x-judgeflow-duplicate', 'true');
    return reply.code(answer.status).send(answer.body);
  };

  /**
   * One round of the polling fallback: every vendor with open tasks whose adapter can poll is
   * asked for answers saved since its cursor, and each is stored exactly like its webhook delivery
   * (same delivery id: an answer that came both ways is one event). Cursors live in memory: after
   * a restart the first round re-reads everything, which the inbox absorbs as duplicates.
   */
  const pollVendors = async (): Promise<{ polled: number; stored: number }> => {
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
  const pollCursors = new Map<string, string | null>();

  /** The vendor of the URL; an id no vendor can have (too long, NUL, lone surrogate) is unknown too. */
  const vendorOf = async (params: unknown): Promise<VendorRow> => {
    const vendorId = String((params as { vendorId?: unknown }).vendorId ?? '');
    if (!vendorId || vendorId.length > 100 || unstorableText(vendorId))
      throw new HttpError(404, 'vendor_not_found', `unknown vendor ${JSON.stringify(vendorId.slice(0, 100))}`);
    return vendor(vendorId);
  };

  app.post('/v1/vendors/:vendorId/events', async (req, reply) => {
    const row = await vendorOf(req.params);
    const raw = typeof req.body === 'string' ? req.body : '';
    let deliveryId: string;
    try {
      deliveryId = verifySignature(row.secrets, raw, req.headers, config.gateway.maxSkewSeconds);
    } catch (err) {
      if (err instanceof SignatureError) return sendError(reply, 401, err.code, err.message);
      throw err;
    }
    return receive(row, deliveryId, () => parseEvent(raw), reply);
  });

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

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await db.execute(sql`select 1`);
      return { ready: true };
    } catch {
      return sendError(reply, 503, 'not_ready', 'the database is unreachable');
    }
  });
  app.get('/openapi.json', async () => OPENAPI);
  app.addHook('onClose', async () => signals?.flush());
  return { app, flushSignals: async () => signals?.flush(), pollVendors };
}

function parseEvent(raw: string): VendorEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the body is not JSON: ${(err as Error).message}`);
  }
  try {
    return vendorEventSchema.parse(json);
  } catch (err) {
    throw invalidBody(err);
  }
}

/** Why a delivery id cannot key the inbox (it is stored as text and in a unique index), or null. */
function deliveryIdProblem(deliveryId: string): string | null {
  if (deliveryId.length > 200) return 'must be at most 200 characters';
  return unstorableText(deliveryId);
}

function checkDeliveryId(deliveryId: string) {
  const problem = deliveryIdProblem(deliveryId);
  if (problem) throw new HttpError(400, 'bad_webhook_id', `webhook-id ${problem}`);
}

function invalidBody(err: unknown): HttpError {
  if (err instanceof z.ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
    // The message names the fields, so a vendor's log line alone says what to fix.
    const named = issues
      .slice(0, 3)
      .map((i) => `${i.path || '(root)'}: ${i.message}`)
      .join('; ');
    const more = issues.length > 3 ? ` and ${issues.length - 3} more` : '';
    return new HttpError(
      400,
      'invalid_event',
      `the event does not match the schema at ${named}${more} (details list every issue; see /openapi.json)`,
      issues,
    );
  }
  if (err instanceof SyntaxError) return new HttpError(400, 'invalid_json', `the body is not JSON: ${err.message}`);
  return err as HttpError;
}

/**
 * Re-signals stored, applied events whose signal has not gone through (older than `graceMs`, so
 * it does not race the gateway's own signal). Returns how many it delivered.
 */
export async function reconcileOnce(
  db: Db,
  client: Client,
  logger: Logger,
  opts: { graceMs?: number; limit?: number } = {},
): Promise<number> {
  const pending = await unsignalledEvents(db, opts.graceMs ?? 2_000, opts.limit ?? 500);
  const byBatch = new Map<string, VendorEventSignal[]>();
  for (const e of pending)
    byBatch.set(e.batchId, [
      ...(byBatch.get(e.batchId) ?? []),
      { eventId: e.id, taskId: e.taskId!, type: e.type as VendorEvent['type'] },
    ]);
  let delivered = 0;
  for (const [batchId, events] of byBatch) {
    const ids = events.map((e) => e.eventId);
    try {
      const outcome = await signalEvents(client, batchId, events);
      await markSignalled(db, ids, outcome === 'workflow_closed' ? 'workflow not running' : null);
      delivered += events.length;
    } catch (err) {
      await db
        .update(vendorEvents)
        .set({ lastError: String((err as Error).message).slice(0, 500) })
        .where(inArray(vendorEvents.id, ids));
      logger.warn({ err, batchId }, 'reconciler: signal failed, will retry');
      break; // Temporal is likely unreachable: wait for the next round
    }
  }
  if (delivered) logger.info({ delivered }, 'reconciler re-signalled stored events');
  return delivered;
}

/** Runs `round` every `intervalMs`, one round at a time, until stopped. */
function every(
  intervalMs: number,
  round: () => Promise<unknown>,
  logger: Logger,
  what: string,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(round).catch((err: unknown) => logger.warn({ err }, `${what} round failed`));
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/** Runs the reconciler every `intervalMs` until stopped. */
export function startReconciler(
  db: Db,
  client: Client,
  logger: Logger,
  intervalMs: number,
  graceMs = 2_000,
): { stop(): Promise<void> } {
  return every(intervalMs, () => reconcileOnce(db, client, logger, { graceMs }), logger, 'reconciler');
}

/** `judgeflow gateway`: the gateway and its reconciler, until SIGINT/SIGTERM. */
export async function runGateway(config: Config = loadConfig()): Promise<void> {
  const logger = createLogger('gateway', config.logLevel);
  if (!config.database.url)
    throw new Error('The gateway needs DATABASE_URL (the stack sets it for the processes it starts).');
  const database = await connectDatabase(config.database.url, { max: 20 });
  const client = await connectClient(temporalTarget(config));
  const { app, pollVendors } = await buildGateway({ db: database.db, config, logger, client });
  const reconciler = startReconciler(database.db, client, logger, config.gateway.reconcileIntervalMs);
  // Vendors whose webhooks are never retried (Label Studio) are polled, so a lost webhook is found.
  const poller = every(config.gateway.pollIntervalMs, pollVendors, logger, 'vendor polling');
  await app.listen({ port: config.gateway.port, host: '0.0.0.0' });
  logger.info({ port: config.gateway.port }, 'gateway listening');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    exitWithParent(stop);
  });
  await poller.stop();
  await app.close();
  await reconciler.stop();
  await client.connection.close();
  await database.close();
  logger.info('gateway stopped');
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema } },
});

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'judgeflow vendor gateway',
    version: '1',
    description: 'Vendors post task events here. See docs/vendors.md.',
  },
  paths: {
    '/v1/vendors/{vendorId}/events': {
      post: {
        summary: 'Post one task event (Standard Webhooks signed)',
        parameters: [
          { name: 'vendorId', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'webhook-id',
            in: 'header',
            required: true,
            schema: { type: 'string', maxLength: 200 },
            description: 'Stable per delivery: a retry reuses it.',
          },
          {
            name: 'webhook-timestamp',
            in: 'header',
            required: true,
            schema: { type: 'string' },
            description: 'Unix seconds.',
          },
          {
            name: 'webhook-signature',
            in: 'header',
            required: true,
            schema: { type: 'string' },
            description: 'v1,<base64 HMAC-SHA256 of id.timestamp.body>',
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: z.toJSONSchema(vendorEventSchema, { io: 'input' }) } },
        },
        responses: {
          '202': {
            description:
              'Stored and applied. A duplicate delivery gets the original answer with header x-judgeflow-duplicate: true.',
          },
          '400': errorResponse(
            'Invalid JSON, schema violation (details list the paths), or labels that do not match the task.',
          ),
          '401': errorResponse('Missing headers, timestamp out of range, or no signature matching an active secret.'),
          '404': errorResponse("Unknown vendor, or a task or rater that is not this vendor's."),
          '409': errorResponse(
            'The task is closed (completed, reassigned, expired, cancelled): the answer is kept for audit, not applied.',
          ),
          '413': errorResponse('Body larger than the limit.'),
          '415': errorResponse('Content-Type is not application/json.'),
          '429': errorResponse('Overloaded: retry after the Retry-After header.'),
        },
      },
    },
    '/v1/vendors/{vendorId}/label-studio': {
      post: {
        summary: 'Label Studio annotation webhook (static token header x-judgeflow-token)',
        responses: {
          '202': { description: 'Stored and applied as task.completed.' },
          '200': { description: 'Action without an answer, ignored.' },
        },
      },
    },
    '/healthz': { get: { summary: 'Process is up', responses: { '200': { description: 'ok' } } } },
    '/readyz': {
      get: {
        summary: 'Database reachable',
        responses: { '200': { description: 'ready' }, '503': errorResponse('not ready') },
      },
    },
  },
};
