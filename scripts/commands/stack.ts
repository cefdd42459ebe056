import type { Command } from 'commander';
import { loadConfig, type Config } from '../../platform/config';
import { runSmokeCheck, startStack, waitForShutdownSignal } from '../stack';

export function registerStackCommands(program: Command) {
  const stack = program.command('stack').description('The embedded development stack.');
  stack
    .command('up')
    .description(
      'Start Temporal (dev server + Web UI), PostgreSQL, the LLM simulator and the judgeflow processes; Ctrl-C stops them all.',
    )
    .option('--workers <n>', 'worker processes to run', (v) => Number.parseInt(v, 10), 1)
    .option('--no-smoke', 'skip the smoke workflow round trip at start')
    .action(async (opts: { workers: number; smoke: boolean }) => {
      const config = loadConfig();
      // Installed before anything starts, so Ctrl-C during start-up still stops what did start.
      const signal = waitForShutdownSignal();
      const starting = startStack(config, { workers: opts.workers });
      const first = await Promise.race([starting, signal.then(() => null)]);
      if (!first) {
        const partial = await starting.catch(() => null);
        await partial?.stop();
        return;
      }
      const s = first;
      try {
        if (opts.smoke && opts.workers > 0) {
          const result = await runSmokeCheck(s);
          console.log(`• smoke workflow round-tripped through the worker and Postgres (${result.id})`);
        }
        console.log(
          `\njudgeflow stack is up.\n  Temporal Web UI: ${s.uiUrl}\n  DATABASE_URL=${s.env.DATABASE_URL}\n  TEMPORAL_ADDRESS=${s.env.TEMPORAL_ADDRESS}\n${metricsUrls(
            s.config,
            opts.workers,
          )
            .map((line) => `  ${line}\n`)
            .join('')}Press Ctrl-C to stop.`,
        );
        console.log('READY');
        const got = await signal;
        console.log(`\n${got}: stopping the stack…`);
      } finally {
        await s.stop();
        console.log('stack stopped');
      }
    });
}

/** The /metrics URLs of the stack's workers and gateway (docs/operations.md). */
function metricsUrls(config: Config, workers: number): string[] {
  const port = config.observability.workerMetricsPort;
  const worker = (i: number) => `Worker${workers > 1 ? ` ${i + 1}` : ''} metrics: http://127.0.0.1:${port + i}/metrics`;
  return [
    ...Array.from({ length: port ? workers : 0 }, (_, i) => worker(i)),
    `Gateway metrics: http://127.0.0.1:${config.gateway.port}/metrics`,
  ];
}
