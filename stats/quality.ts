/** Rater quality (against gold, against the other raters, over time) and disagreement analysis. */
import { agreementReport, cohenKappa } from './agreement';
import { encodeRatings, groupBy, wilsonInterval, type Label, type Rating } from './data';

export interface RaterGoldQuality {
  rater: string;
  /** Gold items this rater labelled. */
  n: number;
  correct: number;
  accuracy: number | null;
  accuracy_ci95: [number, number] | null;
  /** Share of gold positives the rater called positive (binary labels only). */
  sensitivity: number | null;
  specificity: number | null;
  kappa: number | null;
}

/**
 * Each rater against gold answers. Sensitivity/specificity need a positive label: `positive`, or 1
 * when every label is 0/1; otherwise they are null.
 */
export function raterGoldAccuracy(
  ratings: readonly Rating[],
  gold: readonly { item: string; label: Label }[],
  opts: { positive?: Label } = {},
): RaterGoldQuality[] {
  const truth = new Map(gold.map((g) => [g.item, g.label]));
  const binary = [...ratings.map((r) => r.label), ...gold.map((g) => g.label)].every((l) => l === 0 || l === 1);
  const positive = opts.positive ?? (binary ? 1 : undefined);
  return [
    ...groupBy(
      ratings.filter((r) => truth.has(r.item)),
      (r) => r.rater,
    ),
  ].map(([rater, rows]) => {
    const given = rows.map((r) => r.label);
    const expected = rows.map((r) => truth.get(r.item) as Label);
    let correct = 0;
    let pos = 0;
    let tp = 0;
    let neg = 0;
    let tn = 0;
    for (let i = 0; i < rows.length; i++) {
      if (given[i] === expected[i]) correct++;
      if (positive === undefined) continue;
      if (expected[i] === positive) {
        pos++;
        if (given[i] === positive) tp++;
      } else {
        neg++;
        if (given[i] !== positive) tn++;
      }
    }
    return {
      rater,
      n: rows.length,
      correct,
      accuracy: correct / rows.length,
      accuracy_ci95: wilsonInterval(correct, rows.length),
      sensitivity: positive !== undefined && pos > 0 ? tp / pos : null,
      specificity: positive !== undefined && neg > 0 ? tn / neg : null,
      kappa: cohenKappa(given, expected),
    };
  });
}

export interface GoldAccuracyDecision {
  n: number;
  correct: number;
  accuracy: number | null;
  /** 95% Wilson score interval of the accuracy. */
  ci95: [number, number] | null;
  /** Enough gold answers, and the interval's upper bound below the bar: the rater is very likely below it. */
  below: boolean;
  reason: string;
}

/**
 * Whether a rater's gold accuracy is below `minAccuracy` with confidence: only after `minAnswers`
 * gold answers, and only when even the upper bound of the 95% Wilson interval is below the bar, so
 * a few unlucky answers never condemn a rater.
 */
export function goldAccuracyDecision(
  correct: number,
  n: number,
  opts: { minAnswers: number; minAccuracy: number },
): GoldAccuracyDecision {
  const ci95 = wilsonInterval(correct, n);
  const accuracy = n ? correct / n : null;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const observed = ci95
    ? `gold accuracy ${pct(accuracy!)} (95% CI ${pct(ci95[0])}–${pct(ci95[1])}) over ${n} gold answers`
    : 'no gold answers';
  const bar = pct(opts.minAccuracy);
  let below = false;
  let reason: string;
  if (n < opts.minAnswers) reason = `${observed}: too few to judge (needs ${opts.minAnswers})`;
  else if (ci95![1] < opts.minAccuracy) {
    below = true;
    reason = `${observed}: the upper bound is below ${bar}`;
  } else reason = `${observed}: the upper bound reaches ${bar}`;
  return { n, correct, accuracy, ci95, below, reason };
}

export interface LeaveOneOutAgreement {
  rater: string;
  /** Items where the other raters had a strict majority. */
  items: number;
  /** Items skipped because the other raters tied (or nobody else rated the item). */
  skipped: number;
  agreement: number | null;
  kappa: number | null;
}

/** Each rater against the majority of the other raters on the same item (ties among them skipped). */
export function leaveOneOutAgreement(ratings: readonly Rating[]): LeaveOneOutAgreement[] {
  const units = encodeRatings(ratings);
  const q = units.categories.length;
  const R = units.raterIds.length;
  const own: number[][] = Array.from({ length: R }, () => []);
  const others: number[][] = Array.from({ length: R }, () => []);
  const skipped = new Int32Array(R);
  const counts = new Int32Array(q);
  for (let u = 0; u < units.itemIds.length; u++) {
    const s = units.start[u];
    const e = units.start[u + 1];
    counts.fill(0);
    for (let i = s; i < e; i++) counts[units.cat[i]]++;
    for (let i = s; i < e; i++) {
      const r = units.rater[i];
      counts[units.cat[i]]--;
      let best = -1;
      let bestCount = 0;
      let tied = false;
      for (let c = 0; c < q; c++) {
        if (counts[c] > bestCount) {
          best = c;
          bestCount = counts[c];
          tied = false;
        } else if (counts[c] === bestCount && bestCount > 0) tied = true;
      }
      counts[units.cat[i]]++;
      if (best < 0 || tied) {
        skipped[r]++;
        continue;
      }
      own[r].push(units.cat[i]);
      others[r].push(best);
    }
  }
  return units.raterIds.map((rater, r) => {
    const n = own[r].length;
    let agree = 0;
    for (let i = 0; i < n; i++) if (own[r][i] === others[r][i]) agree++;
    return {
      rater,
      items: n,
      skipped: skipped[r],
      agreement: n ? agree / n : null,
      kappa: cohenKappa(own[r], others[r]),
    };
  });
}

export interface DriftEvidence {
  rater: string;
  flagged: boolean;
  baseline: { n: number; accuracy: number | null; from: number | null; to: number | null };
  recent: { n: number; accuracy: number | null; from: number | null; to: number | null };
  /** baseline accuracy − recent accuracy. */
  drop: number | null;
  z: number | null;
  pValue: number | null;
  reason: string;
}

export interface DriftOptions {
  /** The most recent tasks compared against everything before them. */
  window?: number;
  minBaseline?: number;
  /** Smallest accuracy drop worth flagging. */
  minDrop?: number;
  /** One-sided significance level of the two-proportion z-test. */
  alpha?: number;
}

/** Standard normal upper tail, via the Abramowitz–Stegun 7.1.26 erfc approximation (|error| < 1.5e-7). */
function upperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Flags raters whose accuracy on gold over their last `window` tasks fell below their earlier
 * accuracy: the drop must be ≥ minDrop and significant (one-sided two-proportion z-test).
 * `at` orders a rater's tasks (a timestamp or a sequence number).
 */
export function detectDrift(
  events: readonly { rater: string; at: number; correct: boolean }[],
  opts: DriftOptions = {},
): DriftEvidence[] {
  const window = opts.window ?? 20;
  const minBaseline = opts.minBaseline ?? 20;
  const minDrop = opts.minDrop ?? 0.1;
  const alpha = opts.alpha ?? 0.05;
  const summarize = (rows: { at: number; correct: boolean }[]) => {
    const k = rows.filter((r) => r.correct).length;
    return {
      n: rows.length,
      k,
      accuracy: rows.length ? k / rows.length : null,
      from: rows[0]?.at ?? null,
      to: rows.at(-1)?.at ?? null,
    };
  };
  return [...groupBy(events, (e) => e.rater)].map(([rater, rows]) => {
    const sorted = [...rows].sort((a, b) => a.at - b.at);
    const recentRows = sorted.slice(Math.max(0, sorted.length - window));
    const baselineRows = sorted.slice(0, sorted.length - recentRows.length);
    const { k: kb, ...baseline } = summarize(baselineRows);
    const { k: kr, ...recent } = summarize(recentRows);
    const result: DriftEvidence = {
      rater,
      flagged: false,
      baseline,
      recent,
      drop: null,
      z: null,
      pValue: null,
      reason: '',
    };
    if (baseline.n < minBaseline || recent.n < window) {
      result.reason = `not enough tasks yet (${baseline.n} earlier, ${recent.n} recent; need ${minBaseline} and ${window})`;
      return result;
    }
    const drop = (baseline.accuracy as number) - (recent.accuracy as number);
    const pooled = (kb + kr) / (baseline.n + recent.n);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.n + 1 / recent.n));
    result.drop = drop;
    result.z = se > 0 ? drop / se : 0;
    result.pValue = se > 0 ? upperTail(result.z) : 1;
    result.flagged = drop >= minDrop && result.pValue < alpha;
    const pct = (x: number | null) => `${((x ?? 0) * 100).toFixed(1)}%`;
    result.reason = `accuracy ${pct(recent.accuracy)} on the last ${recent.n} tasks vs ${pct(baseline.accuracy)} on the ${baseline.n} before (drop ${pct(drop)}, p=${result.pValue.toFixed(4)})${result.flagged ? '' : ': not flagged'}`;
    return result;
  });
}

export interface ItemDisagreement {
  item: string;
  /** Vote entropy in bits (0 = unanimous). */
  entropy: number;
  ratings: number;
  counts: { label: Label; count: number }[];
}

/** Items ranked by vote entropy, most disputed first (ties broken by item id for a stable order). */
export function voteEntropyRanking(ratings: readonly Rating[]): ItemDisagreement[] {
  const units = encodeRatings(ratings);
  const q = units.categories.length;
  const counts = new Int32Array(q);
  const out = units.itemIds.map((item, u) => {
    const s = units.start[u];
    const m = units.start[u + 1] - s;
    counts.fill(0);
    for (let i = s; i < s + m; i++) counts[units.cat[i]]++;
    let entropy = 0;
    const list: { label: Label; count: number }[] = [];
    for (let c = 0; c < q; c++) {
      if (!counts[c]) continue;
      const p = counts[c] / m;
      entropy -= p * Math.log2(p);
      list.push({ label: units.categories[c], count: counts[c] });
    }
    return { item, entropy: Math.max(0, entropy), ratings: m, counts: list };
  });
  return out.sort((a, b) => b.entropy - a.entropy || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
}

export interface GroupDisagreement {
  group: string;
  items: number;
  percent_agreement: number | null;
  krippendorff_alpha: number | null;
  meanEntropy: number;
  /** Items whose raters did not all agree. */
  disputedItems: number;
}

/**
 * Which criteria (or taxonomy codes, rounds…) disagree most: pass ratings grouped by that key;
 * groups come back least agreeing first.
 */
export function disagreementByGroup(groups: Record<string, readonly Rating[]>): GroupDisagreement[] {
  return Object.entries(groups)
    .map(([group, rows]) => {
      const ranking = voteEntropyRanking(rows);
      const report = agreementReport(rows);
      return {
        group,
        items: ranking.length,
        percent_agreement: report.percent_agreement,
        krippendorff_alpha: report.krippendorff_alpha,
        meanEntropy: ranking.reduce((s, r) => s + r.entropy, 0) / Math.max(1, ranking.length),
        disputedItems: ranking.filter((r) => r.entropy > 0).length,
      };
    })
    .sort(
      (a, b) =>
        (a.percent_agreement ?? 2) - (b.percent_agreement ?? 2) ||
        b.meanEntropy - a.meanEntropy ||
        (a.group < b.group ? -1 : 1),
    );
}
