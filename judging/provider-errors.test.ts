/**
 * A page of production judging (the judgeItems activity, in Temporal's mock activity context)
 * against the LLM simulator answering as a misconfigured or failing provider, over HTTP, with a real
 * Postgres. A provider error no retry can fix stops the page at once with the setting to fix and
 * stores no error judgment; 5xx and plain 429s are retried; a hang times out; a malformed answer is
 * an error judgment, never a pass; the breaker stops a page that would store mostly errors; a
 * cancelled page stops its requests within a heartbeat.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator, type StartLlmSimulatorOptions } from '../scripts/sim/llm/server';
import { createTestDatabase, testConfig, testDeps, type TestDatabase } from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { createJudgingActivities } from './activities';
import type { JudgeItemsResult } from './judge-items';

const PROGRAM = 'provider-errors';
let database: TestDatabase;
let itemIds: string[];
let prompts: Record<string, string>;
const sims: LlmSimulator[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ itemIds } = await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 30, seed: 7 }));
  prompts = await createJudgingActivities(testDeps(database)).ensureJudgePrompts({
    programId: PROGRAM,
    guidelineVersion: 1,
  });
});
afterAll(async () => {
  for (const s of sims) await s.close();
  await database?.drop();
});

let runs = 0;
/** One page (`items` items × tone and clarity × 1 sample) on a fresh simulator, under a model of its own (judgments are keyed by model). */
async function page(sim: StartLlmSimulatorOptions, env: Record<string, string> = {}, items = 60) {
  const s = await startLlmSimulator({
    port: await freePort(),
    seed: 21,
    logger: createLogger('test', 'silent'),
    ...sim,
  });
  sims.push(s);
  const acts = createJudgingActivities(
    testDeps(
      database,
      testConfig({ OPENAI_BASE_URL: s.url, LLM_CONCURRENCY: '16', LLM_RPM_LIMIT: '600000', ...env }, database),
    ),
  );
  const n = ++runs;
  const model = `gpt-4.1-mini-t${n}`;
  const runId = `${PROGRAM}/run-${n}`;
  const input = {
    programId: PROGRAM,
    runId,
    itemIds: itemIds.slice(0, items),
    criteria: ['tone', 'clarity'],
    prompts: { tone: prompts.tone, clarity: prompts.clarity },
    samples: 1,
    model,
  };
  const mock = new MockActivityEnvironment({ attempt: 1 });
  const started = Date.now();
  const outcome = (mock.run(acts.judgeItems, input) as Promise<JudgeItemsResult>).then(
    (result) => ({ result, error: undefined as unknown, seconds: (Date.now() - started) / 1000 }),
    (error: unknown) => ({ result: undefined, error, seconds: (Date.now() - started) / 1000 }),
  );
  /** What the page stored, and whether any pass came from an errored judgment. */
  const stored = async () => {
    const [j] = await database.db.execute<{ ok: number; error: number }>(
      sql`select count(*) filter (where status = 'ok')::int as ok, count(*) filter (where status = 'error')::int as error from judgments where model = ${model}`,
    );
    const [v] = await database.db.execute<{ verdicts: number; passes: number; passes_from_errors: number }>(sql`
      select count(*)::int as verdicts, count(*) filter (where v.verdict = 1)::int as passes,
        count(*) filter (where v.verdict is not null and exists (
          select 1 from judgments j where j.item_id = v.item_id and j.criterion = v.criterion and j.model = ${model} and j.status = 'error'))::int as passes_from_errors
      from item_verdicts v where v.run_id = ${runId}`);
    return { ...j, ...v };
  };
  return { sim: s, mock, outcome, stored, model, judgments: input.itemIds.length * 2 };
}

describe('a provider error no retry can fix stops the page at once with the setting to fix', () => {
  test.each([
    [
      '401',
      { unauthorized: 1 },
      'ProviderAuthenticationError',
      /rejected the API key \(401 invalid_api_key\): fix OPENAI_API_KEY.*Provider said: Incorrect API key provided/,
    ],
    [
      '403',
      { forbidden: 1 },
      'ProviderPermissionDeniedError',
      /denied access \(403 model_not_found\) to model "gpt-4\.1-mini-t\d+".*JUDGE_MODEL or the program spec's judges\.model/,
    ],
    [
      '404 (model)',
      { modelNotFound: 1 },
      'ProviderNotFoundError',
      /has no model "gpt-4\.1-mini-t\d+" \(404 model_not_found\): fix JUDGE_MODEL or the program spec's judges\.model/,
    ],
    [
      '400',
      { badRequest: 1 },
      'ProviderBadRequestError',
      /invalid \(400 unsupported_parameter, parameter temperature\)/,
    ],
    [
      '429 insufficient_quota',
      { insufficientQuota: 1 },
      'ProviderQuotaExceededError',
      /no quota left \(429 insufficient_quota\).*OPENAI_API_KEY/,
    ],
  ])('%s', async (_name, faults, type, message) => {
    const p = await page({ faults }, { LLM_MAX_RETRIES: '4' });
    const { error, seconds } = await p.outcome;
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type, nonRetryable: true });
    expect((error as Error).message).toMatch(message);
    expect(seconds).toBeLessThan(5);
    // Nothing stored: no error judgment, no verdict — and no request after the first answers.
    expect(await p.stored()).toEqual({ ok: 0, error: 0, verdicts: 0, passes: 0, passes_from_errors: 0 });
    expect(p.sim.stats().received).toBeLessThanOrEqual(16); // the first wave (LLM_CONCURRENCY), none retried
  });
});

describe('transient errors are retried; what stays broken is an error, never a pass', () => {
  test('500s (20%) and plain 429s (10%) are retried and every judgment completes', async () => {
    const p = await page({ faults: { serverError: 0.2, rateLimited: 0.1 } }, { LLM_MAX_RETRIES: '8' }, 30);
    const { result, error } = await p.outcome;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ judged: 30, errors: 0 });
    const stats = p.sim.stats();
    expect(stats.faults.serverError).toBeGreaterThan(3);
    expect(stats.faults.rateLimited).toBeGreaterThan(1);
    expect(await p.stored()).toMatchObject({ ok: 60, error: 0, verdicts: 60, passes_from_errors: 0 });
  }, 60_000);

  test('a hanging provider: each request times out after LLM_TIMEOUT_MS and becomes an error, never a pass', async () => {
    const p = await page(
      { faults: { hang: 1 }, hangMs: 60_000 },
      { LLM_TIMEOUT_MS: '300', LLM_MAX_RETRIES: '1', LLM_ERROR_BREAKER: '1' },
      10,
    );
    const { result, error, seconds } = await p.outcome;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ judged: 10, errors: 10, verdicts: { tone: { pass: 0, fail: 0, error: 10 } } });
    expect(seconds).toBeLessThan(10);
    expect(await p.stored()).toMatchObject({ ok: 0, error: 20, verdicts: 20, passes: 0 });
    const [j] = await database.db.execute<{ error: string }>(
      sql`select error from judgments where model = ${p.model} limit 1`,
    );
    expect(j.error).toMatch(/timed out/);
  });

  test('a malformed answer (100%) is repaired once, then stored as an error judgment: no pass', async () => {
    const p = await page({ faults: { malformed: 1 } }, { LLM_ERROR_BREAKER: '1' }, 20);
    const { result } = await p.outcome;
    expect(result).toMatchObject({ judged: 20, errors: 20 });
    expect(p.sim.stats().byKind.judge_verdict).toBe(80); // answer + one repair each
    expect(await p.stored()).toMatchObject({ ok: 0, error: 40, verdicts: 40, passes: 0, passes_from_errors: 0 });
  });

  test('30% malformed: the repair fixes most; the rest are errors; no pass comes from an error', async () => {
    const p = await page({ faults: { malformed: 0.3 } }, {}, 100);
    const { result, error } = await p.outcome;
    expect(error).toBeUndefined();
    const s = await p.stored();
    console.log(
      JSON.stringify({ malformed30: { ...s, errors: result!.errors, faults: p.sim.stats().faults.malformed } }),
    );
    expect(s.ok + s.error).toBe(p.judgments);
    expect(s.error).toBeGreaterThan(0);
    expect(s.error).toBeLessThan(p.judgments * 0.2);
    expect(s.passes_from_errors).toBe(0);
  });
});

describe('the error breaker', () => {
  test('a page whose requests mostly fail stops after LLM_ERROR_BREAKER_MIN, retryably with a delay, instead of storing the errors', async () => {
    const p = await page({ faults: { malformed: 1 } }, { LLM_ERROR_BREAKER: '0.2', LLM_ERROR_BREAKER_MIN: '20' }, 100);
    const { error, seconds } = await p.outcome;
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'LlmErrorBreaker', nonRetryable: false, nextRetryDelay: 10_000 });
    expect(failure.message).toMatch(
      /^\d+ of \d+ LLM requests of this page failed \(100% > LLM_ERROR_BREAKER 20%\).*invalid output after a repair attempt/,
    );
    expect(seconds).toBeLessThan(10);
    const s = await p.stored();
    expect(s.error).toBeLessThan(50); // not the 200 a full page would store
    expect(s.passes).toBe(0);
    expect(p.sim.stats().byKind.judge_verdict).toBeLessThan(2 * 20 + 2 * 16 + 2);
  });
});

describe('cancellation', () => {
  test('a cancelled page abandons its requests in flight, starts none, keeps what it paid for and stores no error', async () => {
    const p = await page({ latency: { medianMs: 300, p99Ms: 300 } }, {}, 100);
    while (p.sim.stats().received < 40) await new Promise((r) => setTimeout(r, 20));
    p.mock.cancel();
    const { error, seconds } = await p.outcome;
    expect(error).toBeInstanceOf(CancelledFailure);
    const atStop = p.sim.stats().received;
    await new Promise((r) => setTimeout(r, 1000));
    expect(p.sim.stats().received).toBe(atStop); // nothing after the stop
    expect(seconds).toBeLessThan(5);
    const s = await p.stored();
    expect(s.error).toBe(0);
    expect(s.verdicts).toBe(0);
    // Answers received before the cancel are stored (paid once), never more than were answered.
    expect(s.ok).toBeLessThanOrEqual(p.sim.stats().byStatus['200'] ?? 0);
  });
});
