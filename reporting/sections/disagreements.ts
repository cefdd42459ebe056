/**
 * What the raters split on, round by round: each criterion's speed to the agreement target, the
 * rater-pair heatmap, the most split items with the raters' explanations, the criteria and error
 * codes raters agree least on, and the raters furthest from consensus.
 */
import { heatmapChart } from '../charts';
import type { ProgramReport } from '../model';
import { formatVotes, labelName } from '../../stats/disagreement';
import { dec, pct, type Block, type Section } from './blocks';

const roundName = (r: { phase: string; round: number }) => (r.phase === 'pilot' ? 'pilot' : `round ${r.round}`);

function speed(r: ProgramReport): Block {
  return {
    kind: 'table',
    headers: ['criterion', 'first met the target', 'calibration rounds needed', 'days from the program start'],
    rows: r.disagreements.speed.map((s) => [
      s.criterion,
      s.phase === null ? 'not yet' : roundName({ phase: s.phase, round: s.round ?? 0 }),
      s.phase === null ? `more than ${s.rounds}` : String(s.rounds),
      s.days === null ? '—' : s.days.toFixed(1),
    ]),
  };
}

function heatmap(r: ProgramReport): Block[] {
  const { raterIds, pairs } = r.disagreements;
  if (raterIds.length < 2) return [];
  const agreement = new Map<string, number>();
  for (const p of pairs) {
    agreement.set(`${p.raterA}\u0001${p.raterB}`, p.percent_agreement);
    agreement.set(`${p.raterB}\u0001${p.raterA}`, p.percent_agreement);
  }
  return [
    {
      kind: 'chart',
      name: 'rater-pairs',
      svg: heatmapChart(
        'Agreement of each rater pair (share of shared answers, all rating rounds)',
        raterIds,
        (a, b) => agreement.get(`${a}\u0001${b}`) ?? null,
      ),
    },
    {
      kind: 'text',
      text: `Least agreeing pairs: ${pairs
        .slice(0, 3)
        .map((p) => `${p.raterA} × ${p.raterB} ${pct(p.percent_agreement)} of ${p.items}`)
        .join('; ')}.`,
    },
  ];
}

export function disagreements(r: ProgramReport): Section {
  const d = r.disagreements;
  const binary = (c: string) => !d.likert.includes(c);
  const rounds = d.rounds.filter((x) => x.labels > 0);
  const blocks: Block[] = [
    {
      kind: 'text',
      text: `Speed to the agreement target (${r.program.agreementMetric} ≥ ${r.program.agreementTarget}) per criterion; round 0 is the pilot.`,
    },
    speed(r),
  ];
  if (!rounds.length) {
    blocks.push({ kind: 'text', text: 'The rating rounds stored no answers on non-gold items to analyse yet.' });
    return { id: 'disagreements', title: 'Disagreements: what the raters split on', blocks };
  }
  blocks.push(...heatmap(r), {
    kind: 'table',
    headers: ['round', 'item', 'criterion', 'vote entropy', 'votes', 'the raters’ answers'],
    rows: rounds.flatMap((x) =>
      x.splitItems.map((s) => [
        roundName(x),
        s.item,
        s.criterion,
        dec(s.entropy),
        formatVotes(s.counts, binary(s.criterion)),
        s.votes
          .map(
            (v) =>
              `${v.rater}: ${labelName(v.label, binary(s.criterion))}${v.errorCodes.length ? ` [${v.errorCodes.join(', ')}]` : ''}${v.explanation ? ` — ${v.explanation}` : ''}`,
          )
          .join('; '),
      ]),
    ),
  });
  blocks.push({
    kind: 'table',
    headers: ['round', 'criterion', 'error code', 'items', 'agreement', 'alpha', 'split items'],
    rows: rounds.flatMap((x) =>
      x.codes.map((c) => [
        roundName(x),
        c.criterion,
        c.code ?? '(the label)',
        String(c.items),
        pct(c.percent_agreement),
        dec(c.krippendorff_alpha),
        String(c.disputedItems),
      ]),
    ),
  });
  blocks.push({
    kind: 'table',
    headers: ['round', 'rater', 'agreement with the others’ majority', 'answers compared', 'kappa'],
    rows: rounds.flatMap((x) =>
      x.furthestRaters.map((q) => [roundName(x), q.rater, pct(q.agreement), String(q.items), dec(q.kappa)]),
    ),
  });
  return { id: 'disagreements', title: 'Disagreements: what the raters split on', blocks };
}
