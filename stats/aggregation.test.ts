import { accuracyAgainst, CROWDS, simulateCrowd } from './crowds';
import {
  aggregateLabels,
  binaryClassificationMetrics,
  createRng,
  dawidSkene,
  majorityVote,
  needsAnotherRating,
  roundedMeanConsensus,
  StatsInputError,
  type Rating,
} from '.';
import { wikipediaCohen } from './__fixtures__/published';

/** Items with hidden truth rated by raters of given accuracies (errors uniform over the other classes). */
function simulate(seed: number, items: number, accuracies: number[], classes: number, prior?: number[]) {
  const rng = createRng(seed);
  const truth: number[] = [];
  const ratings: Rating[] = [];
  for (let u = 0; u < items; u++) {
    let t = rng.int(classes);
    if (prior) {
      let x = rng.next();
      t = 0;
      while (x >= prior[t]) x -= prior[t++];
    }
    truth.push(t);
    accuracies.forEach((acc, r) => {
      let label = t;
      if (rng.next() >= acc) label = (t + 1 + rng.int(classes - 1)) % classes;
      ratings.push({ item: `item-${u}`, rater: `rater-${r}`, label });
    });
  }
  return { truth, ratings };
}

const accuracyOf = (labels: (string | number | null)[], truth: number[]) =>
  labels.filter((l, i) => l === truth[i]).length / truth.length;

describe('majorityVote', () => {
  const ratings: Rating[] = [
    { item: 'a', rater: 'x', label: 1 },
    { item: 'a', rater: 'y', label: 1 },
    { item: 'a', rater: 'z', label: 0 },
    { item: 'b', rater: 'x', label: 1 },
    { item: 'b', rater: 'y', label: 0 },
  ];
  test('the winner with its vote share; a tie follows the explicit policy', () => {
    expect(majorityVote(ratings, { tie: 'none' })).toEqual([
      { item: 'a', label: 1, confidence: 2 / 3, ratings: 3, tied: false },
      { item: 'b', label: null, confidence: 0.5, ratings: 2, tied: true },
    ]);
    expect(majorityVote(ratings, { tie: 'lowest' })[1].label).toBe(0); // 0/1 verdicts: a tie fails closed
    expect(majorityVote(ratings, { tie: 'highest' })[1].label).toBe(1);
  });
  test('a conflicting duplicate is refused', () => {
    expect(() => majorityVote([...ratings, { item: 'a', rater: 'x', label: 0 }], { tie: 'none' })).toThrow(
      StatsInputError,
    );
  });
});

describe('Dawid–Skene', () => {
  test('beats majority vote when raters differ in skill (binary)', () => {
    // Two careful raters and three near-random ones: the majority is dragged down by the three.
    const { truth, ratings } = simulate(42, 1000, [0.92, 0.9, 0.6, 0.58, 0.55], 2);
    const mv = accuracyOf(
      majorityVote(ratings, { tie: 'lowest' }).map((r) => r.label),
      truth,
    );
    const ds = dawidSkene(ratings);
    const dsAcc = accuracyOf(
      ds.items.map((r) => r.label),
      truth,
    );
    console.log(`binary: majority ${mv.toFixed(3)}, Dawid–Skene ${dsAcc.toFixed(3)} after ${ds.iterations} iterations`);
    expect(ds.converged).toBe(true);
    expect(dsAcc).toBeGreaterThan(mv + 0.03);
    // It recovers who is good: estimated accuracies within 0.05 of the simulated ones.
    [0.92, 0.9, 0.6, 0.58, 0.55].forEach((acc, r) => expect(Math.abs(ds.raters[r].accuracy - acc)).toBeLessThan(0.05));
  });

  test('beats majority vote on multi-class labels with unequal skill and skewed priors', () => {
    const { truth, ratings } = simulate(7, 1500, [0.85, 0.5, 0.45, 0.45], 4, [0.5, 0.25, 0.15, 0.1]);
    const mv = accuracyOf(
      majorityVote(ratings, { tie: 'lowest' }).map((r) => r.label),
      truth,
    );
    const ds = dawidSkene(ratings);
    const dsAcc = accuracyOf(
      ds.items.map((r) => r.label),
      truth,
    );
    console.log(`4 classes: majority ${mv.toFixed(3)}, Dawid–Skene ${dsAcc.toFixed(3)}`);
    expect(dsAcc).toBeGreaterThan(mv + 0.03);
    expect(ds.priors[0]).toBeGreaterThan(0.4);
    const rows = [...ds.items.map((i) => i.posterior), ...ds.raters.flatMap((r) => r.confusion)];
    expect(Math.max(...rows.map((row) => Math.abs(row.reduce((a, b) => a + b, 0) - 1)))).toBeLessThan(1e-9);
  });

  test.each(Object.entries(CROWDS))('does not lose to majority vote on simulated crowds: %s', (name, spec) => {
    const { truth, ratings } = simulateCrowd(spec);
    const mv = accuracyAgainst(truth, majorityVote(ratings, { tie: 'lowest' }));
    const ds = accuracyAgainst(truth, dawidSkene(ratings).items);
    console.log(`${name}: majority ${mv.toFixed(3)}, Dawid–Skene ${ds.toFixed(3)}`);
    expect(ds).toBeGreaterThanOrEqual(mv);
  });

  test('the crowd prior is what keeps it ahead on a very sparse crowd (10 labels per rater)', () => {
    const { truth, ratings } = simulateCrowd(CROWDS['very sparse, 3 classes']);
    const mv = accuracyAgainst(truth, majorityVote(ratings, { tie: 'lowest' }));
    // Classic Dawid–Skene fits each rater's 3×3 confusion matrix to ~10 labels and falls behind.
    expect(accuracyAgainst(truth, dawidSkene(ratings, { shrinkage: 0 }).items)).toBeLessThan(mv);
    expect(accuracyAgainst(truth, dawidSkene(ratings).items)).toBeGreaterThan(mv + 0.01);
  });

  test('unanimous raters give certain posteriors; no ratings is bad input', () => {
    const ratings: Rating[] = ['a', 'b', 'c', 'd'].flatMap((item, i) =>
      ['x', 'y', 'z'].map((rater) => ({ item, rater, label: i % 2 ? 'pass' : 'fail' })),
    );
    const ds = dawidSkene(ratings);
    expect(ds.items.map((i) => i.label)).toEqual(['fail', 'pass', 'fail', 'pass']);
    for (const i of ds.items) expect(i.confidence).toBeGreaterThan(0.99);
    expect(() => dawidSkene([])).toThrow(StatsInputError);
  });
});

describe('adaptive redundancy', () => {
  const rule = { maxRatings: 4, minConfidence: 0.7 };
  const item = (...criteria: [number, number][]) => criteria.map(([confidence, ratings]) => ({ confidence, ratings }));

  test('an agreeing pair stops; a split pair, a 2-of-3 majority or a criterion below the bar goes on', () => {
    expect(needsAnotherRating(item([1, 2], [1, 2]), rule)).toBe(false);
    expect(needsAnotherRating(item([1, 2], [0.5, 2]), rule)).toBe(true);
    expect(needsAnotherRating(item([2 / 3, 3], [1, 3]), rule)).toBe(true);
    expect(needsAnotherRating(item([0.75, 4], [1, 4]), { maxRatings: 5, minConfidence: 0.7 })).toBe(false);
  });

  test('never past the maximum; fewer than two ratings (a slot that expired) always goes on', () => {
    expect(needsAnotherRating(item([0.5, 4], [0.5, 4]), rule)).toBe(false);
    expect(needsAnotherRating(item([1, 1], [1, 2]), rule)).toBe(true);
    expect(needsAnotherRating(item([0, 0], [1, 2]), rule)).toBe(true);
  });

  test('aggregateLabels runs the named method: Dawid–Skene posteriors, majority vote shares (a tie takes the lowest)', () => {
    const { ratings } = simulate(11, 300, [0.9, 0.85, 0.6, 0.55], 2);
    expect(aggregateLabels(ratings, 'dawid-skene')).toEqual(dawidSkene(ratings).items);
    expect(aggregateLabels(ratings, 'majority')).toEqual(majorityVote(ratings, { tie: 'lowest' }));
    expect(aggregateLabels([], 'dawid-skene')).toEqual([]);
  });
});

describe('roundedMeanConsensus', () => {
  test('rounded mean keeps the verdict binary; ties fail closed unless told otherwise', () => {
    expect(roundedMeanConsensus([1, 1, 0, 1, 0])).toEqual({ verdict: 1, mean: 0.6, samples: 5, tie: false });
    expect(roundedMeanConsensus([0, 0, 1, 1, 0]).verdict).toBe(0);
    expect(roundedMeanConsensus([1, 0])).toEqual({ verdict: 0, mean: 0.5, samples: 2, tie: true });
    expect(roundedMeanConsensus([1, 0, 1, 0], 'pass').verdict).toBe(1);
  });
  test('refuses no samples and anything but 0/1', () => {
    expect(() => roundedMeanConsensus([])).toThrow(/no samples/);
    expect(() => roundedMeanConsensus([1, 0.5])).toThrow(/0 or 1/);
  });
  test('5 noisy samples beat 1 when errors are independent', () => {
    const rng = createRng(3);
    let one = 0;
    let five = 0;
    for (let i = 0; i < 4000; i++) {
      const s = Array.from({ length: 5 }, () => (rng.next() < 0.75 ? 1 : 0)); // truth = 1
      one += s[0];
      five += roundedMeanConsensus(s).verdict;
    }
    expect(five / 4000).toBeGreaterThan(one / 4000 + 0.1); // 0.896 vs 0.75 in theory
  });
});

describe('binaryClassificationMetrics', () => {
  test("Wikipedia 'Cohen's kappa' table as judge (A) vs gold (B): kappa 0.4, phi 0.408248, Wilson CI of 35/50", () => {
    const a = wikipediaCohen.filter((r) => r.rater === 'A').map((r) => (r.label === 'Yes' ? 1 : 0));
    const b = wikipediaCohen.filter((r) => r.rater === 'B').map((r) => (r.label === 'Yes' ? 1 : 0));
    const m = binaryClassificationMetrics(a, b, { bootstrap: 500, seed: 1 });
    expect(m.confusion).toEqual({ tp: 20, fp: 5, fn: 10, tn: 15 });
    expect(m.accuracy).toBeCloseTo(0.7, 12);
    expect(m.precision).toBeCloseTo(0.8, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.tnr).toBeCloseTo(0.75, 12);
    expect(m.f1).toBeCloseTo(0.7272727, 6);
    expect(m.kappa).toBeCloseTo(0.4, 10);
    expect(m.mcc).toBeCloseTo(0.408248290463863, 10); // numpy corrcoef of the two vectors
    expect(m.ci95.accuracy?.[0]).toBeCloseTo(0.5624964953554659, 10); // statsmodels proportion_confint(35, 50, 'wilson')
    expect(m.ci95.accuracy?.[1]).toBeCloseTo(0.8089644649911905, 10);
    const [lo, hi] = m.ci95.kappa as [number, number];
    expect(lo).toBeLessThan(0.4);
    expect(hi).toBeGreaterThan(0.4);
  });
  test('the positive class can be fail (0): missed failures show up as tpr', () => {
    const pred = [1, 1, 1, 1, 0];
    const gold = [1, 1, 0, 0, 0];
    const m = binaryClassificationMetrics(pred, gold, { positive: 0 });
    expect(m.confusion).toEqual({ tp: 1, fp: 0, fn: 2, tn: 2 });
    expect(m.tpr).toBeCloseTo(1 / 3, 12);
  });
  test('undefined metrics are null with notes; bad input throws', () => {
    const m = binaryClassificationMetrics([1, 1, 1], [1, 1, 1]);
    expect(m.accuracy).toBe(1);
    expect(m.tnr).toBeNull();
    expect(m.kappa).toBeNull();
    expect(m.mcc).toBeNull();
    expect(m.notes.join('\n')).toMatch(/tnr is undefined/);
    expect(() => binaryClassificationMetrics([1], [1, 0])).toThrow(StatsInputError);
    expect(() => binaryClassificationMetrics([2], [1])).toThrow(/not 0\/1/);
  });
});
