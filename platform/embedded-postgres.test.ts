/**
 * The embedded PostgreSQL installs anywhere: started from a clone inside a mode-700 directory (as
 * root, where PostgreSQL runs as the `postgres` user, which cannot enter it) without changing any
 * directory's permissions; and a start that cannot succeed is one clear EmbeddedPostgresError.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres';
import { removeDataDir } from './embedded-postgres-layout';
import { freePort } from './ports';

const REPO = path.resolve(__dirname, '..');
const asRoot = process.getuid?.() === 0;

/** Every directory from dir up to /, with its mode. */
const modesUpFrom = (dir: string) => {
  const modes: Record<string, string> = {};
  for (let d = dir; ; d = path.dirname(d)) {
    modes[d] = (fs.statSync(d).mode & 0o7777).toString(8);
    if (d === path.dirname(d)) return modes;
  }
};

/** The working tree's files (committed or not, ignored ones aside) and node_modules, hard-linked where possible. */
function cloneInto(dir: string) {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: REPO,
    encoding: 'utf8',
  });
  for (const file of files.split('\0').filter((f) => f && fs.existsSync(path.join(REPO, f)))) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
  }
  try {
    execFileSync('cp', ['-al', path.join(REPO, 'node_modules'), path.join(dir, 'node_modules')], { stdio: 'ignore' });
  } catch {
    // the temp dir is on another file system: a real copy (slower)
    fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
    execFileSync('cp', ['-a', path.join(REPO, 'node_modules'), path.join(dir, 'node_modules')]);
  }
}

/** Runs the clone's own platform/embedded-postgres.ts in a process started there. */
function startInClone(clone: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const script = `
    require('tsx/cjs');
    const postgres = require('postgres');
    const { startEmbeddedPostgres } = require('./platform/embedded-postgres.ts');
    (async () => {
      const pg = await startEmbeddedPostgres({ dataDir: '.data/postgres', port: Number(process.env.PG_PORT), home: process.env.PG_HOME });
      const sql = postgres(pg.url, { max: 1 });
      const [row] = await sql\`select current_setting('data_directory') as dir, current_user as who\`;
      await sql.end();
      await pg.stop();
      console.log(JSON.stringify(row));
    })().catch((err) => { console.error(err.message); process.exit(2); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: clone, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('embedded PostgreSQL', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-pg-')); // mode 700, as a home directory
  // Not created beforehand: the start creates it, for the postgres user.
  const home = path.join(os.tmpdir(), `judgeflow-pg-home-${randomBytes(4).toString('hex')}`);
  afterAll(() => {
    removeDataDir(path.join(scratch, 'clone', '.data', 'postgres'));
    removeDataDir(path.join(scratch, 'data', 'postgres'));
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('starts from a clone in a mode-700 directory without changing any directory mode', async () => {
    const clone = path.join(scratch, 'clone');
    cloneInto(clone);
    const before = modesUpFrom(clone);
    expect(before[scratch]).toBe('700');

    const run = await startInClone(clone, { PG_PORT: String(await freePort()), PG_HOME: home });
    expect(run.code === 0 ? 'exit 0' : run.out).toBe('exit 0');
    const { dir, who } = JSON.parse(run.out.trim().split('\n').pop() ?? '{}') as { dir: string; who: string };
    expect(who).toBe('judgeflow');
    expect(modesUpFrom(clone)).toEqual(before);
    if (asRoot) {
      // The postgres user cannot enter the clone: binaries and data are under its own home.
      expect(dir.startsWith(path.join(home, 'data') + path.sep)).toBe(true);
      expect(fs.realpathSync(path.join(clone, '.data', 'postgres'))).toBe(dir);
      expect(fs.statSync(home).uid).toBe(Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })));
      expect(fs.readdirSync(home).filter((f) => f.startsWith('postgresql-'))).toHaveLength(1);
    } else {
      expect(dir).toBe(fs.realpathSync(path.join(clone, '.data', 'postgres')));
    }
  });

  test('a second server on the same data fails with one message saying why, leaving the first running', async () => {
    const dataDir = path.join(scratch, 'data', 'postgres');
    const first = await startEmbeddedPostgres({ dataDir, port: await freePort(), home });
    try {
      const port = await freePort();
      const second = startEmbeddedPostgres({ dataDir, port, home });
      await expect(second).rejects.toMatchObject({
        name: 'EmbeddedPostgresError',
        exitCode: 2,
        message: expect.stringMatching(
          new RegExp(`cannot start: postgres with data in .* did not start on port ${port} .*postmaster\\.pid`),
        ),
      });
      expect(first.process.exitCode).toBeNull();
    } finally {
      await first.stop();
    }
  });

  (asRoot ? test : test.skip)(
    'as root, an EMBEDDED_PG_HOME the postgres user cannot reach is named, and nothing is copied or chmodded',
    async () => {
      const closed = path.join(scratch, 'closed-home'); // inside the mode-700 scratch directory
      const before = modesUpFrom(scratch);
      const start = startEmbeddedPostgres({
        dataDir: path.join(scratch, 'other', 'postgres'),
        port: await freePort(),
        home: closed,
      });
      await expect(start).rejects.toMatchObject({
        name: 'EmbeddedPostgresError',
        message: expect.stringMatching(
          /the postgres user cannot run anything in .*closed-home .*Set EMBEDDED_PG_HOME to a directory that user can reach.*Or set DATABASE_URL/,
        ),
      });
      expect(fs.readdirSync(closed)).toEqual([]);
      expect(modesUpFrom(scratch)).toEqual(before);
    },
  );
});
