/** The program-wide sections: its phases over time, spend against budget, and the decision log. */
import type { ProgramReport } from '../model';
import { barChart, timelineChart } from '../charts';
import { empty, pct, type Block, type Section } from './blocks';

const usd = (v: number) => `$${v.toFixed(2)}`;

export function timeline(r: ProgramReport): Section {
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

export function cost(r: ProgramReport): Section {
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

export function decisions(r: ProgramReport): Section {
  const blocks: Block[] = [];
  // A multilingual program's revisions each name their locale, and what every locale reads now.
  const perLocale = r.localeGuidelines;
  if (r.guidelines.length)
    blocks.push({
      kind: 'table',
      headers: ['guideline', ...(perLocale ? ['locale'] : []), 'published', 'author', 'note'],
      rows: r.guidelines.map((g) => [
        `v${g.version}`,
        ...(perLocale ? [g.locale ?? 'program-wide'] : []),
        g.at,
        g.author,
        g.note,
      ]),
    });
  if (perLocale) {
    const criteria = Object.keys(perLocale[0]?.rubrics ?? {});
    const read = (l: (typeof perLocale)[number]) => {
      const at = l.version === null ? 'none published' : `v${l.version}`;
      if (l.guidelines === 'own') return `${at}, its own revision`;
      return l.guidelines === 'spec' ? `its text in the spec (program at ${at})` : `${at}, program-wide`;
    };
    blocks.push({
      kind: 'table',
      headers: ['locale', 'guidelines', ...criteria.map((c) => `${c} rubric`)],
      rows: perLocale.map((l) => [
        l.locale,
        read(l),
        ...criteria.map((c) => (l.rubrics[c] === 'spec' ? 'from the spec' : l.rubrics[c])),
      ]),
    });
  }
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
