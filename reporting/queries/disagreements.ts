/**
 * The disagreement part of the report: per rating round, what its raters split on (read from the
 * stored labels through program/disagreements, as `judgeflow program disagreements` reads it); the
 * rater pairs over every round; and each criterion's speed to the agreement target.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db';
import { binaryCriteria, ratedRounds, roundLabels } from '../../program/disagreements';
import { agreementReports, programs } from '../../schema/tables';
import { analyzeDisagreements, type RoundLabel } from '../../stats/index';
import type { DisagreementReport } from '../model';

/** Split items, code rows and raters shown per round. */
const TOP = 5;
const DAY_MS = 86_400_000;

export async function disagreementSection(db: Db, programId: string, criteria: string[]): Promise<DisagreementReport> {
  const rounds: DisagreementReport['rounds'] = [];
  const pooled: RoundLabel[] = [];
  for (const r of await ratedRounds(db, programId)) {
    const labels = await roundLabels(db, programId, r);
    const a = analyzeDisagreements(labels, { top: TOP });
    rounds.push({
      ...r,
      labels: a.labels,
      splitItems: a.splitItems,
      codes: a.codes.slice(0, TOP),
      furthestRaters: a.raters.filter((x) => x.items > 0).slice(0, 3),
    });
    // an item of one round is not the same answer as the item in another
    pooled.push(...labels.map((l) => ({ ...l, item: `${r.phase}/${r.round}/${l.item}` })));
  }
  const all = analyzeDisagreements(pooled, { top: 0 });
  const binary = await binaryCriteria(db, programId);
  return {
    rounds,
    raterIds: all.raterIds,
    pairs: all.pairs,
    speed: await speedToTarget(db, programId, criteria),
    likert: criteria.filter((c) => !binary(c)),
  };
}

async function speedToTarget(db: Db, programId: string, criteria: string[]): Promise<DisagreementReport['speed']> {
  const [program] = await db.select({ createdAt: programs.createdAt }).from(programs).where(eq(programs.id, programId));
  const reports = await db
    .select({
      phase: agreementReports.phase,
      round: agreementReports.round,
      criterion: agreementReports.criterion,
      meetsTarget: agreementReports.meetsTarget,
      createdAt: agreementReports.createdAt,
    })
    .from(agreementReports)
    .where(eq(agreementReports.programId, programId))
    .orderBy(sql`case ${agreementReports.phase} when 'pilot' then 0 else 1 end`, asc(agreementReports.round));
  const calibrationRounds = new Set(reports.filter((r) => r.phase === 'calibration').map((r) => r.round)).size;
  return criteria.map((criterion) => {
    const met = reports.find((r) => r.criterion === criterion && r.meetsTarget);
    if (!met) return { criterion, phase: null, round: null, rounds: calibrationRounds, days: null };
    const round = met.phase === 'pilot' ? 0 : met.round;
    const days = program ? (new Date(met.createdAt).getTime() - new Date(program.createdAt).getTime()) / DAY_MS : null;
    return { criterion, phase: met.phase, round, rounds: round, days: days === null ? null : Math.max(0, days) };
  });
}
