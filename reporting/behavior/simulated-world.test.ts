/**
 * On the simulated world member behaviour is driven by latent quality (scripts/sim/model/catalog.ts). With the
 * effect on, judge scores equal to the hidden truth must predict higher take and lower abandonment
 * within show; with the effect at zero, the same analysis must find nothing.
 */
import { SYNOPSIS_CRITERIA } from '../../schema/catalog';
import { generateCatalog } from '../../scripts/sim/model/catalog';
import { validateBehavior, WEIGHTED_SCORE, type BehaviorObservation } from './analysis';

function simulatedObservations(behaviorEffect: number, seed: number): BehaviorObservation[] {
  const rows: BehaviorObservation[] = [];
  for (const { truths, behaviors } of generateCatalog({ shows: 400, seed, behaviorEffect })) {
    truths.forEach((truth, i) => {
      const b = behaviors[i];
      const scores = Object.fromEntries(SYNOPSIS_CRITERIA.map((c) => [c, truth.criteria[c]]));
      rows.push({
        itemId: truth.synopsisId,
        showId: truth.showId,
        scores,
        takeFraction: b.takeFraction,
        abandonmentRate: b.abandonmentRate,
      });
    });
  }
  return rows;
}

const estimate = (result: ReturnType<typeof validateBehavior>, score: string, outcome: string) => {
  const e = result.estimates.find((x) => x.score === score && x.outcome === outcome);
  if (!e) throw new Error(`no estimate for ${score} × ${outcome}`);
  return e;
};

describe('behaviour validation on the simulated world', () => {
  it('recovers the direction of the effect with significant coefficients when behaviour follows quality', () => {
    const result = validateBehavior(simulatedObservations(1.5, 11), { criteria: [...SYNOPSIS_CRITERIA] });
    expect(result.shows).toBe(400);
    const take = estimate(result, WEIGHTED_SCORE, 'takeFraction');
    const abandon = estimate(result, WEIGHTED_SCORE, 'abandonmentRate');
    expect(take.coef).toBeGreaterThan(0);
    expect(take.p).toBeLessThan(0.05);
    expect(take.ci95[0]).toBeGreaterThan(0);
    expect(abandon.coef).toBeLessThan(0);
    expect(abandon.p).toBeLessThan(0.05);
    expect(abandon.ci95[1]).toBeLessThan(0);
    // every criterion feeds latent quality, so each predicts take in the right direction
    for (const c of SYNOPSIS_CRITERIA) expect(estimate(result, c, 'takeFraction').coef).toBeGreaterThan(0);
  });

  it('finds no effect when the simulator sets it to zero', () => {
    const result = validateBehavior(simulatedObservations(0, 11), { criteria: [...SYNOPSIS_CRITERIA] });
    expect(result.estimates).toHaveLength(2 * (SYNOPSIS_CRITERIA.length + 1));
    // this seed's world: no criterion and not the weighted score reaches significance
    for (const e of result.estimates) {
      expect(e.p).toBeGreaterThan(0.05);
      expect(e.ci95[0]).toBeLessThan(0);
      expect(e.ci95[1]).toBeGreaterThan(0);
    }
  });
});
