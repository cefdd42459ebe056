/**
 * bin/compile-cache.js: the dependencies' V8 code cache that `judgeflow` starts with. Each case runs
 * fresh Node processes with their own TMPDIR (where the cache lives) and a package of our own under
 * a node_modules directory, counting which files V8 was given a code cache for and accepted it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);
const CACHE = path.resolve(__dirname, '../bin/compile-cache.js');

let work: string;
let pkg: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-test-'));
  pkg = path.join(work, 'node_modules/answer/index.js');
  fs.mkdirSync(path.dirname(pkg), { recursive: true });
  fs.writeFileSync(pkg, 'module.exports = { value: 1, twice: (x) => 2 * x, path: require.resolve("./index.js") };\n');
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

interface Run {
  /** What the package exports, as the process printed it. */
  answer: { value: number; twice: number; path: string };
  /** Dependency files compiled: with a cache V8 accepted, and without one (or with one it rejected). */
  cached: string[];
  compiled: string[];
  stderr: string;
}

/** A process that uses the cache (as bin/sources.js does) and requires the package and drizzle-orm. */
const run = (tmpdir: string, nodeFlags: string[] = []) =>
  new Promise<Run>((resolve, reject) => {
    const script = `
      const vm = require('node:vm');
      const cached = [], compiled = [];
      vm.Script = class extends vm.Script {
        constructor(code, options) {
          super(code, options);
          (options.cachedData && !this.cachedDataRejected ? cached : compiled).push(options.filename);
        }
      };
      require(${JSON.stringify(CACHE)}).useCompileCache((f) => f.includes('/node_modules/'));
      const answer = require(${JSON.stringify(pkg)});
      require('drizzle-orm');
      process.stdout.write(JSON.stringify({ answer: { ...answer, twice: answer.twice(21) }, cached, compiled }));`;
    execFile(
      process.execPath,
      [...nodeFlags, '-e', script],
      { cwd: path.resolve(__dirname, '..'), env: { ...process.env, TMPDIR: tmpdir } },
      (err, stdout, stderr) => (err ? reject(err) : resolve({ ...(JSON.parse(stdout) as Run), stderr })),
    );
  });

const cacheDir = (tmpdir: string) => path.join(tmpdir, `judgeflow-compile-cache-${process.getuid!()}`);
const cacheFile = (tmpdir: string) => path.join(cacheDir(tmpdir), `${process.version}-${process.arch}.cache`);

test('the first run writes the cache in a directory of its own, the next compiles every dependency from it', async () => {
  const first = await run(work);
  expect(first.answer).toEqual({ value: 1, twice: 42, path: pkg });
  expect(first.cached).toEqual([]);
  expect(first.compiled).toContain(pkg);
  expect(first.compiled.filter((f) => f.includes('/drizzle-orm/')).length).toBeGreaterThan(5);
  expect(fs.statSync(cacheDir(work)).mode & 0o777).toBe(0o700);
  expect(fs.statSync(cacheFile(work)).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(cacheDir(work))).toEqual([path.basename(cacheFile(work))]); // no temporary file left

  const second = await run(work);
  expect(second.answer).toEqual(first.answer);
  expect(second.compiled).toEqual([]);
  expect(second.cached.sort()).toEqual(first.compiled.sort());
  expect(second.stderr).toBe('');
});

test('a file rewritten with the same size and mtime is compiled from its new source, not its old cache', async () => {
  // npm's packages carry one fixed mtime; rewritten with the same length, only the file's ctime and
  // content differ (and V8 checks a code cache against the source's length only).
  const npmTime = new Date('1985-10-26T08:15:00Z');
  fs.utimesSync(pkg, npmTime, npmTime);
  await run(work);
  fs.writeFileSync(pkg, fs.readFileSync(pkg, 'utf8').replace('value: 1', 'value: 7'));
  fs.utimesSync(pkg, npmTime, npmTime);
  const changed = await run(work);
  expect(changed.answer.value).toBe(7);
  expect(changed.compiled).toEqual([pkg]);
  // And its new cache is what the next run uses.
  const next = await run(work);
  expect(next.answer.value).toBe(7);
  expect(next.compiled).toEqual([]);
});

test('a cache that cannot be used is no cache: the same answer, compiled as without it, nothing written', async () => {
  const expected = (await run(fs.mkdtempSync(path.join(work, 'fresh-')))).answer;
  const file = path.join(work, 'a-file');
  fs.writeFileSync(file, '');
  const open = path.join(work, 'open');
  fs.mkdirSync(cacheDir(open), { recursive: true });
  fs.chmodSync(cacheDir(open), 0o777); // others could plant code in it
  const unusable = [
    ['missing temporary directory', path.join(work, 'missing')],
    ['temporary directory is a file', file],
    ['no directory can be made there', '/proc'],
    ['directory others may write to', open],
  ];
  if (process.getuid!() === 0) {
    // Only root can give a directory to another user (CI runs as root).
    const theirs = path.join(work, 'theirs');
    fs.mkdirSync(cacheDir(theirs), { recursive: true, mode: 0o700 });
    fs.chownSync(cacheDir(theirs), 65534, 65534);
    unusable.push(["another user's directory", theirs]);
  }
  for (const [why, tmpdir] of unusable) {
    const r = await run(tmpdir);
    expect([why, r.answer, r.cached, r.stderr]).toEqual([why, expected, [], '']);
    expect([why, fs.existsSync(cacheFile(tmpdir))]).toEqual([why, false]);
  }
  // Twice, to be sure the second run had nothing to read either.
  for (const [why, tmpdir] of unusable) expect([why, (await run(tmpdir)).cached]).toEqual([why, []]);
});

test('a corrupt cache file is replaced by a good one', async () => {
  await run(work);
  fs.writeFileSync(cacheFile(work), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
  const corrupt = await run(work);
  expect([corrupt.answer.value, corrupt.cached, corrupt.stderr]).toEqual([1, [], '']);
  expect((await run(work)).compiled).toEqual([]);
});

test('a process started with other V8 flags (the worker) keeps a cache of its own, leaving the others whole', async () => {
  await run(work);
  const worker = await run(work, ['--max-semi-space-size=64']);
  expect(worker.compiled).toContain(pkg); // V8 refuses a cache made under other flags
  expect((await run(work, ['--max-semi-space-size=64'])).compiled).toEqual([]);
  expect((await run(work)).compiled).toEqual([]);
  const files = fs.readdirSync(cacheDir(work));
  expect(files).toHaveLength(2);
  expect(files.filter((f) => f !== path.basename(cacheFile(work)))).toEqual([
    expect.stringMatching(/^v[\d.]+-\w+-[0-9a-f]{8}\.cache$/),
  ]);
});
