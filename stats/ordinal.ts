/** Consensus on an ordinal (Likert) scale. */
import { StatsInputError } from './data';

/**
 * The lower median of scores: always a point of the scale (a mean of 3 and 4 is not), unmoved by
 * one careless rater or one outlying sample, and an even split takes the lower score — as a binary
 * tie fails. Golden labels of Likert criteria and a Likert judge's N samples both use it.
 */
export function lowerMedian(scores: readonly number[]): number {
  if (!scores.length) throw new StatsInputError('lowerMedian needs at least one score');
  const sorted = [...scores].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
