/**
 * A real `judgeflow worker` process with WORKER_METRICS_PORT: after a small judge evaluation against
 * the simulator (which answers 15% of requests with a 500, and the client is told not to retry),
 * its /metrics has the LLM attempts by model and status, tokens, pacer waits, the errors by class,
 * the judgments stored as the database has them, and the Temporal SDK's own metrics. A second
 * worker on a port already taken stops at start and names the setting.
 */
import { sql } from 'drizzle-orm';
import { freePort } from '../platform/ports';
import { llmWorkerWorld, seedJudgePrompts } from '../test/llm-worker-world';
import { promptOptimizationWorkflow } from '../workflows/prompt-optimization';

const world = llmWorkerWorld('metrics');

/** Sum of the samples of `name` whose labels include `labels` (exposition text format). */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] === name && want.every((w) => (match[2] ?? '').split(',').includes(w))) sum += Number(match[3]);
  }
  return sum;
}

test('the worker /metrics after a judging run: LLM requests, tokens, pacer, errors, judgments, SDK metrics', async () => {
  const w = await world.open({ seed: 7, latency: { medianMs: 5, p99Ms: 10 }, faults: { serverError: 0.15 } });
  const { database, client, sim, taskQueue } = w;
  const prompts = await seedJudgePrompts(w, 'metrics', { shows: 8, seed: 3 });
  const port = await freePort();
  w.startWorker({
    llmConcurrency: 8,
    env: { WORKER_METRICS_PORT: String(port), LLM_MAX_RETRIES: '0', LLM_ERROR_BREAKER: '1' },
  });
  await client.workflow.execute(promptOptimizationWorkflow, {
    workflowId: `metrics-${taskQueue}`,
    taskQueue,
    args: [
      {
        programId: 'metrics',
        criterion: 'tone',
        basePromptHash: prompts.tone,
        maxLlmCalls: 10_000,
        beamWidth: 1,
        steps: 0,
        samples: 1,
      },
    ],
  });
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();

  const model = 'gpt-4.1-mini';
  const ok = total(text, 'judgeflow_llm_requests_total', { model, status: '200' });
  const failed = total(text, 'judgeflow_llm_requests_total', { model, status: '500' });
  const served = sim.stats();
  expect(ok).toBeGreaterThan(0);
  expect(failed).toBeGreaterThan(0);
  // Every attempt the simulator saw, by outcome; each waited for the pacer once.
  expect(ok + failed).toBe(served.requests);
  expect(failed).toBe(served.faults.serverError);
  expect(total(text, 'judgeflow_llm_request_duration_seconds_count', { model })).toBe(ok + failed);
  expect(total(text, 'judgeflow_llm_pacer_wait_seconds_count')).toBe(ok + failed);
  expect(total(text, 'judgeflow_llm_tokens_total', { model, type: 'prompt' })).toBeGreaterThan(ok * 50);
  expect(total(text, 'judgeflow_llm_tokens_total', { model, type: 'completion' })).toBeGreaterThan(ok);
  // No retries: each 500 is a call's error, classed as the provider's server error.
  expect(total(text, 'judgeflow_llm_errors_total', { class: 'server' })).toBe(failed);

  const byStatus = await database.db.execute<{ status: string; n: number }>(
    sql`select status, count(*)::int as n from judgments group by status`,
  );
  const stored = Object.fromEntries(byStatus.map((r) => [r.status, r.n]));
  expect(total(text, 'judgeflow_judgments_stored_total', { status: 'ok', mode: 'sync' })).toBe(stored.ok);
  expect(total(text, 'judgeflow_judgments_stored_total', { status: 'error', mode: 'sync' })).toBe(stored.error ?? 0);
  // The Temporal SDK's runtime metrics, relayed from its core's exporter, and Node's process metrics.
  expect(text).toMatch(/^temporal_activity_execution_latency/m);
  expect(text).toMatch(/^temporal_workflow_completed/m);
  expect(text).toMatch(/^process_cpu_seconds_total/m);
  expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

  // A second worker on the same port: exits at start with the setting to change.
  const second = w.startWorker({ env: { WORKER_METRICS_PORT: String(port) }, stderr: 'pipe' });
  let stderr = '';
  second.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
  expect(code).not.toBe(0);
  expect(stderr).toContain(`port ${port}`);
  expect(stderr).toContain('WORKER_METRICS_PORT');
}, 180_000);
