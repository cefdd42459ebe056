/**
 * What `judgeflow program disagreements` prints, read and computed when it runs: its modules (the
 * round's analysis with stats/, CSV) load only then, not with every program command.
 */
import { eq } from 'drizzle-orm';
import {
  binaryCriteria,
  ratedRounds,
  roundDisagreements,
  roundName,
  type RatingRound,
} from '../../program/disagreements';
import { programs } from '../../schema/tables';
import { formatVotes, labelName, type DisagreementAnalysis } from '../../stats/disagreement';
import { CliError, withContext } from './context';
import { csvField } from './labels-csv';

export type Table = 'items' | 'pairs' | 'matrix' | 'codes' | 'raters';

export interface DisagreementsOptions {
  /** The round asked for; the latest round with labels when absent. */
  asked?: RatingRound;
  top: number;
  json?: boolean;
  csv?: boolean;
  table: Table;
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const dec = (x: number | null) => (x === null ? '—' : x.toFixed(3));

/** One table of the analysis as rows (the first row its header), for CSV. */
export function analysisTable(a: DisagreementAnalysis, table: Table): unknown[][] {
  switch (table) {
    case 'items':
      return [
        ['criterion', 'item', 'entropy', 'ratings', 'rater', 'label', 'error_codes', 'explanation'],
        ...a.splitItems.flatMap((s) =>
          s.votes.map((v) => [
            s.criterion,
            s.item,
            dec(s.entropy),
            s.ratings,
            v.rater,
            v.label,
            v.errorCodes.join(' '),
            v.explanation,
          ]),
        ),
      ];
    case 'pairs':
      return [
        ['rater_a', 'rater_b', 'items', 'percent_agreement', 'cohen_kappa'],
        ...a.pairs.map((p) => [p.raterA, p.raterB, p.items, dec(p.percent_agreement), dec(p.cohen_kappa)]),
      ];
    case 'matrix': {
      const agreement = new Map<string, number>();
      for (const p of a.pairs) {
        agreement.set(`${p.raterA}\u0001${p.raterB}`, p.percent_agreement);
        agreement.set(`${p.raterB}\u0001${p.raterA}`, p.percent_agreement);
      }
      return [
        ['rater', ...a.raterIds],
        ...a.raterIds.map((r) => [
          r,
          ...a.raterIds.map((o) => (o === r ? '' : dec(agreement.get(`${r}\u0001${o}`) ?? null))),
        ]),
      ];
    }
    case 'codes':
      return [
        [
          'criterion',
          'error_code',
          'items',
          'percent_agreement',
          'krippendorff_alpha',
          'mean_entropy',
          'disputed_items',
        ],
        ...a.codes.map((c) => [
          c.criterion,
          c.code ?? '',
          c.items,
          dec(c.percent_agreement),
          dec(c.krippendorff_alpha),
          dec(c.meanEntropy),
          c.disputedItems,
        ]),
      ];
    case 'raters':
      return [
        ['rater', 'answers', 'skipped', 'agreement_with_consensus', 'kappa'],
        ...a.raters.map((r) => [r.rater, r.items, r.skipped, dec(r.agreement), dec(r.kappa)]),
      ];
  }
}

export function formatAnalysis(
  programId: string,
  where: string,
  a: DisagreementAnalysis,
  top: number,
  binary: (criterion: string) => boolean,
): string {
  if (!a.labels) return `No labels in the ${where} of ${programId}.`;
  const lines = [
    `${programId}, ${where}: ${a.labels} answers on ${a.items} items by ${a.raterIds.length} raters`,
    '',
    'Most split items (vote entropy in bits, each rater’s answer and explanation)',
  ];
  if (!a.splitItems.length) lines.push('  none: every item unanimous');
  for (const s of a.splitItems) {
    lines.push(`  ${s.entropy.toFixed(3)}  ${s.item} · ${s.criterion} · ${formatVotes(s.counts, binary(s.criterion))}`);
    for (const v of s.votes)
      lines.push(
        `         ${v.rater}: ${labelName(v.label, binary(s.criterion))}${v.errorCodes.length ? ` [${v.errorCodes.join(', ')}]` : ''}${v.explanation ? ` — ${v.explanation}` : ''}`,
      );
  }
  lines.push('', 'Agreement per criterion and error code (a code: whether raters cite it, where anyone did)');
  for (const c of a.codes)
    lines.push(
      `  ${(c.code ? `${c.criterion} × ${c.code}` : c.criterion).padEnd(32)} ${pct(c.percent_agreement).padStart(6)}  alpha ${dec(c.krippendorff_alpha)}  ${c.disputedItems}/${c.items} items split`,
    );
  lines.push('', 'Rater pairs, least agreeing first (`--csv --table matrix` for the whole matrix)');
  for (const p of a.pairs.slice(0, top))
    lines.push(
      `  ${`${p.raterA} × ${p.raterB}`.padEnd(32)} ${pct(p.percent_agreement).padStart(6)} of ${p.items}  kappa ${dec(p.cohen_kappa)}`,
    );
  lines.push('', 'Raters furthest from the others’ consensus');
  for (const r of a.raters.slice(0, top))
    lines.push(`  ${r.rater.padEnd(32)} ${pct(r.agreement).padStart(6)} of ${r.items}  kappa ${dec(r.kappa)}`);
  return lines.join('\n');
}

/** The disagreements of a program's round, printed as text, JSON or CSV. */
export async function printDisagreements(programId: string, opts: DisagreementsOptions): Promise<void> {
  const { asked, top } = opts;
  await withContext(
    async ({ database }) => {
      if (!(await database.db.$count(programs, eq(programs.id, programId))))
        throw new CliError(`no program "${programId}"`);
      const rounds = await ratedRounds(database.db, programId);
      if (!rounds.length) throw new CliError(`${programId} has no pilot or calibration labels yet`);
      const round = asked ?? (rounds.at(-1) as RatingRound);
      if (!rounds.some((r) => r.phase === round.phase && r.round === round.round))
        throw new CliError(
          `${programId} has no labels in the ${roundName(round)} (rounds with labels: ${rounds.map(roundName).join(', ')})`,
        );
      // CSV and JSON carry every split item; the text shows the top ones
      const analysis = await roundDisagreements(database.db, programId, round, opts.json || opts.csv ? {} : { top });
      if (opts.json) console.log(JSON.stringify({ programId, ...round, ...analysis }, null, 2));
      else if (opts.csv)
        console.log(
          analysisTable(analysis, opts.table)
            .map((row) => row.map(csvField).join(','))
            .join('\n'),
        );
      else
        console.log(
          formatAnalysis(programId, roundName(round), analysis, top, await binaryCriteria(database.db, programId)),
        );
    },
    { temporal: false },
  );
}
