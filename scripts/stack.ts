/**
 * The embedded stack: starts whatever is not configured externally (Temporal dev server, PostgreSQL,
 * the LLM simulator) plus the judgeflow processes (workers, gateway), and stops all of it cleanly.
 * `judgeflow stack up`, the demo, and the benchmarks all start it through `startStack`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import {
  type Config,
  llmBaseUrl,
  usesEmbeddedPostgres,
  usesEmbeddedTemporal,
  usesLlmSimulator,
} from '../platform/config';
import { connectDatabase, migrateDatabase } from '../platform/db';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
import { createLogger } from '../platform/logger';
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

export const BIN = path.resolve(__dirname, '../bin/judgeflow.js');
/** A child service that has not opened its port by then has failed (a loaded 2-core machine needs the margin). */
const CHILD_START_TIMEOUT_MS = 90_000;

/** The URL of the embedded PostgreSQL a stack with this config starts (same for every process). */
export const databaseUrl = (config: Config) =>
  config.database.url ?? `postgres://judgeflow:judgeflow@127.0.0.1:${config.database.embeddedPort}/judgeflow`;

/** A judgeflow process the stack runs as a child (`node bin/judgeflow.js <args>`). */
export interface ChildService {
  name: string;
  args: (config: Config) => string[];
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
    args: () => ['worker'],
    enabled: (_c, o) => (o.workers ?? 1) > 0,
    // Each worker's /metrics on a port of its own: WORKER_METRICS_PORT, the next one, … (0: none).
    env: (c, i) => ({
      WORKER_METRICS_PORT: String(c.observability.workerMetricsPort && c.observability.workerMetricsPort + i),
    }),
  },
  {
    name: 'gateway',
    args: () => ['gateway'],
    enabled: () => true,
    port: (c) => ({ port: c.gateway.port, setting: 'GATEWAY_PORT' }),
  },
  // The LLM simulator stands in for the provider when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set.
  {
    name: 'sim-llm',
    args: (c) => ['sim', 'llm', '--port', String(c.llm.simPort)],
    enabled: (c) => usesLlmSimulator(c),
    port: (c) => ({ port: c.llm.simPort, setting: 'LLM_SIM_PORT' }),
  },
  // The simulated vendor runs when the stack has its secret (the demo and the tests set one).
  {
    name: 'vendor-sim',
    args: () => ['sim', 'vendor'],
    enabled: (c) => !!c.vendorSim.secret,
    port: (c) => ({ port: c.vendorSim.port, setting: 'VENDOR_SIM_PORT' }),
  },
];

export interface StackOptions {
  /** Worker processes to run (0: none, e.g. when a test runs its own). Default 1. */
  workers?: number;
  /** Only these child services (by name); default all that are enabled. */
  only?: string[];
  log?: (line: string) => void;
}

export interface Stack {
  config: Config;
  /** Environment that points a process at this stack (what the children get). */
  env: Record<string, string>;
  client: Client;
  uiUrl: string;
  children: Map<string, ChildProcess[]>;
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
  const logger = createLogger('stack', config.logLevel);
  const logDir = path.join(config.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const stateFile = path.join(config.dataDir, 'stack.json');
  claimStateFile(stateFile);

  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch((err) => logger.warn({ err }, 'stop failed'));
    fs.rmSync(stateFile, { force: true });
  };
  try {
    // PostgreSQL
    if (usesEmbeddedPostgres(config)) {
      log(
        `• starting embedded PostgreSQL on 127.0.0.1:${config.database.embeddedPort} (data in ${path.join(config.dataDir, 'postgres')})`,
      );
      const pgLog = fs.createWriteStream(path.join(logDir, 'postgres.log'), { flags: 'a' });
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.database.embeddedPort,
        onLog: (m) => pgLog.write(String(m)),
      });
      stoppers.push(async () => {
        await pg.stop();
        pgLog.end();
      });
    }
    const url = databaseUrl(config);
    const database = await connectDatabase(url);
    await migrateDatabase(url);
    await database.close();
    log('• database migrated');

    // Temporal
    const target = temporalTarget(config);
    if (usesEmbeddedTemporal(config)) {
      const cliPath = findTemporalCli(config);
      log(`• starting Temporal dev server on ${target.address} (Web UI ${config.temporal.uiUrl}, ${cliPath})`);
      const tLog = fs.createWriteStream(path.join(logDir, 'temporal.log'), { flags: 'a' });
      const server = await startDevServer({
        cliPath,
        port: config.temporal.devPort,
        uiPort: config.temporal.uiPort,
        dbFile: path.join(config.dataDir, 'temporal.sqlite'),
        namespace: config.temporal.namespace,
        onLog: (line) => tLog.write(line),
      });
      stoppers.push(async () => {
        await server.stop();
        tLog.end();
      });
    }
    const client = await connectClient(target);
    stoppers.push(() => client.connection.close());
    if (config.temporal.searchAttributes) await ensureSearchAttributes(client);

    const env: Record<string, string> = {
      JUDGEFLOW_DATA_DIR: config.dataDir,
      DATABASE_URL: url,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      OPENAI_BASE_URL: llmBaseUrl(config),
      JUDGEFLOW_PARENT_PID: String(process.pid),
    };
    const children = new Map<string, ChildProcess[]>();
    const services = CHILD_SERVICES.filter(
      (s) => s.enabled(config, opts) && (!opts.only || opts.only.includes(s.name)),
    );
    // Ports are checked first (a busy one fails before anything starts); the children then start
    // together, since each spends its first seconds loading the CLI.
    for (const service of services) {
      const port = service.port?.(config);
      if (port) await assertPortFree(port.port, service.name, port.setting);
    }
    for (const service of services) {
      const count = service.name === 'worker' ? (opts.workers ?? 1) : 1;
      const procs: ChildProcess[] = [];
      for (let i = 0; i < count; i++) {
        const name = count > 1 ? `${service.name}-${i + 1}` : service.name;
        const childEnv = { ...process.env, ...env, ...service.env?.(config, i) } as NodeJS.ProcessEnv;
        const child = spawnService(name, service.args(config), childEnv, logDir);
        procs.push(child);
        stoppers.push(() => stopChild(child));
      }
      children.set(service.name, procs);
    }
    await Promise.all(
      services.map(async (service) => {
        const port = service.port?.(config);
        if (port && !(await waitForTcp('127.0.0.1', port.port, CHILD_START_TIMEOUT_MS))) {
          throw new Error(
            `${service.name} did not open port ${port.port} within ${CHILD_START_TIMEOUT_MS / 1000}s; see ${path.join(logDir, `${service.name}.log`)}`,
          );
        }
        const count = children.get(service.name)?.length ?? 0;
        log(
          `• ${service.name}${count > 1 ? ` ×${count}` : ''} started (log: ${path.join(logDir, `${service.name}*.log`)})`,
        );
      }),
    );
    const childPids = Object.fromEntries([...children].map(([name, procs]) => [name, procs.map((p) => p.pid)]));
    fs.writeFileSync(
      stateFile,
      JSON.stringify({ pid: process.pid, children: childPids, env, uiUrl: config.temporal.uiUrl }, null, 2),
    );
    let stopped = false;
    return {
      config,
      env,
      client,
      uiUrl: config.temporal.uiUrl,
      children,
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

function spawnService(name: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): ChildProcess {
  const out = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return child;
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
