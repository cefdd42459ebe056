/**
 * The embedded stack: starts whatever is not configured externally (Temporal dev server, PostgreSQL,
 * the LLM simulator) plus the judgeflow processes (workers, gateway), and stops all of it cleanly.
 * `judgeflow stack up`, the demo, and the benchmarks all start it through `startStack`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import {
  type Config,
  databaseUrl,
  llmBaseUrl,
  usesEmbeddedPostgres,
  usesEmbeddedTemporal,
  usesLlmSimulator,
} from '../platform/config';
import { connectDatabase, migrateDatabase } from '../platform/db';
import { sealLegacyVendorSecrets } from '../vendors/registry';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
export { waitForShutdownSignal } from '../platform/signals';
import { assertPortFree, waitForTcp } from '../platform/ports';
import {
  connectClient,
  ensureSearchAttributes,
  findTemporalCli,
  startDevServer,
  stopChild,
  temporalTarget,
} from '../platform/temporal';
import { smokeWorkflow } from '../workflows';
import { THROUGHPUT_NODE_FLAGS } from '../workers/node-flags';
import { Supervisor, type GiveUp, type ServiceRun } from './supervisor';

export const BIN = path.resolve(__dirname, '../bin/judgeflow.js');
/** A worker process's arguments to node, as the stack starts it; `nodeFlags` (e.g. a profiler's) go before the CLI. */
export const workerArgv = (nodeFlags: string[] = []) => [...THROUGHPUT_NODE_FLAGS, ...nodeFlags, BIN, 'worker'];
/** A child service that has not opened its port by then has failed (a loaded 2-core machine needs the margin). */
const CHILD_START_TIMEOUT_MS = 90_000;

/** A judgeflow process the stack runs as a child (`node bin/judgeflow.js <args>`). */
export interface ChildService {
  name: string;
  /** Its arguments to node: Node's own flags, then bin/judgeflow.js and the command. */
  argv: (config: Config, opts: StackOptions) => string[];
  enabled: (config: Config, opts: StackOptions) => boolean;
  /** A port that answers once the service is ready; its setting is named in the busy-port error. */
  port?: (config: Config) => { port: number; setting: string };
  /** Settings of its `index`th process (0-based) on top of the stack's. */
  env?: (config: Config, index: number) => Record<string, string>;
}

/** Other processes join the stack by adding themselves here. */
export const CHILD_SERVICES: ChildService[] = [
  {
    name: 'worker',
    argv: () => workerArgv(),
    enabled: (_c, o) => (o.workers ?? 1) > 0,
    // Each worker's /metrics on a port of its own: WORKER_METRICS_PORT, the next one, … (0: none).
    env: (c, i) => ({
      WORKER_METRICS_PORT: String(c.observability.workerMetricsPort && c.observability.workerMetricsPort + i),
    }),
  },
  {
    name: 'gateway',
    argv: () => [BIN, 'gateway'],
    enabled: () => true,
    port: (c) => ({ port: c.gateway.port, setting: 'GATEWAY_PORT' }),
  },
  // The LLM simulator stands in for the provider when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set.
  {
    name: 'sim-llm',
    argv: (c) => [...THROUGHPUT_NODE_FLAGS, BIN, 'sim', 'llm', '--port', String(c.llm.simPort)],
    enabled: (c) => usesLlmSimulator(c),
    port: (c) => ({ port: c.llm.simPort, setting: 'LLM_SIM_PORT' }),
  },
  // The simulated vendor runs when the stack has its secret (the demo and the tests set one); with
  // locales its raters are natives of one each, so a locale's tasks go to its natives.
  {
    name: 'vendor-sim',
    argv: (_c, o) => [
      BIN,
      'sim',
      'vendor',
      ...(o.vendorLocales?.length ? ['--locales', o.vendorLocales.join(',')] : []),
    ],
    enabled: (c) => !!c.vendorSim.secret,
    port: (c) => ({ port: c.vendorSim.port, setting: 'VENDOR_SIM_PORT' }),
  },
];

export interface StackOptions {
  /** Worker processes to run (0: none, e.g. when a test runs its own). Default 1. */
  workers?: number;
  /** Only these child services (by name); default all that are enabled. */
  only?: string[];
  /** The locales the simulated vendor's raters are natives of (unset: every rater rates every locale). */
  vendorLocales?: string[];
  log?: (line: string) => void;
}

export interface Stack {
  config: Config;
  /** Environment that points a process at this stack (what the children get). */
  env: Record<string, string>;
  client: Client;
  uiUrl: string;
  /** One log file per service (`<name>.log`). */
  logDir: string;
  /** Resolves if a service kept failing and the supervisor stopped the stack (scripts/supervisor.ts). */
  gaveUp: Promise<GiveUp>;
  stop(): Promise<void>;
}

export class StackAlreadyRunningError extends Error {
  readonly exitCode = 2;
  constructor(pid: number, file: string) {
    super(
      `A judgeflow stack is already running with this data dir (pid ${pid}, ${file}). Stop it first, or use another JUDGEFLOW_DATA_DIR.`,
    );
  }
}

export async function startStack(config: Config, opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const logDir = path.join(config.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const stateFile = path.join(config.dataDir, 'stack.json');
  claimStateFile(stateFile);

  let state: Record<string, unknown> | undefined;
  // Written whole and renamed into place: whoever reads it (a test, an operator's script) never sees half a file.
  const writeState = () => {
    if (!state) return;
    fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify({ ...state, services: supervisor.pids() }, null, 2));
    fs.renameSync(`${stateFile}.tmp`, stateFile);
  };
  const supervisor = new Supervisor({
    restartLimit: config.stack.restartLimit,
    restartWindowMs: config.stack.restartWindowMs,
    log,
    onChange: writeState,
  });
  const logFile = (name: string) => path.join(logDir, `${name}.log`);
  const logStreams: fs.WriteStream[] = [];
  const appendTo = (name: string) => {
    const stream = fs.createWriteStream(logFile(name), { flags: 'a' });
    logStreams.push(stream);
    return (text: string) => stream.write(text);
  };
  let client: Client | undefined;
  const stopAll = async () => {
    // First, so a service that exits from now on (a terminal's Ctrl-C reaches them all) is not restarted.
    await supervisor.stop();
    await client?.connection.close().catch(() => undefined);
    for (const stream of logStreams) stream.end();
    fs.rmSync(stateFile, { force: true });
  };
  // PostgreSQL and Temporal: what the judgeflow processes need running before they restart.
  const infrastructure: string[] = [];
  const startInfrastructure = async (name: string, start: (onLog: (text: string) => void) => Promise<ServiceRun>) => {
    const onLog = appendTo(name);
    await supervisor.start({ name, logFile: logFile(name), start: () => start(onLog) });
    infrastructure.push(name);
  };
  try {
    if (usesEmbeddedPostgres(config)) {
      const dataDir = path.join(config.dataDir, 'postgres');
      log(`• starting embedded PostgreSQL on 127.0.0.1:${config.database.embeddedPort} (data in ${dataDir})`);
      await startInfrastructure('postgres', (onLog) =>
        startEmbeddedPostgres({
          dataDir,
          port: config.database.embeddedPort,
          home: config.database.embeddedHome,
          onLog,
        }),
      );
    }
    const url = databaseUrl(config);
    const database = await connectDatabase(url);
    await migrateDatabase(url);
    // Before any service reads a vendor: plaintext secrets from an older database are sealed (or the start is refused).
    const sealed = await sealLegacyVendorSecrets(database.db, config).finally(() => database.close());
    log(`• database migrated${sealed.length ? `; secrets of vendor(s) ${sealed.join(', ')} sealed` : ''}`);

    const target = temporalTarget(config);
    if (usesEmbeddedTemporal(config)) {
      const cliPath = findTemporalCli(config);
      log(`• starting Temporal dev server on ${target.address} (Web UI ${config.temporal.uiUrl}, ${cliPath})`);
      // The SQLite file is the server's state: a restart resumes every workflow.
      await startInfrastructure('temporal', (onLog) =>
        startDevServer({
          cliPath,
          port: config.temporal.devPort,
          uiPort: config.temporal.uiPort,
          dbFile: path.join(config.dataDir, 'temporal.sqlite'),
          namespace: config.temporal.namespace,
          onLog,
        }),
      );
    }
    client = await connectClient(target);
    if (config.temporal.searchAttributes) await ensureSearchAttributes(client);

    const env: Record<string, string> = {
      JUDGEFLOW_DATA_DIR: config.dataDir,
      DATABASE_URL: url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      OPENAI_BASE_URL: llmBaseUrl(config),
      JUDGEFLOW_PARENT_PID: String(process.pid),
    };
    const childEnv = { ...process.env, ...env } as NodeJS.ProcessEnv;
    const services = CHILD_SERVICES.filter(
      (s) => s.enabled(config, opts) && (!opts.only || opts.only.includes(s.name)),
    );
    // The children start together, since each spends its first seconds loading the CLI; all have
    // started or failed before a failure stops the stack, so none starts after it stopped.
    const started = await Promise.allSettled(
      services.map(async (service) => {
        const count = service.name === 'worker' ? (opts.workers ?? 1) : 1;
        const names = Array.from({ length: count }, (_, i) => (count > 1 ? `${service.name}-${i + 1}` : service.name));
        await Promise.all(
          names.map((name, i) =>
            supervisor.start({
              name,
              logFile: logFile(name),
              needs: infrastructure,
              start: () =>
                startChild(
                  name,
                  service.port?.(config),
                  service.argv(config, opts),
                  { ...childEnv, ...service.env?.(config, i) },
                  logFile(name),
                ),
            }),
          ),
        );
        log(
          `• ${service.name}${count > 1 ? ` ×${count}` : ''} started (log: ${path.join(logDir, `${service.name}*.log`)})`,
        );
      }),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    state = { pid: process.pid, env, uiUrl: config.temporal.uiUrl, logDir };
    writeState();
    let stopped = false;
    const connected = client;
    return {
      config,
      env,
      client: connected,
      uiUrl: config.temporal.uiUrl,
      logDir,
      gaveUp: supervisor.gaveUp,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Spawns `node <nodeArgs>` (`judgeflow …`) with its output in its log; ready once its port answers (if it has one). */
async function startChild(
  name: string,
  port: { port: number; setting: string } | undefined,
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<ServiceRun> {
  if (port) await assertPortFree(port.port, name, port.setting);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, nodeArgs, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const run = { process: child, stop: () => stopChild(child) };
  if (!port) return run;
  const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline)
    if (await waitForTcp('127.0.0.1', port.port, 1000)) return run;
  await run.stop();
  throw new Error(
    `${name} ${child.exitCode === null ? `did not open port ${port.port} within ${CHILD_START_TIMEOUT_MS / 1000}s` : `exited with code ${child.exitCode} before opening port ${port.port}`}; see ${logFile}`,
  );
}

function claimStateFile(file: string) {
  if (!fs.existsSync(file)) return;
  try {
    const { pid } = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number };
    process.kill(pid, 0);
    throw new StackAlreadyRunningError(pid, file);
  } catch (err) {
    if (err instanceof StackAlreadyRunningError) throw err;
    // stale file from a stack that died: take it over
  }
}

/** Runs the smoke workflow through the stack's worker: client → Temporal → worker → Postgres → back. */
export async function runSmokeCheck(stack: Stack): Promise<{ id: string; storedAt: string }> {
  const id = `smoke/${new Date().toISOString()}`;
  return stack.client.workflow.execute(smokeWorkflow, {
    workflowId: id,
    taskQueue: stack.config.temporal.taskQueue,
    args: ['stack up smoke check'],
    workflowExecutionTimeout: '2 minutes',
  });
}
