import { runRatingRound, type RatingRoundInput, type RatingRoundResult } from './rating-round';

/** One calibration round: ~50 fresh items, ≥3 raters each, agreement per criterion against the target. */
export async function calibrationRoundWorkflow(input: RatingRoundInput): Promise<RatingRoundResult> {
  return runRatingRound(input);
}
