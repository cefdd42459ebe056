/**
 * judgeflow statistics: pure, deterministic TypeScript (no I/O, no Node APIs, no Math.random), so
 * workflows, activities and the CLI all use this one module. Ratings are long-form rows
 * `{ item, rater, label }` (label: string | number; 0 = fail, 1 = pass for binary criteria).
 * Bad input (a rater giving one item two different labels, non-numeric labels at a numeric level,
 * non-0/1 verdicts) throws StatsInputError; undefined metrics are null with a note, never NaN.
 *
 * Agreement (per criterion / round: split first with agreementByGroup or groupBy)
 *   agreementReport(ratings, { level?, bootstrap?, seed?, categories? }) → AgreementReport
 *     { items, raters, ratings, percent_agreement, krippendorff_alpha, fleiss_kappa, cohen_kappa,
 *       gwet_ac1, alpha_ci95, notes } — the exact JSON of `judgeflow agreement`. level ∈ nominal |
 *       ordinal | interval | ratio; gwet_ac1 is AC2 (irrCAC weights) for non-nominal levels.
 *   agreementIntervals(ratings, { bootstrap, seed?, level? }) → { resamples, ci95: { percent_agreement,
 *       krippendorff_alpha, fleiss_kappa, gwet_ac1 }, notes } — seeded bootstrap over items.
 *   agreementByGroup(ratings with a key, key, opts) → Record<key, AgreementReport>
 *   raterPairAgreement(ratings) → per rater pair: items, percent_agreement, cohen_kappa, confusion
 *   cohenKappa(a, b), krippendorffAlpha(ratings, level)
 *
 * Aggregation
 *   majorityVote(ratings, { tie: 'none' | 'lowest' | 'highest' }) → { item, label, confidence, ratings, tied }[]
 *   dawidSkene(ratings, { maxIterations?, tolerance?, smoothing?, shrinkage? }) → { classes, priors,
 *       items (label, confidence, posterior), raters (confusion, accuracy), iterations, converged }
 *   roundedMeanConsensus(samples: (0|1)[], tie: 'fail' | 'pass' = 'fail') → { verdict, mean, samples, tie }
 *   lowerMedian(scores) → the Likert consensus (golden labels, a Likert judge's samples)
 *
 * Judge vs gold
 *   binaryClassificationMetrics(pred, gold, { positive?: 0|1 = 1, bootstrap?, seed? }) → { n, confusion
 *       {tp, fp, fn, tn}, accuracy, precision, recall/tpr, tnr, f1, kappa, mcc, ci95 (Wilson for
 *       proportions, bootstrap for f1/kappa/mcc), notes }
 *
 * Rater quality and disagreement
 *   raterGoldAccuracy(ratings, gold, { positive? }) → per rater: n, accuracy (+ Wilson CI), sensitivity, specificity, kappa
 *   goldAccuracyDecision(correct, n, { minAnswers, minAccuracy }) → Wilson CI and whether its upper bound is below the bar (rater QA)
 *   leaveOneOutAgreement(ratings) → per rater: agreement and kappa with the majority of the others
 *   detectDrift(events: { rater, at, correct }[], { window, minBaseline, minDrop, alpha }) → per rater:
 *       flagged + evidence (baseline vs recent accuracy, drop, z, p-value, reason)
 *   voteEntropyRanking(ratings) → items, most disputed first
 *   disagreementByGroup({ [criterion or code]: ratings }) → groups, least agreeing first
 *   analyzeDisagreements(round labels with criterion, codes, explanation) → split items, rater pairs,
 *       criterion × error code, raters furthest from consensus; disagreementDigest → a gate-sized summary
 *
 * createRng(seed) is the seeded PRNG used for every bootstrap (same seed → same interval).
 */
import { agreementReport, type AgreementOptions, type AgreementReport } from './agreement';
import { groupBy, type Rating } from './data';

export * from './agreement';
export * from './aggregation';
export * from './classification';
export * from './disagreement';
export * from './ordinal';
export * from './quality';
export { createRng, type Rng } from './random';
export {
  encodeRatings,
  groupBy,
  percentileInterval,
  StatsInputError,
  wilsonInterval,
  type Label,
  type Level,
  type Rating,
  type Units,
} from './data';

/** One report per group (criterion, round…), groups in first-seen order. */
export function agreementByGroup<T extends Rating>(
  ratings: readonly T[],
  key: (r: T) => string,
  opts: AgreementOptions = {},
): Record<string, AgreementReport> {
  const out: Record<string, AgreementReport> = {};
  for (const [k, rows] of groupBy(ratings, key)) out[k] = agreementReport(rows, opts);
  return out;
}
