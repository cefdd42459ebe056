/**
 * `npm run bench:aggregation`: golden-label accuracy against the hidden truth of majority vote,
 * classic Dawid–Skene and Dawid–Skene with the crowd prior, on the simulated crowds of
 * stats/crowds.ts. Writes bench-results/aggregation.json and prints one JSON object.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accuracyAgainst, CROWDS, simulateCrowd } from '../../stats/crowds';
import { dawidSkene, majorityVote } from '../../stats/index';

const rows = Object.entries(CROWDS).map(([crowd, spec]) => {
  const { truth, ratings } = simulateCrowd(spec);
  const t0 = performance.now();
  const withPrior = dawidSkene(ratings);
  const ms = Math.round(performance.now() - t0);
  return {
    crowd,
    labelsPerRater: Math.round(ratings.length / spec.raters),
    majority: +accuracyAgainst(truth, majorityVote(ratings, { tie: 'lowest' })).toFixed(3),
    dawidSkeneClassic: +accuracyAgainst(truth, dawidSkene(ratings, { shrinkage: 0 }).items).toFixed(3),
    dawidSkene: +accuracyAgainst(truth, withPrior.items).toFixed(3),
    iterations: withPrior.iterations,
    ms,
  };
});
const result = { node: process.version, loadAverage: os.loadavg().map((x) => +x.toFixed(2)), rows };
fs.mkdirSync('bench-results', { recursive: true });
fs.writeFileSync(path.join('bench-results', 'aggregation.json'), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
