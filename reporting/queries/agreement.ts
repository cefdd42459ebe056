/**
 * The human-labelling parts of the report: agreement per criterion and round, each rater's accuracy
 * and drift, and the golden set's composition and reviews.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db';
import { agreementReports, goldAnswers, goldenLabels, labels, raters, tasks } from '../../schema/tables';
import type { AgreementPoint, ProgramReport, RaterQuality } from '../model';
import { interval, num, ratio } from './values';

/** A drift flag needs this many gold answers in each half, so one miss does not flag a rater. */
const DRIFT_MIN_HALF = 4;
/** Later-half gold accuracy this much below the earlier half flags drift. */
const DRIFT_DROP = 0.15;

/**
 * The program's agreement reports on their metric (a criterion's own agreementMetric, else the
 * program's `metric`) and level: the pilot first, then the calibration rounds.
 */
export async function agreementSection(db: Db, programId: string, programMetric: string): Promise<AgreementPoint[]> {
  const rows = await db
    .select()
    .from(agreementReports)
    .where(eq(agreementReports.programId, programId))
    .orderBy(
      sql`case ${agreementReports.phase} when 'pilot' then 0 else 1 end`,
      asc(agreementReports.round),
      asc(agreementReports.criterion),
    );
  return rows.map((r) => {
    // Reports stored before criteria had their own metric and level are the program's metric, nominal.
    const metric = typeof r.metrics.metric === 'string' ? r.metrics.metric : programMetric;
    const level = typeof r.metrics.level === 'string' ? r.metrics.level : 'nominal';
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
      metric,
      level,
      ci95: interval(ci),
      meetsTarget: r.meetsTarget,
      ...(isRecord(r.metrics.byLocale) && { byLocale: localeAgreement(r.metrics.byLocale) }),
    };
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** A round's agreement per locale as program/activities.ts records it in the report's metrics. */
const localeAgreement = (byLocale: Record<string, unknown>): NonNullable<AgreementPoint['byLocale']> =>
  Object.fromEntries(
    Object.entries(byLocale).map(([locale, raw]) => {
      const l = (isRecord(raw) ? raw : {}) as Record<string, unknown>;
      return [
        locale,
        {
          items: num(l.items) ?? 0,
          raters: num(l.raters) ?? 0,
          value: num(l.value),
          ci95: interval(l.ci95),
          meetsTarget: l.meetsTarget === true,
        },
      ];
    }),
  );

export async function raterQuality(db: Db, programId: string): Promise<RaterQuality[]> {
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

export async function goldenSection(db: Db, programId: string): Promise<ProgramReport['golden']> {
  const composition = await db
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
    .select({
      method: goldenLabels.method,
      source: goldenLabels.source,
      labels: sql<number>`count(*)::int`,
      meanConfidence: sql<number | null>`avg(${goldenLabels.confidence})::float8`,
      ratingsPerLabel: sql<number | null>`avg(${goldenLabels.ratings})::float8`,
    })
    .from(goldenLabels)
    .where(eq(goldenLabels.programId, programId))
    .groupBy(goldenLabels.method, goldenLabels.source)
    .orderBy(asc(goldenLabels.method), asc(goldenLabels.source));
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
  return {
    composition,
    bySource,
    needsReview: reviewCounts?.needsReview ?? 0,
    reviewed: reviewCounts?.reviewed ?? 0,
    reviews,
  };
}
