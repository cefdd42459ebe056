/**
 * `npm run bench:stats`: Krippendorff's alpha on 1,000,000 ratings (333,334 items × 3 raters, 5%
 * missing) and a 1,000-resample bootstrap over a golden set of 600 items × 3 raters × 8 criteria.
 * Writes bench-results/stats.json and prints one JSON object. Goal: each under 2 s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { agreementReport, createRng, krippendorffAlpha, type Rating } from '../../stats/index';

function ratings(seed: number, items: number, raters: number, missing: number, accuracy: number): Rating[] {
  const rng = createRng(seed);
  const out: Rating[] = [];
  for (let u = 0; u < items; u++) {
    const truth = rng.int(2);
    for (let r = 0; r < raters; r++) {
      if (rng.next() < missing) continue;
      out.push({ item: `item-${u}`, rater: `rater-${r}`, label: rng.next() < accuracy ? truth : 1 - truth });
    }
  }
  return out;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: Math.round(performance.now() - t0), value };
}

// 333,334 items × 3 raters × 95% present ≈ 950k; size the item count so the rows reach 1,000,000.
const big = ratings(1, 351_000, 3, 0.05, 0.85).slice(0, 1_000_000);
const alpha = time(() => krippendorffAlpha(big));
const fullReport = time(() => agreementReport(big));

const criteria = Array.from({ length: 8 }, (_, c) => ratings(100 + c, 600, 3, 0, 0.8 + c * 0.02));
const bootstrap = time(() => criteria.map((rows, c) => agreementReport(rows, { bootstrap: 1000, seed: c + 1 })));

const result = {
  bench: 'stats',
  node: process.version,
  alpha_1m: { ratings: big.length, items: fullReport.value.items, ms: alpha.ms, alpha: alpha.value, goal_ms: 2000 },
  full_report_1m: { ms: fullReport.ms, note: 'all five coefficients, no bootstrap' },
  bootstrap_golden_set: {
    items: 600,
    raters: 3,
    criteria: 8,
    resamples: 1000,
    ms: bootstrap.ms,
    goal_ms: 2000,
    alpha_ci95: bootstrap.value.map((r) => r.alpha_ci95?.map((x) => Number(x.toFixed(3)))),
  },
};
fs.mkdirSync('bench-results', { recursive: true });
fs.writeFileSync(path.join('bench-results', 'stats.json'), JSON.stringify(result, null, 2));
process.stdout.write(`${JSON.stringify(result)}\n`);
