import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { programSpecJsonSchema, SPEC_SCHEMA_FILE } from '../scripts/spec-schema';
import {
  criterionAgreementLevel,
  criterionLabelRange,
  criterionPassAt,
  criterionSamples,
  durationMs,
  likertScale,
  programLocales,
  validateProgramSpec,
} from './program-spec';

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
        'vendors.0: an inline vendor needs secretEnv (or secret); to use a registered vendor give its id alone',
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

  const likert = (fields: Record<string, unknown>, labels?: Record<string, number>) => {
    const spec = structuredClone(example);
    Object.assign(spec.criteria[1], { scale: 'likert', ...fields });
    if (labels) spec.goldExamples = [{ itemId: 's1', labels }];
    return validateProgramSpec(spec);
  };
  const problemsOf = (result: ReturnType<typeof validateProgramSpec>) =>
    result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);

  test('a vendor is referenced by its id alone; an inline one needs all its fields, and an id appears once', () => {
    const spec = structuredClone(example);
    spec.vendors = [{ id: 'acme-labels' }, { id: 'beta', roles: ['write'] }];
    spec.production.writerVendor = 'beta';
    expect(validateProgramSpec(spec).ok).toBe(true);
    spec.vendors = [
      { id: 'acme-labels' },
      { id: 'beta', name: 'Beta', secretEnv: 'BETA_SECRET' },
      { id: 'acme-labels' },
    ];
    const bad = validateProgramSpec(spec);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(
      expect.arrayContaining([
        'vendors.1: an inline vendor needs kind, endpoint, rateCard; to use a registered vendor give its id alone',
        'vendors.2.id: duplicate vendor "acme-labels"',
      ]),
    );
  });

  test('a Likert criterion with points and passAt is accepted; its labels are 1..points and passAt decides', () => {
    const result = likert({ points: 5, passAt: 4 }, { tone: 1, clarity: 5 });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const clarity = result.spec.criteria[1];
    expect(criterionLabelRange(clarity)).toEqual({ min: 1, max: 5 });
    expect(criterionPassAt(clarity)).toBe(4);
    expect(criterionAgreementLevel(clarity)).toBe('ordinal');
    expect(likertScale(clarity)).toEqual({ points: 5, passAt: 4 });
    // Binary: 0..1, 1 passes, nominal agreement, no Likert scale for its judge.
    expect(criterionLabelRange(result.spec.criteria[0])).toEqual({ min: 0, max: 1 });
    expect(criterionPassAt(result.spec.criteria[0])).toBe(1);
    expect(criterionAgreementLevel(result.spec.criteria[0])).toBe('nominal');
    expect(likertScale(result.spec.criteria[0])).toBeUndefined();
    const interval = likert({
      points: 7,
      passAt: 5,
      agreementLevel: 'interval',
      agreementMetric: 'krippendorff_alpha',
    });
    if (!interval.ok) throw new Error(JSON.stringify(interval.problems));
    expect(criterionAgreementLevel(interval.spec.criteria[1])).toBe('interval');
  });

  test.each([
    [{ passAt: 4 }, 'criteria.1.points: criterion "clarity": a Likert criterion needs points (3 to 10)'],
    [
      { points: 5 },
      'criteria.1.passAt: criterion "clarity": a Likert criterion needs passAt (the lowest score that passes)',
    ],
    [{ points: 2, passAt: 2 }, 'criteria.1.points: Too small: expected number to be >=3'],
    [{ points: 11, passAt: 4 }, 'criteria.1.points: Too big: expected number to be <=10'],
    [{ points: 5, passAt: 6 }, 'criteria.1.passAt: criterion "clarity": passAt 6 is above the scale\'s 5 points'],
    [{ points: 5, passAt: 1 }, 'criteria.1.passAt: Too small: expected number to be >=2'],
    [
      { points: 5, passAt: 4, agreementLevel: 'nominal' },
      'criteria.1.agreementLevel: Invalid option: expected one of "ordinal"|"interval"',
    ],
  ])('a Likert criterion with %j is refused', (fields, problem) => {
    expect(problemsOf(likert(fields))).toEqual([problem]);
  });

  test('Likert fields on a binary criterion, and a Likert panel, are refused', () => {
    const spec = structuredClone(example);
    Object.assign(spec.criteria[0], { points: 5, agreementLevel: 'ordinal' });
    Object.assign(spec.criteria[3], { scale: 'likert', points: 5, passAt: 4 });
    expect(problemsOf(validateProgramSpec(spec))).toEqual([
      'criteria.0.points: criterion "tone": points applies to Likert criteria only (scale: likert)',
      'criteria.0.agreementLevel: criterion "tone": agreementLevel applies to Likert criteria only (scale: likert)',
      'criteria.3.panel: criterion "factuality": a panel\'s verdict is the min of pass/fail agents, so it needs scale: binary',
    ]);
  });

  test("gold example labels are within their criterion's range: 0 or 1 for binary, 1..points for Likert", () => {
    expect(problemsOf(likert({ points: 5, passAt: 4 }, { tone: 2, clarity: 0 }))).toEqual([
      'goldExamples.0.labels.tone: expected 0 (fail) or 1 (pass)',
      'goldExamples.0.labels.clarity: expected an integer from 1 to 5',
    ]);
    expect(problemsOf(likert({ points: 5, passAt: 4 }, { clarity: 6 }))).toEqual([
      'goldExamples.0.labels.clarity: expected an integer from 1 to 5',
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

  test('notification receivers: every event by default; each mistake refused with its path', () => {
    const ok = validateProgramSpec({
      ...example,
      notifications: [
        { id: 'ops', kind: 'webhook', url: 'https://ops.example.com/hooks', secretEnv: 'OPS_HOOK_SECRET' },
        { id: 'pm-slack', kind: 'slack', urlEnv: 'SLACK_WEBHOOK_URL', events: ['gate.waiting', 'program.failed'] },
      ],
    });
    if (!ok.ok) throw new Error(JSON.stringify(ok.problems));
    expect(ok.spec.notifications[0].events).toContain('budget.warning');
    expect(ok.spec.notifications[0].events).toHaveLength(8);
    const none = validateProgramSpec(example);
    expect(none.ok && none.spec.notifications).toEqual([]);
    const bad = validateProgramSpec({
      ...example,
      notifications: [
        { id: 'ops', kind: 'webhook', url: 'https://ops.example.com/hooks' },
        { id: 'ops', kind: 'slack', url: 'https://hooks.slack.com/x', urlEnv: 'SLACK_URL' },
        { id: 'third', kind: 'slack', events: ['gate.opened'], urlEnv: 'lower_case' },
      ],
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const byPath = Object.fromEntries(bad.problems.map((p) => [p.path, p.message]));
    expect(byPath['notifications.0.secretEnv']).toBe('a webhook receiver needs secretEnv to sign with');
    expect(byPath['notifications.1.id']).toBe('duplicate receiver "ops"');
    expect(byPath['notifications.1']).toBe('a receiver needs url or urlEnv (one of them)');
    expect(byPath['notifications.2.events.0']).toMatch(/gate\.waiting/);
    expect(byPath['notifications.2.urlEnv']).toBe('expected an environment variable name');
  });

  test('rater QA: 10 gold answers and flag-only drift by default; a qualification batch needs that many gold examples', () => {
    const result = validateProgramSpec(example);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.spec.raters).toMatchObject({ minGoldAnswers: 10, onDrift: 'flag' });
    expect(result.spec.raters.qualification).toBeUndefined();
    const raters = { ...example.raters, onDrift: 'pause', qualification: { items: 2, minAccuracy: 0.8 } };
    const gold = [{ itemId: 'a', labels: { tone: 1 } }];
    expect(problemsOf(validateProgramSpec({ ...example, raters, goldExamples: gold }))).toEqual([
      'raters.qualification.items: the qualification batch needs 2 gold items; goldExamples has 1',
    ]);
    const enough = validateProgramSpec({ ...example, raters, goldExamples: [...gold, { itemId: 'b', labels: {} }] });
    expect(enough.ok && enough.spec.raters).toMatchObject({ onDrift: 'pause', qualification: { items: 2 } });
    const wrong = { ...raters, onDrift: 'ignore', minGoldAnswers: 0 };
    expect(
      problemsOf(validateProgramSpec({ ...example, raters: wrong, goldExamples: gold })).map((p) => p.split(':')[0]),
    ).toEqual(expect.arrayContaining(['raters.onDrift', 'raters.minGoldAnswers']));
  });

  test('locales: each falls back to the program guidelines and rubrics; duplicates and unknown criteria are refused', () => {
    const single = validateProgramSpec(example);
    if (!single.ok) throw new Error(JSON.stringify(single.problems));
    expect(programLocales(single.spec).map((l) => l.code)).toEqual(['en-US']);

    const multi = structuredClone(example);
    multi.locales = [
      { code: 'en-US' },
      {
        code: 'es-ES',
        guidelines: { version: 2, text: 'Califique cada criterio.' },
        rubrics: { tone: 'Tono de marca.' },
      },
    ];
    const result = validateProgramSpec(multi);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const [en, es] = programLocales(result.spec);
    expect(en.guidelines).toEqual(result.spec.guidelines);
    expect(en.rubrics.tone).toBe(result.spec.criteria[0].rubric);
    expect(es.guidelines).toEqual({ version: 2, text: 'Califique cada criterio.' });
    expect(es.rubrics.tone).toBe('Tono de marca.');
    expect(es.rubrics.clarity).toBe(result.spec.criteria[1].rubric);

    const bad = structuredClone(multi);
    bad.locales = [{ code: 'es-ES' }, { code: 'es-ES', rubrics: { nope: 'x' } }, { code: 'Spanish' }];
    const refused = validateProgramSpec(bad);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    const byPath = Object.fromEntries(refused.problems.map((p) => [p.path, p.message]));
    expect(byPath['locales.1.code']).toMatch(/duplicate locale "es-ES"/);
    expect(byPath['locales.1.rubrics.nope']).toMatch(/unknown criterion "nope"/);
    expect(byPath['locales.2.code']).toMatch(/locale code like en-US/);
  });

  test('owners and viewers: unset means anyone may steer; viewers without owners are refused', () => {
    const open = validateProgramSpec(example);
    if (!open.ok) throw new Error(JSON.stringify(open.problems));
    expect([open.spec.owners, open.spec.viewers]).toEqual([undefined, []]);
    const owned = validateProgramSpec({ ...example, owners: ['ann@example.com'], viewers: ['os:bob'] });
    expect(owned.ok && [owned.spec.owners, owned.spec.viewers]).toEqual([['ann@example.com'], ['os:bob']]);
    for (const [bad, path, message] of [
      [{ viewers: ['bob'] }, 'viewers', /without owners/],
      [{ owners: [] }, 'owners', /./],
      [{ owners: [''] }, 'owners.0', /./],
    ] as const) {
      const refused = validateProgramSpec({ ...example, ...bad });
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.problems.find((p) => p.path === path)?.message).toMatch(message);
    }
  });

  test("items: the selection's filters are accepted; a malformed one and a locale outside the program's are refused", () => {
    const items = {
      catalog: 'catalog.jsonl',
      locale: ['en-US', 'es-ES'],
      showIds: ['show-1'],
      genres: ['Drama'],
      updatedSince: '2026-01-31',
      sample: { size: 500 },
    };
    const multi = validateProgramSpec({ ...example, items, locales: [{ code: 'en-US' }, { code: 'es-ES' }] });
    if (!multi.ok) throw new Error(JSON.stringify(multi.problems));
    expect(multi.spec.items).toEqual({ ...items, sample: { size: 500, seed: 1 } });
    const at = validateProgramSpec({ ...example, items: { updatedSince: '2026-01-31T08:00:00+01:00' } });
    expect(at.ok).toBe(true);
    const refused = validateProgramSpec({
      ...example,
      items: { locale: 'es-ES', showIds: [], genres: [''], updatedSince: 'last week', sample: { size: 0 } },
    });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    const byPath = Object.fromEntries(refused.problems.map((p) => [p.path, p.message]));
    expect(byPath['items.locale']).toBe('"es-ES" is not a locale of the program (en-US): add it to locales');
    for (const path of ['items.showIds', 'items.genres.0', 'items.updatedSince', 'items.sample.size'])
      expect(byPath[path]).toBeDefined();
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
