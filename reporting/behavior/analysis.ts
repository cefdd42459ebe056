/**
 * Do judge scores predict what members do? The within-show design of seed 004: synopses of the same
 * show share everything about the show, so comparing them isolates the synopsis. For each show we
 * demean the score and the outcome and divide each by the show's standard deviation, then regress
 * outcome on score (no intercept: demeaned data has mean zero) with standard errors clustered by
 * show (CR1, Stata's small-sample correction) and t(G−1) inference.
 */
import { studentTQuantile, twoSidedP } from './tdist';

export const BEHAVIOR_OUTCOMES = ['takeFraction', 'abandonmentRate'] as const;
export type BehaviorOutcome = (typeof BEHAVIOR_OUTCOMES)[number];
export const WEIGHTED_SCORE = 'weighted';

export interface BehaviorObservation {
  itemId: string;
  showId: string;
  /** Judge score per criterion (a verdict 0/1 or a mean over samples). */
  scores: Record<string, number>;
  takeFraction: number;
  abandonmentRate: number;
}

export interface ClusteredOls {
  coef: number[];
  se: number[];
  n: number;
  clusters: number;
}

export interface BehaviorEstimate {
  score: string; // a criterion or WEIGHTED_SCORE
  outcome: BehaviorOutcome;
  coef: number;
  se: number;
  ci95: [number, number];
  t: number;
  p: number;
  df: number;
  /** Synopses and shows that contributed (a show needs ≥ 2 synopses with spread in both variables). */
  n: number;
  shows: number;
}

export interface BehaviorValidation {
  criteria: string[];
  weights: Record<string, number>;
  observations: number;
  shows: number;
  estimates: BehaviorEstimate[];
}

function invert(m: number[][]): number[][] {
  const k = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-12) throw new RangeError('singular design matrix: a regressor has no variation');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    for (let j = 0; j < 2 * k; j++) a[col][j] /= p;
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = a[r][col];
      for (let j = 0; j < 2 * k; j++) a[r][j] -= f * a[col][j];
    }
  }
  return a.map((row) => row.slice(k));
}

/**
 * OLS of y on the columns of x with CR1 cluster-robust errors:
 * V = (X'X)⁻¹ (Σ_g X_g'u_g u_g'X_g) (X'X)⁻¹ · G/(G−1) · (N−1)/(N−K).
 */
export function olsClustered(x: number[][], y: number[], cluster: string[]): ClusteredOls {
  const n = y.length;
  const k = x[0]?.length ?? 0;
  if (n === 0 || k === 0 || x.length !== n || cluster.length !== n)
    throw new RangeError('x, y and cluster must be non-empty and the same length');
  const xtx = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => x.reduce((s, row) => s + row[i] * row[j], 0)),
  );
  const xty = Array.from({ length: k }, (_, i) => x.reduce((s, row, r) => s + row[i] * y[r], 0));
  const bread = invert(xtx);
  const coef = bread.map((row) => row.reduce((s, v, j) => s + v * xty[j], 0));
  const scores = new Map<string, number[]>();
  x.forEach((row, r) => {
    const u = y[r] - row.reduce((s, v, j) => s + v * coef[j], 0);
    const g = scores.get(cluster[r]) ?? new Array<number>(k).fill(0);
    row.forEach((v, j) => (g[j] += v * u));
    scores.set(cluster[r], g);
  });
  const groups = scores.size;
  if (groups < 2) throw new RangeError('clustered errors need at least 2 clusters');
  const meat = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => [...scores.values()].reduce((s, g) => s + g[i] * g[j], 0)),
  );
  const scale = (groups / (groups - 1)) * ((n - 1) / Math.max(1, n - k));
  const se = Array.from({ length: k }, (_, i) => {
    let v = 0;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) v += bread[i][a] * meat[a][b] * bread[b][i];
    return Math.sqrt(v * scale);
  });
  return { coef, se, n, clusters: groups };
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const std = (v: number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
};

/** Demeaned and divided by the show's spread; undefined when the show has < 2 values or no spread. */
function normalise(values: number[]): number[] | undefined {
  if (values.length < 2) return undefined;
  const s = std(values);
  if (!(s > 1e-12)) return undefined;
  const m = mean(values);
  return values.map((v) => (v - m) / s);
}

/** One within-show regression of an outcome on one score. Undefined when fewer than 2 shows vary. */
export function withinShowEstimate(
  observations: BehaviorObservation[],
  score: (o: BehaviorObservation) => number,
  outcome: BehaviorOutcome,
): Omit<BehaviorEstimate, 'score'> | undefined {
  const byShow = new Map<string, BehaviorObservation[]>();
  for (const o of observations) {
    const rows = byShow.get(o.showId);
    if (rows) rows.push(o);
    else byShow.set(o.showId, [o]);
  }
  const x: number[][] = [];
  const y: number[] = [];
  const cluster: string[] = [];
  for (const [showId, rows] of byShow) {
    const xs = normalise(rows.map(score));
    const ys = normalise(rows.map((r) => r[outcome]));
    if (!xs || !ys) continue;
    xs.forEach((v, i) => {
      x.push([v]);
      y.push(ys[i]);
      cluster.push(showId);
    });
  }
  if (new Set(cluster).size < 2) return undefined;
  const fit = olsClustered(x, y, cluster);
  const df = fit.clusters - 1;
  const [coef] = fit.coef;
  const [se] = fit.se;
  const t = se > 0 ? coef / se : coef === 0 ? 0 : Math.sign(coef) * Infinity;
  const q = studentTQuantile(0.975, df);
  return {
    outcome,
    coef,
    se,
    ci95: [coef - q * se, coef + q * se],
    t,
    p: twoSidedP(t, df),
    df,
    n: fit.n,
    shows: fit.clusters,
  };
}

/** Per criterion and for the weighted score (weights default to equal), against both outcomes. */
export function validateBehavior(
  observations: BehaviorObservation[],
  options: { criteria: string[]; weights?: Record<string, number> },
): BehaviorValidation {
  const { criteria } = options;
  if (criteria.length === 0) throw new RangeError('no criteria to validate');
  const weights = Object.fromEntries(criteria.map((c) => [c, options.weights?.[c] ?? 1]));
  const total = criteria.reduce((s, c) => s + weights[c], 0);
  if (!(total > 0)) throw new RangeError('criterion weights must sum to a positive number');
  const scored = observations.filter((o) => criteria.every((c) => Number.isFinite(o.scores[c])));
  const weighted = (o: BehaviorObservation) => criteria.reduce((s, c) => s + weights[c] * o.scores[c], 0) / total;
  const estimates: BehaviorEstimate[] = [];
  for (const score of [...criteria, WEIGHTED_SCORE]) {
    const pick = score === WEIGHTED_SCORE ? weighted : (o: BehaviorObservation) => o.scores[score];
    for (const outcome of BEHAVIOR_OUTCOMES) {
      const estimate = withinShowEstimate(scored, pick, outcome);
      if (estimate) estimates.push({ score, ...estimate });
    }
  }
  return {
    criteria,
    weights,
    observations: scored.length,
    shows: new Set(scored.map((o) => o.showId)).size,
    estimates,
  };
}
