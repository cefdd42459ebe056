/**
 * `judgeflow vendor …`: the vendors' command group. `vendor report` prints the scorecard per vendor
 * and per rater (tasks, SLA hit rate, turnaround p50/p95, declines, reassignments, spend) of one
 * program or of all of them, as a table, JSON or CSV. The formatting is shared with `program status`.
 */
import type { Command } from 'commander';
import { vendorReport, type VendorScore } from '../../human-tasks/accounting';
import { programRow } from '../../reporting/queries/program';
import { CliError, withContext } from './context';
import { csvField } from './labels-csv';
import { registerVendorRegistryCommands } from './vendor-registry';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

/** A duration in the unit that reads best: 42s, 25m, 3.4h, 2.1d. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}

/**
 * The scorecard as a table: each vendor, then its raters indented. `maxRaters`: raters shown per
 * vendor at most, those with the lowest SLA hit rate first (status keeps to the ones to look at).
 */
export function formatScorecard(rows: VendorScore[], opts: { maxRaters?: number } = {}): string[] {
  const line = (name: string, r: VendorScore) =>
    `${name.padEnd(28)}${String(r.tasks).padStart(6)}${pct(r.slaHitRate).padStart(9)}${formatDuration(r.turnaroundP50Ms).padStart(8)}${formatDuration(r.turnaroundP95Ms).padStart(8)}${String(r.declined).padStart(9)}${String(r.reassigned).padStart(12)}${`$${r.costUsd.toFixed(2)}`.padStart(12)}`;
  const out = [
    `${'vendor / rater'.padEnd(28)}${'tasks'.padStart(6)}${'SLA hit'.padStart(9)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'declined'.padStart(9)}${'reassigned'.padStart(12)}${'spend'.padStart(12)}`,
  ];
  for (const vendor of rows.filter((r) => r.raterId === null)) {
    out.push(line(vendor.vendorId, vendor));
    const raters = rows.filter((r) => r.vendorId === vendor.vendorId && r.raterId !== null);
    const shown =
      opts.maxRaters !== undefined && raters.length > opts.maxRaters
        ? [...raters].sort((a, b) => (a.slaHitRate ?? 2) - (b.slaHitRate ?? 2)).slice(0, opts.maxRaters)
        : raters;
    for (const r of shown) out.push(line(`  ${r.raterId || '(unassigned)'}`, r));
    if (shown.length < raters.length)
      out.push(`  (${raters.length - shown.length} more raters: judgeflow vendor report --program <id>)`);
  }
  return out;
}

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
