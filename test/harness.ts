/**
 * What test files use to reach the real services started by test/global-setup.ts. Each test file
 * gets its own database (cloned from the migrated template) and its own task queue, so files run
 * in parallel without seeing each other's data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivityDeps, type ActivityDeps } from '../activities/deps';
import { loadConfig, type Config } from '../platform/config';
import { SIM_SECRET_KEY } from '../scripts/sim/vendor/world';
import { connectDatabase, type Database } from '../platform/db';
import { createLogger } from '../platform/logger';
import { connectClient, findTemporalTestServer } from '../platform/temporal';
import { createWorker, installQuietRuntime } from '../workers/worker';
import { loadWorkflowBundle } from '../workers/workflow-bundle';

const TEMPLATE_DB = 'judgeflow_template';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest (test/global-setup.ts starts the services).`);
  return value;
}

export interface TestDatabase extends Database {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const templateUrl = required('JUDGEFLOW_TEST_PG_URL');
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = await connectDatabase(templateUrl.replace(/\/[^/]+$/, '/postgres'), { max: 1 });
  await admin.sql.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
  const url = templateUrl.replace(/\/[^/]+$/, `/${name}`);
  const database = await connectDatabase(url);
  return {
    ...database,
    url,
    drop: async () => {
      await database.close();
      await admin.sql.unsafe(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}

/** Config as the services under test would load it, pointed at the test stack. */
export function testConfig(env: Record<string, string> = {}, database?: TestDatabase): Config {
  return loadConfig({
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    TEMPORAL_ADDRESS: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS,
    ...(database ? { DATABASE_URL: database.url } : {}),
    JUDGEFLOW_SECRET_KEY: SIM_SECRET_KEY,
    ...env,
  });
}

export function testDeps(database: TestDatabase, config = testConfig({}, database)): ActivityDeps {
  return createActivityDeps({ db: database.db, config, logger: createLogger('test', config.logLevel) });
}

export const uniqueTaskQueue = (name: string) => `test-${name}-${randomUUID().slice(0, 8)}`;

/** A client on the shared dev server. */
export function devServerClient(): Promise<Client> {
  return connectClient({ address: required('JUDGEFLOW_TEST_TEMPORAL_ADDRESS'), namespace: 'default' });
}

/** A worker on the shared dev server; `workflowBundle` for another release's workflows (test/upgrade.test.ts). */
export async function devServerWorker(
  taskQueue: string,
  deps: ActivityDeps,
  workflowBundle?: { code: string },
): Promise<{ worker: Worker; connection: NativeConnection }> {
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: required('JUDGEFLOW_TEST_TEMPORAL_ADDRESS') });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps,
    workflowBundle: workflowBundle ?? (await loadWorkflowBundle()),
  });
  return { worker, connection };
}

/** A time-skipping test server for this file (timers of days run in milliseconds). */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: findTemporalTestServer() } },
  });
}

export async function timeSkippingWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  deps: ActivityDeps,
): Promise<Worker> {
  return createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    deps,
    workflowBundle: await loadWorkflowBundle(),
  });
}

export const HISTORIES_DIR = path.resolve(__dirname, 'histories');

/**
 * Saves a finished workflow's history as the replay fixture `test/histories/<name>.json` when run
 * with UPDATE_HISTORIES=1. test/replay.test.ts replays every fixture against the current code.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.UPDATE_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}

/**
 * Real `judgeflow worker` and `judgeflow gateway` processes on the test services, killed when the
 * file ends (`killAll` in afterAll). Each gets the key testConfig seals vendors' secrets with:
 * without it a worker cannot sign a dispatch, nor a gateway verify an event.
 */
export function judgeflowProcesses() {
  const running = new Set<ChildProcess>();
  const bin = path.resolve(__dirname, '../bin/judgeflow.js');
  return {
    start(s: {
      command?: 'worker' | 'gateway';
      databaseUrl: string;
      taskQueue: string;
      llmUrl?: string;
      llmConcurrency?: number;
      /** More settings (e.g. WORKER_METRICS_PORT; 0 by default, so workers never race for a port). */
      env?: Record<string, string>;
      /** 'pipe' to read what the process says when it refuses to start. */
      stderr?: 'pipe';
    }): ChildProcess {
      const env = {
        ...process.env,
        DATABASE_URL: s.databaseUrl,
        TEMPORAL_ADDRESS: required('JUDGEFLOW_TEST_TEMPORAL_ADDRESS'),
        TEMPORAL_TASK_QUEUE: s.taskQueue,
        ...(s.llmUrl && { OPENAI_BASE_URL: s.llmUrl }),
        ...(s.llmConcurrency && { LLM_CONCURRENCY: String(s.llmConcurrency) }),
        LOG_LEVEL: 'error',
        WORKER_METRICS_PORT: '0',
        JUDGEFLOW_SECRET_KEY: SIM_SECRET_KEY,
        ...s.env,
      };
      const child = spawn(process.execPath, [bin, s.command ?? 'worker'], {
        env,
        stdio: ['ignore', 'ignore', s.stderr ?? 'ignore'],
      });
      running.add(child);
      child.once('exit', () => running.delete(child));
      return child;
    },
    /** SIGKILL, as a crash or the OOM killer would, and wait until it is gone. */
    async kill(child: ChildProcess): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    killAll() {
      for (const child of running) child.kill('SIGKILL');
    },
  };
}
