/**
 * `judgeflow vendor …`: the vendors' command group. `vendor report` prints the scorecard per vendor
 * and per rater (tasks, SLA hit rate, turnaround p50/p95, declines, reassignments, spend) of one
 * program or of all of them, as a table (scorecard.ts, shared with `program status`), JSON or CSV.
 */
import type { Command } from 'commander';
import { vendorReport, type VendorScore } from '../../human-tasks/accounting';
import { programRow } from '../../reporting/queries/program';
import { CliError, withContext } from './context';
import { csvField } from './labels-csv';
import { formatScorecard } from './scorecard';
import { registerVendorRegistryCommands } from './vendor-registry';

const CSV_COLUMNS = [
  'vendor',
  'rater',
  'tasks',
  'completed',
  'declined',
  'reassigned',
  'expired',
  'sla_hit_rate',
  'turnaround_p50_ms',
  'turnaround_p95_ms',
  'spend_usd',
];

export function vendorReportCsv(rows: VendorScore[]): string {
  const lines = rows.map((r) =>
    [
      r.vendorId,
      r.raterId ?? '',
      r.tasks,
      r.completed,
      r.declined,
      r.reassigned,
      r.expired,
      r.slaHitRate === null ? '' : r.slaHitRate.toFixed(4),
      r.turnaroundP50Ms,
      r.turnaroundP95Ms,
      r.costUsd,
    ]
      .map(csvField)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...lines].join('\n')}\n`;
}

/** The `vendor` group: the records (vendor-registry.ts) and the scorecard. */
export function registerVendorCommands(program: Command): Command {
  const vendor = program.command('vendor').description('Vendors: their records and secrets, their scorecard.');
  registerVendorRegistryCommands(vendor);
  vendor
    .command('report')
    .description(
      'Scorecard per vendor and per rater: tasks, SLA hit rate, turnaround p50/p95, declines, reassignments, spend.',
    )
    .option('--program <id>', 'one program (default: every program)')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action(async (opts: { program?: string; json?: boolean; csv?: boolean }) => {
      if (opts.json && opts.csv) throw new CliError('give --json or --csv, not both');
      await withContext(
        async ({ database }) => {
          if (opts.program) await programRow(database.db, opts.program); // an unknown program exits 2
          const rows = await vendorReport(database.db, opts.program);
          if (opts.json) console.log(JSON.stringify(rows, null, 2));
          else if (opts.csv) process.stdout.write(vendorReportCsv(rows));
          else console.log(rows.length ? formatScorecard(rows).join('\n') : 'no tasks yet');
        },
        { temporal: false },
      );
    });
  return vendor;
}
