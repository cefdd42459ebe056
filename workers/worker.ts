import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createActivityDeps } from '../activities/deps';
import { loadConfig, type Config } from '../platform/config';
import { connectDatabase, migrateDatabase } from '../platform/db';
import { createLogger } from '../platform/logger';
import { connectWorkerConnection, temporalTarget } from '../platform/temporal';
import { loadWorkflowBundle } from './workflow-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle?: { code: string };
}

/** The judgeflow worker: every workflow and every activity on one task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle ?? (await loadWorkflowBundle()),
    activities: createActivities(opts.deps),
    // Cancellation reaches an activity only in a heartbeat's response; by default heartbeats go out
    // every 0.8 × heartbeatTimeout (24 s for a judging page), so a cancelled run kept paying that long.
    maxHeartbeatThrottleInterval: '1 second',
  });
}

let runtimeInstalled = false;
/** SDK and core logs at warn level, so worker and test output stays readable. */
export function installQuietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
}

/** `judgeflow worker`: runs until SIGINT/SIGTERM, then drains and exits. */
export async function runWorker(config: Config = loadConfig()): Promise<void> {
  const logger = createLogger('worker', config.logLevel);
  if (!config.database.url)
    throw new Error('The worker needs DATABASE_URL (the stack sets it for the workers it starts).');
  const database = await connectDatabase(config.database.url);
  await migrateDatabase(config.database.url);
  installQuietRuntime();
  const target = temporalTarget(config);
  const connection = await connectWorkerConnection(target);
  const worker = await createWorker({
    connection,
    namespace: target.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: createActivityDeps({ db: database.db, config, logger }),
  });
  exitWithParent(() => worker.shutdown());
  logger.info({ taskQueue: config.temporal.taskQueue, temporal: target.address }, 'worker started');
  try {
    await worker.run();
  } finally {
    await connection.close();
    await database.close();
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
