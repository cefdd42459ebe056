/**
 * The gateway's Prometheus endpoint, `GET /metrics` on GATEWAY_PORT: vendor events by type and
 * answer status (refused ones included: a bad signature, an unknown vendor, an invalid body), the
 * latency of every request by route, and the inbox lag — the age of the oldest stored event whose
 * workflow was not signalled yet (the reconciler's backlog), read from Postgres at each scrape.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../platform/db';

export interface GatewayMetrics {
  /** Names the event type of the delivery this reply answers (events refused before parsing have none). */
  eventType(reply: FastifyReply, type: string): void;
}

/** Registers the hooks and the /metrics route on `app`, over a registry of its own (one per gateway built). */
export function gatewayMetrics(app: FastifyInstance, db: Db): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const events = new Counter({
    name: 'judgeflow_gateway_events_total',
    help: 'Vendor event deliveries by event type (unparsed: refused before the body was read) and answer status.',
    labelNames: ['type', 'status'],
    registers,
  });
  const latency = new Histogram({
    name: 'judgeflow_gateway_request_duration_seconds',
    help: 'Time from a request to its answer, by method, route and status class.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  new Gauge({
    name: 'judgeflow_gateway_inbox_lag_seconds',
    help: 'Age of the oldest stored vendor event whose workflow was not signalled yet (0: none waiting).',
    registers,
    async collect() {
      const [row] = await db.execute<{ lag: number | null }>(
        sql`select extract(epoch from now() - min(received_at))::float8 as lag from vendor_events where signalled_at is null`,
      );
      this.set(row?.lag ?? 0);
    },
  });
  const types = new WeakMap<FastifyReply, string>();
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    latency.observe({ method: req.method, route, status: `${Math.floor(status / 100)}xx` }, reply.elapsedTime / 1000);
    if (req.url.startsWith('/v1/')) events.inc({ type: types.get(reply) ?? 'unparsed', status: String(status) });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return { eventType: (reply, type) => types.set(reply, type) };
}
