import type { Command } from 'commander';
import { loadConfig, type Config } from '../../platform/config';
import { runSmokeCheck, startStack, waitForShutdownSignal, type Stack } from '../stack';

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
      // Ctrl-C, or a service that kept failing (the supervisor has stopped the stack then).
      const ended = Promise.race([signal, s.gaveUp]);
      try {
        // false: no smoke check; null: the stack ended before it came back.
        const smoke =
          opts.smoke && opts.workers > 0 && (await Promise.race([runSmokeCheck(s), ended.then(() => null)]));
        if (smoke) console.log(`• smoke workflow round-tripped through the worker and Postgres (${smoke.id})`);
        if (smoke !== null) announceUp(s, opts.workers);
        const got = await ended;
        if (typeof got !== 'string') {
          console.error(`judgeflow stack gave up: ${got.message}`);
          process.exitCode = 1;
          return;
        }
        console.log(`\n${got}: stopping the stack…`);
      } finally {
        await s.stop();
        console.log('stack stopped');
      }
    });
}

function announceUp(s: Stack, workers: number) {
  // What an engineer needs to reach the stack, one line each.
  const summary = [
    `Temporal Web UI: ${s.uiUrl}`,
    `DATABASE_URL=${s.env.DATABASE_URL}`,
    `TEMPORAL_ADDRESS=${s.env.TEMPORAL_ADDRESS}`,
    `Logs: ${s.logDir} (one file per service; a service that dies is restarted, see docs/operations.md)`,
    ...metricsUrls(s.config, workers),
  ];
  console.log(`\njudgeflow stack is up.\n${summary.map((line) => `  ${line}`).join('\n')}\nPress Ctrl-C to stop.`);
  console.log('READY');
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
