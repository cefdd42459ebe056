/**
 * Batch-mode production on the time-skipping server, against the LLM simulator's Batch API over
 * HTTP and real Postgres: every judgment of 30 items × 2 criteria × 2 samples is stored once with
 * mode 'batch', the simulator answered no sync judge request, and the ledger's batch rows cost ≤ 55%
 * of the same tokens at the sync price; batches with failed lines get them resubmitted (what is still
 * missing after the last submission is judged sync); an expired batch is ingested for what ran and
 * the rest resubmitted; polls back off so a slow batch keeps the shard's history small; a retried
 * submit finds the batch it already created, and a re-ingest writes nothing.
 */
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createJudgingActivities } from '../judging/activities';
import { batchProgress, createProductionBatchActivities, submissionKey } from '../production/batch';
import { judgingCoverage } from '../production/activities';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import {
  createTestDatabase,
  recordHistory,
  testConfig,
  testDeps,
  timeSkippingEnv,
  timeSkippingWorker,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { productionWorkflow } from './production';
import type { ProductionInput } from './production-messages';
import { productionWorkflowId } from './ids';

const PROGRAM = 'batch-prog';
const CRITERIA = ['tone', 'clarity'];
const ITEMS = 30;
const SAMPLES = 2;
const logger = createLogger('test', 'silent');
let env: TestWorkflowEnvironment;
let database: TestDatabase;
let prompts: Record<string, string>;
const sims: LlmSimulator[] = [];

beforeAll(async () => {
  env = await timeSkippingEnv();
  database = await createTestDatabase();
  await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 14, seed: 5 });
  prompts = await createJudgingActivities(testDeps(database)).ensureJudgePrompts({
    programId: PROGRAM,
    guidelineVersion: 1,
  });
});
afterAll(async () => {
  for (const s of sims) await s.close();
  await database?.drop();
  await env?.teardown();
});

async function simulator(batch: {
  validatingMs: number;
  msPerRequest?: number;
  lineErrorRate?: number;
  expireAfterMs?: number;
}) {
  const sim = await startLlmSimulator({
    port: await freePort(),
    seed: 7,
    logger,
    batch: { msPerRequest: 0, finalizingMs: 20, ...batch },
  });
  sims.push(sim);
  return { sim, deps: testDeps(database, testConfig({ OPENAI_BASE_URL: sim.url, LLM_RPM_LIMIT: '600000' }, database)) };
}

const runInput = (runId: string, model: string): ProductionInput => ({
  programId: PROGRAM,
  runId,
  mode: 'batch',
  itemSelection: { kind: 'all', limit: ITEMS },
  criteria: CRITERIA,
  prompts,
  samples: SAMPLES,
  model,
  fixLoop: false,
  maxFixAttempts: 1,
  shardSize: 15,
  batchSize: 8,
  maxConcurrentShards: 2,
});

async function run(input: ProductionInput, deps: ReturnType<typeof testDeps>) {
  const taskQueue = uniqueTaskQueue('production-batch');
  const handle = await env.client.workflow.start(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, input.runId),
    taskQueue,
    args: [input],
  });
  const worker = await timeSkippingWorker(env, taskQueue, deps);
  const result = await worker.runUntil(handle.result());
  const coverage = await judgingCoverage(database.db, {
    runKey: `${PROGRAM}/${input.runId}`,
    selection: input.itemSelection,
    criteria: CRITERIA,
    prompts,
    samples: SAMPLES,
    model: input.model!,
  });
  return { handle, result, coverage };
}

const byMode = async (model: string) =>
  Object.fromEntries(
    (
      await database.sql<
        { mode: string; n: number }[]
      >`select mode, count(*)::int as n from judgments where model = ${model} group by mode`
    ).map((r) => [r.mode, r.n]),
  );

test('a batch-mode run judges every sample through the Batch API once, at ≥ 45% less in the ledger; polls back off', async () => {
  // Each batch validates for 1.5 s of real time: with time skipping that is hours of polling.
  const { sim, deps } = await simulator({ validatingMs: 1500 });
  const model = 'gpt-4.1-mini';
  const { handle, result, coverage } = await run(runInput('batch-1', model), deps);
  const expected = ITEMS * CRITERIA.length * SAMPLES;
  expect(result).toMatchObject({ total: ITEMS, judged: ITEMS, errors: 0, shardsDone: 2, done: true });
  expect(coverage).toEqual({
    items: ITEMS,
    missing_judgments: 0,
    missing_verdicts: 0,
    duplicate_judgments: 0,
    duplicate_verdicts: 0,
    judgments: expected,
  });
  expect(await byMode(model)).toEqual({ batch: expected });

  const stats = sim.stats();
  // Two shards of 15 items in pages of 8: four pages, one batch each, and not one sync judge request.
  expect(stats.batches).toMatchObject({ created: 4, completed: 4, requests: expected, lineErrors: 0 });
  expect(stats.batches.byKind.judge_verdict).toBe(expected);
  expect(stats.byKind.judge_verdict).toBe(expected);
  const submissions = await database.sql<
    { shard: number; page: number; attempt: number; status: string; ingested: boolean; request_count: number }[]
  >`
    select shard, page, attempt, status, ingested_at is not null as ingested, request_count from provider_batches where run_id = ${`${PROGRAM}/batch-1`} order by shard, page`;
  expect(submissions).toEqual([
    { shard: 1, page: 0, attempt: 1, status: 'completed', ingested: true, request_count: 8 * 2 * SAMPLES },
    { shard: 1, page: 1, attempt: 1, status: 'completed', ingested: true, request_count: 7 * 2 * SAMPLES },
    { shard: 2, page: 0, attempt: 1, status: 'completed', ingested: true, request_count: 8 * 2 * SAMPLES },
    { shard: 2, page: 1, attempt: 1, status: 'completed', ingested: true, request_count: 7 * 2 * SAMPLES },
  ]);

  // The ledger: one batch-priced row per judgment, its sync price beside it.
  const [ledger] = await database.sql<{ rows: number; modes: string[]; cost: number; alt: number }[]>`
    select count(*)::int as rows, array_agg(distinct mode) as modes, sum(cost_usd) as cost, sum(alt_cost_usd) as alt
    from usage_ledger where program_id = ${PROGRAM} and phase = 'production' and kind = 'judge' and request_key like ${`%:${model}:%`}`;
  expect(ledger).toMatchObject({ rows: expected, modes: ['batch'] });
  const ratio = ledger.cost / ledger.alt;
  console.log(
    `batch-mode ledger: $${ledger.cost.toFixed(6)} at the batch price vs $${ledger.alt.toFixed(6)} at sync for ${expected} judgments — ratio ${ratio.toFixed(3)}`,
  );
  expect(ledger.cost).toBeGreaterThan(0);
  expect(ratio).toBeLessThanOrEqual(0.55);

  // The shard waited hours of (skipped) time on timers that double up to 5 min; each poll is a
  // timer, one small activity and two workflow tasks (11 events), and there are at most
  // 7 + waited / 5 min of them: a day-long batch is ~300 polls, ~3,300 events. The rest is a fixed
  // ~130: listing pages and, per page, its budget reservation, submission, ingestion and sync pass.
  const shard = env.client.workflow.getHandle(`${productionWorkflowId(PROGRAM, 'batch-1')}/shard-1`);
  const events = (await shard.fetchHistory()).events ?? [];
  const timers = events
    .filter((e) => e.timerStartedEventAttributes)
    .map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds));
  const polls = events.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'providerBatchStatus',
  ).length;
  const first = Number(events[0].eventTime!.seconds);
  const last = Number(events.at(-1)!.eventTime!.seconds);
  console.log(
    `shard 1: ${events.length} history events, ${polls} polls over ${((last - first) / 3600).toFixed(1)} h of skipped time; waits ${timers.slice(0, 8).join(', ')}… s`,
  );
  expect(polls).toBe(timers.length);
  // How many polls the 1.5 s take depends on how much time the server skipped meanwhile (it skips
  // only while no activity runs, and the other shard's do): 5 on some runs, 8 and more on others.
  const doubling = [5, 10, 20, 40, 80, 160, 300];
  expect(polls).toBeGreaterThanOrEqual(4);
  expect(timers.slice(0, doubling.length)).toEqual(doubling.slice(0, timers.length));
  expect(timers.slice(doubling.length).filter((t) => t !== 300)).toEqual([]);
  expect(polls).toBeLessThanOrEqual(7 + Math.ceil((last - first) / 300));
  expect(events.length).toBeLessThanOrEqual(130 + 11 * polls);
  await recordHistory(shard, 'productionShardWorkflow-batch');
  await recordHistory(handle, 'productionWorkflow-batch');
});

test('failed batch lines are resubmitted; what the last submission leaves is judged sync; one ledger row per judgment', async () => {
  const { sim, deps } = await simulator({ validatingMs: 20, lineErrorRate: 0.4 });
  const model = 'gpt-4.1';
  const { result, coverage } = await run({ ...runInput('batch-2', model), batch: { submissions: 2 } }, deps);
  const expected = ITEMS * CRITERIA.length * SAMPLES;
  expect(result).toMatchObject({ judged: ITEMS, errors: 0 });
  expect(coverage).toMatchObject({
    missing_judgments: 0,
    missing_verdicts: 0,
    duplicate_judgments: 0,
    judgments: expected,
  });

  const stats = sim.stats();
  const modes = await byMode(model);
  const syncRequests = stats.byKind.judge_verdict - stats.batches.byKind.judge_verdict;
  console.log(
    `40% failed lines: ${stats.batches.created} batches, ${stats.batches.requests} lines (${stats.batches.lineErrors} failed), ${syncRequests} sync judge requests; judgments by mode ${JSON.stringify(modes)}`,
  );
  // Every page needed a second batch; its failures (~16% of the samples) went sync.
  expect(stats.batches.created).toBe(8);
  expect(stats.batches.lineErrors).toBeGreaterThan(expected * 0.25);
  expect(stats.batches.requests).toBe(expected + stats.batches.lineErrors - (modes.sync ?? 0));
  expect(modes.sync).toBeGreaterThan(0);
  expect(syncRequests).toBe(modes.sync);
  expect(modes.batch + modes.sync).toBe(expected);
  const rounds = await database.sql<
    { attempt: number; n: number }[]
  >`select attempt, count(*)::int as n from provider_batches where run_id = ${`${PROGRAM}/batch-2`} group by attempt order by attempt`;
  expect(rounds).toEqual([
    { attempt: 1, n: 4 },
    { attempt: 2, n: 4 },
  ]);
  const [ledger] = await database.sql<{ rows: number; batch: number }[]>`
    select count(*)::int as rows, count(*) filter (where mode = 'batch')::int as batch from usage_ledger where kind = 'judge' and request_key like ${`%:${model}:%`}`;
  expect(ledger).toEqual({ rows: expected, batch: modes.batch });
});

test('an expired batch is ingested for what ran, and the lines it never ran go into the next batch', async () => {
  // 10 ms a line, expiry 200 ms after creation: a page of 32 lines runs about half of them per batch.
  const { sim, deps } = await simulator({ validatingMs: 20, msPerRequest: 10, expireAfterMs: 200 });
  const model = 'gpt-4o-mini';
  const { result, coverage } = await run({ ...runInput('batch-3', model), batch: { submissions: 6 } }, deps);
  const expected = ITEMS * CRITERIA.length * SAMPLES;
  expect(result).toMatchObject({ judged: ITEMS, errors: 0 });
  expect(coverage).toMatchObject({
    missing_judgments: 0,
    missing_verdicts: 0,
    duplicate_judgments: 0,
    judgments: expected,
  });
  const stats = sim.stats();
  const batches = await database.sql<{ page: string; attempt: number; status: string; request_count: number }[]>`
    select shard || '/' || page as page, attempt, status, request_count from provider_batches where run_id = ${`${PROGRAM}/batch-3`} order by shard, page, attempt`;
  console.log(
    `expiring batches: ${batches.map((b) => `${b.page}#${b.attempt} ${b.status} ${b.request_count}`).join(', ')}`,
  );
  expect(stats.batches.expired).toBeGreaterThan(0);
  expect(batches.filter((b) => b.status === 'expired')).toHaveLength(stats.batches.expired);
  // Each resubmission carries only what the expired batch before it did not run.
  for (const [k, b] of batches.entries())
    if (b.attempt > 1) {
      expect(batches[k - 1]).toMatchObject({ page: b.page, attempt: b.attempt - 1, status: 'expired' });
      expect(b.request_count).toBeLessThan(batches[k - 1].request_count);
    }
  expect(stats.batches.requests).toBe(expected);
  expect(await byMode(model)).toEqual({ batch: expected });
});

test('a retried submit finds the batch it created; a re-ingest writes nothing; bad input is refused', async () => {
  const { sim, deps } = await simulator({ validatingMs: 20 });
  const acts = createProductionBatchActivities(deps);
  const itemIds = (await database.sql<{ id: string }[]>`select id from items order by id limit 3`).map((r) => r.id);
  const page = {
    programId: PROGRAM,
    runKey: `${PROGRAM}/direct`,
    shard: 1,
    page: 0,
    itemIds,
    criteria: ['tone'],
    prompts,
    samples: 1,
    model: 'o4-mini',
    attempt: 1,
  };
  const first = await acts.submitJudgingBatch(page);
  expect(first).toMatchObject({ requests: 3 });
  // The same submission again (an activity retry after the row was written): the same batch.
  expect(await acts.submitJudgingBatch(page)).toEqual(first);
  // A retry whose first attempt died between the provider's create and the row: found by metadata.
  await database.sql`delete from provider_batches where id = ${first.batchId}`;
  const retried = await new MockActivityEnvironment({ attempt: 2 }).run(acts.submitJudgingBatch, page);
  expect(retried).toEqual(first);
  expect(sim.stats().batches.created).toBe(1);
  const listed = await fetch(`${sim.url}/batches/${first.batchId}`).then(
    (r) => r.json() as Promise<{ metadata: Record<string, string> }>,
  );
  expect(listed.metadata).toEqual({ judgeflow_submission: submissionKey(page) });

  let state = (await acts.providerBatchStatus({ batchIds: [first.batchId!] }))[0];
  for (let i = 0; i < 200 && !state.done; i++) {
    await new Promise((r) => setTimeout(r, 20));
    state = (await acts.providerBatchStatus({ batchIds: [first.batchId!] }))[0];
  }
  expect(state).toMatchObject({ status: 'completed', done: true });
  const ingest = { ...page, batchId: first.batchId! };
  expect(await acts.ingestJudgingBatch(ingest)).toEqual({ ok: 3, failed: 0, missing: 0 });
  const ledger = () =>
    database.sql<
      { n: number; tokens: number }[]
    >`select count(*)::int as n, sum(prompt_tokens)::int as tokens from usage_ledger where request_key like '%:o4-mini:%'`;
  const before = await ledger();
  expect(before[0].n).toBe(3);
  expect(await acts.ingestJudgingBatch(ingest)).toMatchObject({ ok: 0, missing: 0 });
  expect(await ledger()).toEqual(before);
  // Nothing left to judge: no new batch.
  expect(await acts.submitJudgingBatch({ ...page, attempt: 2 })).toEqual({ batchId: null, requests: 0 });
  expect(sim.stats().batches.created).toBe(1);

  await expect(acts.submitJudgingBatch({ ...page, attempt: 3, samples: 0 })).rejects.toThrow(
    /samples must be a positive integer/,
  );
  await expect(acts.submitJudgingBatch({ ...page, attempt: 3, prompts: { tone: 'no-such-prompt' } })).rejects.toThrow(
    /unknown judge prompt/,
  );
  await expect(acts.ingestJudgingBatch({ ...ingest, batchId: 'batch_missing' })).rejects.toThrow(
    /batch batch_missing was never recorded as submitted/,
  );

  // A recorded batch the provider no longer knows (404) is lost: nothing to ingest, its lines go to the next batch.
  const lostPage = { ...page, runKey: `${PROGRAM}/lost`, itemIds: itemIds.slice(0, 2), model: 'o3-mini' };
  await database.sql`insert into provider_batches (id, run_id, shard, page, attempt, status, input_file_id, request_count)
    values ('batch_gone', ${lostPage.runKey}, 1, 0, 1, 'in_progress', 'file_gone', 2)`;
  expect(await acts.providerBatchStatus({ batchIds: ['batch_gone'] })).toEqual([
    { batchId: 'batch_gone', status: 'lost', done: true },
  ]);
  expect(await acts.ingestJudgingBatch({ ...lostPage, batchId: 'batch_gone' })).toEqual({
    ok: 0,
    failed: 2,
    missing: 2,
  });
  expect(
    await database.sql`select status, ingested_at is not null as ingested from provider_batches where id = 'batch_gone'`,
  ).toEqual([{ status: 'lost', ingested: true }]);
  expect(await acts.submitJudgingBatch({ ...lostPage, attempt: 2 })).toMatchObject({ requests: 2 });
});

test('cancelling a batch-mode run cancels its open batches and ingests what they ran before stopping', async () => {
  // 100 ms a line: a page's 32 lines are still running when the run is cancelled.
  const { sim, deps } = await simulator({ validatingMs: 20, msPerRequest: 100 });
  const model = 'gpt-4.1-nano';
  const input = { ...runInput('batch-cancel', model), maxConcurrentShards: 1 };
  const taskQueue = uniqueTaskQueue('production-batch');
  const handle = await env.client.workflow.start(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, input.runId),
    taskQueue,
    args: [input],
  });
  const worker = await timeSkippingWorker(env, taskQueue, deps);
  const outcome = await worker.runUntil(async () => {
    // Not awaiting the result until the run has closed, so no time is skipped.
    while ((await database.sql`select id from provider_batches where run_id = ${`${PROGRAM}/batch-cancel`}`).length < 2)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 600));
    // What `judge status` shows meanwhile: the run has finished no shard, its batches are at the provider (as recorded at submit: no poll yet).
    expect(await batchProgress(database.db, `${PROGRAM}/batch-cancel`)).toEqual({
      submitted: 2,
      open: 2,
      ingested: 0,
      lines: 60,
      byStatus: { validating: 2 },
    });
    await handle.cancel();
    // Wait in real time (5 s until the first poll): skipping time while the cancellation is being
    // delivered races the shard's timer, which the Java test server rejects.
    while ((await handle.describe()).status.name === 'RUNNING') await new Promise((r) => setTimeout(r, 200));
    return handle.result().then(
      () => 'completed',
      (err: Error) => (err.cause as Error | undefined)?.name ?? err.name,
    );
  });
  expect(outcome).toBe('CancelledFailure');
  const recorded = await database.sql<{ id: string; status: string; ingested: boolean }[]>`
    select id, status, ingested_at is not null as ingested from provider_batches where run_id = ${`${PROGRAM}/batch-cancel`} order by id`;
  expect(recorded.map((b) => [b.status, b.ingested])).toEqual([
    ['cancelled', true],
    ['cancelled', true],
  ]);
  expect(await batchProgress(database.db, `${PROGRAM}/batch-cancel`)).toEqual({
    submitted: 2,
    open: 0,
    ingested: 2,
    lines: 60,
    byStatus: { cancelled: 2 },
  });
  let ran = 0;
  for (const b of recorded) {
    const atProvider = await fetch(`${sim.url}/batches/${b.id}`).then(
      (r) => r.json() as Promise<{ status: string; request_counts: { total: number; completed: number } }>,
    );
    expect(atProvider.status).toBe('cancelled');
    expect(atProvider.request_counts.completed).toBeLessThan(atProvider.request_counts.total);
    ran += atProvider.request_counts.completed;
  }
  // Every line the provider ran (and billed) is stored, with its ledger row; nothing was sent sync.
  expect(ran).toBeGreaterThan(0);
  expect(await byMode(model)).toEqual({ batch: ran });
  const [ledger] = await database.sql<
    { rows: number }[]
  >`select count(*)::int as rows from usage_ledger where kind = 'judge' and request_key like ${`%:${model}:%`}`;
  expect(ledger.rows).toBe(ran);
  expect(sim.stats().byKind.judge_verdict - sim.stats().batches.byKind.judge_verdict).toBe(0);
  const [run] = await database.sql<
    { status: string }[]
  >`select status from production_runs where id = ${`${PROGRAM}/batch-cancel`}`;
  expect(run.status).toBe('cancelled');
});

test('a batch larger than a write slice is stored whole: every line once, a ledger row for each line answered', async () => {
  const { sim, deps } = await simulator({ validatingMs: 20, lineErrorRate: 0.2 });
  const acts = createProductionBatchActivities(deps);
  const model = 'gpt-4o';
  const itemIds = (await database.sql<{ id: string }[]>`select id from items order by id limit 30`).map((r) => r.id);
  // 30 items × 2 criteria × 4 samples: 240 lines, more than one 200-row write; failed lines have no ledger row.
  const page = { programId: PROGRAM, runKey: `${PROGRAM}/large`, shard: 1, page: 0, itemIds, criteria: CRITERIA };
  const submission = { ...page, prompts, samples: 4, model, attempt: 1 };
  const { batchId, requests } = await acts.submitJudgingBatch(submission);
  expect(requests).toBe(240);
  let state = (await acts.providerBatchStatus({ batchIds: [batchId!] }))[0];
  for (let i = 0; i < 200 && !state.done; i++) {
    await new Promise((r) => setTimeout(r, 20));
    state = (await acts.providerBatchStatus({ batchIds: [batchId!] }))[0];
  }
  const ingested = await acts.ingestJudgingBatch({ ...submission, batchId: batchId! });
  const lineErrors = sim.stats().batches.lineErrors;
  expect(lineErrors).toBeGreaterThan(0);
  expect(ingested).toEqual({ ok: 240 - lineErrors, failed: lineErrors, missing: lineErrors });
  const [stored] = await database.sql<{ rows: number; keys: number; ok: number }[]>`
    select count(*)::int as rows, count(distinct (item_id, criterion, sample_index))::int as keys,
      count(*) filter (where status = 'ok')::int as ok from judgments where model = ${model}`;
  expect(stored).toEqual({ rows: 240, keys: 240, ok: 240 - lineErrors });
  const [ledger] = await database.sql<{ rows: number }[]>`
    select count(*)::int as rows from usage_ledger where kind = 'judge' and request_key like ${`%:${model}:%`}`;
  expect(ledger.rows).toBe(240 - lineErrors);
});
