/**
 * The simulated world on a Likert criterion. The hidden score agrees with the hidden pass/fail (a
 * synopsis that passes scores passAt or more), so golden labels, judges and the fix loop keep one
 * truth; raters and the simulated model miss it mostly by one point and sometimes by two — the
 * near misses that make ordinal agreement higher than nominal agreement on the same ratings.
 */
import type { LikertScale } from '../../../judging/prompts/judge';
import { textHash, unitFor } from './rng';

/**
 * The hidden score of a text on a criterion: a pass spreads over passAt..points, a fail over
 * 1..passAt-1 and lower with every defect beyond the second. Seedless, so every simulator agrees.
 */
export function trueLikertScore(scale: LikertScale, pass: 0 | 1, defects: number, key: string, text: string): number {
  const u = unitFor('likert-truth', key, textHash(text));
  if (pass) return scale.passAt + Math.floor(u * (scale.points - scale.passAt + 1));
  const below = scale.passAt - 1;
  // One defect kind often shows twice (a convoluted tail is also an overlong sentence): only a third lowers it.
  return Math.max(1, 1 + Math.floor(u * below) - Math.max(0, defects - 2));
}

/** A score that misses `truth`: by one point (80 %) or two, up or down by `u`, turned back inside the scale. */
export function missedScore(scale: LikertScale, truth: number, u: number): number {
  const distance = u % 0.5 < 0.4 ? 1 : 2;
  const step = u < 0.5 ? -distance : distance;
  const score = truth + step >= 1 && truth + step <= scale.points ? truth + step : truth - step;
  return Math.min(scale.points, Math.max(1, score));
}
