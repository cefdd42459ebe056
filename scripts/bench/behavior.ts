/**
 * `npm run bench:behavior`: the within-show behaviour validation on simulated catalogs. For each
 * simulator effect size, the weighted-score coefficients, p-values and false-positive behaviour at
 * effect 0 (over several seeds), and the analysis time at catalog scale. Pure computation, no
 * services. Writes bench-results/behavior.json and prints it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateBehavior, WEIGHTED_SCORE, type BehaviorObservation } from '../../reporting/behavior/analysis';
import { generateCatalog } from '../sim/model/catalog';
import { SYNOPSIS_CRITERIA } from '../../schema/catalog';

const SHOWS = Number(process.env.BENCH_SHOWS ?? 500);
const SCALE_SHOWS = Number(process.env.BENCH_SCALE_SHOWS ?? 30_000);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 20);
/** Worlds with no effect, to measure how often a coefficient is "significant" by chance (nominal 5%). */
const NULL_SEEDS = Number(process.env.BENCH_NULL_SEEDS ?? 200);
const NULL_SHOWS = 300;

function observations(shows: number, seed: number, behaviorEffect: number): BehaviorObservation[] {
  const rows: BehaviorObservation[] = [];
  for (const { truths, behaviors } of generateCatalog({ shows, seed, behaviorEffect })) {
    truths.forEach((t, i) =>
      rows.push({
        itemId: t.synopsisId,
        showId: t.showId,
        scores: Object.fromEntries(SYNOPSIS_CRITERIA.map((c) => [c, t.criteria[c]])),
        takeFraction: behaviors[i].takeFraction,
        abandonmentRate: behaviors[i].abandonmentRate,
      }),
    );
  }
  return rows;
}

const weighted = (rows: BehaviorObservation[]) => {
  const v = validateBehavior(rows, { criteria: [...SYNOPSIS_CRITERIA] });
  const pick = (outcome: string) => v.estimates.find((e) => e.score === WEIGHTED_SCORE && e.outcome === outcome)!;
  return { take: pick('takeFraction'), abandon: pick('abandonmentRate') };
};

const byEffect = [0, 0.5, 1, 1.5].map((effect) => {
  let significantTake = 0;
  let significantAbandon = 0;
  let coefTake = 0;
  let coefAbandon = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const w = weighted(observations(SHOWS, seed, effect));
    if (w.take.p < 0.05) significantTake++;
    if (w.abandon.p < 0.05) significantAbandon++;
    coefTake += w.take.coef / SEEDS;
    coefAbandon += w.abandon.coef / SEEDS;
  }
  return {
    effect,
    meanCoefTake: +coefTake.toFixed(4),
    meanCoefAbandon: +coefAbandon.toFixed(4),
    shareSignificantTake: significantTake / SEEDS,
    shareSignificantAbandon: significantAbandon / SEEDS,
  };
});

const nullHits = new Map<string, number>();
for (let seed = 1000; seed < 1000 + NULL_SEEDS; seed++) {
  for (const e of validateBehavior(observations(NULL_SHOWS, seed, 0), { criteria: [...SYNOPSIS_CRITERIA] }).estimates) {
    const key = `${e.score}/${e.outcome}`;
    nullHits.set(key, (nullHits.get(key) ?? 0) + (e.p < 0.05 ? 1 : 0));
  }
}
const nullRates = [...nullHits.values()].map((h) => h / NULL_SEEDS);

const big = observations(SCALE_SHOWS, 7, 1.5);
const started = process.hrtime.bigint();
validateBehavior(big, { criteria: [...SYNOPSIS_CRITERIA] });
const analysisMs = Number(process.hrtime.bigint() - started) / 1e6;

const result = {
  bench: 'behavior',
  showsPerWorld: SHOWS,
  seeds: SEEDS,
  byEffect,
  falsePositives: {
    worlds: NULL_SEEDS,
    showsPerWorld: NULL_SHOWS,
    regressions: nullRates.length,
    meanRate: +(nullRates.reduce((a, b) => a + b, 0) / nullRates.length).toFixed(4),
    maxRate: Math.max(...nullRates),
  },
  scale: {
    shows: SCALE_SHOWS,
    synopses: big.length,
    regressions: 2 * (SYNOPSIS_CRITERIA.length + 1),
    analysisMs: Math.round(analysisMs),
  },
  node: process.version,
};
fs.mkdirSync(path.resolve(__dirname, '../../bench-results'), { recursive: true });
fs.writeFileSync(path.resolve(__dirname, '../../bench-results/behavior.json'), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
