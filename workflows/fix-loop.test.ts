/**
 * The writer fix loop on the time-skipping server, end to end: simulated writers (the vendor
 * simulator) receive the write task through the signed dispatch, post their revision through the
 * real gateway, and the whole panel re-judges it on the LLM simulator (judges set to always match
 * the hidden truth, so outcomes follow what the writer did). A writer who always fixes passes at
 * the first attempt; one who never fixes escalates after K attempts; a writer who fixes half the
 * time, with a seed chosen so the first revision misses and the second fixes, passes at attempt 2.
 * An attempt the program's budget cannot cover waits until the budget is raised. An error is never a
 * pass: a re-judge the provider keeps failing (a proxy in front of the simulator answering 500) ends
 * the attempt needs_review, and one that recovers during the retry wait passes.
 */
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, asc, eq } from 'drizzle-orm';
import { createJudgingActivities } from '../judging/activities';
import { programSpend } from '../human-tasks/accounting';
import { taskId } from '../human-tasks/ids';
import { assessSynopsis } from '../scripts/sim/model/assess';
import { generateCatalog } from '../scripts/sim/model/catalog';
import { reviseSynopsis } from '../scripts/sim/model/revise';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import type { Show } from '../schema/catalog';
import { fixAttempts, fixCycles, items, judgments, programs } from '../schema/tables';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { buildVendorSim, type VendorSim } from '../scripts/sim/vendor/server';
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
import { insertSimVendor, newSecret } from '../test/human-tasks-fixture';
import { startLlmOutage, type LlmOutage } from '../test/llm-outage';
import { seedJudgeWorld } from '../test/judge-fixture';
import { buildGateway, type Gateway } from '../workers/gateway';
import { fixLoopWorkflow, REJUDGE_RETRY_WAITS_MS, type FixLoopInput } from './fix-loop';
import { fixLoopWorkflowId } from './ids';

const PROGRAM = 'fix-prog';
const CRITERIA = ['tone', 'clarity', 'precision'];
const SHOWS = 40;
const SEED = 4;
const logger = createLogger('test', 'silent');
const taskQueue = uniqueTaskQueue('fix-loop');
let env: TestWorkflowEnvironment;
let database: TestDatabase;
let llm: LlmSimulator;
let gateway: Gateway;
let deps: ReturnType<typeof testDeps>;
/** Deps whose LLM calls go through `outage` (no client retries: an answer of 500 is an error judgment at once). */
let outageDeps: ReturnType<typeof testDeps>;
let outage: LlmOutage;
let prompts: Record<string, string>;
const writers: VendorSim[] = [];
const catalog = [...generateCatalog({ shows: SHOWS, seed: SEED })];
const showOf = new Map(catalog.flatMap((c) => c.synopses.map((s) => [s.id, c.show] as const)));
const textOf = new Map(catalog.flatMap((c) => c.synopses.map((s) => [s.id, s.text] as const)));

/** Items whose text fails tone and nothing else among CRITERIA. */
const onlyTone = catalog.flatMap((c) =>
  c.synopses
    .filter((_s, i) => CRITERIA.every((k) => c.truths[i].criteria[k] === (k === 'tone' ? 0 : 1)))
    .map((s) => s.id),
);
const passesAll = (show: Show, text: string) =>
  CRITERIA.every((k) => assessSynopsis(show, text).criteria[k as 'tone'] === 1);
// One item per loop: fixing tone must leave the other criteria passing for the writer who fixes.
const passItem = onlyTone.find((id) =>
  passesAll(showOf.get(id)!, reviseSynopsis(showOf.get(id)!, textOf.get(id)!, ['tone'], 'any')),
);
const escalateItem = onlyTone.find((id) => id !== passItem);

async function startWriter(vendorId: string, fixProbability: number, seed: number) {
  const secret = newSecret();
  const gatewayUrl = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
  const sim = buildVendorSim({
    vendorId,
    secret,
    gatewayUrl,
    latencyMs: 0,
    duplicateRate: 0,
    noShowRate: 0,
    declineRate: 0,
    seed,
    raters: 2,
    carelessShare: 0,
    driftingShare: 0,
    guidelineGain: 0,
    fixProbability,
    logger,
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  const endpoint = `http://127.0.0.1:${(sim.app.server.address() as AddressInfo).port}/v1/tasks`;
  await insertSimVendor(database.db, { id: vendorId, endpoint, secrets: [secret] });
  writers.push(sim);
}

beforeAll(async () => {
  env = await timeSkippingEnv();
  database = await createTestDatabase();
  await seedJudgeWorld(database.db, { programId: PROGRAM, shows: SHOWS, seed: SEED });
  // Judges that always agree with the hidden truth: a verdict says what the writer really did.
  const exact = Object.fromEntries(
    [
      'tone',
      'clarity',
      'precision',
      'factuality_plot',
      'factuality_metadata',
      'factuality_talent',
      'factuality_awards',
    ].map((k) => [k, 1]),
  );
  llm = await startLlmSimulator({ port: await freePort(), seed: 2, accuracy: exact as never, maxAccuracy: 1, logger });
  const config = testConfig({ OPENAI_BASE_URL: llm.url, LLM_RPM_LIMIT: '600000' }, database);
  gateway = await buildGateway({ db: database.db, config, logger, client: env.client });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  prompts = await createJudgingActivities(testDeps(database, config)).ensureJudgePrompts({
    programId: PROGRAM,
    guidelineVersion: 1,
  });
  deps = testDeps(database, config);
  outage = await startLlmOutage(llm.url);
  outageDeps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: outage.url, LLM_RPM_LIMIT: '600000', LLM_MAX_RETRIES: '0' }, database),
  );
});

afterAll(async () => {
  await outage?.close();
  for (const w of writers) await w.app.close();
  await gateway?.app.close();
  await llm?.close();
  await database?.drop();
  await env?.teardown();
});

const input = (itemId: string, writerVendorId: string, maxAttempts: number): FixLoopInput => ({
  programId: PROGRAM,
  itemId,
  runKey: `${PROGRAM}/prelaunch-1`,
  failingCriteria: ['tone'],
  criteria: CRITERIA,
  prompts,
  samples: 1,
  maxAttempts,
  writerVendorId,
});

/** An item failing tone only, not yet in a fix cycle, that a writer's revision fixes. */
async function freshFixableItem() {
  const used = new Set((await database.db.select({ itemId: fixCycles.itemId }).from(fixCycles)).map((c) => c.itemId));
  const itemId = onlyTone.find(
    (id) =>
      !used.has(id) && passesAll(showOf.get(id)!, reviseSynopsis(showOf.get(id)!, textOf.get(id)!, ['tone'], 'any')),
  );
  expect(itemId).toBeDefined();
  return itemId!;
}

/** Waits (in real time, so nothing is skipped meanwhile) until the workflow has started a timer. */
async function untilTimer(handle: { fetchHistory(): Promise<{ events?: unknown[] | null }> }) {
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const { events } = await handle.fetchHistory();
    if ((events ?? []).some((e) => (e as { timerStartedEventAttributes?: unknown }).timerStartedEventAttributes))
      return;
  }
}

async function runLoop(itemId: string, writer: string, maxAttempts: number) {
  const handle = await env.client.workflow.start(fixLoopWorkflow, {
    workflowId: fixLoopWorkflowId(PROGRAM, itemId),
    taskQueue,
    args: [input(itemId, writer, maxAttempts)],
  });
  // A worker runs once (runUntil shuts it down), so each loop gets its own.
  const worker = await timeSkippingWorker(env, taskQueue, deps);
  const result = await worker.runUntil(handle.result());
  const attempts = await database.db
    .select()
    .from(fixAttempts)
    .where(eq(fixAttempts.fixCycleId, result.cycleId))
    .orderBy(asc(fixAttempts.attempt));
  const [cycle] = await database.db.select().from(fixCycles).where(eq(fixCycles.id, result.cycleId));
  const [item] = await database.db.select().from(items).where(eq(items.id, itemId));
  return { handle, result, attempts, cycle, item };
}

test('the catalog has items failing tone only (what the three loops start from)', () => {
  expect(onlyTone.length).toBeGreaterThanOrEqual(3);
  expect(passItem).toBeDefined();
});

test('a writer who fixes passes at the first attempt; the revision is stored and re-judged', async () => {
  await startWriter('writer-fixes', 1, 1);
  const itemId = passItem!;
  const { handle, result, attempts, cycle, item } = await runLoop(itemId, 'writer-fixes', 3);
  expect(result).toMatchObject({ outcome: 'passed', attempts: 1, stillFailing: [] });
  expect(cycle).toMatchObject({ status: 'passed', attempts: 1, failingCriteria: ['tone'] });
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({
    attempt: 1,
    outcome: 'passed',
    failingCriteria: ['tone'],
    stillFailing: [],
    afterHash: item.textHash,
  });
  expect(attempts[0].writerId).toMatch(/^writer-fixes:/);
  expect(attempts[0].beforeHash).not.toBe(item.textHash);
  expect(item.text).not.toBe(textOf.get(itemId));
  expect(passesAll(showOf.get(itemId)!, item.text)).toBe(true);
  // Database calls are local activities (history markers): only the LLM page is a scheduled activity.
  const { events } = await handle.fetchHistory();
  const scheduled = (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  expect(scheduled).toEqual(['judgeItems']);
  const markers = (events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  expect(markers.length).toBeGreaterThanOrEqual(6);
  await recordHistory(handle, 'fixLoopWorkflow-local-activities');
});

test('a writer who never fixes is escalated after K attempts, each attempt recorded with what still fails', async () => {
  await startWriter('writer-never', 0, 1);
  const itemId = escalateItem!;
  const { result, attempts, cycle, item } = await runLoop(itemId, 'writer-never', 2);
  expect(result).toMatchObject({ outcome: 'escalated', attempts: 2, stillFailing: ['tone'] });
  expect(cycle).toMatchObject({ status: 'escalated', attempts: 2 });
  expect(attempts.map((a) => [a.attempt, a.outcome, a.stillFailing])).toEqual([
    [1, 'failed', ['tone']],
    [2, 'escalated', ['tone']],
  ]);
  expect(attempts.every((a) => a.writerId?.startsWith('writer-never:'))).toBe(true);
  expect(item.text).toBe(textOf.get(itemId));
});

test('a writer whose first revision misses and second fixes passes at the second attempt', async () => {
  // The simulated writer's choice is a pure function of its seed and the task id: pick a seed and
  // an item for which the first write task misses and the second (same text again) fixes.
  const candidates = onlyTone.filter((id) => id !== passItem && id !== escalateItem);
  const write = (id: string, seed: number, attempt: number) => {
    const batch = `${fixLoopWorkflowId(PROGRAM, id)}/write-${attempt}`;
    return reviseSynopsis(showOf.get(id)!, textOf.get(id)!, ['tone'], `${seed}/${taskId(batch, id, 0, 0)}`, {
      successRate: 0.5,
    });
  };
  let pick: { id: string; seed: number } | undefined;
  for (let seed = 1; seed < 200 && !pick; seed++)
    for (const id of candidates)
      if (write(id, seed, 1) === textOf.get(id) && passesAll(showOf.get(id)!, write(id, seed, 2))) {
        pick = { id, seed };
        break;
      }
  expect(pick).toBeDefined();
  await startWriter('writer-half', 0.5, pick!.seed);
  const { result, attempts, cycle, item } = await runLoop(pick!.id, 'writer-half', 3);
  expect(result).toMatchObject({ outcome: 'passed', attempts: 2, stillFailing: [] });
  expect(cycle).toMatchObject({ status: 'passed', attempts: 2 });
  expect(attempts.map((a) => [a.attempt, a.outcome, a.stillFailing])).toEqual([
    [1, 'failed', ['tone']],
    [2, 'passed', []],
  ]);
  expect(attempts[1].beforeHash).toBe(attempts[0].afterHash);
  expect(attempts[1].afterHash).toBe(item.textHash);
});

test('an attempt the budget cannot cover waits, says why, and starts once the PM raises the budget', async () => {
  const used = new Set((await database.db.select({ itemId: fixCycles.itemId }).from(fixCycles)).map((c) => c.itemId));
  const itemId = onlyTone.find(
    (id) =>
      !used.has(id) && passesAll(showOf.get(id)!, reviseSynopsis(showOf.get(id)!, textOf.get(id)!, ['tone'], 'any')),
  );
  expect(itemId).toBeDefined();
  const { totalUsd } = await programSpend(database.db, PROGRAM);
  // The writer task costs $5 (writer-fixes' rate card): $4 of headroom is not enough.
  await database.db
    .update(programs)
    .set({ budgetUsd: totalUsd + 4 })
    .where(eq(programs.id, PROGRAM));
  const handle = await env.client.workflow.start(fixLoopWorkflow, {
    workflowId: fixLoopWorkflowId(PROGRAM, itemId!),
    taskQueue,
    args: [input(itemId!, 'writer-fixes', 3)],
  });
  const worker = await timeSkippingWorker(env, taskQueue, deps);
  const result = await worker.runUntil(async () => {
    // Not awaiting the result yet, so the server does not skip the wait before the budget is raised.
    let waiting = false;
    while (!waiting) {
      await new Promise((r) => setTimeout(r, 100));
      const { events } = await handle.fetchHistory();
      waiting = (events ?? []).some((e) => e.timerStartedEventAttributes);
    }
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toMatch(
      /^waiting for budget: committed \$[\d.]+ \+ writer task \$5\.00 exceeds \$[\d.]+; raise it with `judgeflow program budget`$/,
    );
    expect(
      await database.db
        .select()
        .from(fixAttempts)
        .innerJoin(fixCycles, eq(fixCycles.id, fixAttempts.fixCycleId))
        .where(eq(fixCycles.itemId, itemId!)),
    ).toEqual([]);
    await database.db
      .update(programs)
      .set({ budgetUsd: totalUsd + 100 })
      .where(eq(programs.id, PROGRAM));
    return handle.result();
  });
  expect(result).toMatchObject({ outcome: 'passed', attempts: 1 });
  await recordHistory(handle, 'fixLoopWorkflow-budget-wait');
});

test('a re-judge that keeps erroring is judged again after each wait, then the attempt and the cycle need review — never passed', async () => {
  await startWriter('writer-outage', 1, 1);
  const itemId = await freshFixableItem();
  outage.down = true;
  const handle = await env.client.workflow.start(fixLoopWorkflow, {
    workflowId: fixLoopWorkflowId(PROGRAM, itemId),
    taskQueue,
    args: [input(itemId, 'writer-outage', 3)],
  });
  const worker = await timeSkippingWorker(env, taskQueue, outageDeps);
  const result = await worker.runUntil(async () => {
    await untilTimer(handle);
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toMatch(
      /^attempt 1: the re-judge errored on clarity, precision, tone \(.+\); judging again in 1 min \(retry 1 of 2\), then needs review$/,
    );
    return handle.result();
  });
  expect(result).toMatchObject({ outcome: 'needs_review', attempts: 1, stillFailing: [] });
  expect(Object.keys(result.errors ?? {}).sort()).toEqual(CRITERIA.slice().sort());
  // One try and two retries, each asking every criterion of the revision once (samples: 1).
  expect(outage.refused).toBe((REJUDGE_RETRY_WAITS_MS.length + 1) * CRITERIA.length);
  const [cycle] = await database.db.select().from(fixCycles).where(eq(fixCycles.id, result.cycleId));
  expect(cycle).toMatchObject({ status: 'needs_review', attempts: 1 });
  expect(cycle.closedAt).not.toBeNull();
  const attempts = await database.db.select().from(fixAttempts).where(eq(fixAttempts.fixCycleId, result.cycleId));
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ outcome: 'needs_review', stillFailing: [] });
  expect(Object.keys(attempts[0].errors ?? {}).sort()).toEqual(CRITERIA.slice().sort());
  const [item] = await database.db.select().from(items).where(eq(items.id, itemId));
  // The writer did fix it; only the judges could not say so.
  expect(passesAll(showOf.get(itemId)!, item.text)).toBe(true);
  const stored = await database.db
    .select({ status: judgments.status })
    .from(judgments)
    .where(and(eq(judgments.itemId, itemId), eq(judgments.textHash, item.textHash)));
  expect(stored.map((j) => j.status)).toEqual(CRITERIA.map(() => 'error'));
  const { events } = await handle.fetchHistory();
  expect((events ?? []).filter((e) => e.timerStartedEventAttributes)).toHaveLength(REJUDGE_RETRY_WAITS_MS.length);
  await recordHistory(handle, 'fixLoopWorkflow-needs-review');
});

test('a re-judge that errors and then recovers during the wait passes, requesting only what errored', async () => {
  const itemId = await freshFixableItem();
  outage.down = true;
  const refusedBefore = outage.refused;
  const handle = await env.client.workflow.start(fixLoopWorkflow, {
    workflowId: fixLoopWorkflowId(PROGRAM, itemId),
    taskQueue,
    args: [input(itemId, 'writer-outage', 3)],
  });
  const worker = await timeSkippingWorker(env, taskQueue, outageDeps);
  const result = await worker.runUntil(async () => {
    await untilTimer(handle);
    outage.down = false;
    return handle.result();
  });
  expect(outage.refused - refusedBefore).toBe(CRITERIA.length);
  expect(result).toMatchObject({ outcome: 'passed', attempts: 1, stillFailing: [] });
  const [cycle] = await database.db.select().from(fixCycles).where(eq(fixCycles.id, result.cycleId));
  expect(cycle.status).toBe('passed');
  const [item] = await database.db.select().from(items).where(eq(items.id, itemId));
  const stored = await database.db
    .select({ status: judgments.status })
    .from(judgments)
    .where(and(eq(judgments.itemId, itemId), eq(judgments.textHash, item.textHash)));
  expect(stored.map((j) => j.status)).toEqual(CRITERIA.map(() => 'ok'));
});
