/**
 * One trace from a client's workflow start to the LLM requests: a judge evaluation started through
 * a client with the tracing interceptors (as the CLI's), run by a tracing worker (the workflow
 * interceptors bundled in, the activity interceptors, the workflow span sink) against the simulator,
 * spans kept in memory. Each LLM request's span hangs under its activity's, under the workflow's,
 * under the client's start, with model, status and tokens; a request the simulator fails is an
 * error span. The committed histories, recorded without tracing, replay on the tracing bundle
 * (but one recorded before the steering handlers stopped racing the main code: steering-io.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivityDeps } from '../activities/deps';
import { createJudgingActivities } from '../judging/activities';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import {
  createTestDatabase,
  HISTORIES_DIR,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { createWorker, installQuietRuntime } from '../workers/worker';
import { bundleWorkflows } from '../workers/workflow-bundle';
import { promptOptimizationWorkflow } from '../workflows/prompt-optimization';
import { STEERING_IO_IN_MAIN_CODE } from '../workflows/steering-io';
import { createLogger } from './logger';
import { freePort } from './ports';
import { connectClient } from './temporal';
import { startTracing, type Tracing } from './tracing';

let database: TestDatabase;
let sim: LlmSimulator;
let client: Client;
let tracing: Tracing;
const spans = new InMemorySpanExporter();

afterAll(async () => {
  await client?.connection.close();
  await tracing?.shutdown();
  await sim?.close();
  await database?.drop();
});

test('client → workflow → activity → LLM request in one trace, with model, status and tokens', async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({
    port: await freePort(),
    seed: 5,
    latency: { medianMs: 5, p99Ms: 10 },
    faults: { serverError: 0.1 },
  });
  await seedJudgeWorld(database.db, { programId: 'traced', shows: 4, seed: 2 });
  const config = testConfig({ OPENAI_BASE_URL: sim.url, LLM_MAX_RETRIES: '0', LLM_ERROR_BREAKER: '1' }, database);
  const prompts = await createJudgingActivities(testDeps(database, config)).ensureJudgePrompts({
    programId: 'traced',
    guidelineVersion: 1,
  });
  tracing = startTracing('judgeflow-test', new SimpleSpanProcessor(spans));
  installQuietRuntime();
  const address = process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS!;
  client = await connectClient({ address, namespace: 'default' }, tracing.clientInterceptors);
  const connection = await NativeConnection.connect({ address });
  const taskQueue = uniqueTaskQueue('traced');
  const bundle = await bundleWorkflows({ tracing: true });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps: createActivityDeps(
      { db: database.db, config, logger: createLogger('t', 'silent') },
      { tracer: tracing.tracer },
    ),
    workflowBundle: bundle,
    tracing: tracing.worker,
  });
  await worker.runUntil(
    client.workflow.execute(promptOptimizationWorkflow, {
      workflowId: `traced-${taskQueue}`,
      taskQueue,
      args: [
        {
          programId: 'traced',
          criterion: 'tone',
          basePromptHash: prompts.tone,
          maxLlmCalls: 1000,
          beamWidth: 1,
          steps: 0,
          samples: 1,
        },
      ],
    }),
  );
  await connection.close();

  const all = spans.getFinishedSpans();
  const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
  const parent = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
  const llm = all.filter((s) => s.name === 'llm.chat');
  expect(llm.length).toBe(sim.stats().requests);
  const ok = llm.filter((s) => s.attributes['judgeflow.llm.status'] === '200');
  const failed = llm.filter((s) => s.attributes['judgeflow.llm.status'] === '500');
  expect(ok.length).toBeGreaterThan(0);
  expect(failed.length).toBe(sim.stats().faults.serverError);
  expect(failed.length).toBeGreaterThan(0);
  expect(ok[0].attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4.1-mini', 'judgeflow.llm.attempts': 1 });
  expect(ok[0].attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  expect(ok[0].attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(failed[0].status.code).toBe(2); // SpanStatusCode.ERROR

  // Every LLM span's ancestry: RunActivity → StartActivity → RunWorkflow → StartWorkflow (the client's), one trace.
  for (const span of llm) {
    const chain: string[] = [];
    for (let s = parent(span); s; s = parent(s)) chain.push(s.name);
    expect(chain[0]).toMatch(/^RunActivity:/);
    expect(chain[1]).toBe(chain[0].replace('RunActivity', 'StartActivity'));
    expect(chain).toContain('RunWorkflow:promptOptimizationWorkflow');
    expect(chain.at(-1)).toBe('StartWorkflow:promptOptimizationWorkflow');
    expect(span.spanContext().traceId).toBe(llm[0].spanContext().traceId);
  }

  // Switching tracing on keeps running workflows running: histories recorded without it replay on this bundle.
  // Known exception (docs/operations.md): recorded before patch steering-io-in-main-code, a gate
  // approval's handler and the main code resumed in one workflow task there, and the interceptors'
  // awaits swap the update's completion and the next activity. Only such a history may be excepted.
  const racing = ['programWorkflow-locales.json'];
  const read = (file: string) => historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  const replay = (file: string) =>
    Worker.runReplayHistory({ workflowBundle: bundle, sinks: tracing.worker.sinks }, read(file), file);
  for (const file of racing) {
    expect(patchesOf(read(file))).not.toContain(STEERING_IO_IN_MAIN_CODE);
    await expect(replay(file)).rejects.toThrow(/nondeterminism/i);
  }
  const histories = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json') && !racing.includes(f));
  expect(patchesOf(read('programWorkflow-steering.json'))).toContain(STEERING_IO_IN_MAIN_CODE);
  for (const file of histories) await replay(file);
}, 240_000);

/** The patch ids a history's markers record. */
function patchesOf(history: ReturnType<typeof historyFromJSON>): string[] {
  return (history.events ?? []).flatMap((e) =>
    (e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
      (p) => (JSON.parse(Buffer.from(p.data!).toString('utf8')) as { id: string }).id,
    ),
  );
}
