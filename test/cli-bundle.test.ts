/**
 * bin/cli-bundle.js: the status commands run from a bundle of the sources, built when a status
 * command first runs after its inputs changed. Each case runs `judgeflow` as a user runs it, with a
 * TMPDIR of its own (where the bundle and its code cache live), and compares what the bundle does
 * with what the sources do (run from the sources when the cache directory is refused).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './harness';
import { runCli } from './stack-process';

jest.setTimeout(180_000);

let database: TestDatabase;
let work: string;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-bundle-test-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const cacheDir = (tmpdir: string) => path.join(tmpdir, `judgeflow-compile-cache-${process.getuid!()}`);
/** The bundle, its manifest and its code cache, as the cache directory holds them. */
function bundleFiles(tmpdir: string) {
  const files = fs.existsSync(cacheDir(tmpdir)) ? fs.readdirSync(cacheDir(tmpdir)) : [];
  const pick = (pattern: RegExp) => {
    const file = files.find((f) => pattern.test(f));
    return file && path.join(cacheDir(tmpdir), file);
  };
  return {
    bundle: pick(/^cli-[0-9a-f]+\.js$/),
    manifest: pick(/^cli-[0-9a-f]+\.json$/),
    codeCache: pick(/-cli-[0-9a-f]+\.cache$/),
  };
}

/** A TMPDIR whose cache directory others may write to: refused, so the command runs from the sources. */
function refusedTmpdir() {
  const tmpdir = fs.mkdtempSync(path.join(work, 'refused-'));
  fs.mkdirSync(cacheDir(tmpdir), { mode: 0o700 });
  fs.chmodSync(cacheDir(tmpdir), 0o777);
  return tmpdir;
}

const env = (tmpdir: string) => ({
  TMPDIR: tmpdir,
  DATABASE_URL: database.url,
  TEMPORAL_ADDRESS: process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS!,
  TEMPORAL_NAMESPACE: 'default',
  LOG_LEVEL: 'warn',
});

const STATUS_COMMANDS = [
  ['program', 'status', '--help'],
  ['judge', 'status', '--help'],
  ['program', 'status', 'no-such-program'],
  ['judge', 'status', '--program', 'no-such-program', '--run-id', 'no-such-run'],
];

test('a status command builds the bundle, runs from it, and says what the sources say', async () => {
  const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
  const refused = refusedTmpdir();
  for (const args of STATUS_COMMANDS) {
    const fromSources = await runCli(args, env(refused));
    const fromBundle = await runCli(args, env(tmpdir));
    expect([args, fromBundle]).toEqual([args, fromSources]);
  }
  expect(fs.readdirSync(cacheDir(refused)).filter((f) => f.startsWith('cli-'))).toEqual([]);

  const { bundle, manifest, codeCache } = bundleFiles(tmpdir);
  // Run from it: compiled through the code cache of its own.
  expect(codeCache).toBeDefined();
  for (const file of [bundle!, manifest!]) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(cacheDir(tmpdir)).filter((f) => /\.\d+\.[0-9a-f]+$/.test(f))).toEqual([]); // no temporary file left
  // It holds the status commands' sources and what they require, not the other commands'.
  const inputs = Object.keys(JSON.parse(fs.readFileSync(manifest!, 'utf8')).inputs).map((f) =>
    path.relative(path.resolve(__dirname, '..'), f),
  );
  expect(inputs).toEqual(
    expect.arrayContaining([
      'scripts/commands/program-status.ts',
      'scripts/commands/judge-status.ts',
      'bin/cli-bundle.js',
      'tsconfig.json',
    ]),
  );
  expect(inputs.some((f) => f.includes('node_modules/@temporalio/client/'))).toBe(true);
  expect(inputs.filter((f) => /scripts\/(commands\/)?(stack|worker|gateway|demo)\.ts$/.test(f))).toEqual([]);
  expect(inputs.filter((f) => f.includes('node_modules/@temporalio/worker/'))).toEqual([]);
  // The Temporal API's descriptor, without the Cloud Ops API and the core SDK's messages.
  const text = fs.readFileSync(bundle!, 'utf8');
  const holds = (name: string) => text.includes(`"${name}"`);
  expect({
    WorkflowService: holds('WorkflowService'),
    CloudService: holds('CloudService'),
    coresdk: holds('coresdk'),
  }).toEqual({ WorkflowService: true, CloudService: false, coresdk: false });
});

test('the bundle is used while its inputs are unchanged, and rebuilt when one changed', async () => {
  const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
  const args = ['program', 'status', 'no-such-program'];
  const first = await runCli(args, env(tmpdir));
  const { bundle, manifest } = bundleFiles(tmpdir);
  const built = fs.statSync(bundle!, { bigint: true });

  expect(await runCli(args, env(tmpdir))).toEqual(first);
  expect(fs.statSync(bundle!, { bigint: true }).ino).toBe(built.ino);

  // As if a source had been edited since: its recorded size, mtime, ctime and inode no longer match.
  const recorded = JSON.parse(fs.readFileSync(manifest!, 'utf8'));
  const source = path.resolve(__dirname, '../scripts/commands/program-status.ts');
  expect(recorded.inputs[source]).toBeDefined();
  fs.writeFileSync(manifest!, JSON.stringify({ ...recorded, inputs: { ...recorded.inputs, [source]: '0:0:0:0' } }));
  expect(await runCli(args, env(tmpdir))).toEqual(first);
  expect(fs.statSync(bundle!, { bigint: true }).ino).not.toBe(built.ino);
  expect(JSON.parse(fs.readFileSync(manifest!, 'utf8')).inputs[source]).toBe(recorded.inputs[source]);
});

test('other commands run from the sources and build nothing; help leaves no code cache; a corrupt manifest means a rebuild', async () => {
  const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
  for (const args of [['--help'], ['program', 'list', '--help'], ['judge', 'run', '--help']]) {
    const run = await runCli(args, env(tmpdir));
    expect([args, run.code]).toEqual([args, 0]);
  }
  expect(bundleFiles(tmpdir).bundle).toBeUndefined();

  const args = ['judge', 'status', '--help'];
  const expected = await runCli(args, env(tmpdir));
  const { manifest, codeCache } = bundleFiles(tmpdir);
  // A help run leaves no code cache: it would hold the help's functions, not the status's.
  expect(codeCache).toBeUndefined();
  fs.writeFileSync(manifest!, '{"node":');
  expect(await runCli(args, env(tmpdir))).toEqual(expected);
  expect(() => JSON.parse(fs.readFileSync(manifest!, 'utf8'))).not.toThrow();
});

test("a build removes the bundles of checkouts that no longer exist, and keeps the others'", async () => {
  const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
  fs.mkdirSync(cacheDir(tmpdir), { mode: 0o700 });
  const plant = (name: string, root: string) => {
    fs.writeFileSync(path.join(cacheDir(tmpdir), `${name}.json`), JSON.stringify({ root, inputs: {} }));
    fs.writeFileSync(path.join(cacheDir(tmpdir), `${name}.js`), '');
    fs.writeFileSync(path.join(cacheDir(tmpdir), `${process.version}-${process.arch}-${name}.cache`), '');
  };
  plant('cli-000000000001', path.join(work, 'a-checkout-since-deleted'));
  plant('cli-000000000002', work);
  expect((await runCli(['judge', 'status', '--help'], env(tmpdir))).code).toBe(0);
  const left = fs.readdirSync(cacheDir(tmpdir));
  expect(left.filter((f) => f.includes('cli-000000000001'))).toEqual([]);
  expect(left.filter((f) => f.includes('cli-000000000002')).length).toBe(3);
  expect(left.filter((f) => /^cli-[0-9a-f]+\.js$/.test(f)).length).toBe(2); // this checkout's, and the kept one
});
