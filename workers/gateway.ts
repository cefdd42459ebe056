/**
 * The vendor gateway: vendors post task events here, signed with Standard Webhooks. An event is
 * answered 2xx only after it and its labels are committed (durable inbox `vendor_events`, unique
 * per vendor + webhook-id; a duplicate gets the original answer and changes nothing). Then the
 * human-task workflow is signalled; the reconciler re-signals stored events whose signal did not
 * go through (gateway crash, Temporal unreachable). docs/vendors.md is the vendor-facing manual.
 * Signals and the reconciler: gateway-signals.ts; Label Studio and polling: gateway-label-studio.ts.
 */
import type { Client } from '@temporalio/client';
import { and, eq, sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type postgres from 'postgres';
import { z } from 'zod';
import { applyVendorEvent, type RecordOutcome } from '../human-tasks/inbox';
import type { VendorRow } from '../vendors';
import { loadVendor } from '../vendors/registry';
import { SignatureError, verifySignature } from '../vendors/signing';
import { loadConfig, type Config } from '../platform/config';
import { connectDatabase, type Db } from '../platform/db';
import { createLogger, type Logger } from '../platform/logger';
import { connectClient, temporalTarget } from '../platform/temporal';
import { vendorEvents } from '../schema/tables';
import { unstorableText, type VendorEvent } from '../schema/vendor-events';
import { CompletionBatcher } from './gateway-completions';
import { labelStudioRoute, vendorPoller, type StoreEvent } from './gateway-label-studio';
import { gatewayMetrics } from './gateway-metrics';
import { OPENAPI } from './gateway-openapi';
import { packetRoute } from './gateway-packets';
import { every, SignalBatcher, startReconciler } from './gateway-signals';
import { checkDeliveryId, HttpError, invalidBody, parseEvent, sendError } from './gateway-validation';
import { exitWithParent } from './worker';

export interface GatewayOptions {
  db: Db;
  config: Config;
  logger: Logger;
  /** Temporal client used to signal workflows; without one, the reconciler delivers later. */
  client?: Client;
}

const VENDOR_CACHE_MS = 5_000;
const MAX_EVENTS_PER_STATEMENT = 100;

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
  const metrics = gatewayMetrics(app, db);
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
    // A rotated-out secret stops being accepted when its grace ends, not up to a cache period later.
    const fresh = (row: VendorRow) => !row.secretsValidUntil || Date.now() < row.secretsValidUntil.getTime();
    if (cached && Date.now() - cached.at < VENDOR_CACHE_MS && cached.row && fresh(cached.row)) return cached.row;
    const row = await loadVendor(db, id, config);
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
  const store: StoreEvent = async (row, deliveryId, event) => {
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
        const result: RecordOutcome & { eventId?: number } = await applyVendorEvent(tx, row, event, completions.rules);
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
    metrics.eventType(reply, event.type);
    const answer = await store(row, deliveryId, event);
    if (answer.duplicate) reply.header('x-judgeflow-duplicate', 'true');
    return reply.code(answer.status).send(answer.body);
  };

  /** The vendor of the URL; an id no vendor can have (too long, NUL, lone surrogate) is unknown too. */
  const vendorOf = async (params: unknown): Promise<VendorRow> => {
    const vendorId = String((params as { vendorId?: unknown }).vendorId ?? '');
    if (!vendorId || vendorId.length > 100 || unstorableText(vendorId))
      throw new HttpError(404, 'vendor_not_found', `unknown vendor ${JSON.stringify(vendorId.slice(0, 100))}`);
    return vendor(vendorId);
  };

  app.post('/v1/vendors/:vendorId/events', async (req, reply) => {
    let row = await vendorOf(req.params);
    const raw = typeof req.body === 'string' ? req.body : '';
    const verify = () => verifySignature(row.secrets, raw, req.headers, config.gateway.maxSkewSeconds);
    let deliveryId: string;
    try {
      try {
        deliveryId = verify();
      } catch (err) {
        // A secret added in the last seconds (a rotation) is not in a cached copy: re-read it, at most once a second.
        const cached = vendorCache.get(row.id);
        if (
          !(err instanceof SignatureError) ||
          err.code !== 'bad_signature' ||
          !cached ||
          Date.now() - cached.at < 1000
        )
          throw err;
        vendorCache.delete(row.id);
        row = await vendor(row.id);
        deliveryId = verify();
      }
    } catch (err) {
      if (err instanceof SignatureError) return sendError(reply, 401, err.code, err.message);
      throw err;
    }
    return receive(row, deliveryId, () => parseEvent(raw), reply);
  });

  labelStudioRoute(app, config.env, vendorOf, receive);
  packetRoute(app, db, config, vendorOf);

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
  return { app, flushSignals: async () => signals?.flush(), pollVendors: vendorPoller(db, config, logger, store) };
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
