/**
 * Rubric hints: the phrases that make a judge prompt better in the simulated world. A judge
 * answer's accuracy rises by `hintGain` for each distinct hint of its criterion present in the
 * prompt, and the simulated optimizer (prompt_edit) adds them one edit at a time — so prompt
 * optimization has something real to find. Honest, fixed and documented in docs/simulation.md.
 */
import type { TruthCriterion } from '../model/assess';

export const RUBRIC_HINTS: Record<TruthCriterion, readonly string[]> = {
  tone: [
    'Exclamation marks are off-brand: any exclamation mark fails tone.',
    "Hype words such as 'shocking', 'must-watch' or 'jaw-dropping' fail tone.",
    "Direct appeals to the viewer ('you won't believe') are clickbait.",
    'Judge the wording, not the subject: dark stories told calmly pass.',
  ],
  clarity: [
    'A sentence over 45 words fails clarity.',
    "Stacked qualifiers such as 'insofar as' or 'notwithstanding the fact that' make a sentence convoluted.",
    "References like 'the aforementioned' that force re-reading fail clarity.",
    'Short, plain sentences in a logical order pass clarity.',
  ],
  precision: [
    "Vague stand-ins such as 'something unexpected' or 'various matters' fail precision.",
    'Filler sentences that add no concrete story detail fail precision.',
    'A precise synopsis names the concrete thing the story turns on.',
    'Do not fail precision for brevity alone.',
  ],
  factuality_plot: [
    'Every story element in the synopsis must appear in the plot summary.',
    'An object, person or event the plot does not mention is a contradiction.',
    'Omissions are not contradictions: a synopsis may leave plot points out.',
    'Compare the central story element word for word with the plot summary.',
  ],
  factuality_metadata: [
    'The release year must match the record exactly.',
    "Every genre named must be one of the record's genres.",
    "Every place named must be one of the record's locations.",
    'Do not infer metadata that the record does not state.',
  ],
  factuality_talent: [
    'Every person named must appear in the talent list.',
    'Check full names: a matching first name with a different surname is wrong.',
    'Roles need not be stated; only the names are checked.',
    'A name absent from the talent list fails even if it sounds plausible.',
  ],
  factuality_awards: [
    "Every award named must appear in the record's awards.",
    'A show with no awards in the record must not be called award-winning.',
    'Nominations are not wins.',
    'Check the exact award name, not just the organisation.',
  ],
};

/** Edits that read like advice but change nothing. */
export const USELESS_HINTS = [
  'Read the synopsis carefully.',
  'Be thorough and objective.',
  'Think step by step.',
  'Take your time before answering.',
] as const;

/** The hints of `criterion` present in `prompt` (case-insensitive). */
export function hintsIn(prompt: string, criterion: TruthCriterion): string[] {
  const lower = prompt.toLowerCase();
  return RUBRIC_HINTS[criterion].filter((h) => lower.includes(h.toLowerCase()));
}
