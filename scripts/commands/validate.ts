/**
 * `judgeflow validate behavior --program <id> --metrics metrics.csv|jsonl`: imports member-behaviour
 * metrics (idempotently: one row per synopsis and period) and prints the within-show validation.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { CsvError, parse } from 'csv-parse/sync';
import { inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { programBehaviorValidation } from '../../reporting/queries/behavior';
import type { BehaviorValidation } from '../../reporting/behavior/analysis';
import type { Db } from '../../platform/db';
import { behaviorMetrics, items } from '../../schema/tables';
import { CliError, withContext } from './context';

const metricRow = z.object({
  synopsisId: z.string().min(1),
  period: z.string().min(1).default('all'),
  impressions: z.coerce.number().int().nonnegative(),
  takeFraction: z.coerce.number().min(0).max(1),
  abandonmentRate: z.coerce.number().min(0).max(1),
});
export type MetricRow = z.infer<typeof metricRow>;

/** Column spellings accepted for each field (the catalog generator writes camelCase JSONL). */
const ALIASES: Record<string, keyof MetricRow> = {
  synopsisid: 'synopsisId',
  synopsis_id: 'synopsisId',
  itemid: 'synopsisId',
  item_id: 'synopsisId',
  id: 'synopsisId',
  period: 'period',
  impressions: 'impressions',
  takefraction: 'takeFraction',
  take_fraction: 'takeFraction',
  abandonmentrate: 'abandonmentRate',
  abandonment_rate: 'abandonmentRate',
};

function normaliseKeys(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    const key = ALIASES[k.trim().toLowerCase()];
    if (key) out[key] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}

/** Raw records with the line each starts on: CSV through csv-parse (quoting, BOM), or JSONL. */
function readRecords(
  text: string,
  format: 'csv' | 'jsonl',
  problems: string[],
): Array<{ line: number; record: Record<string, unknown> }> {
  if (format === 'jsonl') {
    return text.split(/\r?\n/).flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [{ line: i + 1, record: JSON.parse(line) as Record<string, unknown> }];
      } catch {
        problems.push(`line ${i + 1}: not valid JSON`);
        return [];
      }
    });
  }
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError)
      throw new CliError(
        `line ${(err as CsvError & { lines?: number }).lines ?? '?'}: unparseable CSV: ${err.message}`,
      );
    throw err;
  }
  if (!records.length) return [];
  const header = records[0].record;
  const known = new Set(header.map((c) => ALIASES[c.toLowerCase()]));
  const missing = (['synopsisId', 'impressions', 'takeFraction', 'abandonmentRate'] as const).filter(
    (k) => !known.has(k),
  );
  if (missing.length)
    throw new CliError(
      `line ${records[0].info.lines}: the header lacks ${missing.join(', ')} (expected synopsisId,impressions,takeFraction,abandonmentRate[,period])`,
    );
  return records.slice(1).map(({ record, info }) => ({
    line: info.lines,
    record: Object.fromEntries(header.map((h, j) => [h, record[j]])),
  }));
}

/** Parses CSV (header row) or JSONL; every bad line is reported at once, with its line number. */
export function parseMetrics(text: string, format: 'csv' | 'jsonl'): MetricRow[] {
  const problems: string[] = [];
  const rows: MetricRow[] = [];
  for (const { line, record } of readRecords(text, format, problems)) {
    const parsed = metricRow.safeParse(normaliseKeys(record));
    if (parsed.success) rows.push(parsed.data);
    else
      problems.push(
        `line ${line}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; ')}`,
      );
  }
  if (problems.length)
    throw new CliError(
      `metrics file has ${problems.length} bad line(s):\n${problems
        .slice(0, 20)
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
  if (!rows.length) throw new CliError('metrics file has no rows');
  return rows;
}

/** Upserts metrics keyed by (synopsis, period); refuses the whole file if a synopsis is unknown. */
export async function importBehaviorMetrics(db: Db, rows: MetricRow[]): Promise<number> {
  const ids = [...new Set(rows.map((r) => r.synopsisId))];
  const known = new Set<string>();
  for (let i = 0; i < ids.length; i += 5000) {
    const found = await db
      .select({ id: items.id })
      .from(items)
      .where(inArray(items.id, ids.slice(i, i + 5000)));
    found.forEach((f) => known.add(f.id));
  }
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length)
    throw new CliError(
      `${unknown.length} synopsis id(s) are not in the catalog (import the catalog first): ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`,
    );
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insert(behaviorMetrics)
      .values(
        rows.slice(i, i + 1000).map((r) => ({
          itemId: r.synopsisId,
          period: r.period,
          impressions: r.impressions,
          takeFraction: r.takeFraction,
          abandonmentRate: r.abandonmentRate,
        })),
      )
      .onConflictDoUpdate({
        target: [behaviorMetrics.itemId, behaviorMetrics.period],
        set: {
          impressions: sql`excluded.impressions`,
          takeFraction: sql`excluded.take_fraction`,
          abandonmentRate: sql`excluded.abandonment_rate`,
        },
      });
  }
  return rows.length;
}

export function formatValidation(v: BehaviorValidation): string {
  const head = ['score', 'outcome', 'coef', 'se', 'ci95_low', 'ci95_high', 'p', 'synopses', 'shows'];
  const rows = v.estimates.map((e) => [
    e.score,
    e.outcome,
    e.coef.toFixed(4),
    e.se.toFixed(4),
    e.ci95[0].toFixed(4),
    e.ci95[1].toFixed(4),
    e.p < 1e-4 ? e.p.toExponential(2) : e.p.toFixed(4),
    String(e.n),
    String(e.shows),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

export function registerValidateCommands(program: Command): void {
  const validate = program.command('validate').description('Validate judges against external evidence.');
  validate
    .command('behavior')
    .description(
      'Import member-behaviour metrics and test, within show, whether judge scores predict take fraction and abandonment.',
    )
    .requiredOption('--program <id>', 'the program whose production verdicts are the judge scores')
    .requiredOption(
      '--metrics <file>',
      'metrics per synopsis: CSV with a header, or JSONL (e.g. from `judgeflow sim catalog --behavior`)',
    )
    .action(async (opts: { program: string; metrics: string }) => {
      if (!fs.existsSync(opts.metrics)) throw new CliError(`metrics file not found: ${opts.metrics}`);
      const rows = parseMetrics(
        fs.readFileSync(opts.metrics, 'utf8'),
        /\.jsonl?$/i.test(opts.metrics) ? 'jsonl' : 'csv',
      );
      await withContext(
        async ({ database }) => {
          await programBehaviorValidation(database.db, opts.program); // refuses an unknown program before importing
          console.log(`imported ${await importBehaviorMetrics(database.db, rows)} metric rows`);
          const behavior = await programBehaviorValidation(database.db, opts.program);
          if (!behavior)
            throw new CliError(
              `no synopsis in ${opts.metrics} has production verdicts of program ${opts.program} for every criterion (run production judging first)`,
              1,
            );
          console.log(
            `within-show validation over ${behavior.observations} synopses of ${behavior.shows} shows (SE clustered by show)`,
          );
          console.log(formatValidation(behavior));
        },
        { temporal: false },
      );
    });
}
