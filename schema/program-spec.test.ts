import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { programSpecJsonSchema, SPEC_SCHEMA_FILE } from '../scripts/spec-schema';
import { criterionSamples, durationMs, validateProgramSpec } from './program-spec';

const example = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../examples/synopsis-program.yaml'), 'utf8'));

describe('program spec', () => {
  test('the seed-004 example is valid and gets the documented defaults', () => {
    const result = validateProgramSpec(example);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.spec.criteria.map((c) => c.id)).toEqual(['tone', 'clarity', 'precision', 'factuality']);
    expect(result.spec.criteria[0].scale).toBe('binary');
    expect(result.spec.rounds.maxCalibrationRounds).toBe(8);
    expect(result.spec.gates.autoAfter).toBe('0s');
  });

  test('a bad spec is refused with every problem listed by path', () => {
    const bad = structuredClone(example);
    bad.criteria = [];
    bad.budget.usd = -5;
    bad.targets.agreement = 1.5;
    bad.production.writerVendor = 'nobody';
    bad.errorTaxonomy[0].criterion = 'tone'; // still valid
    bad.vendors[0].secretEnv = undefined;
    const result = validateProgramSpec(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
    expect(byPath.criteria).toMatch(/at least one criterion/);
    expect(byPath['budget.usd']).toMatch(/budget must be positive/);
    expect(byPath['targets.agreement']).toBeDefined();
    expect(byPath['production.writerVendor']).toBe('unknown vendor "nobody"');
    expect(byPath['vendors.0']).toMatch(/needs secretEnv/);
    expect(result.problems.length).toBeGreaterThanOrEqual(5);
  });

  test('references to unknown criteria and vendors, duplicates and missing secrets are each named', () => {
    const bad = structuredClone(example);
    bad.production.writerVendor = 'nobody';
    bad.vendors[0].secretEnv = undefined;
    bad.errorTaxonomy.push({ code: 'X', criterion: 'humour', description: 'not a criterion here' });
    bad.goldExamples = [{ itemId: 's1', labels: { tone: 1, wit: 0 } }];
    bad.criteria.push({ ...bad.criteria[0] });
    const result = validateProgramSpec(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.problems.map((p) => `${p.path}: ${p.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'production.writerVendor: unknown vendor "nobody"',
        'vendors.0: a vendor needs secretEnv (or secret) to verify its events',
        `errorTaxonomy.${bad.errorTaxonomy.length - 1}.criterion: unknown criterion "humour"`,
        'goldExamples.0.labels.wit: unknown criterion "wit"',
        'criteria.4.id: duplicate criterion "tone"',
      ]),
    );
  });

  test.each([
    ['id', 'Not A Slug'],
    ['sla', { remindAfter: 'tomorrow' }],
    ['rounds', { maxCalibrationRounds: 9 }],
    ['vendors', [{ id: 'v', name: 'V', kind: 'fax', endpoint: 'x', rateCard: {} }]],
  ])('field %s with a bad value is refused', (field, value) => {
    const result = validateProgramSpec({ ...example, [field]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.some((p) => p.path.startsWith(field))).toBe(true);
  });

  test('a likert criterion is refused with one message naming it and saying binary is supported', () => {
    const bad = structuredClone(example);
    bad.criteria[1].scale = 'likert';
    bad.criteria[1].likertPoints = 5;
    const result = validateProgramSpec(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      {
        path: 'criteria.1.scale',
        message: expect.stringMatching(
          /^criterion "clarity": Likert scales are not supported — judgeflow runs binary \(pass\/fail\) criteria only/,
        ),
      },
    ]);
  });

  test('gold example labels are 0 (fail) or 1 (pass)', () => {
    const bad = structuredClone(example);
    bad.goldExamples = [{ itemId: 's1', labels: { tone: 1, clarity: 3 } }];
    const result = validateProgramSpec(bad);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems).toEqual([
        { path: 'goldExamples.0.labels.clarity', message: 'expected 0 (fail) or 1 (pass)' },
      ]);
  });

  test('samples per criterion: the criterion’s judge.samples, else judges.samples', () => {
    const result = validateProgramSpec({
      ...example,
      criteria: example.criteria.map((c: { id: string }) =>
        c.id === 'clarity' ? { ...c, judge: { temperature: 0.3 } } : c,
      ),
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    // examples/synopsis-program.yaml: tone 5, precision and the factuality panel 1; clarity now takes judges.samples (5).
    expect(criterionSamples(result.spec)).toEqual({ tone: 5, clarity: 5, precision: 1, factuality: 1 });
    expect(criterionSamples({ ...result.spec, judges: { ...result.spec.judges, samples: 3 } }).clarity).toBe(3);
  });

  test('durations', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('3d')).toBe(259_200_000);
    expect(() => durationMs('soon')).toThrow('not a duration');
  });

  test('the committed JSON Schema for editors is current (npm run docs:spec-schema)', () => {
    expect(fs.readFileSync(SPEC_SCHEMA_FILE, 'utf8')).toBe(programSpecJsonSchema());
  });
});
