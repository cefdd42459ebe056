/**
 * The report of a program, assembled from Postgres by read-only queries. Renderers (reporting/render.ts)
 * turn this model into HTML or Markdown; nothing here formats or writes.
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { validateBehavior, type BehaviorObservation, type BehaviorValidation } from './behavior/analysis';
import type { Db } from '../platform/db';
import {
  agreementReports,
  behaviorMetrics,
  decisionLog,
  fixAttempts,
  fixCycles,
  goldAnswers,
  goldenLabels,
  guidelineVersions,
  itemVerdicts,
  items,
  judgeEvaluations,
  judgePrompts,
  labels,
  optimizationCandidates,
  productionRuns,
  programs,
  raters,
  tasks,
  usageLedger,
} from '../schema/tables';

export class UnknownProgramError extends Error {
  readonly exitCode = 2;
}

export interface PhaseSpan {
  phase: string;
  start: string;
  end: string | null;
}
export interface AgreementPoint {
  phase: string;
  round: number;
  criterion: string;
  guidelineVersion: number;
  items: number;
  raters: number;
  value: number | null;
  ci95: [number, number] | null;
  meetsTarget: boolean;
}
export interface RaterQuality {
  raterId: string;
  vendorId: string;
  status: string;
  pausedReason: string | null;
  goldLabels: number;
  goldCorrect: number;
  accuracy: number | null;
  /** Share of the rater's labels that match the golden set's final label. */
  goldenSetLabels: number;
  goldenSetAgreement: number | null;
  /** Accuracy on the earlier and later half of the rater's answers on the basis, in time order. */
  driftBasis: 'gold questions' | 'golden set';
  earlyAccuracy: number | null;
  lateAccuracy: number | null;
  drift: boolean;
}
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}
export interface JudgeVersion {
  criterion: string;
  promptHash: string;
  parentHash: string | null;
  origin: string;
  status: string;
  createdAt: string;
  model: string;
  split: string;
  samples: number;
  accuracy: number | null;
  accuracyCi95: [number, number] | null;
  tpr: number | null;
  tnr: number | null;
}
export interface OptimizerStep {
  criterion: string;
  runId: string;
  step: number;
  promptHash: string;
  devAccuracy: number | null;
  selected: boolean;
}
export interface HeldOut {
  criterion: string;
  promptHash: string;
  model: string;
  accuracy: number | null;
  accuracyCi95: [number, number] | null;
  confusion: Confusion;
  items: number;
}
export interface ProductionCriterion {
  runId: string;
  criterion: string;
  passed: number;
  failed: number;
  errors: number;
  passRate: number | null;
}
export interface CostRow {
  key: string;
  costUsd: number;
}

export interface ProgramReport {
  generatedAt: string;
  program: {
    id: string;
    name: string;
    status: string;
    phase: string;
    budgetUsd: number;
    createdAt: string;
    criteria: string[];
    agreementTarget: number;
    agreementMetric: string;
    judgeAccuracyTarget: number;
  };
  timeline: PhaseSpan[];
  agreement: AgreementPoint[];
  raters: RaterQuality[];
  golden: {
    composition: Array<{ criterion: string; split: string; pass: number; fail: number }>;
    bySource: Array<{ source: string; labels: number }>;
    needsReview: number;
    reviewed: number;
    reviews: Array<{ itemId: string; criterion: string; label: number; explanation: string }>;
  };
  judges: { versions: JudgeVersion[]; trajectory: OptimizerStep[]; heldOut: HeldOut[] };
  production: {
    runs: Array<{
      id: string;
      mode: string;
      status: string;
      totalItems: number;
      judgedItems: number;
      failedItems: number;
    }>;
    criteria: ProductionCriterion[];
    /** Latest verdict per item on its current text, across production runs and fix re-judging. */
    current: Array<Omit<ProductionCriterion, 'runId'>>;
  };
  fixLoop: {
    cycles: Array<{ status: string; count: number }>;
    attempts: Array<{ outcome: string; count: number }>;
    meanAttemptsToPass: number | null;
    /** Cycles whose last re-judge still errored (newest first, at most 50): never counted as passed. */
    needsReview: Array<{ itemId: string; attempt: number; errors: Record<string, string> }>;
  };
  cost: { totalUsd: number; budgetUsd: number; byPhase: CostRow[]; byVendor: CostRow[]; byModel: CostRow[] };
  decisions: Array<{
    at: string;
    kind: string;
    phase: string | null;
    actor: string;
    note: string;
    guidelineVersion: number | null;
  }>;
  guidelines: Array<{ version: number; author: string; note: string; at: string }>;
  behavior: BehaviorValidation | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const interval = (v: unknown) =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? (v as [number, number]) : null;
/** A drift flag needs this many gold answers in each half, so one miss does not flag a rater. */
const DRIFT_MIN_HALF = 4;
/** Later-half gold accuracy this much below the earlier half flags drift. */
const DRIFT_DROP = 0.15;

function readTargets(spec: Record<string, unknown>) {
  const targets = (spec.targets ?? {}) as Record<string, unknown>;
  const criteria = Array.isArray(spec.criteria)
    ? spec.criteria.map((c) => String((c as Record<string, unknown>).id))
    : [];
  return {
    criteria,
    agreementTarget: num(targets.agreement) ?? 0.8,
    agreementMetric: typeof targets.agreementMetric === 'string' ? targets.agreementMetric : 'percent_agreement',
    judgeAccuracyTarget: num(targets.judgeAccuracy) ?? 0.85,
  };
}

async function timeline(db: Db, programId: string): Promise<PhaseSpan[]> {
  const spans = await db.execute<{ phase: string; start: Date; end: Date | null }>(sql`
    select phase, min(s) as start, max(e) as end from (
      select phase, created_at as s, closed_at as e from task_batches where program_id = ${programId}
      union all select 'judge-development', created_at, null from judge_prompts where program_id = ${programId}
      union all select 'judge-development', created_at, created_at from judge_evaluations where program_id = ${programId}
      union all select 'production', started_at, finished_at from production_runs where program_id = ${programId}
      union all select 'fix-loop', created_at, closed_at from fix_cycles where program_id = ${programId}
    ) spans group by phase order by min(s)`);
  return spans.map((r) => ({ phase: r.phase, start: iso(r.start) as string, end: iso(r.end) }));
}

async function raterQuality(db: Db, programId: string): Promise<RaterQuality[]> {
  // Two yardsticks, in time order: the gold questions' known answers, and the golden set's final
  // labels (available even in programs that seeded no gold questions).
  const goldQuestions = await db
    .select({ raterId: labels.raterId, correct: sql<boolean>`${labels.value} = ${goldAnswers.label}` })
    .from(labels)
    .innerJoin(tasks, and(eq(tasks.id, labels.taskId), eq(tasks.isGold, true)))
    .innerJoin(
      goldAnswers,
      and(
        eq(goldAnswers.programId, labels.programId),
        eq(goldAnswers.itemId, labels.itemId),
        eq(goldAnswers.criterion, labels.criterion),
      ),
    )
    .where(eq(labels.programId, programId))
    .orderBy(asc(labels.createdAt), asc(labels.id));
  const goldenSet = await db
    .select({ raterId: labels.raterId, correct: sql<boolean>`${labels.value} = ${goldenLabels.label}` })
    .from(labels)
    .innerJoin(
      goldenLabels,
      and(
        eq(goldenLabels.programId, labels.programId),
        eq(goldenLabels.itemId, labels.itemId),
        eq(goldenLabels.criterion, labels.criterion),
      ),
    )
    .where(eq(labels.programId, programId))
    .orderBy(asc(labels.createdAt), asc(labels.id));
  const byRater = (rows: Array<{ raterId: string; correct: boolean }>) => {
    const m = new Map<string, boolean[]>();
    for (const r of rows) {
      const list = m.get(r.raterId);
      if (list) list.push(r.correct);
      else m.set(r.raterId, [r.correct]);
    }
    return m;
  };
  const gold = byRater(goldQuestions);
  const golden = byRater(goldenSet);
  const raterRows = await db
    .selectDistinct({
      id: raters.id,
      vendorId: raters.vendorId,
      status: raters.status,
      pausedReason: raters.pausedReason,
    })
    .from(raters)
    .innerJoin(tasks, eq(tasks.raterId, raters.id))
    .where(eq(tasks.programId, programId))
    .orderBy(asc(raters.id));
  const share = (v: boolean[]) => ratio(v.filter(Boolean).length, v.length);
  return raterRows.map((r) => {
    const answers = gold.get(r.id) ?? [];
    const vsGolden = golden.get(r.id) ?? [];
    // drift is judged on gold questions when there are enough of them, else on the golden set
    const basis = answers.length >= 2 * DRIFT_MIN_HALF ? answers : vsGolden;
    const half = Math.floor(basis.length / 2);
    const earlyAccuracy = half >= DRIFT_MIN_HALF ? share(basis.slice(0, half)) : null;
    const lateAccuracy = half >= DRIFT_MIN_HALF ? share(basis.slice(half)) : null;
    return {
      raterId: r.id,
      vendorId: r.vendorId,
      status: r.status,
      pausedReason: r.pausedReason,
      goldLabels: answers.length,
      goldCorrect: answers.filter(Boolean).length,
      accuracy: share(answers),
      goldenSetLabels: vsGolden.length,
      goldenSetAgreement: share(vsGolden),
      driftBasis: basis === answers ? 'gold questions' : 'golden set',
      earlyAccuracy,
      lateAccuracy,
      drift: earlyAccuracy !== null && lateAccuracy !== null && earlyAccuracy - lateAccuracy >= DRIFT_DROP,
    };
  });
}

async function judgeSection(db: Db, programId: string): Promise<ProgramReport['judges']> {
  const evaluations = await db
    .select({ e: judgeEvaluations, p: judgePrompts })
    .from(judgeEvaluations)
    .innerJoin(judgePrompts, eq(judgePrompts.hash, judgeEvaluations.promptHash))
    .where(eq(judgeEvaluations.programId, programId))
    .orderBy(asc(judgeEvaluations.criterion), asc(judgePrompts.createdAt), asc(judgeEvaluations.split));
  const versions = evaluations.map(({ e, p }) => ({
    criterion: e.criterion,
    promptHash: e.promptHash,
    parentHash: p.parentHash,
    origin: p.origin,
    status: p.status,
    createdAt: iso(p.createdAt) as string,
    model: e.model,
    split: e.split,
    samples: e.samples,
    accuracy: num(e.metrics.accuracy),
    accuracyCi95: interval((e.metrics.ci95 as Record<string, unknown> | undefined)?.accuracy),
    tpr: num(e.metrics.tpr),
    tnr: num(e.metrics.tnr),
  }));
  const trajectory = await db
    .select({
      criterion: judgePrompts.criterion,
      runId: optimizationCandidates.runId,
      step: optimizationCandidates.step,
      promptHash: optimizationCandidates.promptHash,
      devAccuracy: optimizationCandidates.devAccuracy,
      selected: optimizationCandidates.selected,
    })
    .from(optimizationCandidates)
    .innerJoin(judgePrompts, eq(judgePrompts.hash, optimizationCandidates.promptHash))
    .where(eq(judgePrompts.programId, programId))
    .orderBy(asc(judgePrompts.criterion), asc(optimizationCandidates.step), asc(optimizationCandidates.promptHash));

  // Held-out result of each criterion's active judge (the latest prompt if none is active yet): the
  // judge engine's one measurement on the test split, errors scored as fails.
  const prompts = await db
    .select()
    .from(judgePrompts)
    .where(eq(judgePrompts.programId, programId))
    .orderBy(desc(judgePrompts.createdAt));
  const chosen = new Map<string, string>();
  for (const p of [...prompts].sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active')))
    if (!chosen.has(p.criterion)) chosen.set(p.criterion, p.hash);
  const heldOut: HeldOut[] = [];
  for (const [criterion, promptHash] of [...chosen].sort(([a], [b]) => a.localeCompare(b))) {
    const test = evaluations
      .filter(({ e }) => e.promptHash === promptHash && e.split === 'test')
      .map(({ e }) => e)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    const confusion = test?.metrics.confusion as Confusion | undefined;
    if (!test || !confusion) continue;
    const ci = (test.metrics.ci95 as Record<string, unknown> | undefined)?.accuracy;
    heldOut.push({
      criterion,
      promptHash,
      model: test.model,
      confusion,
      items: confusion.tp + confusion.fp + confusion.fn + confusion.tn,
      accuracy: num(test.metrics.accuracy),
      accuracyCi95: interval(ci),
    });
  }
  return { versions, trajectory, heldOut };
}

async function productionSection(db: Db, programId: string): Promise<ProgramReport['production']> {
  const runs = await db
    .select({
      id: productionRuns.id,
      mode: productionRuns.mode,
      status: productionRuns.status,
      totalItems: productionRuns.totalItems,
      judgedItems: productionRuns.judgedItems,
      failedItems: productionRuns.failedItems,
    })
    .from(productionRuns)
    .where(eq(productionRuns.programId, programId))
    .orderBy(asc(productionRuns.startedAt));
  const tally = {
    passed: sql<number>`count(*) filter (where verdict = 1)::int`,
    failed: sql<number>`count(*) filter (where verdict = 0)::int`,
    errors: sql<number>`count(*) filter (where verdict is null)::int`,
  };
  // production runs only: re-judging a writer's revision records verdicts under its own run id
  const perRun = await db
    .select({ runId: itemVerdicts.runId, criterion: itemVerdicts.criterion, ...tally })
    .from(itemVerdicts)
    .innerJoin(productionRuns, eq(productionRuns.id, itemVerdicts.runId))
    .where(eq(itemVerdicts.programId, programId))
    .groupBy(itemVerdicts.runId, itemVerdicts.criterion)
    .orderBy(asc(itemVerdicts.runId), asc(itemVerdicts.criterion));
  // the catalog as it stands: each item's latest verdict on its current text, fixes included
  const current = await db.execute<{ criterion: string; passed: number; failed: number; errors: number }>(sql`
    select criterion, count(*) filter (where verdict = 1)::int as passed, count(*) filter (where verdict = 0)::int as failed,
      count(*) filter (where verdict is null)::int as errors
    from (
      select distinct on (v.item_id, v.criterion) v.criterion, v.verdict
      from ${itemVerdicts} v join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
      where v.program_id = ${programId}
      order by v.item_id, v.criterion, v.created_at desc
    ) latest group by criterion order by criterion`);
  // an error is never a pass: it counts in the denominator
  const rate = (c: { passed: number; failed: number; errors: number }) =>
    ratio(c.passed, c.passed + c.failed + c.errors);
  return {
    runs,
    criteria: perRun.map((c) => ({ ...c, passRate: rate(c) })),
    current: current.map((c) => ({
      criterion: c.criterion,
      passed: c.passed,
      failed: c.failed,
      errors: c.errors,
      passRate: rate(c),
    })),
  };
}

async function fixLoopSection(db: Db, programId: string): Promise<ProgramReport['fixLoop']> {
  const cycles = await db
    .select({ status: fixCycles.status, count: sql<number>`count(*)::int` })
    .from(fixCycles)
    .where(eq(fixCycles.programId, programId))
    .groupBy(fixCycles.status)
    .orderBy(asc(fixCycles.status));
  const attempts = await db
    .select({ outcome: sql<string>`coalesce(${fixAttempts.outcome}, 'pending')`, count: sql<number>`count(*)::int` })
    .from(fixAttempts)
    .innerJoin(fixCycles, eq(fixCycles.id, fixAttempts.fixCycleId))
    .where(eq(fixCycles.programId, programId))
    .groupBy(sql`1`)
    .orderBy(sql`1`);
  const [passed] = await db
    .select({ mean: sql<number | null>`avg(${fixCycles.attempts})::float8` })
    .from(fixCycles)
    .where(and(eq(fixCycles.programId, programId), eq(fixCycles.status, 'passed')));
  const needsReview = await db
    .select({ itemId: fixCycles.itemId, attempt: fixAttempts.attempt, errors: fixAttempts.errors })
    .from(fixCycles)
    .innerJoin(fixAttempts, and(eq(fixAttempts.fixCycleId, fixCycles.id), eq(fixAttempts.attempt, fixCycles.attempts)))
    .where(and(eq(fixCycles.programId, programId), eq(fixCycles.status, 'needs_review')))
    .orderBy(sql`${fixCycles.closedAt} desc nulls last`, asc(fixCycles.itemId))
    .limit(50);
  return {
    cycles,
    attempts,
    meanAttemptsToPass: passed?.mean ?? null,
    needsReview: needsReview.map((r) => ({ itemId: r.itemId, attempt: r.attempt, errors: r.errors ?? {} })),
  };
}

async function costSection(db: Db, programId: string, budgetUsd: number): Promise<ProgramReport['cost']> {
  const by = async (key: ReturnType<typeof sql<string>>) =>
    db
      .select({ key, costUsd: sql<number>`sum(${usageLedger.costUsd})::float8` })
      .from(usageLedger)
      .where(eq(usageLedger.programId, programId))
      .groupBy(sql`1`)
      .orderBy(sql`2 desc`, sql`1`);
  const byPhase = await by(sql<string>`${usageLedger.phase}`);
  const byVendor = await by(sql<string>`coalesce(${usageLedger.vendorId}, 'LLM provider')`);
  const byModel = await by(sql<string>`coalesce(${usageLedger.model}, 'human tasks')`);
  return { totalUsd: byPhase.reduce((s, r) => s + r.costUsd, 0), budgetUsd, byPhase, byVendor, byModel };
}

/**
 * Judge scores per synopsis for the behaviour analysis: the latest consensus verdict per criterion on
 * the item's current text (a production run's or the fix loop's), joined with imported member metrics.
 */
export async function loadBehaviorObservations(
  db: Db,
  programId: string,
  criteria: string[],
  period = 'all',
): Promise<BehaviorObservation[]> {
  const rows = await db.execute<{
    item_id: string;
    show_id: string;
    criterion: string;
    verdict: number;
    take_fraction: number;
    abandonment_rate: number;
  }>(sql`
    select distinct on (v.item_id, v.criterion) v.item_id, i.show_id, v.criterion, v.verdict, b.take_fraction, b.abandonment_rate
    from ${itemVerdicts} v
    join ${items} i on i.id = v.item_id and i.text_hash = v.text_hash
    join ${behaviorMetrics} b on b.item_id = v.item_id and b.period = ${period}
    where v.program_id = ${programId} and v.verdict is not null
    order by v.item_id, v.criterion, v.created_at desc`);
  const byItem = new Map<string, BehaviorObservation>();
  for (const r of rows) {
    const o = byItem.get(r.item_id) ?? {
      itemId: r.item_id,
      showId: r.show_id,
      scores: {},
      takeFraction: r.take_fraction,
      abandonmentRate: r.abandonment_rate,
    };
    o.scores[r.criterion] = r.verdict;
    byItem.set(r.item_id, o);
  }
  return [...byItem.values()].filter((o) => criteria.every((c) => c in o.scores));
}

async function programRow(db: Db, programId: string) {
  const [program] = await db.select().from(programs).where(eq(programs.id, programId));
  if (!program)
    throw new UnknownProgramError(`no program "${programId}": list programs with \`judgeflow program list\``);
  return program;
}

/** The behaviour validation of a program's criteria (equal weights); null without metrics. */
export async function programBehaviorValidation(db: Db, programId: string): Promise<BehaviorValidation | null> {
  const { criteria } = readTargets((await programRow(db, programId)).spec);
  const observations = criteria.length ? await loadBehaviorObservations(db, programId, criteria) : [];
  return observations.length ? validateBehavior(observations, { criteria }) : null;
}

export async function buildProgramReport(db: Db, programId: string, now = new Date()): Promise<ProgramReport> {
  const program = await programRow(db, programId);
  const targets = readTargets(program.spec);
  const metric = targets.agreementMetric;
  const agreementRows = await db
    .select()
    .from(agreementReports)
    .where(eq(agreementReports.programId, programId))
    .orderBy(
      sql`case ${agreementReports.phase} when 'pilot' then 0 else 1 end`,
      asc(agreementReports.round),
      asc(agreementReports.criterion),
    );
  const agreement = agreementRows.map((r) => {
    // intervals per metric as stats/ agreementIntervals gives them ({ ci95: { metric: [lo, hi] } }),
    // else `<metric>_ci95`; alpha's own interval is part of every agreement report
    const ci =
      (r.metrics.ci95 as Record<string, unknown> | undefined)?.[metric] ??
      r.metrics[`${metric}_ci95`] ??
      (metric === 'krippendorff_alpha' ? r.metrics.alpha_ci95 : null);
    return {
      phase: r.phase,
      round: r.round,
      criterion: r.criterion,
      guidelineVersion: r.guidelineVersion,
      items: r.items,
      raters: r.raters,
      value: num(r.metrics[metric]),
      ci95: interval(ci),
      meetsTarget: r.meetsTarget,
    };
  });
  const goldenComposition = await db
    .select({
      criterion: goldenLabels.criterion,
      split: goldenLabels.split,
      pass: sql<number>`count(*) filter (where ${goldenLabels.label} = 1)::int`,
      fail: sql<number>`count(*) filter (where ${goldenLabels.label} <> 1)::int`,
    })
    .from(goldenLabels)
    .where(eq(goldenLabels.programId, programId))
    .groupBy(goldenLabels.criterion, goldenLabels.split)
    .orderBy(asc(goldenLabels.criterion), asc(goldenLabels.split));
  const bySource = await db
    .select({ source: goldenLabels.source, labels: sql<number>`count(*)::int` })
    .from(goldenLabels)
    .where(eq(goldenLabels.programId, programId))
    .groupBy(goldenLabels.source)
    .orderBy(asc(goldenLabels.source));
  const [reviewCounts] = await db
    .select({
      needsReview: sql<number>`count(*) filter (where ${goldenLabels.needsReview})::int`,
      reviewed: sql<number>`count(*) filter (where ${goldenLabels.reviewed})::int`,
    })
    .from(goldenLabels)
    .where(eq(goldenLabels.programId, programId));
  const reviews = await db
    .select({
      itemId: goldenLabels.itemId,
      criterion: goldenLabels.criterion,
      label: goldenLabels.label,
      explanation: goldenLabels.explanation,
    })
    .from(goldenLabels)
    .where(and(eq(goldenLabels.programId, programId), eq(goldenLabels.reviewed, true)))
    .orderBy(asc(goldenLabels.itemId), asc(goldenLabels.criterion))
    .limit(50);
  const decisions = await db
    .select()
    .from(decisionLog)
    .where(eq(decisionLog.programId, programId))
    .orderBy(asc(decisionLog.createdAt), asc(decisionLog.id));
  const guidelines = await db
    .select()
    .from(guidelineVersions)
    .where(eq(guidelineVersions.programId, programId))
    .orderBy(asc(guidelineVersions.version));

  return {
    generatedAt: now.toISOString(),
    program: {
      id: program.id,
      name: program.name,
      status: program.status,
      phase: program.phase,
      budgetUsd: program.budgetUsd,
      createdAt: iso(program.createdAt) as string,
      ...targets,
    },
    timeline: await timeline(db, programId),
    agreement,
    raters: await raterQuality(db, programId),
    golden: {
      composition: goldenComposition,
      bySource,
      needsReview: reviewCounts?.needsReview ?? 0,
      reviewed: reviewCounts?.reviewed ?? 0,
      reviews,
    },
    judges: await judgeSection(db, programId),
    production: await productionSection(db, programId),
    fixLoop: await fixLoopSection(db, programId),
    cost: await costSection(db, programId, program.budgetUsd),
    decisions: decisions.map((d) => ({
      at: iso(d.createdAt) as string,
      kind: d.kind,
      phase: d.phase,
      actor: d.actor,
      note: d.note,
      guidelineVersion: num(d.data.version) ?? num(d.data.guidelineVersion),
    })),
    guidelines: guidelines.map((g) => ({
      version: g.version,
      author: g.author,
      note: g.note,
      at: iso(g.createdAt) as string,
    })),
    behavior: await programBehaviorValidation(db, programId),
  };
}
