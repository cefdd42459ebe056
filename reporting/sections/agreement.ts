/** The human-labelling sections: agreement per round, rater accuracy and drift, the golden set. */
import type { ProgramReport } from '../model';
import { barChart, lineChart } from '../charts';
import { dec, empty, group, pct, type Section } from './blocks';

export function agreement(r: ProgramReport): Section {
  const { agreementMetric: metric, agreementTarget: target } = r.program;
  if (!r.agreement.length)
    return { id: 'agreement', title: 'Agreement per criterion and round', blocks: [empty('agreement rounds')] };
  // the pilot is plotted as round 0, ahead of the calibration rounds
  const x = (p: { phase: string; round: number }) => (p.phase === 'pilot' ? 0 : p.round);
  // Criteria measured otherwise than the program's metric at the nominal level (Likert criteria).
  const own = [
    ...new Set(
      r.agreement
        .filter((a) => a.metric !== metric || a.level !== 'nominal')
        .map((a) => `${a.criterion} (${a.metric}, ${a.level})`),
    ),
  ];
  const series = [...group(r.agreement, (a) => a.criterion)].map(([name, points]) => ({
    name,
    points: points.map((p) => ({ x: x(p), y: p.value, lo: p.ci95?.[0] ?? null, hi: p.ci95?.[1] ?? null })),
  }));
  return {
    id: 'agreement',
    title: 'Agreement per criterion and round',
    blocks: [
      {
        kind: 'text',
        text: `Metric: ${metric}, target ${target}. Bands are 95% bootstrap intervals${r.agreement.some((a) => a.ci95) ? '' : ' (none recorded for this metric)'}; round 0 is the pilot.${own.length ? ` Measured on their own metric or level: ${own.join(', ')}.` : ''}`,
      },
      {
        kind: 'chart',
        name: 'agreement',
        svg: lineChart({
          title: `${metric} per round`,
          xLabel: 'round',
          series,
          yDomain: [0, 1],
          target: { value: target, label: `target ${target}` },
        }),
      },
      {
        kind: 'table',
        headers: ['phase', 'round', 'criterion', 'guideline', 'items', 'raters', metric, '95% CI', 'meets target'],
        // A multilingual round's locales follow its overall row, named as the judges are (`tone · es-ES`).
        rows: r.agreement.flatMap((a) =>
          [
            [a.criterion, a] as const,
            ...Object.entries(a.byLocale ?? {}).map(([locale, l]) => [`${a.criterion} · ${locale}`, l] as const),
          ].map(([criterion, m]) => [
            a.phase,
            String(a.round),
            criterion,
            `v${a.guidelineVersion}`,
            String(m.items),
            String(m.raters),
            dec(m.value),
            m.ci95 ? `[${dec(m.ci95[0])}, ${dec(m.ci95[1])}]` : '—',
            m.meetsTarget ? 'yes' : 'no',
          ]),
        ),
      },
    ],
  };
}

export function raters(r: ProgramReport): Section {
  if (!r.raters.length) return { id: 'raters', title: 'Rater accuracy on gold and drift', blocks: [empty('raters')] };
  const flagged = r.raters.filter((q) => q.drift || q.status !== 'active');
  const onGold = r.raters.some((q) => q.accuracy !== null);
  const bars = r.raters
    .map((q) => ({ q, value: onGold ? q.accuracy : q.goldenSetAgreement }))
    .filter((b): b is { q: (typeof r.raters)[number]; value: number } => b.value !== null)
    .map(({ q, value }) => ({ label: q.raterId, value, series: q.drift ? 'drift' : 'steady' }));
  return {
    id: 'raters',
    title: 'Rater accuracy on gold and drift',
    blocks: [
      ...(onGold
        ? []
        : [
            {
              kind: 'text' as const,
              text: "No gold questions were answered in this program; raters are scored against the golden set's final labels instead.",
            },
          ]),
      ...(bars.length
        ? [
            {
              kind: 'chart' as const,
              name: 'rater-accuracy',
              svg: barChart({
                title: onGold ? 'Accuracy on gold questions' : 'Agreement with the golden set',
                bars,
                max: 1,
                format: (v) => pct(v),
              }),
            },
          ]
        : []),
      {
        kind: 'table',
        headers: [
          'rater',
          'vendor',
          'status',
          'gold answers',
          'gold accuracy',
          'golden-set labels',
          'golden-set agreement',
          'drift basis',
          'earlier half',
          'later half',
          'drift',
        ],
        rows: r.raters.map((q) => [
          q.raterId,
          q.vendorId,
          q.pausedReason ? `${q.status} (${q.pausedReason})` : q.status,
          String(q.goldLabels),
          pct(q.accuracy),
          String(q.goldenSetLabels),
          pct(q.goldenSetAgreement),
          q.driftBasis,
          pct(q.earlyAccuracy),
          pct(q.lateAccuracy),
          q.drift ? 'DRIFT' : '',
        ]),
      },
      {
        kind: 'text',
        text: flagged.length
          ? `Flagged: ${flagged.map((q) => q.raterId).join(', ')}.`
          : 'No rater drifted or was paused.',
      },
    ],
  };
}

export function golden(r: ProgramReport): Section {
  const g = r.golden;
  if (!g.composition.length) return { id: 'golden-set', title: 'Golden set', blocks: [empty('golden labels')] };
  const bars = g.composition.flatMap((c) => [
    { label: `${c.criterion} · ${c.split}`, value: c.pass, series: 'pass' },
    { label: `${c.criterion} · ${c.split}`, value: c.fail, series: 'fail' },
  ]);
  return {
    id: 'golden-set',
    title: 'Golden set: composition and disagreement reviews',
    blocks: [
      {
        kind: 'chart',
        name: 'golden-composition',
        svg: barChart({ title: 'Golden labels by criterion, split and label', bars, format: (v) => String(v) }),
      },
      {
        kind: 'table',
        headers: ['criterion', 'split', 'pass', 'fail'],
        rows: g.composition.map((c) => [c.criterion, c.split, String(c.pass), String(c.fail)]),
      },
      // A multilingual program's golden set is drawn per locale, each locale's judges measured on its own.
      ...(r.locales
        ? [
            {
              kind: 'table' as const,
              headers: ['locale', 'golden items', 'dev', 'test'],
              rows: r.locales.map((l) => [
                l.locale,
                String(l.golden.items),
                String(l.golden.dev),
                String(l.golden.test),
              ]),
            },
          ]
        : []),
      {
        kind: 'table',
        headers: ['method', 'source', 'labels', 'mean confidence', 'ratings per label'],
        rows: g.bySource.map((s) => [
          s.method,
          s.source,
          String(s.labels),
          pct(s.meanConfidence),
          s.ratingsPerLabel === null ? '—' : s.ratingsPerLabel.toFixed(1),
        ]),
      },
      {
        kind: 'text',
        text: `Disagreement reviews: ${g.reviewed} labels adjudicated by reviewers, ${g.needsReview} still waiting for review.`,
      },
      ...(g.reviews.length
        ? [
            {
              kind: 'table' as const,
              headers: ['item', 'criterion', 'final label', 'explanation'],
              rows: g.reviews.map((v) => [v.itemId, v.criterion, v.label === 1 ? 'pass' : 'fail', v.explanation]),
            },
          ]
        : []),
    ],
  };
}
