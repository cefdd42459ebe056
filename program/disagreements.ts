/**
 * Disagreement analysis of a program's rating rounds (the pilot and each calibration round), read
 * from the stored labels. Computed on read, never stored: the labels are the record, the analysis
 * takes milliseconds on a round's few hundred labels, and a stored copy could only fall behind a
 * late label. What a round's gate showed stays in the round workflow's history (the digest).
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { ActivityDeps } from '../activities/deps';
import type { Db } from '../platform/db';
import type { ProgramSpec } from '../schema/program-spec';
import { items, labels, programs, tasks } from '../schema/tables';
import {
  analyzeDisagreements,
  disagreementDigest,
  type DisagreementAnalysis,
  type DisagreementDigest,
  type RoundLabel,
} from '../stats/index';

export interface RatingRound {
  phase: 'pilot' | 'calibration';
  /** 0 for the pilot. */
  round: number;
}

export const roundName = (r: RatingRound) => (r.phase === 'pilot' ? 'pilot' : `calibration round ${r.round}`);

/** The rounds with labels, in order: the pilot, then calibration rounds. */
export async function ratedRounds(db: Db, programId: string): Promise<RatingRound[]> {
  const rows = await db
    .selectDistinct({ phase: labels.phase, round: labels.round })
    .from(labels)
    .where(and(eq(labels.programId, programId), inArray(labels.phase, ['pilot', 'calibration'])));
  const rounds = rows.map((r) =>
    r.phase === 'pilot'
      ? { phase: 'pilot' as const, round: 0 }
      : { phase: 'calibration' as const, round: r.round ?? 0 },
  );
  const unique = new Map(rounds.map((r) => [`${r.phase}/${r.round}`, r]));
  return [...unique.values()].sort((a, b) => (a.phase === 'pilot' ? -1 : b.phase === 'pilot' ? 1 : a.round - b.round));
}

/**
 * The round's answers on its non-gold items (gold questions score raters; they are not
 * disagreements); `locale`: only on that locale's items.
 */
export async function roundLabels(db: Db, programId: string, r: RatingRound, locale?: string): Promise<RoundLabel[]> {
  return db
    .select({
      item: labels.itemId,
      rater: labels.raterId,
      criterion: labels.criterion,
      label: labels.value,
      errorCodes: labels.errorCodes,
      explanation: labels.explanation,
    })
    .from(labels)
    .innerJoin(tasks, eq(tasks.id, labels.taskId))
    .innerJoin(items, eq(items.id, labels.itemId))
    .where(
      and(
        eq(labels.programId, programId),
        eq(labels.phase, r.phase),
        ...(r.phase === 'calibration' ? [eq(labels.round, r.round)] : []),
        eq(tasks.isGold, false),
        ...(locale ? [eq(items.locale, locale)] : []),
      ),
    )
    .orderBy(asc(labels.id));
}

/** Whether each criterion of the program is binary (votes read pass/fail) from its spec. */
export async function binaryCriteria(db: Db, programId: string): Promise<(criterion: string) => boolean> {
  const [row] = await db.select({ spec: programs.spec }).from(programs).where(eq(programs.id, programId));
  const criteria = ((row?.spec as unknown as Partial<ProgramSpec> | undefined)?.criteria ?? []) as Array<{
    id: string;
    scale?: string;
  }>;
  const likert = new Set(criteria.filter((c) => c.scale === 'likert').map((c) => c.id));
  return (criterion) => !likert.has(criterion);
}

export async function roundDisagreements(
  db: Db,
  programId: string,
  r: RatingRound,
  opts: { top?: number; locale?: string } = {},
): Promise<DisagreementAnalysis> {
  return analyzeDisagreements(await roundLabels(db, programId, r, opts.locale), { top: opts.top });
}

/** A multilingual round's digest: the whole round's, and each locale's (its raters split on their own items). */
export type RoundDigest = DisagreementDigest & { byLocale?: Record<string, DisagreementDigest> };

export function createDisagreementActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** The round gate's evidence: its most split items, worst rater pairs, furthest raters and contested codes. */
    async summarizeDisagreements(input: { programId: string; locales?: string[] } & RatingRound): Promise<RoundDigest> {
      const binary = await binaryCriteria(db, input.programId);
      const digest = async (locale?: string) =>
        disagreementDigest(await roundDisagreements(db, input.programId, input, { top: 3, locale }), {
          top: 3,
          binary,
        });
      if (!input.locales) return digest();
      const byLocale: Record<string, DisagreementDigest> = {};
      for (const code of input.locales) byLocale[code] = await digest(code);
      return { ...(await digest()), byLocale };
    },
  };
}
