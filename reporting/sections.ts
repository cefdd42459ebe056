/**
 * The report's content, once, as sections of text, tables and charts; render.ts turns the same
 * sections into HTML or Markdown so the two formats never disagree.
 */
import { WEIGHTED_SCORE } from './behavior/analysis';
import type { ProgramReport } from './report';
import { barChart, confusionChart, forestPlot, lineChart, timelineChart } from './charts';

export type Block =
  | { kind: 'text'; text: string }
  | { kind: 'table'; headers: string[]; rows: string[][] }
  | { kind: 'chart'; name: string; svg: string };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

export const SECTION_IDS = [
  'timeline',
  'agreement',
  'raters',
  'golden-set',
  'judges',
  'confusion',
  'production',
  'fix-loop',
  'cost',
  'decisions',
  'behavior',
] as const;

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const dec = (v: number | null, digits = 3) => (v === null ? '—' : v.toFixed(digits));
const ci = (v: [number, number] | null) => (v ? `[${pct(v[0])}, ${pct(v[1])}]` : '');
const usd = (v: number) => `$${v.toFixed(2)}`;
const pval = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));
const empty = (what: string): Block => ({ kind: 'text', text: `No ${what} recorded for this program yet.` });
const group = <T, K>(rows: T[], key: (r: T) => K) => {
  const m = new Map<K, T[]>();
  for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
  return m;
};

function timeline(r: ProgramReport): Section {
  const blocks: Block[] = r.timeline.length
    ? [
        {
          kind: 'chart',
          name: 'timeline',
          svg: timelineChart(
            'Phases over time',
            r.timeline.map((s) => ({ label: s.phase, start: s.start, end: s.end })),
            r.generatedAt,
          ),
        },
        {
          kind: 'table',
          headers: ['phase', 'started', 'finished'],
          rows: r.timeline.map((s) => [s.phase, s.start, s.end ?? 'running']),
        },
      ]
    : [empty('phase activity')];
  return {
    id: 'timeline',
    title: 'Timeline of phases',
    blocks: [
      { kind: 'text', text: `Program status: ${r.program.status}, current phase: ${r.program.phase}.` },
      ...blocks,
    ],
  };
}

function agreement(r: ProgramReport): Section {
  const { agreementMetric: metric, agreementTarget: target } = r.program;
  if (!r.agreement.length)
    return { id: 'agreement', title: 'Agreement per criterion and round', blocks: [empty('agreement rounds')] };
  // the pilot is plotted as round 0, ahead of the calibration rounds
  const x = (p: { phase: string; round: number }) => (p.phase === 'pilot' ? 0 : p.round);
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
        text: `Metric: ${metric}, target ${target}. Bands are 95% bootstrap intervals${r.agreement.some((a) => a.ci95) ? '' : ' (none recorded for this metric)'}; round 0 is the pilot.`,
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
        rows: r.agreement.map((a) => [
          a.phase,
          String(a.round),
          a.criterion,
          `v${a.guidelineVersion}`,
          String(a.items),
          String(a.raters),
          dec(a.value),
          a.ci95 ? `[${dec(a.ci95[0])}, ${dec(a.ci95[1])}]` : '—',
          a.meetsTarget ? 'yes' : 'no',
        ]),
      },
    ],
  };
}

function raters(r: ProgramReport): Section {
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

function golden(r: ProgramReport): Section {
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
      { kind: 'table', headers: ['source', 'labels'], rows: g.bySource.map((s) => [s.source, String(s.labels)]) },
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

function judges(r: ProgramReport): Section {
  const j = r.judges;
  if (!j.versions.length && !j.trajectory.length)
    return { id: 'judges', title: 'Judge accuracy per prompt version', blocks: [empty('judge evaluations')] };
  const blocks: Block[] = [];
  if (j.trajectory.length) {
    const series = [...group(j.trajectory, (s) => s.criterion)].map(([name, steps]) => ({
      name,
      // the optimizer's trajectory: the best dev accuracy reached at each step; a step whose
      // candidates were never scored (the call budget ran out) has no point rather than a zero
      points: [...group(steps, (s) => s.step)].flatMap(([step, cands]) => {
        const scored = cands.flatMap((c) => (c.devAccuracy === null ? [] : [c.devAccuracy]));
        return scored.length ? [{ x: step, y: Math.max(...scored) }] : [];
      }),
    }));
    blocks.push({
      kind: 'chart',
      name: 'optimizer-trajectory',
      svg: lineChart({
        title: 'Prompt optimization: best dev accuracy per step',
        xLabel: 'optimizer step',
        series,
        target: { value: r.program.judgeAccuracyTarget, label: `target ${r.program.judgeAccuracyTarget}` },
      }),
    });
    blocks.push({
      kind: 'table',
      headers: ['criterion', 'step', 'prompt', 'dev accuracy', 'selected'],
      rows: j.trajectory.map((s) => [
        s.criterion,
        String(s.step),
        s.promptHash.slice(0, 12),
        pct(s.devAccuracy),
        s.selected ? 'yes' : '',
      ]),
    });
  }
  if (j.versions.length) {
    const bars = j.versions
      .filter((v) => v.accuracy !== null)
      .map((v) => ({
        label: `${v.criterion} · ${v.promptHash.slice(0, 8)} · ${v.split}`,
        value: v.accuracy as number,
        series: v.split === 'test' ? 'held-out (test)' : 'dev',
      }));
    if (bars.length)
      blocks.push({
        kind: 'chart',
        name: 'judge-accuracy',
        svg: barChart({
          title: 'Judge accuracy per criterion and prompt version',
          bars,
          max: 1,
          reference: { value: r.program.judgeAccuracyTarget, label: `target ${pct(r.program.judgeAccuracyTarget)}` },
          format: (v) => pct(v),
        }),
      });
    blocks.push({
      kind: 'table',
      headers: [
        'criterion',
        'prompt',
        'origin',
        'status',
        'model',
        'split',
        'samples',
        'accuracy',
        '95% CI',
        'TPR',
        'TNR',
      ],
      rows: j.versions.map((v) => [
        v.criterion,
        v.promptHash.slice(0, 12),
        v.origin,
        v.status,
        v.model,
        v.split,
        String(v.samples),
        pct(v.accuracy),
        ci(v.accuracyCi95),
        pct(v.tpr),
        pct(v.tnr),
      ]),
    });
  }
  if (j.heldOut.length) {
    blocks.push({
      kind: 'text',
      text: `Held-out (test split) accuracy of each criterion's judge, measured once: ${j.heldOut.map((h) => `${h.criterion} ${pct(h.accuracy)} ${ci(h.accuracyCi95)} on ${h.items} items`).join('; ')}. Target ${pct(r.program.judgeAccuracyTarget)}.`,
    });
  }
  return { id: 'judges', title: 'Judge accuracy per prompt version', blocks };
}

function confusion(r: ProgramReport): Section {
  const held = r.judges.heldOut;
  if (!held.length) return { id: 'confusion', title: 'Confusion matrices', blocks: [empty('held-out judgments')] };
  return {
    id: 'confusion',
    title: 'Confusion matrices (held-out set)',
    blocks: [
      ...held.map((h): Block => ({
        kind: 'chart',
        name: `confusion-${h.criterion}`,
        svg: confusionChart(`${h.criterion} (${h.promptHash.slice(0, 8)})`, h.confusion),
      })),
      {
        kind: 'table',
        headers: ['criterion', 'TP', 'FN', 'FP', 'TN', 'accuracy'],
        rows: held.map((h) => [
          h.criterion,
          String(h.confusion.tp),
          String(h.confusion.fn),
          String(h.confusion.fp),
          String(h.confusion.tn),
          pct(h.accuracy),
        ]),
      },
    ],
  };
}

function production(r: ProgramReport): Section {
  const p = r.production;
  if (!p.criteria.length && !p.current.length)
    return { id: 'production', title: 'Production pass rates', blocks: [empty('production verdicts')] };
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
    ],
  };
}

function fixLoop(r: ProgramReport): Section {
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

function cost(r: ProgramReport): Section {
  const c = r.cost;
  if (!c.byPhase.length) return { id: 'cost', title: 'Cost against budget', blocks: [empty('spend')] };
  const chart = (name: string, title: string, rows: Array<{ key: string; costUsd: number }>): Block => ({
    kind: 'chart',
    name,
    svg: barChart({
      title,
      bars: rows.map((row) => ({ label: row.key, value: row.costUsd })),
      reference: { value: c.budgetUsd, label: `budget ${usd(c.budgetUsd)}` },
      format: usd,
    }),
  });
  return {
    id: 'cost',
    title: 'Cost by phase, vendor and model against budget',
    blocks: [
      {
        kind: 'text',
        text: `Spent ${usd(c.totalUsd)} of a ${usd(c.budgetUsd)} budget (${pct(c.budgetUsd > 0 ? c.totalUsd / c.budgetUsd : null)}).`,
      },
      chart('cost-phase', 'Cost by phase', c.byPhase),
      chart('cost-vendor', 'Cost by vendor', c.byVendor),
      chart('cost-model', 'Cost by model', c.byModel),
      {
        kind: 'table',
        headers: ['breakdown', 'key', 'cost'],
        rows: [
          ...c.byPhase.map((x) => ['phase', x.key, usd(x.costUsd)]),
          ...c.byVendor.map((x) => ['vendor', x.key, usd(x.costUsd)]),
          ...c.byModel.map((x) => ['model', x.key, usd(x.costUsd)]),
        ],
      },
    ],
  };
}

function decisions(r: ProgramReport): Section {
  const blocks: Block[] = [];
  if (r.guidelines.length)
    blocks.push({
      kind: 'table',
      headers: ['guideline', 'published', 'author', 'note'],
      rows: r.guidelines.map((g) => [`v${g.version}`, g.at, g.author, g.note]),
    });
  if (r.decisions.length)
    blocks.push({
      kind: 'table',
      headers: ['when', 'decision', 'phase', 'by', 'note'],
      rows: r.decisions.map((d) => [
        d.at,
        d.guidelineVersion !== null ? `${d.kind} (v${d.guidelineVersion})` : d.kind,
        d.phase ?? '',
        d.actor,
        d.note,
      ]),
    });
  return {
    id: 'decisions',
    title: 'Decision log and guideline revisions',
    blocks: blocks.length ? blocks : [empty('decisions')],
  };
}

function behavior(r: ProgramReport): Section {
  const b = r.behavior;
  if (!b)
    return {
      id: 'behavior',
      title: 'Validation against member behaviour',
      blocks: [
        {
          kind: 'text',
          text: 'No member-behaviour metrics imported: run `judgeflow validate behavior --program <id> --metrics metrics.csv`.',
        },
      ],
    };
  return {
    id: 'behavior',
    title: 'Validation against member behaviour',
    blocks: [
      {
        kind: 'text',
        text: `Within-show analysis over ${b.observations} synopses of ${b.shows} shows: score and outcome demeaned per show and divided by the show's standard deviation; OLS, standard errors clustered by show (CR1), t with G−1 df. Higher take and lower abandonment mean the judges capture what members respond to. Weighted score = ${b.criteria.map((c) => `${b.weights[c]}×${c}`).join(' + ')}, normalised.`,
      },
      {
        kind: 'chart',
        name: 'behavior',
        svg: forestPlot(
          'Judge score → member behaviour (within show)',
          b.estimates.map((e) => ({
            label: `${e.score === WEIGHTED_SCORE ? 'weighted score' : e.score} → ${e.outcome === 'takeFraction' ? 'take' : 'abandonment'}`,
            estimate: e.coef,
            lo: e.ci95[0],
            hi: e.ci95[1],
            significant: e.p < 0.05,
          })),
        ),
      },
      {
        kind: 'table',
        headers: ['score', 'outcome', 'coefficient', 'SE', '95% CI', 'p', 'synopses', 'shows'],
        rows: b.estimates.map((e) => [
          e.score,
          e.outcome,
          dec(e.coef),
          dec(e.se),
          `[${dec(e.ci95[0])}, ${dec(e.ci95[1])}]`,
          pval(e.p),
          String(e.n),
          String(e.shows),
        ]),
      },
    ],
  };
}

export function reportSections(r: ProgramReport): Section[] {
  return [
    timeline(r),
    agreement(r),
    raters(r),
    golden(r),
    judges(r),
    confusion(r),
    production(r),
    fixLoop(r),
    cost(r),
    decisions(r),
    behavior(r),
  ];
}
