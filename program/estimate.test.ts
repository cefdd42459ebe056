import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { validateProgramSpec, type ProgramSpec } from '../schema/program-spec';
import { estimateProgram, vendorRateCard } from './estimate';

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
  const writeRate = Math.min(...spec.vendors.map((v) => vendorRateCard(v).write));
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

test('the golden settings price what they run: adaptive redundancy 3 ratings expected and its maximum at worst; no LLM aggregation without the LLM', () => {
  const golden = { aggregation: 'llm', redundancy: 'adaptive', maxRatingsPerItem: 5, minConfidence: 0.65 } as const;
  const fixed = estimateProgram(spec, opts);
  const adaptive = estimateProgram({ ...spec, golden }, opts);
  const statistical = estimateProgram({ ...spec, golden: { ...golden, aggregation: 'dawid-skene' } }, opts);
  const tasks = (perItem: number) => Math.ceil(spec.rounds.goldenSetSize * perItem * (1 + spec.raters.goldRate));
  expect(fixed.humanTasks.goldenSet).toBe(tasks(spec.raters.perItem));
  expect(adaptive.humanTasks.goldenSet).toBe(tasks(3));
  // At worst every item gets 5 ratings instead of the fixed 3.
  const rate = Math.min(...spec.vendors.map((v) => vendorRateCard(v).rate));
  expect(adaptive.costUsd.maxTotal - fixed.costUsd.maxTotal).toBeGreaterThanOrEqual(
    (tasks(5) - tasks(3)) * rate - 1e-6,
  );
  expect(adaptive.llmCalls.goldenAggregation).toBe(fixed.llmCalls.goldenAggregation);
  expect(fixed.llmCalls.goldenAggregation).toBeGreaterThan(0);
  expect(statistical.llmCalls.goldenAggregation).toBe(0);
});
