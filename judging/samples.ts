/**
 * How many samples a judge request takes per criterion. The spec sets them per criterion
 * (`criteria[].judge.samples`, else `judges.samples`); a judging input carries either one number
 * for every criterion (the form older callers and recorded workflow histories use) or one per
 * criterion. Pure: the engine, batch mode and the CLI share it.
 */

/** One number for every criterion, or criterion → samples. */
export type JudgeSamples = number | Record<string, number>;

/** The samples of `criterion` (a panel criterion's agents all take the criterion's). */
export function samplesFor(samples: JudgeSamples, criterion: string): number {
  return typeof samples === 'number' ? samples : samples[criterion];
}

/** What is wrong with `samples` for `criteria` (a criterion without a positive integer), or null. */
export function samplesProblem(samples: JudgeSamples, criteria: string[]): string | null {
  const bad = criteria.filter((c) => {
    const n = samplesFor(samples, c);
    return !Number.isInteger(n) || n < 1;
  });
  if (!bad.length) return null;
  return typeof samples === 'number'
    ? `samples must be a positive integer, not ${samples}`
    : `samples must be a positive integer for every criterion judged: ${bad.map((c) => `${c}: ${String(samples[c])}`).join(', ')}`;
}

/** The most samples any of `criteria` takes (what to look up among the stored judgments). */
export const maxSamples = (samples: JudgeSamples, criteria: string[]) =>
  Math.max(0, ...criteria.map((c) => samplesFor(samples, c) ?? 0));

/** "5" or "tone 5, precision 1" (activity summaries, logs). */
export const describeSamples = (samples: JudgeSamples) =>
  typeof samples === 'number'
    ? String(samples)
    : Object.entries(samples)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ');
