/**
 * Scoping: what a program will take before anything is spent — human tasks, LLM calls, cost and
 * calendar time — from the spec, the catalog size and the provider's rate limit. Pure and
 * deterministic (the program workflow's scoping phase and `program start` both use it).
 */
import {
  criterionSamples,
  durationMs,
  goldenSettings,
  type ProgramSpec,
  type VendorSpec,
} from '../schema/program-spec';
import { priceFor } from '../llm/price-table';

/** Typical judge request: rubric + show context + synopsis in, tiered rationale out. */
// Writer fix loop, before any judging has been seen: an assumed share of synopses failing some
// criterion and of attempts per failing one (stated in the estimate's notes, so the PM can judge it).
const FIX_LOOP_FAIL_SHARE = 0.3;
const FIX_LOOP_ATTEMPTS = 1.5;
const TOKENS_PER_CALL = { prompt: 1200, completion: 350 };

export interface ProgramEstimate {
  humanTasks: {
    pilot: number;
    calibration: { expected: number; max: number };
    goldenSet: number;
    reviews: number;
    fixLoop: { expected: number; max: number };
    total: number;
  };
  llmCalls: {
    goldenAggregation: number;
    judgeValidation: number;
    optimizer: number;
    production: number;
    total: number;
  };
  costUsd: { human: number; llm: number; llmBatch: number; total: number; maxTotal: number };
  days: { expected: number; max: number };
  catalogItems: number;
  withinBudget: boolean;
  notes: string[];
}

export function estimateProgram(
  spec: ProgramSpec,
  opts: { catalogItems: number; rpmLimit: number; model: string },
): ProgramEstimate {
  const notes: string[] = [];
  const goldFactor = 1 + spec.raters.goldRate;
  const pilot = Math.ceil(spec.rounds.pilotSize * spec.raters.pilotPerItem * goldFactor);
  const perRound = Math.ceil(spec.rounds.calibrationSize * spec.raters.perItem * goldFactor);
  // Seed 004 needed all 8 rounds; a well-written rubric often converges in about half.
  const expectedRounds = Math.ceil(spec.rounds.maxCalibrationRounds / 2);
  const golden = goldenSettings(spec);
  // Adaptive: 2.2–4.1 ratings per item in BENCHMARKS.md (method, bar, rater quality); 3 expected, the maximum at worst.
  const adaptive = golden.redundancy === 'adaptive';
  const goldenRatings = (perItem: number) => Math.ceil(spec.rounds.goldenSetSize * perItem * goldFactor);
  const goldenSet = goldenRatings(adaptive ? Math.min(3, golden.maxRatingsPerItem) : spec.raters.perItem);
  const goldenSetMax = adaptive ? goldenRatings(golden.maxRatingsPerItem) : goldenSet;
  const reviews = Math.ceil(spec.rounds.goldenSetSize * 0.2); // substantial disagreements go back to review
  const humanExpected = pilot + perRound * expectedRounds + goldenSet + reviews;
  const humanMax = pilot + perRound * spec.rounds.maxCalibrationRounds + goldenSetMax + reviews;

  const judgeCalls = spec.criteria.reduce((sum, c) => sum + (c.panel ? c.panel.length + 1 : 1), 0);
  const samples = criterionSamples(spec);
  const samplesFor = (c: ProgramSpec['criteria'][number]) => samples[c.id];
  // Judge requests per item: each criterion's samples, per agent of a panel; production adds one
  // rationale merge per panel (judge development does not merge).
  const judgeRequestsPerItem = spec.criteria.reduce(
    (sum, c) => sum + (c.panel ? c.panel.length : 1) * samplesFor(c),
    0,
  );
  const callsPerItem = judgeRequestsPerItem + spec.criteria.filter((c) => c.panel).length;
  // Unanimous items need no call; Dawid–Skene and majority vote none at all.
  const goldenAggregation =
    golden.aggregation === 'llm' ? Math.ceil(spec.rounds.goldenSetSize * spec.criteria.length * 0.5) : 0;
  const judgeValidation = spec.rounds.goldenSetSize * judgeRequestsPerItem;
  // A panel is never optimized as a whole (its agents keep their prompts).
  const optimizer = spec.judges.optimize
    ? spec.judges.maxOptimizerCalls * spec.criteria.filter((c) => !c.panel).length
    : 0;
  const productionItems = spec.production.limit
    ? Math.min(spec.production.limit, opts.catalogItems)
    : opts.catalogItems;
  const production = productionItems * callsPerItem;
  const failing = spec.production.fixLoop ? Math.ceil(productionItems * FIX_LOOP_FAIL_SHARE) : 0;
  const fixLoop = { expected: Math.ceil(failing * FIX_LOOP_ATTEMPTS), max: failing * spec.production.maxFixAttempts };
  // Every attempt's revision is re-judged by the whole panel.
  const rejudging = fixLoop.expected * callsPerItem;
  const llmTotal = goldenAggregation + judgeValidation + optimizer + production + rejudging;

  const price = priceFor(opts.model);
  const perCall = (TOKENS_PER_CALL.prompt * price.input + TOKENS_PER_CALL.completion * price.output) / 1e6;
  const llm = llmTotal * perCall;
  const llmBatch = (llmTotal - production) * perCall + production * perCall * price.batchDiscount;

  const rate = (kind: 'rate' | 'review' | 'write') => Math.min(...spec.vendors.map((v) => vendorRateCard(v)[kind]));
  const humanCost = (n: number) => n * rate('rate');
  const writeRate = rate('write');
  const human = humanCost(humanExpected - reviews) + reviews * rate('review') + fixLoop.expected * writeRate;
  const humanMaxCost = humanCost(humanMax - reviews) + reviews * rate('review') + fixLoop.max * writeRate;

  const batchDays = durationMs(spec.sla.remindAfter) / 86_400_000; // typical turnaround of one batch
  const productionDays = production / Math.max(1, opts.rpmLimit) / 60 / 24;
  const phasesDays = (rounds: number) => batchDays * (1 + rounds + 2) + 0.5 + productionDays;
  if (judgeCalls > spec.criteria.length)
    notes.push('factuality-style panels add one call per agent plus a rationale merge');
  if (opts.catalogItems === 0) notes.push('no catalog imported yet: production is not in the estimate');
  if (failing)
    notes.push(
      `fix loop: assumes ${FIX_LOOP_FAIL_SHARE * 100}% of judged synopses fail a criterion and take ${FIX_LOOP_ATTEMPTS} writer attempts each (at most ${spec.production.maxFixAttempts})`,
    );
  const total = human + llm;
  return {
    humanTasks: {
      pilot,
      calibration: { expected: perRound * expectedRounds, max: perRound * spec.rounds.maxCalibrationRounds },
      goldenSet,
      reviews,
      fixLoop,
      total: humanExpected + fixLoop.expected,
    },
    llmCalls: { goldenAggregation, judgeValidation, optimizer, production: production + rejudging, total: llmTotal },
    costUsd: {
      human: round2(human),
      llm: round2(llm),
      llmBatch: round2(llmBatch),
      total: round2(total),
      maxTotal: round2(humanMaxCost + llm),
    },
    days: { expected: round1(phasesDays(expectedRounds)), max: round1(phasesDays(spec.rounds.maxCalibrationRounds)) },
    catalogItems: opts.catalogItems,
    withinBudget: total <= spec.budget.usd,
    notes,
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const round1 = (n: number) => Math.round(n * 10) / 10;

/** A vendor's rate card; the spec's references are resolved from the registry before an estimate (vendors/spec-vendors.ts). */
export function vendorRateCard(v: VendorSpec): NonNullable<VendorSpec['rateCard']> {
  if (!v.rateCard) throw new Error(`vendor ${v.id}: resolve the spec's vendors from the registry before estimating`);
  return v.rateCard;
}
