/**
 * Agreement among raters: percent agreement, Cohen's kappa, Fleiss' kappa, Krippendorff's alpha and
 * Gwet's AC1/AC2, with seeded bootstrap intervals over items.
 *
 * Conventions for missing ratings follow Gwet (2014) and the irrCAC package:
 * - percent agreement is averaged over items with ≥ 2 ratings (pairable items);
 * - category prevalence (π_k, for Fleiss and AC1/AC2) is averaged over every rated item, so items
 *   with a single rating count there but not in observed agreement;
 * - with unequal raters per item, Fleiss' kappa is Gwet's generalized form (irrCAC fleiss.kappa.raw),
 *   identical to Fleiss (1971) when every item has the same number of ratings;
 * - Krippendorff's alpha uses the coincidence matrix over pairable units (Krippendorff 2011), with
 *   his nominal, ordinal, interval and ratio difference functions;
 * - AC2 (non-nominal levels) uses irrCAC's weights: ordinal, quadratic (interval), ratio;
 *   the number of categories q is the set observed plus any passed in `categories`.
 */
import { createRng } from './random';
import { encodeRatings, percentileInterval, type Label, type Level, type Rating, type Units } from './data';

export interface AgreementOptions {
  level?: Level;
  /** Bootstrap resamples over items for the intervals (0 = none). */
  bootstrap?: number;
  seed?: number;
  /** Every possible label, when some may be unused (counts towards q in AC1/AC2). */
  categories?: readonly Label[];
}

/** The JSON shape of `judgeflow agreement`: undefined or inapplicable metrics are null, with a note. */
export interface AgreementReport {
  items: number;
  raters: number;
  ratings: number;
  percent_agreement: number | null;
  krippendorff_alpha: number | null;
  fleiss_kappa: number | null;
  cohen_kappa: number | null;
  gwet_ac1: number | null;
  alpha_ci95: [number, number] | null;
  notes: string[];
}

export type IntervalMetric = 'percent_agreement' | 'krippendorff_alpha' | 'fleiss_kappa' | 'gwet_ac1';

export interface AgreementIntervals {
  resamples: number;
  ci95: Record<IntervalMetric, [number, number] | null>;
  notes: string[];
}

interface Estimates {
  percent_agreement: number;
  krippendorff_alpha: number;
  fleiss_kappa: number;
  gwet_ac1: number;
}

/** Per-item category counts, flattened: item u has categories pCat[pStart[u]..pStart[u+1]) ascending. */
interface ItemProfile {
  q: number;
  m: Int32Array;
  pStart: Int32Array;
  pCat: Int32Array;
  pCnt: Int32Array;
  pa: Float64Array;
  paWeighted: Float64Array;
  acWeights: Float64Array;
  acWeightSum: number;
}

function itemProfile(units: Units, level: Level): ItemProfile {
  const q = units.categories.length;
  const nItems = units.itemIds.length;
  const m = new Int32Array(nItems);
  const pStart = new Int32Array(nItems + 1);
  const pCat = new Int32Array(units.cat.length);
  const pCnt = new Int32Array(units.cat.length);
  const pa = new Float64Array(nItems);
  const paWeighted = new Float64Array(nItems);
  const acWeights = weightsFor(level, units);
  const isIdentity = level === 'nominal';
  const scratch = new Int32Array(q);
  let p = 0;
  for (let u = 0; u < nItems; u++) {
    const s = units.start[u];
    const e = units.start[u + 1];
    m[u] = e - s;
    pStart[u] = p;
    for (let i = s; i < e; i++) scratch[units.cat[i]]++;
    // Few categories per item: collect the present ones in ascending order.
    for (let i = s; i < e; i++) {
      const c = units.cat[i];
      if (scratch[c] > 0) {
        let j = p;
        while (j > pStart[u] && pCat[j - 1] > c) {
          pCat[j] = pCat[j - 1];
          pCnt[j] = pCnt[j - 1];
          j--;
        }
        pCat[j] = c;
        pCnt[j] = scratch[c];
        scratch[c] = 0;
        p++;
      }
    }
    const mu = m[u];
    if (mu >= 2) {
      let same = 0;
      let cross = 0;
      for (let a = pStart[u]; a < p; a++) {
        same += pCnt[a] * (pCnt[a] - 1);
        if (!isIdentity)
          for (let b = pStart[u]; b < p; b++)
            if (a !== b) cross += acWeights[pCat[a] * q + pCat[b]] * pCnt[a] * pCnt[b];
      }
      pa[u] = same / (mu * (mu - 1));
      paWeighted[u] = (same + cross) / (mu * (mu - 1));
    }
  }
  pStart[nItems] = p;
  let acWeightSum = 0;
  for (const w of acWeights) acWeightSum += w;
  return { q, m, pStart, pCat: pCat.subarray(0, p), pCnt: pCnt.subarray(0, p), pa, paWeighted, acWeights, acWeightSum };
}

/** irrCAC's agreement weights for AC2 (identity for nominal data). */
function weightsFor(level: Level, units: Units): Float64Array {
  const q = units.categories.length;
  const w = new Float64Array(q * q);
  const v = units.values ?? [];
  const lo = v[0];
  const hi = v[q - 1];
  for (let k = 0; k < q; k++) {
    for (let l = 0; l < q; l++) {
      let x: number;
      if (k === l || q === 1) x = 1;
      else if (level === 'ordinal') {
        const nkl = Math.abs(k - l) + 1;
        x = 1 - (nkl * (nkl - 1)) / 2 / ((q * (q - 1)) / 2);
      } else if (level === 'interval') x = 1 - (v[k] - v[l]) ** 2 / (hi - lo) ** 2;
      else if (level === 'ratio') x = 1 - ((v[k] - v[l]) / (v[k] + v[l])) ** 2 / ((hi - lo) / (hi + lo)) ** 2;
      else x = 0;
      w[k * q + l] = x;
    }
  }
  return w;
}

/** Krippendorff's δ² between categories c < k, given the pairable marginals nC. */
function difference(level: Level, c: number, k: number, nC: Float64Array, values: number[] | null): number {
  switch (level) {
    case 'nominal':
      return 1;
    case 'ordinal': {
      let s = 0;
      for (let g = c; g <= k; g++) s += nC[g];
      return (s - (nC[c] + nC[k]) / 2) ** 2;
    }
    case 'interval':
      return ((values as number[])[c] - (values as number[])[k]) ** 2;
    case 'ratio': {
      const a = (values as number[])[c];
      const b = (values as number[])[k];
      return a + b === 0 ? 0 : ((a - b) / (a + b)) ** 2;
    }
  }
}

/**
 * Every estimate from item multiplicities (null = each item once). All four are sums of per-item
 * contributions, so a bootstrap resample costs one pass over the items, not over the raw ratings.
 */
function estimate(
  profile: ItemProfile,
  level: Level,
  values: number[] | null,
  weights: Float64Array | null,
  scratch: { o: Float64Array; nC: Float64Array; pi: Float64Array },
): Estimates {
  const { q, m, pStart, pCat, pCnt } = profile;
  const { o, nC, pi } = scratch;
  o.fill(0);
  nC.fill(0);
  pi.fill(0);
  let total = 0;
  let pairable = 0;
  let paSum = 0;
  let pawSum = 0;
  const nItems = m.length;
  for (let u = 0; u < nItems; u++) {
    const w = weights ? weights[u] : 1;
    if (w === 0) continue;
    const mu = m[u];
    const ps = pStart[u];
    const pe = pStart[u + 1];
    total += w;
    for (let a = ps; a < pe; a++) pi[pCat[a]] += (w * pCnt[a]) / mu;
    if (mu < 2) continue;
    pairable += w;
    paSum += w * profile.pa[u];
    pawSum += w * profile.paWeighted[u];
    const f = w / (mu - 1);
    for (let a = ps; a < pe; a++) {
      nC[pCat[a]] += w * pCnt[a];
      for (let b = a + 1; b < pe; b++) o[pCat[a] * q + pCat[b]] += f * pCnt[a] * pCnt[b];
    }
  }
  const pa = pairable > 0 ? paSum / pairable : NaN;
  const paw = pairable > 0 ? pawSum / pairable : NaN;
  let sumPi2 = 0;
  let sumPiQ = 0;
  for (let c = 0; c < q; c++) {
    const p = pi[c] / total;
    sumPi2 += p * p;
    sumPiQ += p * (1 - p);
  }
  const fleissPe = sumPi2;
  const fleiss = fleissPe < 1 - 1e-12 ? (pa - fleissPe) / (1 - fleissPe) : NaN;
  const acPe = q >= 2 ? (profile.acWeightSum * sumPiQ) / (q * (q - 1)) : NaN;
  const ac = acPe < 1 - 1e-12 ? (paw - acPe) / (1 - acPe) : NaN;

  let n = 0;
  for (let c = 0; c < q; c++) n += nC[c];
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < q; c++) {
    if (nC[c] === 0) continue;
    for (let k = c + 1; k < q; k++) {
      if (nC[k] === 0) continue;
      const d = difference(level, c, k, nC, values);
      observed += o[c * q + k] * d;
      expected += nC[c] * nC[k] * d;
    }
  }
  const alpha = n > 1 && expected > 0 ? 1 - ((n - 1) * observed) / expected : NaN;
  return { percent_agreement: pa, krippendorff_alpha: alpha, fleiss_kappa: fleiss, gwet_ac1: ac };
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

function bootstrap(
  profile: ItemProfile,
  level: Level,
  values: number[] | null,
  resamples: number,
  seed: number,
): AgreementIntervals {
  const metrics: IntervalMetric[] = ['percent_agreement', 'krippendorff_alpha', 'fleiss_kappa', 'gwet_ac1'];
  const nItems = profile.m.length;
  const rng = createRng(seed);
  const w = new Float64Array(nItems);
  const scratch = newScratch(profile.q);
  const reps = metrics.map(() => new Float64Array(resamples));
  const valid = metrics.map(() => 0);
  for (let b = 0; b < resamples; b++) {
    w.fill(0);
    for (let i = 0; i < nItems; i++) w[rng.int(nItems)]++;
    const est = estimate(profile, level, values, w, scratch);
    metrics.forEach((name, j) => {
      const x = est[name];
      if (Number.isFinite(x)) reps[j][valid[j]++] = x;
    });
  }
  const notes: string[] = [];
  const ci95 = {} as Record<IntervalMetric, [number, number] | null>;
  metrics.forEach((name, j) => {
    if (valid[j] < resamples / 2) {
      ci95[name] = null;
      if (resamples > 0)
        notes.push(`${name}: no interval, undefined in ${resamples - valid[j]} of ${resamples} bootstrap resamples`);
    } else {
      ci95[name] = percentileInterval(reps[j].subarray(0, valid[j]));
      if (valid[j] < resamples)
        notes.push(`${name}: interval from ${valid[j]} of ${resamples} resamples (undefined in the others)`);
    }
  });
  return { resamples, ci95, notes };
}

const newScratch = (q: number) => ({ o: new Float64Array(q * q), nC: new Float64Array(q), pi: new Float64Array(q) });

/** Cohen's kappa for two paired label vectors (same length); null when chance agreement is 1. */
export function cohenKappa(a: readonly Label[], b: readonly Label[]): number | null {
  if (a.length !== b.length) throw new RangeError(`cohenKappa: ${a.length} labels vs ${b.length}`);
  const n = a.length;
  if (n === 0) return null;
  const ca = new Map<Label, number>();
  const cb = new Map<Label, number>();
  let agree = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    ca.set(a[i], (ca.get(a[i]) ?? 0) + 1);
    cb.set(b[i], (cb.get(b[i]) ?? 0) + 1);
  }
  let pe = 0;
  for (const [label, k] of ca) pe += (k / n) * ((cb.get(label) ?? 0) / n);
  return pe < 1 - 1e-12 ? (agree / n - pe) / (1 - pe) : null;
}

/** Agreement metrics for one set of ratings (one criterion, one round). Pure and deterministic. */
export function agreementReport(ratings: readonly Rating[], opts: AgreementOptions = {}): AgreementReport {
  const level = opts.level ?? 'nominal';
  const units = encodeRatings(ratings, { level, categories: opts.categories });
  const nItems = units.itemIds.length;
  const notes: string[] = [];
  const report: AgreementReport = {
    items: nItems,
    raters: units.raterIds.length,
    ratings: units.cat.length,
    percent_agreement: null,
    krippendorff_alpha: null,
    fleiss_kappa: null,
    cohen_kappa: null,
    gwet_ac1: null,
    alpha_ci95: null,
    notes,
  };
  if (units.duplicates) notes.push(`${units.duplicates} repeated identical ratings counted once`);
  if (report.ratings === 0) {
    notes.push('no ratings: every metric is undefined');
    return report;
  }
  const profile = itemProfile(units, level);
  let pairable = 0;
  let minM = Infinity;
  let maxM = 0;
  for (const mu of profile.m) {
    if (mu >= 2) pairable++;
    minM = Math.min(minM, mu);
    maxM = Math.max(maxM, mu);
  }
  if (pairable === 0) {
    notes.push('no item has two or more ratings: agreement is undefined');
    return report;
  }
  if (pairable < nItems)
    notes.push(
      `${nItems - pairable} items with a single rating count towards category prevalence only (Gwet 2014 / irrCAC convention)`,
    );
  const est = estimate(profile, level, units.values, null, newScratch(profile.q));
  report.percent_agreement = orNull(est.percent_agreement);
  report.krippendorff_alpha = orNull(est.krippendorff_alpha);
  report.fleiss_kappa = orNull(est.fleiss_kappa);
  report.gwet_ac1 = orNull(est.gwet_ac1);
  if (report.krippendorff_alpha === null)
    notes.push('krippendorff_alpha is undefined: every pairable rating has the same value (no variation)');
  if (report.fleiss_kappa === null)
    notes.push('fleiss_kappa is undefined: a single category was used, so chance agreement is 1');
  else if (minM !== maxM)
    notes.push(
      `raters per item vary (${minM}–${maxM}): fleiss_kappa is Gwet's generalized form (irrCAC fleiss.kappa.raw)`,
    );
  if (report.gwet_ac1 === null)
    notes.push(
      `gwet_ac1 is undefined with ${profile.q} category: pass every possible label (categories) so unused ones count`,
    );
  if (level !== 'nominal') {
    const w = level === 'ordinal' ? 'ordinal' : level === 'interval' ? 'quadratic' : 'ratio';
    notes.push(
      `gwet_ac1 is Gwet's AC2 with irrCAC ${w} weights; percent_agreement, fleiss_kappa and cohen_kappa treat labels as nominal`,
    );
  }

  if (units.raterIds.length === 2) {
    const a: number[] = [];
    const b: number[] = [];
    for (let u = 0; u < nItems; u++) {
      const s = units.start[u];
      if (units.start[u + 1] - s === 2) {
        a.push(units.cat[s]);
        b.push(units.cat[s + 1]);
      }
    }
    report.cohen_kappa = cohenKappa(a, b);
    if (report.cohen_kappa === null) notes.push('cohen_kappa is undefined: both raters used one and the same category');
  } else {
    notes.push(
      `cohen_kappa needs exactly two raters, there are ${units.raterIds.length} (see raterPairAgreement for each pair)`,
    );
  }

  const resamples = opts.bootstrap ?? 0;
  if (resamples > 0) {
    const intervals = bootstrap(profile, level, units.values, resamples, opts.seed ?? 1);
    report.alpha_ci95 = intervals.ci95.krippendorff_alpha;
    notes.push(...intervals.notes.filter((n) => n.startsWith('krippendorff_alpha')));
  }
  return report;
}

/** Seeded bootstrap (over items) intervals for every multi-rater metric at once. */
export function agreementIntervals(
  ratings: readonly Rating[],
  opts: AgreementOptions & { bootstrap: number },
): AgreementIntervals {
  const level = opts.level ?? 'nominal';
  const units = encodeRatings(ratings, { level, categories: opts.categories });
  return bootstrap(itemProfile(units, level), level, units.values, opts.bootstrap, opts.seed ?? 1);
}

/** Krippendorff's alpha alone (null when undefined). */
export function krippendorffAlpha(ratings: readonly Rating[], level: Level = 'nominal'): number | null {
  const units = encodeRatings(ratings, { level });
  const profile = itemProfile(units, level);
  return orNull(estimate(profile, level, units.values, null, newScratch(profile.q)).krippendorff_alpha);
}

export interface RaterPairAgreement {
  raterA: string;
  raterB: string;
  /** Items both rated. */
  items: number;
  percent_agreement: number;
  cohen_kappa: number | null;
  /** counts[i][j]: items raterA labelled labels[i] and raterB labelled labels[j]. */
  confusion: { labels: Label[]; counts: number[][] };
}

/** Agreement and confusion for every pair of raters that share at least one item. */
export function raterPairAgreement(ratings: readonly Rating[]): RaterPairAgreement[] {
  const units = encodeRatings(ratings);
  const q = units.categories.length;
  const R = units.raterIds.length;
  const tables = new Map<number, Float64Array>();
  for (let u = 0; u < units.itemIds.length; u++) {
    for (let i = units.start[u]; i < units.start[u + 1]; i++) {
      for (let j = i + 1; j < units.start[u + 1]; j++) {
        const key = units.rater[i] * R + units.rater[j];
        let t = tables.get(key);
        if (!t) tables.set(key, (t = new Float64Array(q * q)));
        t[units.cat[i] * q + units.cat[j]]++;
      }
    }
  }
  const out: RaterPairAgreement[] = [];
  for (const [key, t] of [...tables].sort((x, y) => x[0] - y[0])) {
    const a: number[] = [];
    const b: number[] = [];
    let agree = 0;
    for (let i = 0; i < q; i++)
      for (let j = 0; j < q; j++)
        for (let k = 0; k < t[i * q + j]; k++) {
          a.push(i);
          b.push(j);
          if (i === j) agree++;
        }
    out.push({
      raterA: units.raterIds[Math.floor(key / R)],
      raterB: units.raterIds[key % R],
      items: a.length,
      percent_agreement: agree / a.length,
      cohen_kappa: cohenKappa(a, b),
      confusion: {
        labels: units.categories,
        counts: Array.from({ length: q }, (_, i) => Array.from(t.subarray(i * q, i * q + q))),
      },
    });
  }
  return out;
}
