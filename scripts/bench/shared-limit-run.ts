/**
 * Worker processes sharing one provider limit, end to end: a production run over a simulated
 * catalog spread over N real `judgeflow worker` processes that pace against one pool in PostgreSQL,
 * against the LLM simulator (in this process, limited to the same rpm, so its counts are exact).
 * One worker — the one that sent the most in the last two seconds — is SIGKILLed mid-run. Measured:
 * the pool's utilization before the kill and after it, how long the survivors took to bring it back,
 * each worker's part (from its /metrics), the most requests in any second, the simulator's 429s,
 * and missing / duplicate judgments. Used by `npm run bench:shared-limit` and its test.
 */
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ensureJudgePrompts } from '../../judging/prompt-registry';
import type { Db } from '../../platform/db';
import { freePort } from '../../platform/ports';
import { judgingCoverage } from '../../production/activities';
import { seedJudgeWorld } from '../../test/judge-fixture';
import { productionWorkflowId } from '../../workflows/ids';
import { productionWorkflow } from '../../workflows/production';
import type { LlmSimulator } from '../sim/llm/server';

export interface SharedLimitScenario {
  db: Db;
  client: Client;
  namespace: string;
  taskQueue: string;
  /** The simulator, started with `rpm` as its limit. */
  sim: LlmSimulator;
  rpm: number;
  workers: number;
  synopses: number;
  /** Seconds after the first request at which a worker is killed. */
  killAfterS: number;
  /** Seconds after the first request before utilization counts (the run starts its shards one by one). */
  warmupS: number;
  /** Seconds after the kill (from kill + 2 s) over which the survivors' utilization is measured. */
  afterS: number;
  model: string;
  /** Starts worker `k` serving its metrics on `metricsPort` (the caller sets LLM_RPM_LIMIT, the task queue, the simulator). */
  startWorker(k: number, metricsPort: number): ChildProcess;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** The worker's LLM attempts so far (every status) and the seconds they waited for the pacer, from its /metrics; undefined if it does not answer. */
async function workerCounts(port: number): Promise<{ requests: number; pacerWaitS: number } | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let requests = 0;
    let pacerWaitS = 0;
    for (const line of text.split('\n')) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.startsWith('judgeflow_llm_requests_total{')) requests += value;
      else if (line.startsWith('judgeflow_llm_pacer_wait_seconds_sum')) pacerWaitS += value;
    }
    return { requests, pacerWaitS };
  } catch {
    return undefined;
  }
}

/** A counter sampled over time, read back at any instant (linear between samples). */
class Series {
  readonly points: { t: number; n: number }[] = [];
  add(t: number, n: number) {
    this.points.push({ t, n });
  }
  at(t: number): number {
    const p = this.points;
    if (!p.length || t <= p[0].t) return p[0]?.n ?? 0;
    for (let i = 1; i < p.length; i++)
      if (p[i].t >= t) return p[i - 1].n + ((p[i].n - p[i - 1].n) * (t - p[i - 1].t)) / (p[i].t - p[i - 1].t);
    return p[p.length - 1].n;
  }
  between(from: number, to: number) {
    return this.at(to) - this.at(from);
  }
}

export async function runSharedLimitScenario(s: SharedLimitScenario) {
  const log = s.log ?? (() => undefined);
  const programId = 'shared-limit';
  const perSecond = s.rpm / 60;
  log(`• seeding ${s.synopses} synopses`);
  await seedJudgeWorld(s.db, { programId, shows: Math.ceil(s.synopses / 3), seed: 5 });
  const prompts = await ensureJudgePrompts(s.db, { programId, guidelineVersion: 1 });
  const ports = await Promise.all(Array.from({ length: s.workers }, () => freePort()));
  const workers = ports.map((port, k) => s.startWorker(k, port));
  log(`• waiting for ${s.workers} workers to poll`);
  for (;;) {
    const { pollers } = await s.client.workflowService.describeTaskQueue({
      namespace: s.namespace,
      taskQueue: { name: s.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    if (new Set(pollers.map((p) => p.identity)).size >= s.workers) break;
    if (workers.some((w) => w.exitCode !== null)) throw new Error('a worker exited before it polled');
    await sleep(200);
  }

  const total = new Series();
  const perWorker = ports.map(() => new Series());
  const pacerWaits = ports.map(() => new Series());
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      total.add(Date.now(), s.sim.stats().requests);
      await sleep(100);
    }
  })();
  // each worker's own counts once a second, apart: a worker slow to answer must not hold up the total's samples
  const scraper = (async () => {
    while (sampling) {
      await Promise.all(
        ports.map(async (port, k) => {
          const counts = await workerCounts(port);
          if (!counts) return;
          perWorker[k].add(Date.now(), counts.requests);
          pacerWaits[k].add(Date.now(), counts.pacerWaitS);
        }),
      );
      await sleep(1000);
    }
  })();

  const runId = 'shared';
  const selection = { kind: 'all' as const, limit: s.synopses };
  // the factuality panel makes 8 requests an item: pages hold far more than the limit lets through
  const criteria = ['tone', 'clarity', 'precision', 'factuality'];
  const shardSize = Math.max(10, Math.round(perSecond / 2));
  const started = Date.now();
  const handle = await s.client.workflow.start(productionWorkflow, {
    workflowId: productionWorkflowId(programId, runId),
    taskQueue: s.taskQueue,
    args: [
      {
        programId,
        runId,
        mode: 'sync',
        itemSelection: selection,
        criteria,
        prompts,
        samples: 1,
        fixLoop: false,
        maxFixAttempts: 1,
        // pages of two seconds of the limit, every shard at once: more waiting than the limit lets
        // through while pages start and finish, and new activities keep landing on every worker.
        // After the kill the survivors must have work for the whole measured window on their own:
        // the dead worker's pages wait for their heartbeat timeout, and shards whose workflow tasks
        // were sticky to it for the sticky queue's timeout (CI, 8 shards at once: 0.692 after the kill)
        shardSize,
        maxConcurrentShards: Math.ceil(s.synopses / shardSize),
        batchSize: Math.max(5, Math.round(perSecond / 4)),
      },
    ],
  });
  try {
    while (s.sim.stats().requests === 0) await sleep(50);
    const firstAt = Date.now();
    await sleep(s.killAfterS * 1000);
    const killedAt = Date.now();
    // the worker that has sent the most
    const sent = perWorker.map((series) => series.points.at(-1)?.n ?? 0);
    const victim = sent.indexOf(Math.max(...sent));
    log(`• killing worker ${victim + 1} (${sent.join(' / ')} requests sent)`);
    workers[victim].kill('SIGKILL');
    const result = await handle.result();
    const finishedAt = Date.now();
    sampling = false;
    await Promise.all([sampler, scraper]);

    const utilization = (from: number, to: number) => total.between(from, to) / ((to - from) / 1000) / perSecond;
    // From the warm-up (shards starting; the pool may first catch up one second of unused slots) to the kill.
    const warm = firstAt + s.warmupS * 1000;
    const before = utilization(warm, killedAt);
    const afterFrom = killedAt + 2000;
    const after = utilization(afterFrom, afterFrom + s.afterS * 1000);
    // The first moment after the kill from which two seconds run at ≥ 0.95 of the limit.
    let handoverS: number | null = null;
    for (let t = killedAt; t + 2000 <= finishedAt; t += 100)
      if (utilization(t, t + 2000) >= 0.95) {
        handoverS = (t - killedAt) / 1000;
        break;
      }
    // The most requests in any window of `seconds` (after the first two), as a share of the limit's.
    const busiest = (seconds: number) => {
      let most = 0;
      for (let t = firstAt + 2000; t + seconds * 1000 <= finishedAt; t += 100)
        most = Math.max(most, total.between(t, t + seconds * 1000));
      return round(most / (perSecond * seconds));
    };
    const parts = (from: number, to: number, alive: number[]) => {
      const counts = alive.map((k) => perWorker[k].between(from, to));
      const sum = counts.reduce((a, b) => a + b, 0);
      return counts.map((n) => round(n / sum));
    };
    const everyone = ports.map((_, k) => k);
    const survivors = everyone.filter((k) => k !== victim);
    const coverage = await judgingCoverage(s.db, {
      runKey: `${programId}/${runId}`,
      selection,
      criteria,
      prompts,
      samples: 1,
      model: s.model,
    });
    const stats = s.sim.stats();
    return {
      workers: s.workers,
      rate_limit_rpm: s.rpm,
      synopses: result.total,
      llm_requests: stats.requests,
      rate_limited_429: stats.rateLimited,
      wall_s: round((finishedAt - started) / 1000, 1),
      utilization_before_kill: round(before),
      utilization_after_kill: round(after),
      handover_s: handoverS,
      // a second may hold up to two seconds' worth: the pool catches up one second after an idle moment
      busiest_1s_of_limit: busiest(1),
      busiest_10s_of_limit: busiest(10),
      parts_before_kill: parts(warm, killedAt, everyone),
      parts_after_kill: parts(afterFrom, afterFrom + s.afterS * 1000, survivors),
      // Mean wait for the pacer before the kill: well above zero when requests were waiting for the
      // limit, so a utilization below 1 is the pacer's; near zero, the run had less to send.
      mean_pacer_wait_s_before_kill: everyone.map((k) =>
        round(pacerWaits[k].between(warm, killedAt) / perWorker[k].between(warm, killedAt), 2),
      ),
      requests_by_worker_at_kill: perWorker.map((series) => Math.round(series.at(killedAt))),
      killed_worker: victim + 1,
      kill_at_s: round((killedAt - firstAt) / 1000, 1),
      duplicate_judgments: coverage.duplicate_judgments + coverage.duplicate_verdicts,
      missing_judgments: coverage.missing_judgments + coverage.missing_verdicts,
      judgments: coverage.judgments,
      repeated_llm_requests: (stats.byKind.judge_verdict ?? 0) - coverage.judgments,
    };
  } finally {
    sampling = false;
    await Promise.all([sampler, scraper]);
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  }
}
