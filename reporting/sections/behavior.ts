/** The section validating the judges against member behaviour. */
import { WEIGHTED_SCORE } from '../behavior/analysis';
import type { ProgramReport } from '../model';
import { forestPlot } from '../charts';
import { dec, type Section } from './blocks';

const pval = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

export function behavior(r: ProgramReport): Section {
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
