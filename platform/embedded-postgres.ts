import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { DEFAULT_EMBEDDED_PG_HOME } from './settings';
import { EmbeddedPostgresError, errorText, resolveLayout, type PostgresLayout } from './embedded-postgres-layout';
import { assertPortFree } from './ports';
import { stopChild } from './temporal';

export interface EmbeddedPostgresHandle {
  url: string;
  /** The cluster's directory: the data dir, or where its link leads (embedded-postgres-layout.ts). */
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const USER = 'judgeflow';
const PASSWORD = 'judgeflow';
const START_TIMEOUT_MS = 60_000;

/**
 * Starts a real PostgreSQL from the binaries package `embedded-postgres` installs, with its data
 * under `dataDir` (initialised on first use, reused afterwards). judgeflow runs initdb and postgres
 * itself, so it decides where the binaries and data live (as root: embedded-postgres-layout.ts) and
 * every failure is one EmbeddedPostgresError saying what to fix.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  /** EMBEDDED_PG_HOME: used when running as root. */
  home?: string;
  database?: string;
  onLog?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const log = opts.onLog ?? (() => undefined);
  await assertPortFree(opts.port, 'embedded PostgreSQL', 'EMBEDDED_PG_PORT');
  const layout = resolveLayout(opts.dataDir, opts.home ?? DEFAULT_EMBEDDED_PG_HOME);
  if (!fs.existsSync(path.join(layout.dataDir, 'PG_VERSION'))) await initdb(layout, log);
  const child = await startPostmaster(layout, opts.port, log);
  const database = opts.database ?? 'judgeflow';
  const admin = adminConnection(opts.port);
  try {
    const exists = await admin`select 1 from pg_database where datname = ${database}`;
    if (exists.length === 0) await admin.unsafe(`create database "${database.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`,
    dataDir: layout.dataDir,
    process: child,
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
    stop: () => stopChild(child, 20_000, 'SIGINT'),
  };
}

async function initdb(layout: PostgresLayout, log: (message: string) => void) {
  // Beside the cluster's directory: a place the user running initdb can read.
  const pwfile = path.join(path.dirname(layout.dataDir), `.pgpass-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (layout.user) fs.chownSync(pwfile, layout.user.uid, layout.user.gid);
  try {
    const child = spawnPostgresBinary(layout, 'initdb', [
      `--pgdata=${layout.dataDir}`,
      '--auth=scram-sha-256',
      `--username=${USER}`,
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--lc-messages=C',
    ]);
    const output = collect(child, log);
    const [code, err] = await exitOf(child);
    if (code !== 0)
      throw new EmbeddedPostgresError(
        `initdb failed for ${layout.dataDir} (${err ? errorText(err) : `exit ${code}`}): ${lastLines(output())}`,
        'Fix what it names, or remove that directory to start afresh.',
      );
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** Starts the server and resolves once it answers a query; on failure, says what PostgreSQL said. */
async function startPostmaster(layout: PostgresLayout, port: number, log: (message: string) => void) {
  const child = spawnPostgresBinary(layout, 'postgres', [
    '-D',
    layout.dataDir,
    '-p',
    String(port),
    ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
  ]);
  const output = collect(child, log);
  let exited: [number | null, Error?] | undefined;
  void exitOf(child).then((result) => (exited = result));
  const admin = adminConnection(port);
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      try {
        await admin`select 1`;
        return child;
      } catch {
        // not up yet: starting, or gone (checked below)
      }
      if (exited || Date.now() > deadline) {
        child.kill('SIGKILL');
        const why = exited
          ? exited[1]
            ? errorText(exited[1])
            : `exit ${exited[0]}`
          : `no answer within ${START_TIMEOUT_MS / 1000}s`;
        throw new EmbeddedPostgresError(
          `postgres with data in ${layout.dataDir} did not start on port ${port} (${why}): ${lastLines(output())}`,
          'Fix what it names (a server still running on that data, a port or a full disk).',
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.end();
  }
}

function spawnPostgresBinary(layout: PostgresLayout, name: string, args: string[]): ChildProcess {
  return spawn(path.join(layout.bin, name), args, {
    ...layout.user,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: '/', // this process's directory may be closed to the postgres user
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
}

const adminConnection = (port: number) =>
  postgres({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
    max: 1,
    connect_timeout: 5,
    onnotice: () => undefined,
  });

/** Forwards the process's output to the log and keeps it for an error message. */
function collect(child: ChildProcess, log: (message: string) => void): () => string {
  let output = '';
  const take = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-8_000);
    log(text);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return () => output;
}

/** The exit code, or the spawn error (EACCES, ENOENT) that would otherwise be an unhandled 'error' event. */
const exitOf = (child: ChildProcess) =>
  new Promise<[number | null, Error?]>((resolve) => {
    child.once('error', (err) => resolve([null, err]));
    child.once('exit', (code) => resolve([code]));
  });

const lastLines = (text: string) => text.trim().split('\n').slice(-5).join(' | ') || '(no output)';
