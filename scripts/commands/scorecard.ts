/**
 * The vendor scorecard as a table, printed by `vendor report` and `program status`: in a module of
 * its own so that status does not load the vendor commands (the registry, the spec schemas, CSV).
 */
import type { VendorScore } from '../../human-tasks/accounting';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

/** A duration in the unit that reads best: 42s, 25m, 3.4h, 2.1d. */
function formatDuration(ms: number | null): string {
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
