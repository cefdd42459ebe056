/**
 * The simulated raters behave as documented: accuracy against the hidden truth, and agreement
 * between raters, rise with the guideline version the rater read; careless raters stay near
 * chance; writers fix failing criteria with the configured probability. Deterministic per seed.
 */
import { assessSynopsis, truthKey } from '../model/assess';
import { Rng } from '../model/rng';
import { generateShow, writeSynopsis } from '../model/world';
import type { TaskDispatch } from '../../../schema/vendor-events';
import { buildPool, codeFor, DEFAULT_POOL, FOREIGN_PENALTY, rateTask, readsLocale, showOf, writeTask } from './raters';

const criteria = ['tone', 'clarity', 'precision', 'factuality'];
const N = 300;
const dispatches = (version: number, kind: TaskDispatch['kind'] = 'rate'): TaskDispatch[] =>
  Array.from({ length: N }, (_, i) => {
    const { id, title, ...rest } = generateShow(5, i);
    return {
      taskId: `b:item-${i}:0:0`,
      batchId: 'b',
      programId: 'p',
      kind,
      raterId: 'x',
      item: {
        id: `item-${i}`,
        textHash: 'h',
        text: writeSynopsis(generateShow(5, i), Rng.for('t', i)).text,
        locale: 'en-US',
      },
      show: { id, title, ...rest },
      criteria,
      guidelineVersion: version,
      dueAt: '',
      context: {},
    };
  });

function measure(version: number, opts = { ...DEFAULT_POOL, raters: 6, carelessShare: 0, driftingShare: 0 }) {
  const pool = buildPool(opts);
  const tasks = dispatches(version);
  let correct = 0;
  let total = 0;
  let agree = 0;
  let pairs = 0;
  for (const task of tasks) {
    const truth = assessSynopsis(showOf(task), task.item.text);
    const answers = pool.slice(0, 3).map((r) => rateTask(r, task, opts, version));
    for (let c = 0; c < criteria.length; c++) {
      const values = answers.map((a) => a[c].value);
      for (const v of values) {
        correct += v === truth.criteria[truthKey(criteria[c])!] ? 1 : 0;
        total++;
      }
      for (let a = 0; a < 3; a++)
        for (let b = a + 1; b < 3; b++) {
          agree += values[a] === values[b] ? 1 : 0;
          pairs++;
        }
    }
  }
  return { accuracy: correct / total, agreement: agree / pairs };
}

test('accuracy and agreement rise with the guideline version', () => {
  const v1 = measure(1);
  const v4 = measure(4);
  expect(v1.accuracy).toBeGreaterThan(0.7);
  expect(v1.accuracy).toBeLessThan(0.9);
  expect(v4.accuracy - v1.accuracy).toBeGreaterThan(0.08);
  expect(v4.agreement - v1.agreement).toBeGreaterThan(0.1);
  expect(measure(4)).toEqual(v4); // deterministic
});

test('careless raters stay near chance whatever the guidelines', () => {
  const careless = measure(4, { ...DEFAULT_POOL, raters: 6, carelessShare: 1, driftingShare: 0 });
  expect(careless.accuracy).toBeLessThan(0.7);
});

test('writers fix failing criteria with the configured probability', () => {
  const failing = dispatches(1, 'write')
    .map((t) => ({ t, truth: assessSynopsis(showOf(t), t.item.text) }))
    .filter(({ truth }) => truth.criteria.tone === 0)
    .map(({ t }) => ({ ...t, criteria: ['tone'] }));
  expect(failing.length).toBeGreaterThan(20);
  const fixedShare = (p: number) =>
    failing.filter(
      (t) => assessSynopsis(showOf(t), writeTask(t, { ...DEFAULT_POOL, fixProbability: p })).criteria.tone === 1,
    ).length / failing.length;
  expect(fixedShare(1)).toBe(1);
  expect(fixedShare(0)).toBe(0);
});

test("a defect's code is the program taxonomy's code for its criterion, which the gateway accepts", () => {
  const taxonomy = { tone: ['TONE_GENRE', 'TONE_CLICKBAIT'], clarity: ['CLARITY_CONVOLUTED'], precision: [] };
  expect(codeFor('clickbait', 'tone', taxonomy)).toEqual(['TONE_CLICKBAIT']);
  expect(codeFor('exclamation', 'tone', taxonomy)).toEqual(['TONE_GENRE']);
  expect(codeFor('overlong_sentence', 'clarity', taxonomy)).toEqual(['CLARITY_CONVOLUTED']);
  expect(codeFor('vague_filler', 'precision', taxonomy)).toEqual([]);
  // No taxonomy (or no packet read): the defect's own name, free text.
  expect(codeFor('clickbait', 'tone', { tone: [], clarity: [] })).toEqual(['clickbait']);
  expect(codeFor('clickbait', 'tone')).toEqual(['clickbait']);
});

test('a pool with locales has native raters per locale, each accurate in their own, and the default pool has none', () => {
  const plain = buildPool({ ...DEFAULT_POOL, raters: 9 });
  expect(plain.every((r) => r.locales === undefined && readsLocale(r, 'es-ES'))).toBe(true);
  const opts = {
    ...DEFAULT_POOL,
    raters: 9,
    carelessShare: 0,
    driftingShare: 0,
    locales: ['en-US', 'es-ES', 'fr-FR'],
    localeAccuracy: { 'es-ES': -0.1 },
  };
  const pool = buildPool(opts);
  // the same raters as without locales (the en-US world does not change), with their locales added
  expect(pool.map(({ locales: _, ...r }) => r)).toEqual(buildPool({ ...opts, locales: undefined }));
  expect(pool.map((r) => Object.keys(r.locales!).join('+'))).toEqual([
    'en-US',
    'es-ES',
    'fr-FR+en-US',
    'en-US',
    'es-ES',
    'fr-FR+en-US',
    'en-US',
    'es-ES',
    'fr-FR+en-US',
  ]);
  expect(pool[2].locales).toEqual({ 'fr-FR': 0, 'en-US': -FOREIGN_PENALTY });
  expect(readsLocale(pool[1], 'es-ES') && !readsLocale(pool[1], 'en-US')).toBe(true);
  // the same rater on the same tasks is less accurate in a locale with a negative accuracy
  const accuracy = (locale: string) => {
    const rater = { ...pool[0], locales: { [locale]: opts.localeAccuracy[locale as 'es-ES'] ?? 0 } };
    let correct = 0;
    let total = 0;
    for (const task of dispatches(1)) {
      const t = { ...task, item: { ...task.item, locale } };
      const truth = assessSynopsis(showOf(task), task.item.text);
      for (const l of rateTask(rater, t, opts, 1)) {
        correct += l.value === truth.criteria[truthKey(l.criterion)!] ? 1 : 0;
        total++;
      }
    }
    return correct / total;
  };
  expect(accuracy('en-US') - accuracy('es-ES')).toBeGreaterThan(0.06);
});
