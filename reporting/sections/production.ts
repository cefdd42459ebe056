/** The catalog sections: production pass rates, and the writer fix loop's outcomes. */
import type { ProgramReport } from '../model';
import { barChart } from '../charts';
import { dec, empty, pct, type Block, type Section } from './blocks';

export function production(r: ProgramReport): Section {
  const p = r.production;
  if (!p.criteria.length && !p.current.length)
    return {
      id: 'production',
      title: 'Production pass rates',
      blocks: [empty('production verdicts'), ...perLocale(r)],
    };
  const CURRENT = 'current texts (after fixes)';
  // run ids start with the program id; the chart shows the rest
  const run = (id: string) => (id.startsWith(`${r.program.id}/`) ? id.slice(r.program.id.length + 1) : id);
  const bars = [
    ...p.criteria.map((c) => ({
      label: `${c.criterion} · ${run(c.runId)}`,
      value: c.passRate ?? 0,
      series: `run ${run(c.runId)}`,
    })),
    ...p.current.map((c) => ({ label: `${c.criterion} · current`, value: c.passRate ?? 0, series: CURRENT })),
  ].sort((a, b) => a.label.localeCompare(b.label));
  return {
    id: 'production',
    title: 'Production pass rates per criterion',
    blocks: [
      {
        kind: 'chart',
        name: 'production-pass-rates',
        svg: barChart({
          title: 'Pass rate per criterion (errors count as not passed)',
          bars,
          max: 1,
          format: (v) => pct(v),
        }),
      },
      // production_runs.failed_items counts the items with a criterion in error (not the failing ones)
      {
        kind: 'table',
        headers: ['run', 'mode', 'status', 'items', 'judged', 'with errors'],
        rows: p.runs.map((run) => [
          run.id,
          run.mode,
          run.status,
          String(run.totalItems),
          String(run.judgedItems),
          String(run.failedItems),
        ]),
      },
      {
        kind: 'table',
        headers: ['run', 'criterion', 'passed', 'failed', 'errors', 'pass rate'],
        rows: [
          ...p.criteria.map((c) => [
            c.runId,
            c.criterion,
            String(c.passed),
            String(c.failed),
            String(c.errors),
            pct(c.passRate),
          ]),
          ...p.current.map((c) => [
            CURRENT,
            c.criterion,
            String(c.passed),
            String(c.failed),
            String(c.errors),
            pct(c.passRate),
          ]),
        ],
      },
      ...perLocale(r),
    ],
  };
}

/** A multilingual program's catalog per locale, a skipped locale with why (a single-locale report has none). */
function perLocale(r: ProgramReport): Block[] {
  if (!r.locales) return [];
  const criteria = r.program.criteria;
  return [
    {
      kind: 'text',
      text: 'Per locale, the catalog as it stands (each item’s latest verdict on its current text; errors count as not passed):',
    },
    {
      kind: 'table',
      headers: ['locale', 'items', 'judged', ...criteria.map((c) => `${c} pass rate`), 'skipped'],
      rows: r.locales.map((l) => [
        l.locale,
        String(l.items),
        String(l.judged),
        ...criteria.map((c) => pct(l.criteria.find((x) => x.criterion === c)?.passRate ?? null)),
        l.skipped ?? '—',
      ]),
    },
  ];
}

export function fixLoop(r: ProgramReport): Section {
  const fl = r.fixLoop;
  if (!fl.cycles.length) return { id: 'fix-loop', title: 'Writer fix loop', blocks: [empty('fix cycles')] };
  return {
    id: 'fix-loop',
    title: 'Writer fix-loop outcomes',
    blocks: [
      {
        kind: 'chart',
        name: 'fix-loop',
        svg: barChart({
          title: 'Fix cycles by outcome',
          bars: fl.cycles.map((c) => ({ label: c.status, value: c.count })),
          format: (v) => String(v),
        }),
      },
      { kind: 'table', headers: ['cycle status', 'cycles'], rows: fl.cycles.map((c) => [c.status, String(c.count)]) },
      {
        kind: 'table',
        headers: ['attempt outcome', 'attempts'],
        rows: fl.attempts.map((a) => [a.outcome, String(a.count)]),
      },
      { kind: 'text', text: `Mean attempts to pass: ${dec(fl.meanAttemptsToPass, 2)}.` },
      ...(fl.needsReview.length
        ? [
            {
              kind: 'text' as const,
              text: 'Needs review: the re-judge of the revision still errored after its retries, so nobody knows whether it passes (an error is never a pass).',
            },
            {
              kind: 'table' as const,
              headers: ['item', 'attempt', 'criteria in error', 'error'],
              rows: fl.needsReview.map((n) => [
                n.itemId,
                String(n.attempt),
                Object.keys(n.errors).sort().join(', '),
                Object.values(n.errors)[0] ?? '',
              ]),
            },
          ]
        : []),
    ],
  };
}
