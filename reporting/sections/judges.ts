/** The judge-development sections: accuracy per prompt version and the held-out confusion matrices. */
import type { ProgramReport } from '../model';
import { barChart, confusionChart, lineChart } from '../charts';
import { empty, group, pct, type Block, type Section } from './blocks';

const ci = (v: [number, number] | null) => (v ? `[${pct(v[0])}, ${pct(v[1])}]` : '');

export function judges(r: ProgramReport): Section {
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
      text: `Held-out (test split) accuracy of each criterion's judge, measured once: ${j.heldOut.map((h) => `${h.criterion} ${pct(h.accuracy)} ${ci(h.accuracyCi95)} on ${h.items} items${h.likert ? ` (pass/fail at ≥ ${h.likert.passAt} of ${h.likert.points}; score exact ${pct(h.likert.exact)}, within one point ${pct(h.likert.withinOne)})` : ''}`).join('; ')}. Target ${pct(r.program.judgeAccuracyTarget)}.`,
    });
  }
  return { id: 'judges', title: 'Judge accuracy per prompt version', blocks };
}

export function confusion(r: ProgramReport): Section {
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
