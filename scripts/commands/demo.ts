import type { Command } from 'commander';
import { runDemo } from '../demo';

export function registerDemoCommand(program: Command) {
  program
    .command('demo')
    .description('Run the example synopsis program end to end on the embedded stack and the simulated world.')
    .option('--keep', 'leave the stack up afterwards to explore in the Temporal UI')
    .option('--shows <n>', 'shows in the simulated catalog', (v) => Number.parseInt(v, 10), 1000)
    .option('--seed <n>', 'seed of the simulated world', (v) => Number.parseInt(v, 10), 7)
    .option('--summary-json <file>', 'also write the summary as JSON to this file')
    .option(
      '--spec <file>',
      'run this program spec instead of examples/demo-program.yaml (examples/multilingual-demo.yaml: en-US and es-ES, a summary per locale)',
    )
    .action((opts: { keep?: boolean; shows: number; seed: number; summaryJson?: string; spec?: string }) =>
      runDemo({
        keep: Boolean(opts.keep),
        shows: opts.shows,
        seed: opts.seed,
        summaryJson: opts.summaryJson,
        spec: opts.spec,
      }),
    );
}
