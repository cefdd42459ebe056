/**
 * A multilingual program's parts per locale: its catalog (items, golden items, how many are judged,
 * pass rates, the locales skipped) and the guidelines and rubrics each locale reads.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { programItemsWhere } from '../../catalog/item-set';
import type { Db } from '../../platform/db';
import { goldenItemsByLocale } from '../../program/golden-locales';
import type { LocaleSpec } from '../../schema/program-spec';
import { decisionLog, guidelineVersions, items } from '../../schema/tables';
import type { ProgramReport } from '../model';
import { latestVerdicts, rate, TALLY, type Tally } from './production';

const localeCodes = (spec: Record<string, unknown>) =>
  Array.isArray(spec.locales) ? spec.locales.map((l) => String((l as { code: unknown }).code)) : [];

/** Undefined for a single-locale program, whose report has no per-locale part. */
export async function localeSection(
  db: Db,
  programId: string,
  spec: Record<string, unknown>,
): Promise<ProgramReport['locales']> {
  const codes = localeCodes(spec);
  if (codes.length < 2) return undefined;
  const inSet = await db
    .select({ locale: items.locale, items: sql<number>`count(*)::int` })
    .from(items)
    .where(programItemsWhere(programId))
    .groupBy(items.locale);
  const current = await db.execute<Tally & { locale: string; criterion: string }>(sql`
    select locale, criterion, ${TALLY} from (${latestVerdicts(programId)}) latest
    group by locale, criterion order by locale, criterion`);
  const golden = await goldenItemsByLocale(db, programId);
  const skipped = await db
    .select({ data: decisionLog.data, note: decisionLog.note })
    .from(decisionLog)
    .where(and(eq(decisionLog.programId, programId), eq(decisionLog.kind, 'locale_skipped')))
    .orderBy(asc(decisionLog.createdAt));
  return codes.map((locale) => {
    const criteria = current
      .filter((c) => c.locale === locale)
      .map(({ criterion, passed, failed, errors }) => ({
        criterion,
        passed,
        failed,
        errors,
        passRate: rate({ passed, failed, errors }),
      }));
    const g = golden.find((r) => r.locale === locale);
    return {
      locale,
      items: inSet.find((r) => r.locale === locale)?.items ?? 0,
      golden: { items: g?.items ?? 0, dev: g?.dev ?? 0, test: g?.test ?? 0 },
      // every judgment gives each criterion a verdict (or an error), so the most verdicts of a criterion is the items judged
      judged: Math.max(0, ...criteria.map((c) => c.passed + c.failed + c.errors)),
      criteria,
      skipped: skipped.find((s) => s.data.locale === locale)?.note ?? null,
    };
  });
}

type Revision = { version: number; locale: string | null; criteria: Array<Record<string, unknown>> };
const rubricAt = (r: Revision, criterion: string) => r.criteria.find((c) => c.id === criterion)?.rubric;

/**
 * The revision each locale reads now (its newest own, else the program's newest: program/guideline-revisions.ts)
 * and each criterion's rubric there: the locale's own from the spec, else the revision's, dated by
 * the oldest revision the locale reads since which its text is unchanged. Undefined for a single-locale program.
 */
export async function localeGuidelinesSection(
  db: Db,
  programId: string,
  spec: Record<string, unknown>,
): Promise<ProgramReport['localeGuidelines']> {
  const codes = localeCodes(spec);
  if (codes.length < 2) return undefined;
  const revisions: Revision[] = await db
    .select({
      version: guidelineVersions.version,
      locale: guidelineVersions.locale,
      criteria: guidelineVersions.criteria,
    })
    .from(guidelineVersions)
    .where(eq(guidelineVersions.programId, programId))
    .orderBy(asc(guidelineVersions.version));
  const criteria = Array.isArray(spec.criteria) ? spec.criteria.map((c) => String((c as { id: unknown }).id)) : [];
  return (spec.locales as LocaleSpec[]).map((l) => {
    const reads = revisions.filter((r) => r.locale === null || r.locale === l.code);
    const latest = reads.at(-1);
    const rubrics = Object.fromEntries(
      criteria.map((c) => {
        if (l.rubrics?.[c] || !latest) return [c, 'spec'];
        let since = reads.length - 1;
        while (since > 0 && rubricAt(reads[since - 1], c) === rubricAt(latest, c)) since--;
        return [c, `v${reads[since].version}`];
      }),
    );
    return {
      locale: l.code,
      version: latest?.version ?? null,
      guidelines: latest?.locale ? 'own' : l.guidelines ? 'spec' : 'program',
      rubrics,
    };
  });
}
