/**
 * The guideline revision the demo's scripted program manager publishes after a calibration round
 * below target, written from the round gate's disagreement digest as a real PM would: worked
 * examples for the items the raters split on most, the error codes they cited inconsistently.
 */
import type { DisagreementDigest } from '../stats/disagreement';

export function revisionFromDisagreements(
  version: number,
  round: number,
  below: string[],
  digest: DisagreementDigest | undefined,
): { text: string; note: string } {
  const items = (digest?.topItems ?? []).map((t) => `${t.item} (${t.criterion}: ${t.votes})`);
  const codes = (digest?.contestedCodes ?? []).map((c) => `${c.criterion} × ${c.code}`);
  const raters = (digest?.furthestRaters ?? []).slice(0, 1).map((r) => r.rater);
  const cites = [
    items.length ? `most split: ${items.join(', ')}` : '',
    codes.length ? `codes cited inconsistently: ${codes.join(', ')}` : '',
    raters.length ? `furthest from consensus: ${raters.join(', ')}` : '',
  ].filter(Boolean);
  return {
    text: [
      `Guidelines v${version}: worked examples and taxonomy codes added for ${below.join(', ')}.`,
      ...(items.length
        ? [`Worked examples: ${(digest?.topItems ?? []).map((t) => `${t.item} (${t.criterion})`).join(', ')}.`]
        : []),
      ...(codes.length ? [`When to cite: ${codes.join(', ')}.`] : []),
    ].join('\n'),
    note: `round ${round} below target on ${below.join(', ')}${cites.length ? `; ${cites.join('; ')}` : ''}`,
  };
}
