/**
 * Killing the worker process (SIGKILL) while proposeCandidates is between its edit requests: the
 * activity's retry (after its heartbeat timeout) reuses the stored critique and edits and requests
 * only the edits missing at the kill — the simulator's request counts show it — and the step ends
 * with exactly one critique, one row per edit, one ledger row per request key and no duplicate
 * candidate.
 */
import { and, eq, sql } from 'drizzle-orm';
import { optimizationCandidates, optimizationRequests, usageLedger } from '../schema/tables';
import { llmWorkerWorld, seedJudgePrompts, type LlmWorkerWorld } from '../test/llm-worker-world';
import { promptOptimizationWorkflow } from '../workflows/prompt-optimization';

const EDITS = 6;
const world = llmWorkerWorld('apo-crash');
let database: LlmWorkerWorld['database'];
let sim: LlmWorkerWorld['sim'];

const stepRequests = async (runId: string) =>
  database.db
    .select()
    .from(optimizationRequests)
    .where(and(eq(optimizationRequests.runId, runId), eq(optimizationRequests.step, 1)));
const optimizerCalls = () => (sim.stats().byKind.prompt_critique ?? 0) + (sim.stats().byKind.prompt_edit ?? 0);

test('a worker killed between edits: the retry requests only the edits not stored, and the step is complete and not duplicated', async () => {
  // Slow answers keep the kill between two edits (each edit is one request of ~250 ms).
  const w = await world.open({ seed: 4, latency: { medianMs: 250, p99Ms: 250 } });
  ({ database, sim } = w);
  const { client, taskQueue } = w;
  const prompts = await seedJudgePrompts(w, 'apo-crash', { shows: 12, seed: 13 });
  const start = () => w.startWorker({ llmConcurrency: 32 });
  const worker = start();
  const runId = `apo-crash-${taskQueue}`;
  // One step, one parent, EDITS edits; the dev split is small so scoring is quick.
  const handle = await client.workflow.start(promptOptimizationWorkflow, {
    workflowId: runId,
    taskQueue,
    args: [
      {
        programId: 'apo-crash',
        criterion: 'tone',
        basePromptHash: prompts.tone,
        maxLlmCalls: 10_000,
        beamWidth: 1,
        steps: 1,
        samples: 1,
        editsPerPrompt: EDITS,
        minibatch: 1000,
      },
    ],
  });
  // Kill once the critique and two edits are stored.
  for (;;) {
    const rows = await stepRequests(runId);
    if (rows.some((r) => r.request === 'critique') && rows.filter((r) => r.request === 'edit').length >= 2) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  await w.kill(worker);
  await new Promise((r) => setTimeout(r, 500)); // a request already on the wire reaches the simulator
  const storedAtKill = (await stepRequests(runId)).length;
  const callsAtKill = optimizerCalls();
  const critiquesAtKill = sim.stats().byKind.prompt_critique;
  expect(storedAtKill).toBeLessThan(1 + EDITS);

  start();
  const result = await handle.result();
  const rows = await stepRequests(runId);
  console.log(
    JSON.stringify({
      storedAtKill,
      callsAtKill,
      stored: rows.length,
      calls: optimizerCalls(),
      candidates: result.candidates,
    }),
  );
  // The step is complete: one critique and one row per edit.
  expect(rows.filter((r) => r.request === 'critique')).toHaveLength(1);
  expect(
    rows
      .filter((r) => r.request === 'edit')
      .map((r) => r.index)
      .sort(),
  ).toEqual([...Array(EDITS).keys()]);
  // The critique was not asked again, and the retry asked exactly for the edits missing at the kill.
  expect(sim.stats().byKind.prompt_critique).toBe(critiquesAtKill);
  expect(sim.stats().byKind.prompt_critique).toBe(1);
  expect(optimizerCalls() - callsAtKill).toBe(rows.length - storedAtKill);
  // Every candidate once, each from one of the stored edits, with the critique that produced it.
  const candidates = await database.db
    .select()
    .from(optimizationCandidates)
    .where(and(eq(optimizationCandidates.runId, runId), eq(optimizationCandidates.step, 1)));
  const fromEdits = new Set(rows.flatMap((r) => (r.promptHash ? [r.promptHash] : [])));
  expect(new Set(candidates.map((c) => c.promptHash))).toEqual(fromEdits);
  expect(result.candidates).toBe(fromEdits.size);
  const critique = rows.find((r) => r.request === 'critique')!.output;
  expect(candidates.every((c) => c.critique === critique && c.parentHash === prompts.tone)).toBe(true);
  // One ledger row per request key: the critique and each edit.
  const ledger = await database.db.execute<{ kind: string; n: number; keys: number }>(sql`
    select kind, count(*)::int as n, count(distinct request_key)::int as keys from ${usageLedger}
    where kind in ('critique', 'edit') and request_key like ${`%:${runId}:%`} group by kind order by kind`);
  expect(ledger).toEqual([
    { kind: 'critique', n: 1, keys: 1 },
    { kind: 'edit', n: EDITS, keys: EDITS },
  ]);
}, 300_000);
