/**
 * The CLI loads only the modules of the command it runs (scripts/cli.ts): `judgeflow --help` loads
 * none of the SDKs, `program status` only what it reads and prints with. Checked in a child process
 * run as bin/judgeflow.js runs the sources (bin/sources.js: tsx's CommonJS hook for the sources),
 * from its require.cache.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { buildCli, COMMANDS } from '../scripts/cli';

jest.setTimeout(180_000);
const ROOT = path.resolve(__dirname, '..');

/** What `script` prints, run in a fresh process as bin/judgeflow.js runs the sources. */
const runWithSources = (script: string, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['-r', path.join(ROOT, 'bin/sources.js'), '-e', script],
      { cwd: ROOT, maxBuffer: 64 << 20, env },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );

/**
 * What a fresh process has loaded after building the CLI for `args` (none: the whole CLI) and, with
 * `also`, requiring those sources too (what the command's action requires when it runs): every
 * file, and the packages the sources require themselves (not through another package).
 */
async function loadedWith(args?: string[], also: string[] = []): Promise<{ files: string[]; direct: string[] }> {
  const script = `
    const { buildCli } = require(${JSON.stringify(path.join(ROOT, 'scripts/cli.ts'))});
    buildCli(${args ? JSON.stringify(['node', 'judgeflow', ...args]) : ''});
    for (const f of ${JSON.stringify(also.map((f) => path.join(ROOT, f)))}) require(f);
    const own = (f) => !f.includes('/node_modules/');
    const direct = Object.values(require.cache).filter((m) => own(m.filename))
      .flatMap((m) => m.children.map((c) => c.filename).filter((f) => !own(f)));
    process.stdout.write(JSON.stringify({ files: Object.keys(require.cache), direct }));`;
  const out = await runWithSources(script);
  const { files, direct } = JSON.parse(out) as { files: string[]; direct: string[] };
  const relative = (fs: string[]) => fs.map((f) => path.relative(ROOT, f));
  return { files: relative(files), direct: [...packagesOf(relative(direct))].sort() };
}

/**
 * What a status command loads whatever it shows: the CLI, its context (config, database, Temporal
 * connection), the tables, a run's verdicts and the workflows' ids and status messages.
 */
const STATUS_MODULES = [
  'bin/compile-cache.js',
  'bin/sources.js',
  'platform/config.ts',
  'platform/db.ts',
  'platform/identity.ts',
  'platform/ports.ts',
  'platform/settings.ts',
  'platform/temporal.ts',
  'production/verdicts.ts',
  'schema/tables.ts',
  ...[
    'catalog',
    'columns',
    'golden-set',
    'human-tasks',
    'judging',
    'notifications',
    'operations',
    'production',
    'program',
    'vendors',
  ].map((t) => `schema/tables/${t}.ts`),
  'scripts/cli.ts',
  'scripts/commands/context.ts',
  'scripts/commands/failure.ts',
  'workflows/ids.ts',
  'workflows/production-messages.ts',
  'workflows/program-access.ts',
  'workflows/search-attributes.ts',
];

/** The packages those sources require: the Temporal client (@temporalio/workflow for the message
 * definitions), drizzle with postgres, zod for the settings, commander, tsx (bin/sources.js). */
const STATUS_PACKAGES = [
  '@temporalio/client',
  '@temporalio/common',
  '@temporalio/envconfig',
  '@temporalio/proto',
  '@temporalio/workflow',
  'commander',
  'drizzle-orm',
  'postgres',
  'tsx',
  'zod',
];

const loadedFor = async (args?: string[]) => (await loadedWith(args)).files;

const packagesOf = (files: string[]) =>
  new Set(files.flatMap((f) => f.match(/^node_modules\/((@[^/]+\/)?[^/]+)/)?.[1] ?? []));

test('--help and an unknown command load commander alone, no command module', async () => {
  for (const args of [['--help'], [], ['no-such-command']]) {
    const loaded = await loadedFor(args);
    expect([...packagesOf(loaded)].filter((p) => p !== 'tsx' && p !== 'esbuild' && p !== 'get-tsconfig')).toEqual([
      'commander',
    ]);
    expect(loaded.filter((f) => !f.startsWith('node_modules/'))).toEqual([
      'bin/sources.js',
      'bin/compile-cache.js',
      'scripts/cli.ts',
    ]);
  }
});

test('program status loads the program commands and the Temporal client, not the worker SDK, the gateway or other commands', async () => {
  const loaded = await loadedFor(['program', 'status', 'some-program']);
  const packages = packagesOf(loaded);
  expect(loaded).toEqual(expect.arrayContaining(['scripts/commands/program.ts', 'scripts/commands/disagreements.ts']));
  expect(packages.has('@temporalio/client')).toBe(true);
  for (const heavy of ['@temporalio/worker', 'fastify', 'openai', 'prom-client', '@opentelemetry/sdk-trace-node'])
    expect([heavy, packages.has(heavy)]).toEqual([heavy, false]);
  for (const other of [
    'scripts/commands/gateway.ts',
    'scripts/commands/sim.ts',
    'scripts/commands/judge.ts',
    'scripts/commands/program-start.ts', // what only `program start` needs: registration, the catalog import
    'program/registration.ts',
  ])
    expect(loaded).not.toContain(other);
});

test('program status is held to the modules it reads and prints with (its 1 s start, BENCHMARKS.md)', async () => {
  // What the status action requires when it runs: the context (config, database, Temporal connection).
  const { files, direct } = await loadedWith(['program', 'status', 'some-program'], ['scripts/commands/context.ts']);
  // Not the stack and its workflows, the vendor commands and spec schemas, the disagreement analysis
  // (stats/, CSV), reporting: each was loaded once through one import and cost the start.
  expect(files.filter((f) => !f.startsWith('node_modules/')).sort()).toEqual(
    [
      ...STATUS_MODULES,
      'human-tasks/accounting.ts',
      'scripts/commands/disagreements.ts',
      'scripts/commands/program-status.ts',
      'scripts/commands/program.ts',
      'scripts/commands/scorecard.ts',
      'workflows/messages.ts',
    ].sort(),
  );
  expect(direct).toEqual(STATUS_PACKAGES);
});

test('judge status loads the judge command modules and the Temporal client, not the judging code, the LLM client or workflows', async () => {
  const { files } = await loadedWith(
    ['judge', 'status', '--program', 'p', '--run-id', 'r'],
    ['scripts/commands/context.ts'],
  );
  const packages = packagesOf(files);
  expect(packages.has('@temporalio/client')).toBe(true);
  for (const heavy of [
    '@temporalio/worker',
    'openai',
    'fastify',
    'prom-client',
    'pino',
    '@opentelemetry/sdk-trace-node',
  ])
    expect([heavy, packages.has(heavy)]).toEqual([heavy, false]);
  for (const other of [
    'scripts/commands/judge-run-start.ts', // what only `judge run` needs
    'activities/deps.ts',
    'catalog/import.ts',
    'judging/activities.ts',
    'production/activities.ts',
    'production/batch.ts',
    'program/activities.ts',
    'workflows/production.ts',
    'workflows/prompt-optimization.ts',
  ])
    expect(files).not.toContain(other);
});

test('judge status is held to the modules it reads and prints with', async () => {
  // What the status action requires when it runs: the context (config, database, Temporal connection).
  const { files, direct } = await loadedWith(
    ['judge', 'status', '--program', 'p', '--run-id', 'r'],
    ['scripts/commands/context.ts'],
  );
  // Each judge module registers its subcommands only; eval, optimize and run require what they
  // run with (the judging engine, the LLM client, the catalog import, workflows, the spec schemas).
  expect(files.filter((f) => !f.startsWith('node_modules/')).sort()).toEqual(
    [
      ...STATUS_MODULES,
      'production/batch-progress.ts',
      'scripts/commands/judge-run.ts',
      'scripts/commands/judge-status.ts',
      'scripts/commands/judge.ts',
    ].sort(),
  );
  expect(direct).toEqual(STATUS_PACKAGES);
});

test('dependencies load as Node loads them, the sources through tsx (bin/sources.js)', async () => {
  // Each compiled file: does it carry tsx's inline source map, and would Node read its source map
  // (on while tsx's hook runs; off for a dependency, whose .js.map Node would read and index).
  const script = `
    require(${JSON.stringify(path.join(ROOT, 'scripts/cli.ts'))});
    const Module = require('node:module');
    const compiled = [];
    const compile = Module.prototype._compile;
    Module.prototype._compile = function (code, filename) {
      compiled.push([filename, code.includes('sourceMappingURL=data:application/json'), process.sourceMapsEnabled]);
      return compile.call(this, code, filename);
    };
    require(${JSON.stringify(path.join(ROOT, 'workflows/ids.ts'))});
    require('drizzle-orm');
    process.stdout.write(JSON.stringify(compiled));`;
  const out = await runWithSources(script);
  const compiled = JSON.parse(out) as [string, boolean, boolean][];
  const ours = compiled.filter(([f]) => !f.includes('/node_modules/'));
  const deps = compiled.filter(([f]) => f.includes('/node_modules/'));
  expect(ours.map(([f, ...maps]) => [path.relative(ROOT, f), ...maps])).toEqual([['workflows/ids.ts', true, true]]);
  expect(deps.length).toBeGreaterThan(5);
  expect(deps.filter(([, inline, read]) => inline || read)).toEqual([]);
});

test("program status's dependencies compile from the code cache once it is written (bin/compile-cache.js)", async () => {
  // Every JavaScript file of a dependency that status loads (after bin/sources.js, which loaded tsx):
  // compiled from a code cache V8 accepted, or not.
  const script = `
    const before = new Set(Object.keys(require.cache));
    const vm = require('node:vm');
    const cached = [], compiled = [];
    vm.Script = class extends vm.Script {
      constructor(code, options) {
        super(code, options);
        (options.cachedData && !this.cachedDataRejected ? cached : compiled).push(options.filename);
      }
    };
    const { buildCli } = require(${JSON.stringify(path.join(ROOT, 'scripts/cli.ts'))});
    buildCli(['node', 'judgeflow', 'program', 'status', 'some-program']);
    require(${JSON.stringify(path.join(ROOT, 'scripts/commands/context.ts'))});
    const dependencies = Object.keys(require.cache)
      .filter((f) => !before.has(f) && f.includes('/node_modules/') && /\\.c?js$/.test(f));
    process.stdout.write(JSON.stringify({ dependencies, cached, compiled }));`;
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-loading-'));
  try {
    const load = async () =>
      JSON.parse(await runWithSources(script, { ...process.env, TMPDIR: tmpdir })) as Record<string, string[]>;
    const first = await load();
    expect(first.cached).toEqual([]);
    expect(first.compiled.sort()).toEqual(first.dependencies.sort());
    const second = await load();
    expect(second.compiled).toEqual([]);
    expect(second.cached.sort()).toEqual(second.dependencies.sort());
    expect(second.cached.length).toBeGreaterThan(300);
  } finally {
    fs.rmSync(tmpdir, { recursive: true, force: true });
  }
});

test('every command module is in COMMANDS, and each entry registers its command as --help describes it', async () => {
  // A module that registers commands and is not reachable from COMMANDS would never run.
  const modules = fs
    .readdirSync(path.join(ROOT, 'scripts/commands'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .filter((f) =>
      /export function register\w*\(/.test(fs.readFileSync(path.join(ROOT, 'scripts/commands', f), 'utf8')),
    )
    .map((f) => `scripts/commands/${f}`);
  expect(modules.length).toBeGreaterThan(10);
  const all = await loadedFor();
  expect(modules.filter((m) => !all.includes(m))).toEqual([]);

  const everyName = new Set<string>();
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const cli = new Command('judgeflow');
    for (const register of entry.load()) register(cli);
    const registered = Object.fromEntries(cli.commands.map((c) => [c.name(), c.description()]));
    expect([name, registered[name]]).toEqual([name, entry.description]);
    for (const n of Object.keys(registered)) everyName.add(n);
  }
  // No module adds a top-level command the table (and so --help) lacks.
  expect([...everyName].sort()).toEqual(Object.keys(COMMANDS).sort());
  expect(
    buildCli()
      .commands.map((c) => c.name())
      .sort(),
  ).toEqual(Object.keys(COMMANDS).sort());
});
