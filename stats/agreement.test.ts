import {
  agreementIntervals,
  agreementReport,
  cohenKappa,
  createRng,
  krippendorffAlpha,
  raterPairAgreement,
  StatsInputError,
  type Rating,
} from '.';
import {
  abstractors,
  distrib6raters,
  fleiss1971,
  krippendorff2011,
  wikipediaCohen,
  wikipediaFleiss,
} from './__fixtures__/published';

describe('published worked examples', () => {
  test("Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', 4 observers x 12 units with missing values", () => {
    // The paper reports nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
    expect(agreementReport(krippendorff2011, { level: 'nominal' }).krippendorff_alpha).toBeCloseTo(0.743, 3);
    expect(agreementReport(krippendorff2011, { level: 'ordinal' }).krippendorff_alpha).toBeCloseTo(0.815, 3);
    expect(agreementReport(krippendorff2011, { level: 'interval' }).krippendorff_alpha).toBeCloseTo(0.849, 3);
    expect(agreementReport(krippendorff2011, { level: 'ratio' }).krippendorff_alpha).toBeCloseTo(0.797, 3);
  });

  test('the same data as irrCAC cac.raw4raters (Gwet 2014 p. 120): irrCAC README outputs', () => {
    const r = agreementReport(krippendorff2011);
    expect(r.percent_agreement).toBeCloseTo(0.8181818, 6); // pa.coeff.raw
    expect(r.gwet_ac1).toBeCloseTo(0.77544, 5); // gwet.ac1.raw, pe 0.1903212
    expect(r.fleiss_kappa).toBeCloseTo(0.76117, 5); // fleiss.kappa.raw (generalized for missing ratings)
    expect(r.krippendorff_alpha).toBeCloseTo(0.74342, 5); // krippen.alpha.raw
    expect(r.items).toBe(12);
    expect(r.ratings).toBe(41); // tot.obs
    expect(r.notes.join('\n')).toMatch(/1 items with a single rating/);
  });

  test("Gwet's AC2 on cac.raw4raters with irrCAC weights (irrCAC 0.4.4 CAC(..., weights).gwet())", () => {
    expect(agreementReport(krippendorff2011, { level: 'ordinal' }).gwet_ac1).toBeCloseTo(0.89894, 5);
    expect(agreementReport(krippendorff2011, { level: 'interval' }).gwet_ac1).toBeCloseTo(0.914, 5);
    expect(agreementReport(krippendorff2011, { level: 'ratio' }).gwet_ac1).toBeCloseTo(0.85737, 5);
  });

  test('Fleiss (1971) Table 1, 30 patients x 6 psychiatrists: kappa = 0.430', () => {
    const r = agreementReport(fleiss1971);
    expect(r.fleiss_kappa).toBeCloseTo(0.43, 3);
    expect(r.notes.join('\n')).not.toMatch(/generalized/); // equal raters per item: Fleiss' own formula
  });

  test("Wikipedia 'Fleiss' kappa' worked example: P̄ = 0.378, kappa = 0.210", () => {
    const r = agreementReport(wikipediaFleiss);
    expect(r.percent_agreement).toBeCloseTo(0.378, 3);
    expect(r.fleiss_kappa).toBeCloseTo(0.21, 3);
  });

  test('irrCAC distrib.6raters (README): AC1 0.4448007, Fleiss 0.4139265, alpha 0.4204384, pa 0.5511111', () => {
    const r = agreementReport(distrib6raters);
    expect(r.gwet_ac1).toBeCloseTo(0.4448007, 6);
    expect(r.fleiss_kappa).toBeCloseTo(0.4139265, 6);
    expect(r.krippendorff_alpha).toBeCloseTo(0.4204384, 6);
    expect(r.percent_agreement).toBeCloseTo(0.5511111, 6);
  });

  test('irrCAC cont3x3abstractors (README): Cohen 0.7964094, AC1 0.8493305, alpha 0.7972585, Scott/Fleiss 0.7962397, pa 0.89', () => {
    const r = agreementReport(abstractors);
    expect(r.cohen_kappa).toBeCloseTo(0.7964094, 6);
    expect(r.gwet_ac1).toBeCloseTo(0.8493305, 6);
    expect(r.krippendorff_alpha).toBeCloseTo(0.7972585, 6);
    expect(r.fleiss_kappa).toBeCloseTo(0.7962397, 6);
    expect(r.percent_agreement).toBeCloseTo(0.89, 10);
  });

  test("Wikipedia 'Cohen's kappa' example (20/5/10/15 of 50): kappa = 0.4", () => {
    expect(agreementReport(wikipediaCohen).cohen_kappa).toBeCloseTo(0.4, 10);
    const a = wikipediaCohen.filter((r) => r.rater === 'A').map((r) => r.label);
    const b = wikipediaCohen.filter((r) => r.rater === 'B').map((r) => r.label);
    expect(cohenKappa(a, b)).toBeCloseTo(0.4, 10);
  });
});

/** Random ratings: `items` × `raters` with some missing, labels 0..q-1. */
function randomRatings(seed: number, items: number, raters: number, q: number, missing = 0.1): Rating[] {
  const rng = createRng(seed);
  const out: Rating[] = [];
  for (let u = 0; u < items; u++) {
    const truth = rng.int(q);
    for (let r = 0; r < raters; r++) {
      if (rng.next() < missing) continue;
      out.push({ item: `i${u}`, rater: `r${r}`, label: rng.next() < 0.7 ? truth : rng.int(q) });
    }
  }
  return out;
}

describe('properties', () => {
  const metrics = ['percent_agreement', 'krippendorff_alpha', 'fleiss_kappa', 'gwet_ac1'] as const;

  test('invariant to renaming items and raters and to row order', () => {
    for (const seed of [1, 2, 3]) {
      const data = randomRatings(seed, 80, 4, 3);
      const base = agreementReport(data, { level: 'ordinal' });
      const rng = createRng(seed + 100);
      const renamed = data.map((r) => ({
        item: `x-${r.item}-y`,
        rater: `rater/${r.rater.toUpperCase()}`,
        label: r.label,
      }));
      for (let i = renamed.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [renamed[i], renamed[j]] = [renamed[j], renamed[i]];
      }
      const other = agreementReport(renamed, { level: 'ordinal' });
      for (const m of metrics) expect(other[m]).toBeCloseTo(base[m] as number, 12);
    }
  });

  test('nominal metrics are invariant to renaming the categories', () => {
    const data = randomRatings(7, 60, 3, 4);
    const names = ['pass', 'fail', 'unsure', 'n/a'];
    const renamed = data.map((r) => ({ ...r, label: names[r.label as number] }));
    const a = agreementReport(data);
    const b = agreementReport(renamed);
    for (const m of metrics) expect(b[m]).toBeCloseTo(a[m] as number, 12);
  });

  test('perfect agreement gives 1 for every coefficient, missing ratings or not', () => {
    const rng = createRng(5);
    const data: Rating[] = [];
    for (let u = 0; u < 50; u++) {
      const label = rng.int(3);
      for (let r = 0; r < 4; r++) if (r < 2 || rng.next() < 0.5) data.push({ item: `i${u}`, rater: `r${r}`, label });
    }
    for (const level of ['nominal', 'ordinal', 'interval', 'ratio'] as const) {
      const rep = agreementReport(data, { level });
      for (const m of metrics) expect(rep[m]).toBeCloseTo(1, 12);
    }
    const two = data.filter((r) => r.rater === 'r0' || r.rater === 'r1');
    expect(agreementReport(two).cohen_kappa).toBeCloseTo(1, 12);
  });

  test('bounds: agreement in [0,1], coefficients ≤ 1, and near 0 for raters guessing at random', () => {
    for (const seed of [11, 12, 13, 14]) {
      const rep = agreementReport(randomRatings(seed, 100, 5, 3, 0.2));
      expect(rep.percent_agreement).toBeGreaterThanOrEqual(0);
      expect(rep.percent_agreement).toBeLessThanOrEqual(1);
      for (const m of metrics) expect(rep[m]).toBeLessThanOrEqual(1);
    }
    const rng = createRng(99);
    const noise: Rating[] = [];
    for (let u = 0; u < 2000; u++)
      for (let r = 0; r < 3; r++) noise.push({ item: `i${u}`, rater: `r${r}`, label: rng.int(2) });
    const rep = agreementReport(noise);
    for (const m of ['krippendorff_alpha', 'fleiss_kappa', 'gwet_ac1'] as const)
      expect(Math.abs(rep[m] as number)).toBeLessThan(0.05);
  });

  test('undefined metrics are null with a note, never NaN', () => {
    const same: Rating[] = ['a', 'b', 'c'].flatMap((item) =>
      ['x', 'y', 'z'].map((rater) => ({ item, rater, label: 1 })),
    );
    const rep = agreementReport(same);
    expect(rep.percent_agreement).toBe(1);
    expect(rep.krippendorff_alpha).toBeNull();
    expect(rep.fleiss_kappa).toBeNull();
    expect(rep.gwet_ac1).toBeNull();
    expect(rep.cohen_kappa).toBeNull();
    expect(rep.notes.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(rep)).not.toMatch(/NaN|null,"notes":\[\]/);
    // With the full category list, AC1 is defined (and 1): the unused "fail" counts as a category.
    expect(agreementReport(same, { categories: [0, 1] }).gwet_ac1).toBe(1);
    const empty = agreementReport([]);
    expect(empty.items).toBe(0);
    expect(empty.notes).toEqual(['no ratings: every metric is undefined']);
    const single = agreementReport([
      { item: 'a', rater: 'x', label: 1 },
      { item: 'b', rater: 'y', label: 0 },
    ]);
    expect(single.percent_agreement).toBeNull();
    expect(single.notes.join()).toMatch(/no item has two or more ratings/);
  });

  test('bad input: conflicting duplicate, non-numeric label at a numeric level, mixed spellings', () => {
    const dup = [
      { item: 'a', rater: 'x', label: 1 },
      { item: 'a', rater: 'x', label: 0 },
      { item: 'a', rater: 'y', label: 1 },
    ];
    expect(() => agreementReport(dup)).toThrow(StatsInputError);
    expect(() => agreementReport(dup)).toThrow(/rater "x" rated item "a" twice/);
    const same = [
      { item: 'a', rater: 'x', label: 1 },
      { item: 'a', rater: 'x', label: 1 },
      { item: 'a', rater: 'y', label: 1 },
      { item: 'b', rater: 'x', label: 0 },
      { item: 'b', rater: 'y', label: 1 },
    ];
    expect(agreementReport(same).notes[0]).toMatch(/1 repeated identical ratings counted once/);
    expect(agreementReport(same).ratings).toBe(4);
    expect(() =>
      agreementReport(
        [
          { item: 'a', rater: 'x', label: 'good' },
          { item: 'a', rater: 'y', label: 'bad' },
        ],
        { level: 'interval' },
      ),
    ).toThrow(/needs numeric labels, got "good"/);
    expect(() =>
      agreementReport([
        { item: 'a', rater: 'x', label: 1 },
        { item: 'a', rater: 'y', label: '1' },
      ]),
    ).toThrow(/mix spellings/);
    expect(() =>
      agreementReport(
        [
          { item: 'a', rater: 'x', label: -1 },
          { item: 'a', rater: 'y', label: 2 },
        ],
        { level: 'ratio' },
      ),
    ).toThrow(/ratio/);
  });
});

describe('bootstrap intervals', () => {
  const data = randomRatings(21, 200, 3, 2, 0.05);

  test('seeded: same seed same interval, other seed another; the estimate lies inside', () => {
    const a = agreementReport(data, { bootstrap: 500, seed: 1 });
    const b = agreementReport(data, { bootstrap: 500, seed: 1 });
    const c = agreementReport(data, { bootstrap: 500, seed: 2 });
    expect(a.alpha_ci95).toEqual(b.alpha_ci95);
    expect(a.alpha_ci95).not.toEqual(c.alpha_ci95);
    const [lo, hi] = a.alpha_ci95 as [number, number];
    expect(lo).toBeLessThan(a.krippendorff_alpha as number);
    expect(hi).toBeGreaterThan(a.krippendorff_alpha as number);
    expect(hi - lo).toBeLessThan(0.4);
  });

  test('interval width shrinks roughly with 1/sqrt(items), for every metric', () => {
    const big = randomRatings(21, 1800, 3, 2, 0.05);
    const small = agreementIntervals(data, { bootstrap: 400, seed: 3 });
    const large = agreementIntervals(big, { bootstrap: 400, seed: 3 });
    for (const m of ['percent_agreement', 'krippendorff_alpha', 'fleiss_kappa', 'gwet_ac1'] as const) {
      const ws = (small.ci95[m] as number[])[1] - (small.ci95[m] as number[])[0];
      const wl = (large.ci95[m] as number[])[1] - (large.ci95[m] as number[])[0];
      expect(wl / ws).toBeGreaterThan(0.2);
      expect(wl / ws).toBeLessThan(0.5); // sqrt(200/1800) = 0.33
    }
  });

  test('covers the true alpha in most simulated programs (coverage check)', () => {
    // Raters with 80% accuracy on balanced binary items: compare each 95% interval with alpha on a huge sample.
    const simulate = (seed: number, items: number) => {
      const rng = createRng(seed);
      const out: Rating[] = [];
      for (let u = 0; u < items; u++) {
        const t = rng.int(2);
        for (let r = 0; r < 3; r++) out.push({ item: `i${u}`, rater: `r${r}`, label: rng.next() < 0.8 ? t : 1 - t });
      }
      return out;
    };
    const truth = krippendorffAlpha(simulate(1000, 200_000)) as number;
    let covered = 0;
    for (let s = 0; s < 40; s++) {
      const [lo, hi] = agreementReport(simulate(s, 150), { bootstrap: 300, seed: s }).alpha_ci95 as [number, number];
      if (lo <= truth && truth <= hi) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(33); // ≥ 82% of 40 at a nominal 95%
  });
});

test('rater pairs: items in common, agreement, kappa and confusion per pair', () => {
  const pairs = raterPairAgreement(krippendorff2011);
  expect(pairs).toHaveLength(6);
  const ab = pairs.find((p) => p.raterA === 'A' && p.raterB === 'B');
  // A and B both rated units 1–9 and differ only on unit 6 (A said 1, B said 2).
  expect(ab?.items).toBe(9);
  expect(ab?.percent_agreement).toBeCloseTo(8 / 9, 12);
  expect(ab?.confusion.labels).toEqual([1, 2, 3, 4, 5]);
  expect(ab?.confusion.counts[0]).toEqual([2, 1, 0, 0, 0]);
  expect(pairs.find((p) => p.raterA === 'A' && p.raterB === 'C')?.items).toBe(8);
});
