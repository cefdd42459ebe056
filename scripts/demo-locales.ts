/**
 * The demo per locale: a multilingual spec's simulated world (one catalog per locale, synopses in
 * its language) and what the summary shows per locale — rounds to target, golden set, judge
 * accuracy per criterion on that locale's held-out items, and production pass rates.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import type { ProgramStatus } from '../workflows/messages';

/** Pass rate over the verdicts reached; items whose judging errored are counted apart, never as passes. */
export interface PassRate {
  criterion: string;
  passRate: number | null;
  items: number;
  errors: number;
}

export interface LocaleSummary {
  /** The first calibration round where every criterion met the target in this locale. */
  roundsToTarget: number | null;
  goldenSet: { items: number; dev: number; test: number };
  /** Held-out accuracy of this locale's judge per criterion. */
  judgeTestAccuracy: Record<string, number | null>;
  /** Whether production judged this locale (its judges met the target), or skipped it. */
  judged: boolean;
  passRates: PassRate[];
  production: { judged: number; total: number } | null;
}

/** A spec's locale codes (unset for a single-locale spec): a world each, and the simulated vendor's natives. */
export const specLocales = (spec: { locales?: { code: string }[] }) => spec.locales?.map((l) => l.code);

/** The world directory of a locale: en-US (or a single-locale spec) keeps the demo's usual world. */
export const worldDirOf = (dataDir: string, seed: number, shows: number, locale?: string) =>
  path.join(dataDir, 'world', `seed-${seed}-shows-${shows}${locale && locale !== 'en-US' ? `-${locale}` : ''}`);

/** Pass rates per criterion of a program's verdicts, per locale of the items. */
async function passRatesByLocale(db: Db, programId: string) {
  const rows = await db.execute<{
    locale: string;
    criterion: string;
    pass_rate: number | null;
    n: number;
    errors: number;
  }>(sql`
    select i.locale, v.criterion, avg(v.verdict)::float as pass_rate, count(*)::int as n,
      count(*) filter (where v.verdict is null)::int as errors
    from item_verdicts v join items i on i.id = v.item_id
    where v.program_id = ${programId} group by i.locale, v.criterion order by i.locale, v.criterion`);
  return rows.map((r) => ({
    locale: r.locale,
    rate: { criterion: r.criterion, passRate: r.pass_rate, items: r.n, errors: r.errors },
  }));
}

/** The first calibration round whose every criterion met the target in `locale` (overall, where a round has no per-locale figures). */
function roundsToTarget(status: ProgramStatus, locale: string): number | null {
  const met = status.rounds
    .filter((r) => r.phase === 'calibration')
    .find((r) => Object.values(r.agreement).every((a) => a.byLocale?.[locale]?.meetsTarget ?? a.meetsTarget));
  return met?.round ?? null;
}

export async function localeSummaries(
  db: Db,
  programId: string,
  locales: string[],
  status: ProgramStatus,
): Promise<Record<string, LocaleSummary>> {
  const golden = await db.execute<{ locale: string; items: number; dev: number; test: number }>(sql`
    select i.locale, count(distinct g.item_id)::int as items,
      count(distinct g.item_id) filter (where g.split = 'dev')::int as dev,
      count(distinct g.item_id) filter (where g.split = 'test')::int as test
    from golden_labels g join items i on i.id = g.item_id
    where g.program_id = ${programId} group by i.locale`);
  const rates = await passRatesByLocale(db, programId);
  return Object.fromEntries(
    locales.map((locale) => {
      const g = golden.find((r) => r.locale === locale);
      const run = status.production?.locales?.[locale];
      return [
        locale,
        {
          roundsToTarget: roundsToTarget(status, locale),
          goldenSet: { items: g?.items ?? 0, dev: g?.dev ?? 0, test: g?.test ?? 0 },
          judgeTestAccuracy: Object.fromEntries(
            status.judges.filter((j) => j.locale === locale).map((j) => [j.criterion, j.testAccuracy]),
          ),
          judged: Boolean(run && !run.skipped),
          passRates: rates.filter((r) => r.locale === locale).map((r) => r.rate),
          production: run ? { judged: run.judged, total: run.total } : null,
        },
      ];
    }),
  );
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

/** The summary's lines for each locale. */
export function formatLocaleSummaries(locales: Record<string, LocaleSummary>): string {
  return Object.entries(locales)
    .map(([locale, l]) =>
      [
        `── ${locale}`,
        `  rounds to target    ${l.roundsToTarget ? `${l.roundsToTarget} calibration round(s)` : 'not reached'}`,
        `  golden set          ${l.goldenSet.items} items (dev ${l.goldenSet.dev}, test ${l.goldenSet.test})`,
        `  judge accuracy      ${
          Object.entries(l.judgeTestAccuracy)
            .map(([c, a]) => `${c} ${pct(a)}`)
            .join(' · ') || '—'
        }`,
        `  production          ${
          l.judged
            ? `${l.production?.judged ?? 0}/${l.production?.total ?? 0} judged · ${l.passRates.map((r) => `${r.criterion} ${pct(r.passRate)} pass of ${r.items}${r.errors ? ` (${r.errors} errors)` : ''}`).join(' · ')}`
            : `skipped: no judge validated for ${locale} (${l.production?.total ?? 0} items not judged)`
        }`,
      ].join('\n'),
    )
    .join('\n');
}
