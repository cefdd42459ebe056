/**
 * `npm run bench:redundancy` (under /tmp/judgeflow-bench.lock): fixed against adaptive redundancy
 * for the golden set, on the simulated world — the simulated catalog's hidden truth, the simulated
 * vendor's rater pool (scripts/sim/vendor/raters.ts, the demo's: careful, careless and drifting
 * raters, better with each guideline version), raters assigned as openTaskBatch does (distinct per
 * item, least loaded first) and the rules the golden-set workflow runs (stats/aggregation.ts:
 * aggregateLabels, needsAnotherRating). A label still below `minConfidence` after its last rating
 * goes to review, where one more simulated rater's label replaces it, as applyGoldenReviews does.
 *
 * For each setting, the mean over the seeds of: rating and review tasks, human-task spend at the
 * demo's rate card, and golden-label accuracy against the truth. The workflow itself (waves, new
 * raters per wave) is exercised on the real stack by judging/golden-methods.test.ts; this measures
 * the rule at the golden set's size (600 items) without services. The `llm` method is not measured
 * here (its escalation reads the vote share, as `majority` does; its labels come from the model).
 * Writes bench-results/redundancy.json and prints it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCatalog } from '../sim/model/catalog';
import { assessSynopsis, truthKey } from '../sim/model/assess';
import { hash53 } from '../sim/model/rng';
import { buildPool, DEFAULT_POOL, rateTask, type SimRater } from '../sim/vendor/raters';
import type { Show } from '../../schema/catalog';
import { aggregateLabels, needsAnotherRating, type LabelAggregation, type Rating } from '../../stats/index';

const CRITERIA = ['tone', 'clarity', 'precision', 'factuality'];
const ITEMS = 600;
const SEEDS = [1, 2, 3, 4, 5];
/** The demo's rate card (examples/demo-program.yaml). */
const RATE_USD = 0.5;
const REVIEW_USD = 1.2;

interface Setting {
  name: string;
  method: LabelAggregation;
  /** Fixed: every item gets `max` ratings at once. */
  adaptive: boolean;
  max: number;
  minConfidence: number;
}

const SETTINGS: Setting[] = (['majority', 'dawid-skene'] as const).flatMap((method) => [
  { name: 'fixed 3', method, adaptive: false, max: 3, minConfidence: 0.65 },
  { name: 'fixed 5', method, adaptive: false, max: 5, minConfidence: 0.65 },
  { name: 'adaptive 2→3, 0.65', method, adaptive: true, max: 3, minConfidence: 0.65 },
  { name: 'adaptive 2→5, 0.65', method, adaptive: true, max: 5, minConfidence: 0.65 },
  { name: 'adaptive 2→5, 0.75', method, adaptive: true, max: 5, minConfidence: 0.75 },
  { name: 'adaptive 2→5, 0.9', method, adaptive: true, max: 5, minConfidence: 0.9 },
]);

interface Item {
  id: string;
  show: Show;
  text: string;
  truth: Record<string, number>;
}

function goldenItems(seed: number): Item[] {
  const out: Item[] = [];
  for (const { show, synopses } of generateCatalog({ shows: 400, seed })) {
    for (const s of synopses) {
      const assessed = assessSynopsis(show, s.text);
      const truth = Object.fromEntries(CRITERIA.map((c) => [c, assessed.criteria[truthKey(c)!]]));
      out.push({ id: s.id, show, text: s.text, truth });
      if (out.length === ITEMS) return out;
    }
  }
  throw new Error(`the simulated catalog of seed ${seed} has fewer than ${ITEMS} synopses`);
}

/** One simulated golden set under a setting: what it cost and how right its labels are. */
function run(setting: Setting, seed: number, guidelineVersion: number) {
  const items = goldenItems(seed);
  const pool = buildPool({ ...DEFAULT_POOL, seed });
  const opts = { ...DEFAULT_POOL, seed };
  const load = new Map<string, number>();
  const ratings = new Map(CRITERIA.map((c) => [c, [] as Rating[]]));
  const ratedBy = new Map(items.map((i) => [i.id, new Set<string>()]));
  let tasks = 0;
  /** The least-loaded rater new to the item (ties by a hash, as openTaskBatch ranks them). */
  const pick = (item: Item): SimRater | undefined =>
    pool
      .filter((r) => !ratedBy.get(item.id)!.has(r.id))
      .sort(
        (a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || hash53(item.id + a.id) - hash53(item.id + b.id),
      )[0];
  const rate = (item: Item, rater: SimRater, kind: string) => {
    load.set(rater.id, (load.get(rater.id) ?? 0) + 1);
    ratedBy.get(item.id)!.add(rater.id);
    return rateTask(
      rater,
      {
        taskId: `${seed}/${item.id}/${rater.id}/${kind}`,
        batchId: 'bench',
        programId: 'bench',
        kind: 'rate',
        raterId: rater.id,
        item: { id: item.id, textHash: '', text: item.text, locale: item.show.locale },
        show: item.show,
        criteria: CRITERIA,
        guidelineVersion,
        dueAt: '',
        context: {},
      },
      opts,
      guidelineVersion,
    );
  };
  const addRating = (item: Item) => {
    const rater = pick(item);
    if (!rater) return;
    tasks++;
    for (const l of rate(item, rater, 'rate'))
      ratings.get(l.criterion)!.push({ item: item.id, rater: rater.id, label: l.value });
  };
  const aggregate = () =>
    new Map(
      CRITERIA.map((c) => [c, new Map(aggregateLabels(ratings.get(c)!, setting.method).map((a) => [a.item, a]))]),
    );

  let open = items;
  for (let have = 0; open.length && have < setting.max;) {
    const add = have === 0 ? (setting.adaptive ? 2 : setting.max) : 1;
    for (let k = 0; k < add; k++) for (const item of open) addRating(item);
    have += add;
    if (!setting.adaptive) break;
    const now = aggregate();
    const rule = { maxRatings: setting.max, minConfidence: setting.minConfidence };
    open = open.filter((item) =>
      needsAnotherRating(
        CRITERIA.map((c) => now.get(c)!.get(item.id)!),
        rule,
      ),
    );
  }
  const final = aggregate();
  let reviews = 0;
  let right = 0;
  const rightBy: Record<string, number> = Object.fromEntries(CRITERIA.map((c) => [c, 0]));
  for (const item of items) {
    const unsure = CRITERIA.filter((c) => final.get(c)!.get(item.id)!.confidence < setting.minConfidence);
    const reviewer = unsure.length ? pick(item) : undefined;
    const reviewed = reviewer ? rate(item, reviewer, 'review') : [];
    if (reviewer) reviews++;
    for (const c of CRITERIA) {
      const label = unsure.includes(c)
        ? (reviewed.find((l) => l.criterion === c)?.value ?? final.get(c)!.get(item.id)!.label)
        : final.get(c)!.get(item.id)!.label;
      if (label === item.truth[c]) {
        right++;
        rightBy[c]++;
      }
    }
  }
  return {
    ratingTasks: tasks,
    reviewTasks: reviews,
    spendUsd: tasks * RATE_USD + reviews * REVIEW_USD,
    accuracy: right / (items.length * CRITERIA.length),
    accuracyBy: Object.fromEntries(CRITERIA.map((c) => [c, rightBy[c] / items.length])),
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const started = performance.now();
const rows = [1, 3].flatMap((guidelineVersion) =>
  SETTINGS.map((setting) => {
    const runs = SEEDS.map((seed) => run(setting, seed, guidelineVersion));
    return {
      guidelineVersion,
      setting: setting.name,
      method: setting.method,
      ratingsPerItem: +(mean(runs.map((r) => r.ratingTasks)) / ITEMS).toFixed(3),
      reviewTasks: +mean(runs.map((r) => r.reviewTasks)).toFixed(1),
      spendUsd: +mean(runs.map((r) => r.spendUsd)).toFixed(2),
      accuracy: +mean(runs.map((r) => r.accuracy)).toFixed(4),
      accuracyBy: Object.fromEntries(CRITERIA.map((c) => [c, +mean(runs.map((r) => r.accuracyBy[c])).toFixed(4)])),
    };
  }),
);
const result = {
  command: 'npm run bench:redundancy',
  node: process.version,
  loadAverage: os.loadavg().map((x) => +x.toFixed(2)),
  items: ITEMS,
  criteria: CRITERIA,
  seeds: SEEDS,
  rateCardUsd: { rate: RATE_USD, review: REVIEW_USD },
  seconds: +((performance.now() - started) / 1000).toFixed(1),
  rows,
};
fs.mkdirSync('bench-results', { recursive: true });
fs.writeFileSync(path.join('bench-results', 'redundancy.json'), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
