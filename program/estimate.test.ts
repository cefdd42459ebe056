import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { validateProgramSpec, type ProgramSpec } from '../schema/program-spec';
import { estimateProgram } from './estimate';

const loaded = validateProgramSpec(
  YAML.parse(fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8')),
);
if (!loaded.ok) throw new Error('examples/synopsis-program.yaml is invalid');
const spec = loaded.spec;
const opts = { catalogItems: 10_000, rpmLimit: 5_000, model: 'gpt-4.1-mini' };

test('the writer fix loop is in the estimate: its tasks, their cost and the re-judging of revisions', () => {
  const withLoop: ProgramSpec = {
    ...spec,
    production: { ...spec.production, limit: undefined, fixLoop: true, maxFixAttempts: 3 },
  };
  const without: ProgramSpec = { ...withLoop, production: { ...withLoop.production, fixLoop: false } };
  const a = estimateProgram(withLoop, opts);
  const b = estimateProgram(without, opts);
  // 30% of 10,000 synopses fail, 1.5 attempts each; at most 3 each.
  expect(a.humanTasks.fixLoop).toEqual({ expected: 4500, max: 9000 });
  expect(b.humanTasks.fixLoop).toEqual({ expected: 0, max: 0 });
  expect(a.humanTasks.total - b.humanTasks.total).toBe(4500);
  const writeRate = Math.min(...spec.vendors.map((v) => v.rateCard.write));
  expect(a.costUsd.human - b.costUsd.human).toBeCloseTo(4500 * writeRate, 2);
  expect(a.costUsd.maxTotal - b.costUsd.maxTotal).toBeGreaterThanOrEqual(9000 * writeRate);
  expect(a.llmCalls.production).toBeGreaterThan(b.llmCalls.production);
  expect(a.notes.join('\n')).toMatch(
    /fix loop: assumes 30% of judged synopses fail a criterion and take 1.5 writer attempts each \(at most 3\)/,
  );
});

test('LLM calls follow the samples each criterion sets: a panel of 1-sample agents is 4 requests and a merge per synopsis, not 20', () => {
  // examples/synopsis-program.yaml: tone 5, clarity 5, precision 1, factuality [plot, metadata, talent, awards] × 1.
  const s: ProgramSpec = { ...spec, production: { ...spec.production, limit: undefined, fixLoop: false } };
  const e = estimateProgram(s, opts);
  expect(e.llmCalls.production).toBe(10_000 * (5 + 5 + 1 + 4 + 1));
  // Judge development judges the golden set without merging; the panel is not optimized.
  expect(e.llmCalls.judgeValidation).toBe(s.rounds.goldenSetSize * 15);
  expect(e.llmCalls.optimizer).toBe(s.judges.maxOptimizerCalls * 3);
  // The program-wide samples price only the criteria that set none.
  const wide = estimateProgram(
    { ...s, criteria: s.criteria.map((c) => ({ ...c, judge: { ...c.judge, samples: undefined } })) },
    opts,
  );
  expect(wide.llmCalls.production).toBe(10_000 * (5 + 5 + 5 + 4 * 5 + 1));
});
