/** The vendor scorecard: per vendor and per rater, tasks, SLA hit rate, turnaround, declines, reassignments, spend. */
import type { ProgramReport } from '../model';
import { barChart } from '../charts';
import { empty, pct, type Block, type Section } from './blocks';

/** A turnaround in hours, the unit vendors' SLAs are written in. */
const hours = (ms: number | null) => (ms === null ? '—' : `${(ms / 3_600_000).toFixed(1)} h`);

export function vendors(r: ProgramReport): Section {
  const title = 'Vendor scorecard';
  if (!r.vendors.length) return { id: 'vendors', title, blocks: [empty('human tasks')] };
  // A vendor with no outcome yet has no rate: left out of the chart rather than drawn as 0.
  const rated = r.vendors.filter((v) => v.raterId === null && v.slaHitRate !== null);
  const chart: Block[] = rated.length
    ? [
        {
          kind: 'chart',
          name: 'vendor-sla',
          svg: barChart({
            title: 'SLA hit rate by vendor',
            bars: rated.map((v) => ({ label: v.vendorId, value: v.slaHitRate! })),
            max: 1,
            format: (v) => pct(v),
          }),
        },
      ]
    : [];
  return {
    id: 'vendors',
    title,
    blocks: [
      {
        kind: 'text',
        text: 'SLA hit rate: tasks completed by their due time over tasks whose outcome is known (completed, expired or reassigned). Turnaround: dispatch to completion of completed tasks.',
      },
      ...chart,
      {
        kind: 'table',
        headers: [
          'vendor',
          'rater',
          'tasks',
          'SLA hit rate',
          'turnaround p50',
          'p95',
          'declined',
          'reassigned',
          'spend',
        ],
        rows: r.vendors.map((v) => [
          v.vendorId,
          v.raterId === null ? 'all raters' : v.raterId || '(unassigned)',
          String(v.tasks),
          pct(v.slaHitRate),
          hours(v.turnaroundP50Ms),
          hours(v.turnaroundP95Ms),
          String(v.declined),
          String(v.reassigned),
          `$${v.costUsd.toFixed(2)}`,
        ]),
      },
    ],
  };
}
