/** A multilingual program's catalog per locale: its items, how many are judged, pass rates, and the locales skipped. */
import { and, asc, eq, sql } from 'drizzle-orm';
import { programItemsWhere } from '../../catalog/item-set';
import type { Db } from '../../platform/db';
import { decisionLog, items } from '../../schema/tables';
import type { ProgramReport } from '../model';
import { latestVerdicts, rate, TALLY, type Tally } from './production';

/** Undefined for a single-locale program, whose report has no per-locale part. */
export async function localeSection(
  db: Db,
  programId: string,
  spec: Record<string, unknown>,
): Promise<ProgramReport['locales']> {
  const codes = Array.isArray(spec.locales) ? spec.locales.map((l) => String((l as { code: unknown }).code)) : [];
  if (codes.length < 2) return undefined;
  const inSet = await db
    .select({ locale: items.locale, items: sql<number>`count(*)::int` })
    .from(items)
    .where(programItemsWhere(programId))
    .groupBy(items.locale);
  const current = await db.execute<Tally & { locale: string; criterion: string }>(sql`
    select locale, criterion, ${TALLY} from (${latestVerdicts(programId)}) latest
    group by locale, criterion order by locale, criterion`);
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
    return {
      locale,
      items: inSet.find((r) => r.locale === locale)?.items ?? 0,
      // every judgment gives each criterion a verdict (or an error), so the most verdicts of a criterion is the items judged
      judged: Math.max(0, ...criteria.map((c) => c.passed + c.failed + c.errors)),
      criteria,
      skipped: skipped.find((s) => s.data.locale === locale)?.note ?? null,
    };
  });
}
