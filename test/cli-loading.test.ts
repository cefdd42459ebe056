/**
 * The CLI loads only the modules of the command it runs (scripts/cli.ts): `judgeflow --help` loads
 * none of the SDKs, `program status` not the worker SDK nor the gateway. Checked in a child process
 * run as bin/judgeflow.js runs the sources (tsx's CommonJS hook), from its require.cache.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { buildCli, COMMANDS } from '../scripts/cli';

jest.setTimeout(180_000);
const ROOT = path.resolve(__dirname, '..');

/** The modules a fresh process has loaded after building the CLI for `args` (none: the whole CLI). */
function loadedFor(args?: string[]): Promise<string[]> {
  const script = `
    const { buildCli } = require(${JSON.stringify(path.join(ROOT, 'scripts/cli.ts'))});
    buildCli(${args ? JSON.stringify(['node', 'judgeflow', ...args]) : ''});
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, out) =>
      err ? reject(err) : resolve((JSON.parse(out) as string[]).map((f) => path.relative(ROOT, f))),
    ),
  );
}

const packagesOf = (files: string[]) =>
  new Set(files.flatMap((f) => f.match(/^node_modules\/((@[^/]+\/)?[^/]+)/)?.[1] ?? []));

test('--help and an unknown command load commander alone, no command module', async () => {
  for (const args of [['--help'], [], ['no-such-command']]) {
    const loaded = await loadedFor(args);
    expect([...packagesOf(loaded)].filter((p) => p !== 'tsx' && p !== 'esbuild' && p !== 'get-tsconfig')).toEqual([
      'commander',
    ]);
    expect(loaded.filter((f) => !f.startsWith('node_modules/'))).toEqual(['scripts/cli.ts']);
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
