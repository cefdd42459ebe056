import { runRatingRound, type RatingRoundInput, type RatingRoundResult } from './rating-round';

/** The pilot: a small sample to 3–5 raters, to see agreement and confusion before calibration. */
export async function pilotWorkflow(input: RatingRoundInput): Promise<RatingRoundResult> {
  return runRatingRound(input);
}
