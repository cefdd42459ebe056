/**
 * Judges of Likert criteria against their golden scores. The verdict stays pass/fail (a score ≥
 * passAt passes), so the accuracy a target measures is pass/fail accuracy at passAt; exact and
 * within-one agreement on the score say how close the judge's scale is to the raters'.
 */
import type { LikertScale } from './prompts/judge';

/** A golden label's verdict: a Likert score passes at passAt; a binary label is its own verdict. */
export const goldenVerdict = (label: number, scale: LikertScale | undefined): 0 | 1 =>
  label >= (scale?.passAt ?? 1) ? 1 : 0;

export interface LikertAccuracy {
  points: number;
  passAt: number;
  /** Items whose judge score equals the golden score (errors count as misses). */
  exact: number;
  /** Items whose judge score is at most one point from the golden score. */
  withinOne: number;
  /** Mean absolute distance in points over the items the judge scored. */
  meanAbsoluteError: number | null;
}

/** Score agreement of a Likert judge with golden scores; a judge error (null) is a miss. */
export function likertAccuracy(scale: LikertScale, pairs: { gold: number; score: number | null }[]): LikertAccuracy {
  const scored = pairs.filter((p): p is { gold: number; score: number } => p.score !== null);
  const share = (n: number) => (pairs.length ? n / pairs.length : 0);
  const distances = scored.map((p) => Math.abs(p.score - p.gold));
  return {
    ...scale,
    exact: share(distances.filter((d) => d === 0).length),
    withinOne: share(distances.filter((d) => d <= 1).length),
    meanAbsoluteError: scored.length ? distances.reduce((a, b) => a + b, 0) / scored.length : null,
  };
}
