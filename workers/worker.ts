import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  makeTelemetryFilterString,
  type WorkerOptions as SdkWorkerOptions,
} from '@temporalio/worker';
import { Registry } from 'prom-client';
import { createActivities, type ActivityDeps } from '../activities';
import { createActivityDeps } from '../activities/deps';
import { loadConfig, type Config } from '../platform/config';
import { connectDatabase, migrateDatabase } from '../platform/db';
import { sealLegacyVendorSecrets } from '../vendors/registry';
import { createLogger, type Logger } from '../platform/logger';
import { freePort } from '../platform/ports';
import type { Tracing } from '../platform/tracing';
import { connectWorkerConnection, temporalTarget } from '../platform/temporal';
import { missingThroughputFlags, THROUGHPUT_NODE_FLAGS } from './node-flags';
import { createWorkerMetrics, serveMetrics, type MetricsServer } from './worker-metrics';
import { loadWorkflowBundle } from './workflow-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle?: { code: string };
  /** A tracing worker's activity interceptors and workflow span sink (platform/tracing.ts); its bundle must have the workflow interceptors. */
  tracing?: Pick<SdkWorkerOptions, 'interceptors' | 'sinks'>;
}

/** The judgeflow worker: every workflow and every activity on one task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle ?? (await loadWorkflowBundle({ tracing: !!opts.tracing })),
    activities: createActivities(opts.deps),
    ...opts.tracing,
    // Cancellation reaches an activity only in a heartbeat's response; by default heartbeats go out
    // every 0.8 × heartbeatTimeout (24 s for a judging page), so a cancelled run kept paying that long.
    maxHeartbeatThrottleInterval: '1 second',
  });
}

let runtimeInstalled = false;
/**
 * SDK and core logs at warn level, so worker and test output stays readable; with `metricsBindAddress`
 * the core serves the SDK's Prometheus metrics there (the worker relays them: worker-metrics.ts).
 */
export function installQuietRuntime(metricsBindAddress?: string) {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(metricsBindAddress ? { metrics: { prometheus: { bindAddress: metricsBindAddress } } } : {}),
    },
  });
}

/** The worker's /metrics endpoint (none when WORKER_METRICS_PORT is 0), with the SDK's metrics installed behind it. */
async function startWorkerMetrics(config: Config, logger: Logger) {
  const port = config.observability.workerMetricsPort;
  if (!port) {
    installQuietRuntime();
    return undefined;
  }
  const sdkAddress = `127.0.0.1:${await freePort()}`;
  installQuietRuntime(sdkAddress);
  const registry = new Registry();
  const metrics = createWorkerMetrics(registry);
  let server: MetricsServer;
  try {
    server = await serveMetrics({ port, registry, sdkMetricsUrl: `http://${sdkAddress}/metrics`, logger });
  } catch (err) {
    throw new Error(
      `The worker's metrics endpoint cannot listen on port ${port} (${(err as Error).message}): set WORKER_METRICS_PORT to a free port, or 0 for none.`,
      { cause: err },
    );
  }
  logger.info({ url: server.url }, 'worker metrics');
  return { metrics, server };
}

/** `judgeflow worker`: runs until SIGINT/SIGTERM, then drains and exits. */
export async function runWorker(config: Config = loadConfig()): Promise<void> {
  const logger = createLogger('worker', config.logLevel);
  const missingFlags = missingThroughputFlags();
  if (missingFlags.length)
    logger.warn(
      { missingFlags },
      `started without ${missingFlags.join(' ')}: Node's default young generation costs a busy worker ~15% more CPU per request; start it as \`node ${THROUGHPUT_NODE_FLAGS.join(' ')} bin/judgeflow.js worker\` or put the flags in NODE_OPTIONS (docs/operations.md)`,
    );
  if (!config.database.url)
    throw new Error('The worker needs DATABASE_URL (the stack sets it for the workers it starts).');
  const database = await connectDatabase(config.database.url);
  await migrateDatabase(config.database.url);
  const sealed = await sealLegacyVendorSecrets(database.db, config);
  if (sealed.length) logger.info({ vendors: sealed }, 'plaintext vendor secrets sealed with JUDGEFLOW_SECRET_KEY');
  const observed = await startWorkerMetrics(config, logger);
  const tracing: Tracing | undefined = config.observability.tracing
    ? (await import('../platform/tracing')).startTracing('judgeflow-worker')
    : undefined;
  const target = temporalTarget(config);
  const connection = await connectWorkerConnection(target);
  const worker = await createWorker({
    connection,
    namespace: target.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: createActivityDeps(
      { db: database.db, config, logger },
      { metrics: observed?.metrics, tracer: tracing?.tracer },
    ),
    tracing: tracing?.worker,
  });
  exitWithParent(() => worker.shutdown());
  logger.info({ taskQueue: config.temporal.taskQueue, temporal: target.address }, 'worker started');
  try {
    await worker.run();
  } finally {
    await connection.close();
    await database.close();
    await observed?.server.close();
    await tracing?.shutdown();
    logger.info('worker stopped');
  }
}

/**
 * A child of `judgeflow stack up` shuts down when the stack goes away, even if the stack was killed
 * hard: no orphan workers left polling.
 */
export function exitWithParent(shutdown: () => void) {
  const parentPid = Number(process.env.JUDGEFLOW_PARENT_PID);
  if (!parentPid) return;
  const timer = setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      clearInterval(timer);
      shutdown();
    }
  }, 1000);
  timer.unref();
}
