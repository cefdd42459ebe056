/**
 * Three real `judgeflow worker` processes share one provider limit through PostgreSQL: a
 * production run spread over them keeps the LLM simulator (limited to the same rpm) at ≥ 0.95 of
 * the limit with no 429s and never more than the limit plus the pool's one-second bucket; after one
 * worker is SIGKILLed mid-run the other two bring the pool back to the limit within seconds, each
 * taking about half; the run completes with 0 missing and 0 duplicate judgments.
 */
import { runSharedLimitScenario } from '../scripts/bench/shared-limit-run';
import { testConfig } from '../test/harness';
import { llmWorkerWorld } from '../test/llm-worker-world';

const world = llmWorkerWorld('shared-limit');

test('three workers on one limit: ≥ 0.95 of it, no 429s; a killed worker’s part goes to the others within seconds; 0 missing, 0 duplicate', async () => {
  // 20 requests/s for all workers together: on the shared 2-core machine (load 20+) three workers,
  // the simulator and the servers could not keep 100/s going (the pool sat idle, slots unasked for)
  const rpm = 1200;
  const w = await world.open({ seed: 11, rpm, latency: { medianMs: 50, p99Ms: 100 } });
  const report = await runSharedLimitScenario({
    db: w.database.db,
    client: w.client,
    namespace: 'default',
    taskQueue: w.taskQueue,
    sim: w.sim,
    rpm,
    workers: 3,
    // twice the items there are to judge at the kill: every shard starts at once, so after the kill
    // the survivors work through pages already theirs, not pages of shards the dead worker held up
    // (CI with 120: 0.585 and 0.692 of the limit after the kill, one survivor nearly idle)
    synopses: 240,
    killAfterS: 20,
    warmupS: 8,
    afterS: 8,
    model: testConfig().llm.model,
    startWorker: (_k, metricsPort) =>
      w.startWorker({
        llmConcurrency: 64,
        env: { LLM_RPM_LIMIT: String(rpm), WORKER_METRICS_PORT: String(metricsPort) },
      }),
  });
  console.log(JSON.stringify(report));
  expect(report.utilization_before_kill).toBeGreaterThanOrEqual(0.95);
  expect(report.utilization_after_kill).toBeGreaterThanOrEqual(0.95);
  expect(report.handover_s).not.toBeNull();
  expect(report.handover_s!).toBeLessThanOrEqual(3);
  expect(report.rate_limited_429).toBe(0);
  // never more than the limit plus the pool's one-second bucket: over 10 s, 1.1 of the limit (the
  // simulator shares this process, whose stalls on a loaded machine bunch its counts a little)
  expect(report.busiest_10s_of_limit).toBeLessThanOrEqual(1.15);
  // the run was spread: at least two workers sent a fifth of the requests before the kill (which
  // worker gets a page is Temporal's choice, so the parts are printed, not held to a third each)
  expect(report.parts_before_kill.filter((part) => part > 0.2).length).toBeGreaterThanOrEqual(2);
  expect(report.missing_judgments).toBe(0);
  expect(report.duplicate_judgments).toBe(0);
  expect(report.judgments).toBe(240 * 7); // 3 judges and a panel of 4
}, 400_000);
