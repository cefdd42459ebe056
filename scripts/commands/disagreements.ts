/**
 * `judgeflow program disagreements <programId> [--round N] [--csv|--json]`: what a rating round's
 * raters split on, the evidence a guideline revision is written from. The analysis and its output
 * (disagreements-report.ts, with stats/ and CSV) are require()d when the command runs: every
 * program command registers this one, and `program status` should not load them.
 */
import type { Command } from 'commander';
import type { RatingRound } from '../../program/disagreements';
import { CliError } from './context';
import type { Table } from './disagreements-report';

const TABLES = ['items', 'pairs', 'matrix', 'codes', 'raters'] as const satisfies readonly Table[];

interface Options {
  round?: string;
  top: string;
  json?: boolean;
  csv?: boolean;
  table: string;
}

/** `pilot` or 0: the pilot; N: calibration round N. */
function parseRound(value: string): RatingRound {
  if (value === 'pilot' || value === '0') return { phase: 'pilot', round: 0 };
  if (!/^[1-9]\d*$/.test(value))
    throw new CliError(`--round must be pilot (or 0) or a calibration round 1, 2, … (got "${value}")`);
  return { phase: 'calibration', round: Number(value) };
}

export function registerDisagreementsCommand(cli: Command): void {
  const program = cli.commands.find((c) => c.name() === 'program');
  if (!program) throw new Error('register the program commands first');
  program
    .command('disagreements <programId>')
    .description(
      'What a rating round’s raters split on: the most split items with their explanations, rater-pair agreement, agreement per criterion × error code, the raters furthest from consensus.',
    )
    .option('--round <n>', 'pilot (or 0), or a calibration round (default: the latest round with labels)')
    .option('--top <n>', 'split items, pairs and raters to show', '10')
    .option('--json', 'the whole analysis as JSON')
    .option('--csv', 'one table as CSV (see --table)')
    .option('--table <name>', `with --csv: ${TABLES.join(', ')}`, 'items')
    .action(async (programId: string, opts: Options) => {
      if (opts.json && opts.csv) throw new CliError('--json and --csv exclude each other');
      if (!TABLES.includes(opts.table as Table))
        throw new CliError(`--table must be one of ${TABLES.join(', ')} (got "${opts.table}")`);
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1) throw new CliError(`--top must be a positive integer (got "${opts.top}")`);
      const asked = opts.round === undefined ? undefined : parseRound(opts.round);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      await (require('./disagreements-report') as typeof import('./disagreements-report')).printDisagreements(
        programId,
        { asked, top, json: opts.json, csv: opts.csv, table: opts.table as Table },
      );
    });
}
