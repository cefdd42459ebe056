/**
 * The worker's Prometheus endpoint (WORKER_METRICS_PORT, `/metrics`): judgeflow's own metrics from
 * a prom-client registry, followed by the Temporal SDK's runtime metrics (workflow and activity task
 * latencies, slots, polls, sticky cache: `temporal_*`), which the SDK's core serves on a private
 * loopback port and this endpoint relays, so one scrape target per worker has both.
 */
import http from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Logger } from '../platform/logger';
import type { WorkerMetrics } from '../platform/metrics';

/** judgeflow's worker metrics in `registry` (a test builds its own registry; nothing is global). */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  const attempts = new Counter({
    name: 'judgeflow_llm_requests_total',
    help: 'HTTP attempts to the LLM provider (retries included) by model and status (HTTP code, timeout, connection, aborted).',
    labelNames: ['model', 'status'],
    registers,
  });
  const latency = new Histogram({
    name: 'judgeflow_llm_request_duration_seconds',
    help: 'Time from sending an LLM request to its response, per attempt.',
    labelNames: ['model'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
    registers,
  });
  const tokens = new Counter({
    name: 'judgeflow_llm_tokens_total',
    help: 'Tokens of LLM completions by model and type (prompt, completion).',
    labelNames: ['model', 'type'],
    registers,
  });
  const pacer = new Histogram({
    name: 'judgeflow_llm_pacer_wait_seconds',
    help: 'Time an LLM request waited for the pacer (LLM_RPM_LIMIT, a 429 pause) before it was sent.',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers,
  });
  const errors = new Counter({
    name: 'judgeflow_llm_errors_total',
    help: 'LLM calls that ended in error after retries, by class (authentication, permission, not_found, bad_request, quota, rate_limit, server, timeout, connection, per_item, invalid_output).',
    labelNames: ['class'],
    registers,
  });
  const stored = new Counter({
    name: 'judgeflow_judgments_stored_total',
    help: 'Judgments committed, by status (ok, error) and mode (sync, batch).',
    labelNames: ['status', 'mode'],
    registers,
  });
  const humanTasks = new Counter({
    name: 'judgeflow_human_tasks_total',
    help: 'Human tasks dispatched to vendors, and closed by outcome (completed, expired, cancelled) when their batch closed.',
    labelNames: ['event'],
    registers,
  });
  // Each model's series, looked up once: finding a series by its labels (prom-client hashes them)
  // was ~1.5% of a busy worker's CPU at three lookups per request.
  const models = new Map<
    string,
    {
      attempts: Map<string, Counter.Internal>;
      latency: Histogram.Internal<string>;
      promptTokens: Counter.Internal;
      completionTokens: Counter.Internal;
    }
  >();
  const ofModel = (model: string) => {
    let m = models.get(model);
    if (!m)
      models.set(
        model,
        (m = {
          attempts: new Map(),
          latency: latency.labels(model),
          promptTokens: tokens.labels(model, 'prompt'),
          completionTokens: tokens.labels(model, 'completion'),
        }),
      );
    return m;
  };
  return {
    llmAttempt: (model, status, seconds) => {
      const m = ofModel(model);
      let attempted = m.attempts.get(status);
      if (!attempted) m.attempts.set(status, (attempted = attempts.labels(model, status)));
      attempted.inc();
      m.latency.observe(seconds);
    },
    llmTokens: (model, prompt, completion) => {
      const m = ofModel(model);
      m.promptTokens.inc(prompt);
      m.completionTokens.inc(completion);
    },
    pacerWait: (seconds) => pacer.observe(seconds),
    llmError: (errorClass) => errors.inc({ class: errorClass }),
    judgmentsStored: (status, mode, count) => stored.inc({ status, mode }, count),
    humanTasks: (event, count) => {
      if (count > 0) humanTasks.inc({ event }, count);
    },
  };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `registry` and, when `sdkMetricsUrl` is given, the SDK's text after it at
 * http://<host>:<port>/metrics. A relay that fails leaves judgeflow's metrics served and says so in a comment.
 */
export async function serveMetrics(opts: {
  port: number;
  host?: string;
  registry: Registry;
  sdkMetricsUrl?: string;
  logger: Logger;
}): Promise<MetricsServer> {
  const { registry, sdkMetricsUrl, logger } = opts;
  collectDefaultMetrics({ register: registry });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    void (async () => {
      const own = await registry.metrics();
      let sdk = '';
      if (sdkMetricsUrl)
        sdk = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.text())
          .catch(
            (err: Error) => `# the Temporal SDK's metrics were not reachable at ${sdkMetricsUrl}: ${err.message}\n`,
          );
      res.writeHead(200, { 'content-type': registry.contentType }).end(`${own}\n${sdk}`);
    })().catch((err: unknown) => {
      logger.error({ err }, 'metrics scrape failed');
      res.writeHead(500).end();
    });
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
