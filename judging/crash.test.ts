/**
 * Killing the worker process (SIGKILL) in the middle of a judge evaluation: after a restart the run
 * finishes, and no judgment stored before the kill is requested again — the simulator's request
 * count and the usage ledger both show it.
 */
import { sql } from 'drizzle-orm';
import { judgments, usageLedger } from '../schema/tables';
import { llmWorkerWorld, seedJudgePrompts } from '../test/llm-worker-world';
import { promptOptimizationWorkflow } from '../workflows/prompt-optimization';

const world = llmWorkerWorld('crash');

test('a worker killed mid-evaluation: the restarted worker requests only what was not stored', async () => {
  const w = await world.open({ seed: 4, latency: { medianMs: 40, p99Ms: 40 } });
  const { database, client, sim, taskQueue } = w;
  const count = async () =>
    (await database.db.execute<{ n: number }>(sql`select count(*)::int as n from ${judgments}`))[0].n;
  const prompts = await seedJudgePrompts(w, 'crash', { shows: 40, seed: 13 });
  const start = () => w.startWorker({ llmConcurrency: 4 });
  const worker = start();
  // steps 0: score the base prompt on all of dev (3 samples), then evaluate it on test.
  const handle = await client.workflow.start(promptOptimizationWorkflow, {
    workflowId: `crash-${taskQueue}`,
    taskQueue,
    args: [
      {
        programId: 'crash',
        criterion: 'tone',
        basePromptHash: prompts.tone,
        maxLlmCalls: 10_000,
        beamWidth: 1,
        steps: 0,
        samples: 3,
      },
    ],
  });
  while ((await count()) < 75) await new Promise((r) => setTimeout(r, 100));
  await w.kill(worker);
  await new Promise((r) => setTimeout(r, 500)); // requests already on the wire reach the simulator
  const storedAtKill = await count();
  const requestsAtKill = sim.stats().byKind.judge_verdict;
  start();
  const result = await handle.result();
  const stored = await count();
  const requests = sim.stats().byKind.judge_verdict;
  console.log(JSON.stringify({ storedAtKill, requestsAtKill, stored, requests }));
  expect(result.testAccuracy).not.toBeNull();
  expect(storedAtKill).toBeGreaterThanOrEqual(75);
  expect(stored).toBeGreaterThan(storedAtKill);
  // After the restart exactly the judgments missing at the kill were requested, each once.
  expect(requests - requestsAtKill).toBe(stored - storedAtKill);
  // One ledger row per judgment, keyed by its natural key.
  const [ledger] = await database.db.execute<{ n: number; keys: number }>(
    sql`select count(*)::int as n, count(distinct request_key)::int as keys from ${usageLedger} where kind = 'judge'`,
  );
  expect(ledger).toEqual({ n: stored, keys: stored });
}, 180_000);
