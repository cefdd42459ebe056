/**
 * `judgeflow agreement --input labels.csv`: agreement per criterion for a program manager's CSV
 * export, with the same stats/ the workflows use. Exit 2 on bad input, naming the line.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { agreementReport, StatsInputError, type AgreementReport, type Level } from '../../stats/index';
import { CliError } from './context';
import { readLabelsCsv } from './labels-csv';
import { readValidSpec } from './spec-file';
import { criterionAgreementOptions } from '../../program/criterion-agreement';
import type { CriterionSpec } from '../../schema/program-spec';

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

/** Turns the library's refusal of a criterion's ratings into exit 2 with the criterion named. */
export function statsOrExit<T>(criterion: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StatsInputError) throw new CliError(`criterion "${criterion}": ${err.message}`);
    throw err;
  }
}

const fmt = (x: number | null) => (x === null ? '—' : x.toFixed(3));

function table(reports: Record<string, AgreementReport>): string {
  const head = [
    'criterion',
    'items',
    'raters',
    'ratings',
    'agreement',
    'alpha',
    'alpha 95% CI',
    'fleiss',
    'cohen',
    'AC1',
  ];
  const rows = Object.entries(reports).map(([c, r]) => [
    c,
    String(r.items),
    String(r.raters),
    String(r.ratings),
    fmt(r.percent_agreement),
    fmt(r.krippendorff_alpha),
    r.alpha_ci95 ? `[${fmt(r.alpha_ci95[0])}, ${fmt(r.alpha_ci95[1])}]` : '—',
    fmt(r.fleiss_kappa),
    fmt(r.cohen_kappa),
    fmt(r.gwet_ac1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const notes = Object.entries(reports).flatMap(([c, r]) => r.notes.map((n) => `  ${c}: ${n}`));
  return [line(head), ...rows.map(line), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** The level and categories of a CSV criterion from the spec; one the spec lacks is bad input. */
function criterionOptions(criteria: CriterionSpec[], id: string, file: string) {
  const criterion = criteria.find((c) => c.id === id);
  if (!criterion)
    throw new CliError(
      `criterion "${id}" is not in ${file} (its criteria: ${criteria.map((c) => c.id).join(', ')}); a CSV read with --spec needs a criterion column naming them`,
    );
  return criterionAgreementOptions(criterion);
}

export function registerAgreementCommand(program: Command): void {
  program
    .command('agreement')
    .description('Inter-rater agreement per criterion from a labels CSV (columns item, rater, label[, criterion])')
    .requiredOption('--input <file>', 'labels CSV')
    .addOption(
      new Option('--level <level>', 'measurement level of the labels')
        .choices(['nominal', 'ordinal', 'interval', 'ratio'])
        .default('nominal'),
    )
    .option('--bootstrap <n>', 'bootstrap resamples over items for alpha_ci95 (0 = none)', nonNegativeInt, 1000)
    .option('--seed <n>', 'bootstrap seed', nonNegativeInt, 1)
    .option('--categories <labels>', 'every possible label, comma-separated, when some may be unused (e.g. 0,1)')
    .option(
      '--spec <file>',
      "a program spec (YAML/JSON): each criterion at its own level and over its scale's points (binary nominal, Likert ordinal or its agreementLevel), instead of --level and --categories",
    )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'table']).default('json'))
    .action(
      (opts: {
        input: string;
        level: Level;
        bootstrap: number;
        seed: number;
        categories?: string;
        spec?: string;
        format: 'json' | 'table';
      }) => {
        const criteria = opts.spec ? readValidSpec(opts.spec).criteria : undefined;
        // With a spec, labels are read as numbers (every scale is numeric); each criterion then takes its own level.
        const file = readLabelsCsv(opts.input, { level: criteria ? 'interval' : opts.level });
        const numeric = opts.level !== 'nominal';
        const categories = opts.categories?.split(',').map((c) => (numeric ? Number(c.trim()) : c.trim()));
        if (categories?.some((c) => typeof c === 'number' && !Number.isFinite(c)))
          throw new CliError(`--categories must be numbers for --level ${opts.level}`);
        const reports: Record<string, AgreementReport> = {};
        for (const [criterion, rows] of file.byCriterion) {
          const raters = new Set(rows.map((r) => r.rater));
          if (raters.size < 2) {
            throw new CliError(
              `${opts.input}: ${file.hasCriterion ? `criterion "${criterion}" has` : 'there is'} only one rater ("${rows[0].rater}", from line ${rows[0].line}); agreement needs at least two`,
            );
          }
          const scale = criteria ? criterionOptions(criteria, criterion, opts.spec!) : undefined;
          reports[criterion] = statsOrExit(criterion, () =>
            agreementReport(rows, {
              level: opts.level,
              bootstrap: opts.bootstrap,
              seed: opts.seed,
              ...(categories ? { categories } : {}),
              ...scale,
            }),
          );
        }
        process.stdout.write(opts.format === 'json' ? `${JSON.stringify(reports, null, 2)}\n` : `${table(reports)}\n`);
      },
    );
}
