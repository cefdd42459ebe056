import { olsClustered, validateBehavior, withinShowEstimate, type BehaviorObservation } from './analysis';
import { studentTCdf, studentTQuantile, twoSidedP } from './tdist';

describe('t distribution', () => {
  // Reference values from scipy.stats.t 1.12.
  it.each([
    [2.0, 10, 0.9633059826146297],
    [-1.3, 2.5, 0.15024339463535397],
    [1, 1, 0.75],
  ])('CDF(%p; df=%p) = %p', (t, df, expected) => expect(studentTCdf(t, df)).toBeCloseTo(expected, 10));

  it('quantiles and two-sided p-values match scipy', () => {
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281388519649385, 8);
    expect(studentTQuantile(0.975, 3)).toBeCloseTo(3.182446305284263, 8);
    expect(twoSidedP(2.5, 4)).toBeCloseTo(0.06676654481198813, 10);
    expect(twoSidedP(-2.5, 4)).toBeCloseTo(0.06676654481198813, 10);
  });

  it('rejects impossible arguments', () => {
    expect(() => studentTCdf(1, 0)).toThrow(/degrees of freedom/);
    expect(() => studentTQuantile(1, 5)).toThrow(/p must be/);
  });
});

describe('clustered OLS', () => {
  it('matches statsmodels cov_type="cluster" (CR1) on a small data set', () => {
    const x = [0.5, 1.2, -0.3, 2.2, 1.1, -1.4, 0.8, 0.0, 1.7, -0.6];
    const y = [1.0, 2.1, 0.2, 3.9, 1.5, -1.8, 1.9, 0.4, 2.6, -0.2];
    const g = ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'c', 'd', 'd'];
    const fit = olsClustered(
      x.map((v) => [1, v]),
      y,
      g,
    );
    expect(fit.coef[0]).toBeCloseTo(0.41439504, 7);
    expect(fit.coef[1]).toBeCloseTo(1.43385569, 7);
    expect(fit.se[0]).toBeCloseTo(0.05320587, 7);
    expect(fit.se[1]).toBeCloseTo(0.09272133, 7);
    expect(fit.clusters).toBe(4);
  });

  it('refuses a single cluster, a constant regressor and ragged input', () => {
    expect(() => olsClustered([[1], [2], [3]], [1, 2, 3], ['a', 'a', 'a'])).toThrow(/2 clusters/);
    expect(() => olsClustered([[0], [0]], [1, 2], ['a', 'b'])).toThrow(/singular/);
    expect(() => olsClustered([[1]], [1, 2], ['a', 'b'])).toThrow(/same length/);
  });
});

describe('within-show validation', () => {
  const obs = (showId: string, i: number, score: number, take: number, abandon: number): BehaviorObservation => ({
    itemId: `${showId}-${i}`,
    showId,
    scores: { tone: score, clarity: 1 - score },
    takeFraction: take,
    abandonmentRate: abandon,
  });

  it('ignores differences between shows: only within-show changes count', () => {
    // Show level differences point one way (high-scoring show has low take), within-show the other.
    const rows = [
      obs('s1', 0, 1, 0.1, 0.5),
      obs('s1', 1, 0, 0.05, 0.6),
      obs('s1', 2, 1, 0.12, 0.45),
      obs('s2', 0, 0, 0.6, 0.2),
      obs('s2', 1, 1, 0.7, 0.1),
      obs('s2', 2, 0, 0.58, 0.22),
      obs('s3', 0, 1, 0.33, 0.3),
      obs('s3', 1, 0, 0.3, 0.34),
      obs('s3', 2, 0, 0.29, 0.33),
    ];
    const take = withinShowEstimate(rows, (o) => o.scores.tone, 'takeFraction');
    expect(take?.coef).toBeGreaterThan(0.8);
    expect(take?.shows).toBe(3);
    expect(take?.df).toBe(2);
    const result = validateBehavior(rows, { criteria: ['tone', 'clarity'] });
    const by = (score: string, outcome: string) =>
      result.estimates.find((e) => e.score === score && e.outcome === outcome);
    expect(by('tone', 'abandonmentRate')?.coef).toBeLessThan(-0.8);
    expect(by('clarity', 'takeFraction')?.coef).toBeLessThan(-0.8);
    // Equal weights of tone and 1 − tone: the weighted score is constant, so it has no estimate.
    expect(by('weighted', 'takeFraction')).toBeUndefined();
    expect(result.estimates).toHaveLength(4);
  });

  it('drops shows with one synopsis or no spread, and needs two shows that vary', () => {
    const rows = [
      obs('s1', 0, 1, 0.1, 0.5),
      obs('s1', 1, 0, 0.05, 0.6),
      obs('s2', 0, 1, 0.5, 0.2),
      obs('s3', 0, 1, 0.3, 0.3),
      obs('s3', 1, 1, 0.2, 0.3),
    ];
    expect(withinShowEstimate(rows, (o) => o.scores.tone, 'takeFraction')).toBeUndefined();
    expect(() => validateBehavior(rows, { criteria: [] })).toThrow(/no criteria/);
    expect(() => validateBehavior(rows, { criteria: ['tone'], weights: { tone: 0 } })).toThrow(/weights/);
  });
});
