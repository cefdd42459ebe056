/**
 * The rater packet of a guideline version: everything a rater works from, read from the program's
 * records — the version's text and criteria (as published), the error codes of each criterion and
 * the gold examples of the spec with their items' text. The gateway serves it to vendors; the
 * Label Studio adapter turns it into a labeling config.
 */
import { eq, inArray } from 'drizzle-orm';
import {
  criterionLabelRange,
  criterionPassAt,
  programLocales,
  type CriterionSpec,
  type ProgramSpec,
} from '../schema/program-spec';
import { items, programs, shows } from '../schema/tables';
import { guidelineRevision } from './guideline-revisions';
import type { RaterPacket } from '../schema/vendor-events';
import type { Db } from '../platform/db';

/** The values a criterion accepts, each with what a rater picks: pass/fail for binary, the point itself on a scale. */
export function criterionValues(criterion: CriterionSpec): RaterPacket['criteria'][number]['values'] {
  if (criterion.scale === 'binary')
    return [
      { value: 1, label: 'pass' },
      { value: 0, label: 'fail' },
    ];
  const { min, max } = criterionLabelRange(criterion);
  return Array.from({ length: max - min + 1 }, (_, i) => ({ value: min + i, label: String(min + i) }));
}

/**
 * The packet of `version` ('latest': the newest published), or null when the program or version
 * does not exist or `vendorId` is not one of the program's vendors (a packet is not another
 * vendor's to read). `locale`: a multilingual program's packet for that locale's raters — its
 * guidelines (its own published revision at or below `version`, else the spec's for the locale,
 * else the program's revision) and rubrics, and the gold examples in that locale; a locale the
 * program does not have gets null.
 */
export async function loadRaterPacket(
  db: Db,
  programId: string,
  version: number | 'latest',
  vendorId?: string,
  locale?: string,
): Promise<RaterPacket | null> {
  const [program] = await db.select().from(programs).where(eq(programs.id, programId));
  if (!program) return null;
  const spec = program.spec as unknown as ProgramSpec;
  if (vendorId !== undefined && !(spec.vendors ?? []).some((v) => v.id === vendorId)) return null;
  const own = locale === undefined ? undefined : programLocales(spec).find((l) => l.code === locale);
  if (locale !== undefined && !own) return null;
  const localeGuidelines = spec.locales?.find((l) => l.code === locale)?.guidelines;
  const row = await guidelineRevision(db, programId, version, own?.code);
  if (!row) return null;
  const gold = spec.goldExamples ?? [];
  const texts = new Map(
    gold.length
      ? (
          await db
            .select({ id: items.id, text: items.text, title: shows.title, locale: items.locale })
            .from(items)
            .innerJoin(shows, eq(shows.id, items.showId))
            .where(
              inArray(
                items.id,
                gold.map((g) => g.itemId),
              ),
            )
        ).map((r) => [r.id, r])
      : [],
  );
  const criteria = row.criteria as unknown as CriterionSpec[];
  return {
    programId,
    programName: program.name,
    version: row.version,
    publishedAt: row.createdAt.toISOString(),
    note: row.note,
    guidelines: row.own ? row.text : (localeGuidelines?.text ?? row.text),
    ...(own && { locale: own.code }),
    criteria: criteria.map((c) => ({
      id: c.id,
      name: c.name,
      description: c.description,
      rubric: own?.rubrics[c.id] ?? c.rubric,
      scale: c.scale,
      values: criterionValues(c),
      ...(c.scale === 'likert' ? { passAt: criterionPassAt(c) } : {}),
      errorCodes: (spec.errorTaxonomy ?? [])
        .filter((e) => e.criterion === c.id)
        .map((e) => ({ code: e.code, description: e.description })),
    })),
    goldExamples: gold
      .filter((g) => !own || texts.get(g.itemId)?.locale === own.code)
      .map((g) => ({
        itemId: g.itemId,
        title: texts.get(g.itemId)?.title ?? '',
        text: texts.get(g.itemId)?.text ?? '',
        labels: g.labels,
        explanation: g.explanation,
      })),
  };
}
