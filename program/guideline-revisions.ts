/**
 * Which published guideline revision a reader of one locale sees at a program's guideline version:
 * the newest revision of that locale at or below it if there is one, else the newest of the
 * program's. Versions count up per program, so a task of another locale carries a version that
 * may be a locale's revision it keeps out of.
 */
import { and, desc, eq, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { guidelineVersions } from '../schema/tables';

export type GuidelineRevision = typeof guidelineVersions.$inferSelect;

/**
 * The revision `locale` reads at `version` ('latest': the newest), or null when no revision of
 * that number exists. `own`: it is the locale's own revision (it replaces the spec's locale text).
 */
export async function guidelineRevision(
  db: Db,
  programId: string,
  version: number | 'latest',
  locale?: string,
): Promise<(GuidelineRevision & { own: boolean }) | null> {
  const rows = await db
    .select()
    .from(guidelineVersions)
    .where(
      and(
        eq(guidelineVersions.programId, programId),
        version === 'latest' ? undefined : lte(guidelineVersions.version, version),
        locale ? or(isNull(guidelineVersions.locale), eq(guidelineVersions.locale, locale)) : undefined,
      ),
    )
    .orderBy(desc(guidelineVersions.version));
  if (version !== 'latest' && rows[0]?.version !== version) {
    // the number may be another locale's revision: it exists, and this locale keeps its own
    const [exists] = await db
      .select({ version: guidelineVersions.version })
      .from(guidelineVersions)
      .where(and(eq(guidelineVersions.programId, programId), eq(guidelineVersions.version, version)));
    if (!exists) return null;
  }
  const own = locale ? rows.find((r) => r.locale === locale) : undefined;
  const program = rows.find((r) => r.locale === null);
  const row = own ?? program;
  return row ? { ...row, own: Boolean(own) } : null;
}
