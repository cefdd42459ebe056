/** The spec's golden settings: their defaults, and every value that cannot work refused with its path. */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { goldenSettings, validateProgramSpec } from './program-spec';

const example = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'));

test('defaults: LLM aggregation with fixed redundancy, as before the setting existed', () => {
  const result = validateProgramSpec(example);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const defaults = { aggregation: 'llm', redundancy: 'fixed', maxRatingsPerItem: 5, minConfidence: 0.75 };
  expect(result.spec.golden).toEqual(defaults);
  // A spec stored before `golden` existed reads the same.
  expect(goldenSettings({ ...result.spec, golden: undefined as never })).toEqual(defaults);
});

test('each method and adaptive redundancy are accepted', () => {
  for (const aggregation of ['llm', 'dawid-skene', 'majority']) {
    const golden = { aggregation, redundancy: 'adaptive', maxRatingsPerItem: 3, minConfidence: 0.9 };
    const result = validateProgramSpec({ ...example, golden });
    expect(result.ok && result.spec.golden).toEqual(golden);
  }
});

test.each([
  [{ aggregation: 'median' }, 'golden.aggregation', /Invalid option|expected one of/],
  [{ redundancy: 'sometimes' }, 'golden.redundancy', /Invalid option|expected one of/],
  [{ maxRatingsPerItem: 1 }, 'golden.maxRatingsPerItem', /starts at 2 ratings/],
  [{ maxRatingsPerItem: 16 }, 'golden.maxRatingsPerItem', /16|<=15|too big/i],
  [{ maxRatingsPerItem: 2.5 }, 'golden.maxRatingsPerItem', /integer|int/i],
  [{ minConfidence: 0.5 }, 'golden.minConfidence', /coin flip: expected above 0.5/],
  [{ minConfidence: 1.2 }, 'golden.minConfidence', /1|too big/],
])('refused: %j', (golden, at, message) => {
  const result = validateProgramSpec({ ...example, golden });
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.problems.find((p) => p.path === at)?.message).toMatch(message);
});
