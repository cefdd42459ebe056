/**
 * `judgeflow sim catalog` and `sim llm` as a user runs them (the `sim` command group alone, so
 * this test does not depend on every other command loading): files written with default paths,
 * records valid and equal to the generator's, bad options refused with exit code 2 (bin/judgeflow.js
 * exits with an error's exitCode; main() maps commander's own errors to 2).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { catalogRecordSchema, truthSchema, behaviorSchema } from '../../schema/catalog';
import { assessSynopsis } from '../sim/model/assess';
import { CatalogOptionsError, generateCatalog } from '../sim/model/catalog';
import { LlmSimConfigError } from '../sim/llm/options';
import { registerSimCommands } from './sim';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-sim-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli() {
  const program = new Command('judgeflow').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerSimCommands(program);
  return program;
}
const run = (...args: string[]) => cli().parseAsync(['node', 'judgeflow', 'sim', ...args]);
const readJsonl = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('judgeflow sim catalog', () => {
  it('writes catalog, truth and behaviour files (defaults beside --out) matching the generator', async () => {
    const out = path.join(dir, 'nested', 'catalog.jsonl');
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    await run('catalog', '--shows', '40', '--seed', '12', '--out', out, '--json');
    const summary = JSON.parse(log.mock.calls[0][0] as string);
    log.mockRestore();
    expect(summary).toMatchObject({
      simulated: true,
      shows: 40,
      files: {
        truth: path.join(dir, 'nested', 'catalog.truth.jsonl'),
        behavior: path.join(dir, 'nested', 'catalog.behavior.jsonl'),
      },
    });

    const records = readJsonl(out).map((r) => catalogRecordSchema.parse(r));
    const truths = readJsonl(summary.files.truth).map((t) => truthSchema.parse(t));
    const behaviors = readJsonl(summary.files.behavior).map((b) => behaviorSchema.parse(b));
    const expected = [...generateCatalog({ shows: 40, seed: 12 })];
    expect(records.filter((r) => r.kind === 'show')).toHaveLength(40);
    expect(records.filter((r) => r.kind === 'synopsis').map((r) => r.id)).toEqual(
      expected.flatMap((s) => s.synopses.map((x) => x.id)),
    );
    expect(summary.synopses).toBe(truths.length);
    expect(behaviors).toHaveLength(truths.length);
    // what judges see carries no truth; the truth file equals assessSynopsis of each line's text
    expect(fs.readFileSync(out, 'utf8')).not.toMatch(/criteria|defects/);
    const shows = new Map(records.filter((r) => r.kind === 'show').map((r) => [r.id, r]));
    for (const r of records) {
      if (r.kind !== 'synopsis') continue;
      const truth = truths.find((t) => t.synopsisId === r.id)!;
      expect(truth.criteria).toEqual(assessSynopsis(shows.get(r.showId) as never, r.text).criteria);
    }
  });

  it('honours --truth, --behavior, --synopses and --defect-rates', async () => {
    const truth = path.join(dir, 'answers.jsonl');
    const behavior = path.join(dir, 'members.jsonl');
    jest.spyOn(console, 'log').mockImplementation(() => {});
    await run(
      'catalog',
      '--shows',
      '30',
      '--out',
      path.join(dir, 'c2.jsonl'),
      '--truth',
      truth,
      '--behavior',
      behavior,
      '--synopses',
      '3-3',
      '--defect-rates',
      'tone=1,factuality.talent=0',
    );
    jest.restoreAllMocks();
    const truths = readJsonl(truth);
    expect(truths).toHaveLength(90);
    expect(truths.every((t) => t.criteria.tone === 0 && t.criteria.factuality_talent === 1)).toBe(true);
    expect(readJsonl(behavior)).toHaveLength(90);
  });

  it('refuses bad options with exit code 2 and a message naming the option', async () => {
    const refused = async (...args: string[]) => {
      const err = (await run(...args).then(
        () => null,
        (e: unknown) => e,
      )) as Error & { exitCode: number };
      expect(err).not.toBeNull();
      return err;
    };
    expect((await refused('catalog', '--shows', '0', '--out', path.join(dir, 'x.jsonl'))).message).toMatch(/--shows/);
    expect(await refused('catalog', '--out', path.join(dir, 'x.jsonl'))).toBeInstanceOf(CommanderError); // --shows missing: main() maps it to exit 2
    const rate = await refused(
      'catalog',
      '--shows',
      '2',
      '--out',
      path.join(dir, 'x.jsonl'),
      '--defect-rates',
      'tone=1.5',
    );
    expect(rate).toBeInstanceOf(CatalogOptionsError);
    expect(rate.exitCode).toBe(2);
    expect(rate.message).toMatch(/defect rate tone/);
    expect(
      (await refused('catalog', '--shows', '2', '--out', path.join(dir, 'x.jsonl'), '--defect-rates', 'mood=0.1'))
        .message,
    ).toMatch(/unknown criterion "mood"/);
    const range = await refused('catalog', '--shows', '2', '--out', path.join(dir, 'x.jsonl'), '--synopses', 'many');
    expect(range).toBeInstanceOf(CommanderError);
    expect(range.message).toMatch(/--synopses/);
    expect(
      (await refused('catalog', '--shows', '2', '--out', path.join(dir, 'x.jsonl'), '--synopses', '4-2')).message,
    ).toMatch(/synopsesPerShow/);
    expect(fs.existsSync(path.join(dir, 'x.jsonl'))).toBe(false);
  });
});

describe('judgeflow sim llm', () => {
  it('refuses an invalid config file or flags with exit code 2, naming the field', async () => {
    const file = path.join(dir, 'llm.yaml');
    fs.writeFileSync(file, 'accuracy:\n  tone: 1.5\nfaults:\n  bogus: 0.1\n');
    const err = (await run('llm', '--config', file, '--port', '0').then(
      () => null,
      (e: unknown) => e,
    )) as LlmSimConfigError;
    expect(err).toBeInstanceOf(LlmSimConfigError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/accuracy\.tone/);
    expect(err.message).toMatch(/bogus/);
    const missing = (await run('llm', '--config', path.join(dir, 'nope.yaml')).then(
      () => null,
      (e: unknown) => e,
    )) as LlmSimConfigError;
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toMatch(/Cannot read/);
    const flags = (await run('llm', '--latency', '500,100', '--port', '0').then(
      () => null,
      (e: unknown) => e,
    )) as LlmSimConfigError;
    expect(flags.message).toMatch(/p99Ms must be ≥ medianMs/);
  });
});
