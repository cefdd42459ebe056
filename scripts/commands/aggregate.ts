/** `judgeflow aggregate --input labels.csv`: one label per item (× criterion) with a confidence. */
import { type Command, Option } from 'commander';
import { dawidSkene, majorityVote, type AggregatedItem, type TiePolicy } from '../../stats/index';
import { statsOrExit } from './agreement';
import { csvField, readLabelsCsv } from './labels-csv';

export function registerAggregateCommand(program: Command): void {
  program
    .command('aggregate')
    .description("Aggregate raters' labels into one label per item (× criterion): majority vote or Dawid–Skene")
    .requiredOption('--input <file>', 'labels CSV (columns item, rater, label[, criterion])')
    .addOption(
      new Option('--method <method>', 'aggregation method').choices(['majority', 'dawid-skene']).default('majority'),
    )
    .addOption(
      new Option('--tie <policy>', 'majority ties: no label (none), or the lowest/highest label in sort order')
        .choices(['none', 'lowest', 'highest'])
        .default('none'),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .action((opts: { input: string; method: 'majority' | 'dawid-skene'; tie: TiePolicy; format: 'csv' | 'json' }) => {
      const file = readLabelsCsv(opts.input);
      const out: ({ criterion?: string } & Omit<AggregatedItem, 'tied'> & { tied: boolean })[] = [];
      for (const [criterion, rows] of file.byCriterion) {
        const items = statsOrExit(criterion, () =>
          opts.method === 'majority' ? majorityVote(rows, { tie: opts.tie }) : dawidSkene(rows).items,
        );
        for (const { item, label, confidence, ratings, tied } of items)
          out.push({ item, ...(file.hasCriterion ? { criterion } : {}), label, confidence, ratings, tied });
      }
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const cols = [
        'item',
        ...(file.hasCriterion ? ['criterion'] : []),
        'label',
        'confidence',
        'ratings',
        'tied',
      ] as const;
      const lines = [
        cols.join(','),
        ...out.map((r) =>
          cols.map((c) => csvField(c === 'confidence' ? r.confidence.toFixed(4) : r[c as keyof typeof r])).join(','),
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
