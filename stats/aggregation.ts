/** Label aggregation: majority vote (explicit tie policy), Dawid–Skene EM, rounded-mean consensus. */
import { encodeRatings, StatsInputError, type Label, type Rating } from './data';

/** What a tie becomes: no label, or the lowest / highest label in sort order (for 0/1, lowest = fail). */
export type TiePolicy = 'none' | 'lowest' | 'highest';

export interface AggregatedItem {
  item: string;
  /** null only for a tie under the 'none' policy. */
  label: Label | null;
  /** Majority: the winning share of votes; Dawid–Skene: the posterior of the label. */
  confidence: number;
  ratings: number;
  tied: boolean;
}

/** Majority vote per item, items in first-seen order. */
export function majorityVote(ratings: readonly Rating[], opts: { tie: TiePolicy }): AggregatedItem[] {
  const units = encodeRatings(ratings);
  const q = units.categories.length;
  const counts = new Int32Array(q);
  return units.itemIds.map((item, u) => {
    counts.fill(0);
    const s = units.start[u];
    const e = units.start[u + 1];
    for (let i = s; i < e; i++) counts[units.cat[i]]++;
    let best = 0;
    for (let c = 0; c < q; c++) best = Math.max(best, counts[c]);
    const winners: number[] = [];
    for (let c = 0; c < q; c++) if (counts[c] === best) winners.push(c);
    const tied = winners.length > 1;
    const pick = !tied
      ? winners[0]
      : opts.tie === 'lowest'
        ? winners[0]
        : opts.tie === 'highest'
          ? winners[winners.length - 1]
          : null;
    return {
      item,
      label: pick === null ? null : units.categories[pick],
      confidence: best / (e - s),
      ratings: e - s,
      tied,
    };
  });
}

export interface DawidSkeneOptions {
  maxIterations?: number;
  /** Stop when no posterior moves by more than this. */
  tolerance?: number;
  /** Additive (Laplace) smoothing of confusion counts, so a rater never gets a zero probability. */
  smoothing?: number;
  /**
   * Pseudo-labels of the crowd's pooled confusion matrix added to each rater's counts (a Dirichlet
   * prior centred on the crowd): a rater with few labels looks like the crowd, one with many like
   * themselves. Default: one pseudo-label per cell (classes²); 0 is classic Dawid–Skene, which
   * on sparse crowds (about 10 labels per rater) loses to majority vote (BENCHMARKS.md).
   */
  shrinkage?: number;
}

export interface DawidSkeneResult {
  classes: Label[];
  priors: number[];
  items: (AggregatedItem & { posterior: number[] })[];
  /** confusion[t][l]: probability the rater says classes[l] when the truth is classes[t]. */
  raters: { rater: string; confusion: number[][]; accuracy: number; ratings: number }[];
  iterations: number;
  converged: boolean;
  logLikelihood: number;
}

/**
 * Dawid & Skene (1979) EM for binary or multi-class labels: starts from the soft majority vote,
 * alternates per-rater confusion matrices / class priors (M) and per-item posteriors (E). Each
 * rater's confusion counts get a prior centred on the crowd's pooled matrix (`shrinkage`), so
 * raters with few labels are not fitted to noise.
 * A rater's `accuracy` is the prior-weighted diagonal of their confusion matrix.
 */
export function dawidSkene(ratings: readonly Rating[], opts: DawidSkeneOptions = {}): DawidSkeneResult {
  const units = encodeRatings(ratings);
  const q = units.categories.length;
  const nItems = units.itemIds.length;
  const R = units.raterIds.length;
  const maxIterations = opts.maxIterations ?? 500;
  const tolerance = opts.tolerance ?? 1e-4;
  const smoothing = opts.smoothing ?? 0.01;
  const shrinkage = opts.shrinkage ?? q * q;
  if (nItems === 0) throw new StatsInputError('dawidSkene: no ratings');
  const T = new Float64Array(nItems * q);
  for (let u = 0; u < nItems; u++) {
    const s = units.start[u];
    const e = units.start[u + 1];
    for (let i = s; i < e; i++) T[u * q + units.cat[i]] += 1 / (e - s);
  }
  const pi = new Float64Array(R * q * q);
  const priors = new Float64Array(q);
  const logPi = new Float64Array(R * q * q);
  const logT = new Float64Array(q);
  const pooled = new Float64Array(q * q);
  let iterations = 0;
  let converged = false;
  let logLikelihood = 0;
  while (iterations < maxIterations) {
    iterations++;
    // M-step.
    pi.fill(smoothing);
    priors.fill(0);
    for (let u = 0; u < nItems; u++) {
      for (let t = 0; t < q; t++) priors[t] += T[u * q + t];
      for (let i = units.start[u]; i < units.start[u + 1]; i++) {
        const base = units.rater[i] * q * q + units.cat[i];
        for (let t = 0; t < q; t++) pi[base + t * q] += T[u * q + t];
      }
    }
    for (let t = 0; t < q; t++) priors[t] /= nItems;
    if (shrinkage > 0) {
      pooled.fill(0);
      for (let r = 0; r < R; r++) for (let k = 0; k < q * q; k++) pooled[k] += pi[r * q * q + k];
      for (let t = 0; t < q; t++) {
        let row = 0;
        for (let l = 0; l < q; l++) row += pooled[t * q + l];
        for (let l = 0; l < q; l++) pooled[t * q + l] = (shrinkage * pooled[t * q + l]) / row;
      }
      for (let r = 0; r < R; r++) for (let k = 0; k < q * q; k++) pi[r * q * q + k] += pooled[k];
    }
    for (let r = 0; r < R; r++)
      for (let t = 0; t < q; t++) {
        let row = 0;
        for (let l = 0; l < q; l++) row += pi[r * q * q + t * q + l];
        for (let l = 0; l < q; l++) logPi[r * q * q + t * q + l] = Math.log(pi[r * q * q + t * q + l] / row);
      }
    // E-step.
    let moved = 0;
    logLikelihood = 0;
    for (let u = 0; u < nItems; u++) {
      let max = -Infinity;
      for (let t = 0; t < q; t++) {
        let x = Math.log(Math.max(priors[t], 1e-300));
        for (let i = units.start[u]; i < units.start[u + 1]; i++)
          x += logPi[units.rater[i] * q * q + t * q + units.cat[i]];
        logT[t] = x;
        if (x > max) max = x;
      }
      let z = 0;
      for (let t = 0; t < q; t++) z += Math.exp(logT[t] - max);
      logLikelihood += max + Math.log(z);
      for (let t = 0; t < q; t++) {
        const p = Math.exp(logT[t] - max) / z;
        moved = Math.max(moved, Math.abs(p - T[u * q + t]));
        T[u * q + t] = p;
      }
    }
    if (moved < tolerance) {
      converged = true;
      break;
    }
  }
  const items = units.itemIds.map((item, u) => {
    const posterior = Array.from(T.subarray(u * q, u * q + q));
    let best = 0;
    for (let t = 1; t < q; t++) if (posterior[t] > posterior[best]) best = t;
    const tied = posterior.filter((p) => Math.abs(p - posterior[best]) < 1e-12).length > 1;
    return {
      item,
      label: units.categories[best],
      confidence: posterior[best],
      ratings: units.start[u + 1] - units.start[u],
      tied,
      posterior,
    };
  });
  const given = new Int32Array(R);
  for (const r of units.rater) given[r]++;
  const raters = units.raterIds.map((rater, r) => {
    const confusion: number[][] = [];
    let accuracy = 0;
    for (let t = 0; t < q; t++) {
      const row = Array.from(logPi.subarray(r * q * q + t * q, r * q * q + t * q + q), Math.exp);
      confusion.push(row);
      accuracy += priors[t] * row[t];
    }
    return { rater, confusion, accuracy, ratings: given[r] };
  });
  return { classes: units.categories, priors: Array.from(priors), items, raters, iterations, converged, logLikelihood };
}

export interface Consensus {
  verdict: 0 | 1;
  mean: number;
  samples: number;
  /** The mean was exactly 0.5 and the tie rule decided. */
  tie: boolean;
}

/**
 * N binary judge samples (1 pass, 0 fail) → one binary verdict by the rounded mean. A tie (even N,
 * half and half) fails closed unless the caller explicitly asks for 'pass'.
 */
export function roundedMeanConsensus(samples: readonly number[], tie: 'fail' | 'pass' = 'fail'): Consensus {
  if (samples.length === 0) throw new StatsInputError('roundedMeanConsensus: no samples (no verdict without a sample)');
  let sum = 0;
  for (const s of samples) {
    if (s !== 0 && s !== 1) throw new StatsInputError(`roundedMeanConsensus: samples must be 0 or 1, got ${s}`);
    sum += s;
  }
  const mean = sum / samples.length;
  const isTie = sum * 2 === samples.length;
  const verdict = isTie ? (tie === 'pass' ? 1 : 0) : mean > 0.5 ? 1 : 0;
  return { verdict, mean, samples: samples.length, tie: isTie };
}

/** The statistical label aggregations a program can name (the golden set's `aggregation` besides `llm`). */
export type LabelAggregation = 'dawid-skene' | 'majority';

/** One label per item by the named method; a majority tie takes the lowest label (for 0/1, fail). */
export function aggregateLabels(ratings: readonly Rating[], method: LabelAggregation): AggregatedItem[] {
  if (!ratings.length) return [];
  return method === 'dawid-skene' ? dawidSkene(ratings).items : majorityVote(ratings, { tie: 'lowest' });
}

export interface RedundancyRule {
  /** Ratings an item may get at most. */
  maxRatings: number;
  /** Below this on any criterion, the item gets another rating. */
  minConfidence: number;
}

/**
 * Adaptive redundancy: an item gets another rating while it has fewer than two, or while the
 * aggregate of some criterion is less sure than `minConfidence` — until it has `maxRatings`.
 * `criteria`: the item's aggregate for every criterion (confidence, and the ratings it rests on;
 * a criterion nobody rated yet has 0).
 */
export function needsAnotherRating(criteria: readonly { confidence: number; ratings: number }[], rule: RedundancyRule) {
  const ratings = Math.min(...criteria.map((c) => c.ratings));
  if (ratings >= rule.maxRatings) return false;
  return ratings < 2 || criteria.some((c) => c.confidence < rule.minConfidence);
}
