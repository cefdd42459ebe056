import {
  createRng,
  detectDrift,
  goldAccuracyDecision,
  disagreementByGroup,
  leaveOneOutAgreement,
  raterGoldAccuracy,
  voteEntropyRanking,
  type Rating,
} from '.';

describe('raterGoldAccuracy', () => {
  test('accuracy, sensitivity, specificity and kappa of each rater against gold answers', () => {
    const gold = [
      { item: 'g1', label: 1 },
      { item: 'g2', label: 1 },
      { item: 'g3', label: 0 },
      { item: 'g4', label: 0 },
      { item: 'g5', label: 1 },
    ];
    const ratings: Rating[] = [
      ...gold.map((g) => ({ item: g.item, rater: 'perfect', label: g.label })),
      // Passes everything: sensitivity 1, specificity 0.
      ...gold.map((g) => ({ item: g.item, rater: 'lenient', label: 1 })),
      { item: 'not-gold', rater: 'lenient', label: 0 },
    ];
    const [perfect, lenient] = raterGoldAccuracy(ratings, gold);
    expect(perfect).toMatchObject({
      rater: 'perfect',
      n: 5,
      correct: 5,
      accuracy: 1,
      sensitivity: 1,
      specificity: 1,
      kappa: 1,
    });
    expect(lenient).toMatchObject({
      rater: 'lenient',
      n: 5,
      correct: 3,
      accuracy: 0.6,
      sensitivity: 1,
      specificity: 0,
    });
    expect(lenient.kappa).toBe(0);
    const [lo, hi] = lenient.accuracy_ci95 as [number, number];
    expect(lo).toBeLessThan(0.6);
    expect(hi).toBeGreaterThan(0.6);
  });
  test('non-binary labels: sensitivity/specificity need a positive label', () => {
    const r = raterGoldAccuracy([{ item: 'a', rater: 'x', label: 'good' }], [{ item: 'a', label: 'good' }]);
    expect(r[0].sensitivity).toBeNull();
    expect(
      raterGoldAccuracy([{ item: 'a', rater: 'x', label: 'good' }], [{ item: 'a', label: 'good' }], {
        positive: 'good',
      })[0].sensitivity,
    ).toBe(1);
  });
});

test('leave-one-out majority: the odd rater out stands out; ties among the others are skipped', () => {
  const rng = createRng(4);
  const ratings: Rating[] = [];
  for (let u = 0; u < 300; u++) {
    const t = rng.int(2);
    for (const [rater, acc] of [
      ['a', 0.95],
      ['b', 0.95],
      ['c', 0.95],
      ['noisy', 0.55],
    ] as const)
      ratings.push({ item: `i${u}`, rater, label: rng.next() < acc ? t : 1 - t });
  }
  const loo = Object.fromEntries(leaveOneOutAgreement(ratings).map((r) => [r.rater, r]));
  expect(loo.a.agreement).toBeGreaterThan(0.85);
  expect(loo.noisy.agreement).toBeLessThan(0.65);
  expect(loo.noisy.kappa).toBeLessThan(0.3);
  for (const r of Object.values(loo)) expect(r.items + r.skipped).toBe(300);
  // Two raters who disagree: for each, "the others" is one rater, so no ties and no majority question.
  const two = leaveOneOutAgreement([
    { item: 'x', rater: 'p', label: 1 },
    { item: 'x', rater: 'q', label: 0 },
    { item: 'y', rater: 'p', label: 1 },
  ]);
  expect(two.find((r) => r.rater === 'p')).toMatchObject({ items: 1, skipped: 1, agreement: 0 });
});

describe('detectDrift', () => {
  const events = (rater: string, seed: number, before: number, after: number) => {
    const rng = createRng(seed);
    return Array.from({ length: 120 }, (_, i) => ({
      rater,
      at: 1_700_000_000_000 + i * 60_000,
      correct: rng.next() < (i < 80 ? before : after),
    }));
  };
  test('flags a rater whose recent accuracy fell, with the evidence; leaves a steady one alone', () => {
    const out = detectDrift([...events('slipping', 1, 0.92, 0.6), ...events('steady', 2, 0.9, 0.9)], {
      window: 40,
      minBaseline: 40,
    });
    const slipping = out.find((r) => r.rater === 'slipping');
    const steady = out.find((r) => r.rater === 'steady');
    expect(slipping?.flagged).toBe(true);
    expect(slipping?.recent.n).toBe(40);
    expect(slipping?.baseline.n).toBe(80);
    expect(slipping?.drop).toBeGreaterThan(0.15);
    expect(slipping?.pValue).toBeLessThan(0.01);
    expect(slipping?.reason).toMatch(/on the last 40 tasks vs/);
    expect(steady?.flagged).toBe(false);
  });
  test('order comes from `at`, not from the input order; too few tasks is not a flag', () => {
    const shuffled = events('slipping', 1, 0.92, 0.6).reverse();
    expect(detectDrift(shuffled, { window: 40, minBaseline: 40 })[0].flagged).toBe(true);
    const few = detectDrift(events('new', 3, 0.2, 0.2).slice(0, 30), { window: 20, minBaseline: 20 });
    expect(few[0]).toMatchObject({ flagged: false, drop: null });
    expect(few[0].reason).toMatch(/not enough tasks/);
  });
});

test('vote entropy ranks split items first; groups rank least agreeing first', () => {
  const ratings: Rating[] = [
    { item: 'split', rater: 'a', label: 'pass' },
    { item: 'split', rater: 'b', label: 'fail' },
    { item: 'same', rater: 'a', label: 'pass' },
    { item: 'same', rater: 'b', label: 'pass' },
    { item: 'lean', rater: 'a', label: 'pass' },
    { item: 'lean', rater: 'b', label: 'pass' },
    { item: 'lean', rater: 'c', label: 'fail' },
  ];
  const ranking = voteEntropyRanking(ratings);
  expect(ranking.map((r) => r.item)).toEqual(['split', 'lean', 'same']);
  expect(ranking[0].entropy).toBeCloseTo(1, 12);
  expect(ranking[1].entropy).toBeCloseTo(-(2 / 3) * Math.log2(2 / 3) - (1 / 3) * Math.log2(1 / 3), 12);
  expect(ranking[2]).toMatchObject({ entropy: 0, counts: [{ label: 'pass', count: 2 }] });
  const groups = disagreementByGroup({
    tone: ratings,
    clarity: ratings.map((r) => ({ ...r, label: 'pass' })),
  });
  expect(groups.map((g) => g.group)).toEqual(['tone', 'clarity']);
  expect(groups[0].disputedItems).toBe(2);
  expect(groups[1]).toMatchObject({ percent_agreement: 1, disputedItems: 0, meanEntropy: 0 });
});

describe('goldAccuracyDecision', () => {
  test('the Wilson interval matches known values', () => {
    // Textbook 95% Wilson intervals (e.g. statsmodels proportion_confint(k, n, method='wilson')).
    const ci = (k: number, n: number) => goldAccuracyDecision(k, n, { minAnswers: 1, minAccuracy: 0.7 }).ci95;
    expect(ci(0, 10)![0]).toBe(0);
    expect(ci(0, 10)![1]).toBeCloseTo(0.2775327998628899, 10);
    expect(ci(5, 10)![0]).toBeCloseTo(0.2365931, 6);
    expect(ci(5, 10)![1]).toBeCloseTo(0.7634069, 6);
    expect(ci(10, 10)![0]).toBeCloseTo(0.7224672001371101, 10);
    expect(ci(35, 50)![0]).toBeCloseTo(0.5624964953554659, 10);
    expect(ci(35, 50)![1]).toBeCloseTo(0.8089645, 6);
    expect(goldAccuracyDecision(0, 0, { minAnswers: 1, minAccuracy: 0.7 })).toMatchObject({
      ci95: null,
      accuracy: null,
      below: false,
    });
  });

  test('nothing happens before the minimum of gold answers, however bad they are', () => {
    const early = goldAccuracyDecision(0, 9, { minAnswers: 10, minAccuracy: 0.7 });
    expect(early.below).toBe(false);
    expect(early.reason).toMatch(/too few to judge \(needs 10\)/);
    expect(goldAccuracyDecision(0, 10, { minAnswers: 10, minAccuracy: 0.7 }).below).toBe(true);
  });

  test('a rater is below only when the upper bound of the interval is below the bar', () => {
    // 5/10 = 50% is below 70%, but its interval reaches 76%: not enough evidence yet.
    const unsure = goldAccuracyDecision(5, 10, { minAnswers: 10, minAccuracy: 0.7 });
    expect([unsure.below, unsure.reason]).toEqual([false, expect.stringMatching(/upper bound reaches 70.0%/)]);
    // 20/40 = 50%: the interval (35–65%) is now wholly below 70%.
    const sure = goldAccuracyDecision(20, 40, { minAnswers: 10, minAccuracy: 0.7 });
    expect(sure.below).toBe(true);
    expect(sure.reason).toMatch(
      /gold accuracy 50\.0% \(95% CI 35\.2%–64\.8%\) over 40 gold answers: the upper bound is below 70\.0%/,
    );
  });
});
