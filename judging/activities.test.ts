/**
 * The judge engine against real Postgres and the LLM simulator over HTTP, through the real openai
 * client. Numbers are printed so a run shows what was measured.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, eq, sql } from 'drizzle-orm';
import { freePort } from '../platform/ports';
import { judgeKey } from './prompts/judge';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { hintsIn } from '../scripts/sim/llm/hints';
import { itemVerdicts, judgePrompts, judgments, usageLedger } from '../schema/tables';
import { truthKey } from '../scripts/sim/model/assess';
import { createTestDatabase, testConfig, testDeps, type TestDatabase } from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { createJudgingActivities } from './activities';
import type { JudgeItemsResult } from './judge-items';
import { promptHash } from './prompts/hash';

const PROGRAM = 'judge-test';
let database: TestDatabase;
let sim: LlmSimulator;
let world: Awaited<ReturnType<typeof seedJudgeWorld>>;

const startSim = async (opts: Parameters<typeof startLlmSimulator>[0] = {}) =>
  startLlmSimulator({ port: await freePort(), seed: 11, ...opts });
const activitiesFor = (s: LlmSimulator, env: Record<string, string> = {}) =>
  createJudgingActivities(
    testDeps(
      database,
      testConfig({ OPENAI_BASE_URL: s.url, LLM_CONCURRENCY: '32', LLM_RPM_LIMIT: '600000', ...env }, database),
    ),
  );

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await startSim();
  world = await seedJudgeWorld(database.db, { programId: PROGRAM, shows: 110, seed: 5 });
});
afterAll(async () => {
  await sim?.close();
  await database?.drop();
});

describe('judge prompts', () => {
  test('one prompt per criterion and per factuality agent, seeded idempotently with content hashes', async () => {
    const acts = activitiesFor(sim);
    const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
    expect(Object.keys(prompts).sort()).toEqual([
      'clarity',
      'factuality',
      'factuality.awards',
      'factuality.metadata',
      'factuality.plot',
      'factuality.talent',
      'precision',
      'tone',
    ]);
    expect(await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 })).toEqual(prompts);
    const rows = await database.db.select().from(judgePrompts).where(eq(judgePrompts.programId, PROGRAM));
    expect(rows).toHaveLength(8);
    for (const r of rows) {
      const content = {
        programId: r.programId,
        criterion: r.criterion,
        agent: r.agent,
        guidelineVersion: r.guidelineVersion,
        template: r.template,
        settings: r.settings as never,
      };
      expect(promptHash(content)).toBe(r.hash);
      expect(prompts[judgeKey(r.criterion, r.agent)]).toBe(r.hash);
      expect(r.origin).toBe('seed');
    }
    const panel = rows.find((r) => r.criterion === 'factuality' && r.agent === '')!;
    expect((panel.settings as { panel: Record<string, string> }).panel.talent).toBe(prompts['factuality.talent']);
    // Each agent's template states its own narrow focus; the rubric is in every template.
    expect(rows.find((r) => r.agent === 'awards')!.template).toMatch(/ONLY awards/);
    expect(rows.find((r) => r.criterion === 'tone')!.template).toContain('<rubric>');
  });

  test('an unknown guideline version or program is rejected without writing anything', async () => {
    const acts = activitiesFor(sim);
    const before = await database.db.select({ n: sql<number>`count(*)::int` }).from(judgePrompts);
    await expect(acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 9 })).rejects.toThrow(
      /no guideline version 9/,
    );
    await expect(acts.ensureJudgePrompts({ programId: 'nope', guidelineVersion: 1 })).rejects.toThrow(
      /unknown program/,
    );
    await expect(
      activitiesFor(sim).judgeItems({
        programId: PROGRAM,
        runId: 'r',
        itemIds: world.itemIds.slice(0, 1),
        criteria: ['tone'],
        prompts: {},
        samples: 1,
      }),
    ).rejects.toThrow(/no judge prompt for criterion tone/);
    await expect(
      activitiesFor(sim).judgeItems({
        programId: PROGRAM,
        runId: 'r',
        itemIds: world.itemIds.slice(0, 1),
        criteria: ['tone'],
        prompts: { tone: 'f'.repeat(64) },
        samples: 1,
      }),
    ).rejects.toThrow(/unknown judge prompt/);
    expect(await database.db.select({ n: sql<number>`count(*)::int` }).from(judgePrompts)).toEqual(before);
  });
});

describe('judge accuracy on the simulator', () => {
  test('single-sample accuracy per criterion lands in its interval around the configured accuracy; 5× consensus beats it', async () => {
    const acts = activitiesFor(sim);
    const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
    const templates = new Map((await database.db.select().from(judgePrompts)).map((r) => [r.hash, r.template]));
    const o = sim.options;
    const report: Record<string, unknown> = {};
    for (const criterion of ['tone', 'clarity', 'precision'] as const) {
      const m = await acts.evaluateJudge({
        programId: PROGRAM,
        criterion,
        promptHash: prompts[criterion],
        split: 'dev',
        samples: 1,
      });
      // What the simulator is configured to do for this prompt: base + hints in it + tiered rationale.
      const expected = Math.min(
        o.maxAccuracy,
        o.accuracy[criterion] +
          o.hintGain * hintsIn(templates.get(prompts[criterion])!, truthKey(criterion) as never).length +
          o.tieredRationaleGain,
      );
      report[criterion] = { n: m.n, accuracy: m.accuracy, ci95: m.ci95.accuracy, expected, errors: m.errors };
      expect(m.errors).toBe(0);
      expect(m.n).toBeGreaterThan(150);
      expect(m.ci95.accuracy![0]).toBeLessThanOrEqual(expected);
      expect(m.ci95.accuracy![1]).toBeGreaterThanOrEqual(expected);
    }
    const one = await acts.evaluateJudge({
      programId: PROGRAM,
      criterion: 'tone',
      promptHash: prompts.tone,
      split: 'dev',
      samples: 1,
    });
    expect(one.llmRequests).toBe(0); // everything stored: nothing requested again
    const five = await acts.evaluateJudge({
      programId: PROGRAM,
      criterion: 'tone',
      promptHash: prompts.tone,
      split: 'dev',
      samples: 5,
    });
    // Sample 0 of each item is reused: only samples 1–4 were requested.
    expect(five.llmRequests).toBe(4 * five.n);
    report.consensus = { tone1: one.accuracy, tone5: five.accuracy };
    console.log(JSON.stringify(report));
    expect(five.accuracy! - one.accuracy!).toBeGreaterThan(0.03);
    // Every stored judgment was paid for exactly once, under its natural key.
    const [counts] = await database.db.execute<{ judgments: number; ledger: number }>(sql`
      select (select count(*)::int from ${judgments}) as judgments,
             (select count(*)::int from ${usageLedger} where kind = 'judge') as ledger`);
    expect(counts.ledger).toBe(counts.judgments);
    const [cost] = await database.db
      .select({
        usd: sql<number>`sum(${usageLedger.costUsd})`,
        tokens: sql<number>`sum(${usageLedger.promptTokens})::int`,
      })
      .from(usageLedger);
    expect(cost.tokens).toBeGreaterThan(0);
    expect(cost.usd).toBeGreaterThan(0);
  });

  test('the factuality panel fails a synopsis with any wrong fact (min rule) and merges the agents’ rationales', async () => {
    const exact = await startSim({
      accuracy: { factuality_plot: 1, factuality_metadata: 1, factuality_talent: 1, factuality_awards: 1 },
      maxAccuracy: 1,
    });
    try {
      const acts = activitiesFor(exact);
      const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
      const agents = ['factuality_plot', 'factuality_metadata', 'factuality_talent', 'factuality_awards'] as const;
      const wrongFacts = (id: string) => agents.filter((a) => world.truths.get(id)!.criteria[a] === 0);
      const oneWrong = world.itemIds.filter((id) => wrongFacts(id).length === 1).slice(0, 12);
      const allRight = world.itemIds.filter((id) => wrongFacts(id).length === 0).slice(0, 8);
      expect(oneWrong.length).toBeGreaterThanOrEqual(6);
      const result = await acts.judgeItems({
        programId: PROGRAM,
        runId: 'panel-run',
        itemIds: [...oneWrong, ...allRight],
        criteria: ['factuality'],
        prompts: { factuality: prompts.factuality },
        samples: 1,
      });
      expect(result).toMatchObject({
        judged: oneWrong.length + allRight.length,
        errors: 0,
        verdicts: { factuality: { fail: oneWrong.length, pass: allRight.length, error: 0 } },
      });
      const rows = await database.db.select().from(itemVerdicts).where(eq(itemVerdicts.runId, 'panel-run'));
      for (const id of oneWrong) {
        const row = rows.find((r) => r.itemId === id)!;
        expect(row.verdict).toBe(0);
        // The merged explanation names the one failing aspect.
        expect(row.summary).toContain(wrongFacts(id)[0].replace('factuality_', ''));
        // Three of four agents passed it: the min rule, not a majority, decided.
        const agentRows = await database.db
          .select()
          .from(judgments)
          .where(and(eq(judgments.itemId, id), eq(judgments.criterion, 'factuality')));
        expect(agentRows.map((r) => r.verdict).sort()).toEqual([0, 1, 1, 1]);
      }
      for (const id of allRight) expect(rows.find((r) => r.itemId === id)!.verdict).toBe(1);
      expect(exact.stats().byKind.rationale_merge).toBe(oneWrong.length + allRight.length);
    } finally {
      await exact.close();
    }
  });
});

describe('faults never crash a run and never pass silently', () => {
  test('429s, 5xx, hangs, malformed, schema-violating and truncated output', async () => {
    const faulty = await startSim({
      faults: { serverError: 0.08, hang: 0.04, malformed: 0.08, schemaViolation: 0.08, truncated: 0.08 },
      hangMs: 4000,
      seed: 3,
    });
    try {
      const acts = activitiesFor(faulty, { LLM_TIMEOUT_MS: '1000', LLM_MAX_RETRIES: '1' });
      const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
      const itemIds = world.itemIds.slice(0, 40);
      const input = {
        programId: PROGRAM,
        runId: 'fault-run',
        itemIds,
        criteria: ['clarity', 'precision'],
        prompts: { clarity: prompts.clarity, precision: prompts.precision },
        samples: 1,
        model: 'fault-model',
      };
      const first = await acts.judgeItems(input);
      const stats = faulty.stats();
      console.log(
        JSON.stringify({
          first: { judged: first.judged, errors: first.errors, verdicts: first.verdicts },
          faults: stats.faults,
        }),
      );
      expect(first.judged).toBe(40);
      expect(stats.faults.malformed + stats.faults.schemaViolation + stats.faults.truncated).toBeGreaterThan(0);
      expect(stats.faults.serverError + stats.faults.hang).toBeGreaterThan(0);

      const assertNoSilentPass = async () => {
        const js = await database.db.select().from(judgments).where(eq(judgments.model, 'fault-model'));
        for (const j of js) {
          if (j.status === 'error') expect(j.verdict).toBeNull();
          else expect([0, 1]).toContain(j.verdict);
        }
        const vs = await database.db.select().from(itemVerdicts).where(eq(itemVerdicts.runId, 'fault-run'));
        for (const v of vs) {
          const under = js.filter((j) => j.itemId === v.itemId && j.criterion === v.criterion);
          if (v.verdict === 1) expect(under.every((j) => j.status === 'ok' && j.verdict === 1)).toBe(true);
          if (under.some((j) => j.status === 'error')) expect(v.verdict).toBeNull();
        }
        return { js, vs };
      };
      const { js } = await assertNoSilentPass();
      const errorsBefore = js.filter((j) => j.status === 'error').length;
      expect(errorsBefore).toBeGreaterThan(0);
      expect(first.errors).toBe(new Set(js.filter((j) => j.status === 'error').map((j) => j.itemId)).size);
      expect(js.find((j) => j.status === 'error')!.error).toMatch(/invalid output after a repair attempt|provider/);

      // A second call requests only what errored; ok judgments are never requested again.
      const okBefore = new Map(js.filter((j) => j.status === 'ok').map((j) => [j.id, j.verdict]));
      const requestsBefore = faulty.stats().byKind.judge_verdict;
      const second = await acts.judgeItems(input);
      const after = await assertNoSilentPass();
      for (const j of after.js) if (okBefore.has(j.id)) expect(j.verdict).toBe(okBefore.get(j.id));
      expect(second.errors).toBeLessThanOrEqual(first.errors);
      expect(faulty.stats().byKind.judge_verdict - requestsBefore).toBeLessThanOrEqual(
        errorsBefore * 2 * 2 /* repair × client retry */,
      );
    } finally {
      await faulty.close();
    }
  });

  test('429s: requests wait as the retry headers say and every judgment completes', async () => {
    const limited = await startSim({ rpm: 60 });
    try {
      const acts = activitiesFor(limited);
      const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
      const itemIds = world.itemIds.slice(0, 70);
      const started = Date.now();
      const result = await acts.judgeItems({
        programId: PROGRAM,
        runId: 'limited-run',
        itemIds,
        criteria: ['tone'],
        prompts,
        samples: 1,
        model: 'limited-model',
      });
      const stats = limited.stats();
      console.log(
        JSON.stringify({
          rateLimited: stats.rateLimited,
          requests: stats.requests,
          seconds: (Date.now() - started) / 1000,
        }),
      );
      expect(result).toMatchObject({ judged: 70, errors: 0 });
      expect(stats.rateLimited).toBeGreaterThan(0);
      // The bucket holds 60 and refills 1/s: waiting as told, the last 10 need about 10 s.
      expect(Date.now() - started).toBeGreaterThan(5000);
      // Paused on the first 429, the process does not hammer the provider.
      expect(stats.rateLimited).toBeLessThan(40);
    } finally {
      await limited.close();
    }
  });

  test('output that is always malformed ends as error judgments after one repair, never as a pass', async () => {
    const broken = await startSim({ faults: { malformed: 1 } });
    try {
      const acts = activitiesFor(broken);
      const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
      const result = await acts.judgeItems({
        programId: PROGRAM,
        runId: 'broken-run',
        itemIds: world.itemIds.slice(0, 5),
        criteria: ['tone'],
        prompts,
        samples: 3,
        model: 'broken-model',
      });
      expect(result).toMatchObject({ judged: 5, errors: 5, verdicts: { tone: { pass: 0, fail: 0, error: 5 } } });
      expect(result.failedItemIds.sort()).toEqual(world.itemIds.slice(0, 5).sort());
      expect(broken.stats().byKind.judge_verdict).toBe(5 * 3 * 2); // each sample: first answer + one repair
      const js = await database.db.select().from(judgments).where(eq(judgments.model, 'broken-model'));
      expect(js).toHaveLength(15);
      expect(js.every((j) => j.status === 'error' && j.verdict === null && /not valid JSON/.test(j.error ?? ''))).toBe(
        true,
      );
    } finally {
      await broken.close();
    }
  });
});

describe('resuming a production page', () => {
  test('a retried judgeItems resumes at its heartbeat and requests only what the killed attempt had not stored', async () => {
    const fresh = await startSim({ latency: { medianMs: 5, p99Ms: 20 } });
    try {
      const acts = activitiesFor(fresh, { LLM_CONCURRENCY: '64' });
      const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
      const model = 'resume-model';
      const itemIds = world.itemIds.slice(0, 100); // 4 chunks of 25
      const page = {
        programId: PROGRAM,
        runId: 'resume-run',
        itemIds,
        criteria: ['tone', 'factuality'],
        prompts,
        samples: 1,
        model,
      };
      // The killed attempt: chunks 0 and 2 finished, chunk 3 only its tone judgments, chunk 1 nothing.
      await acts.judgeItems({ ...page, itemIds: itemIds.slice(0, 25) });
      await acts.judgeItems({ ...page, itemIds: itemIds.slice(50, 75) });
      await acts.judgeItems({ ...page, itemIds: itemIds.slice(75, 100), criteria: ['tone'] });
      const before = fresh.stats().byKind;
      expect(before.judge_verdict).toBe(50 * 5 + 25);

      // Its last heartbeat named chunk 1 (the lowest unfinished one).
      const env = new MockActivityEnvironment({ heartbeatDetails: { nextIndex: 25 } });
      const beats: { nextIndex: number }[] = [];
      env.on('heartbeat', (d: { nextIndex: number }) => beats.push(d));
      const result: JudgeItemsResult = await env.run(() => acts.judgeItems(page));
      const after = fresh.stats().byKind;
      // Chunk 1: 5 judge units per item; chunk 3: the 4 factuality agents; one merge per item of both.
      expect(after.judge_verdict - before.judge_verdict).toBe(25 * 5 + 25 * 4);
      expect(after.rationale_merge - before.rationale_merge).toBe(50);
      expect(result.llmRequests).toBe(25 * 5 + 25 * 4 + 50);
      expect(result.judged).toBe(100);
      for (const b of beats) expect(b.nextIndex % 25 === 0 && b.nextIndex >= 25).toBe(true);

      // Every judgment exactly once, requested once; every verdict and merge ledger row once.
      const [j] = await database.db.execute<{ n: number; keys: number }>(
        sql`select count(*)::int as n, count(distinct (item_id, prompt_hash))::int as keys from ${judgments} where model = ${model}`,
      );
      expect(j).toEqual({ n: 500, keys: 500 });
      expect(after.judge_verdict).toBe(500);
      const [v] = await database.db.execute<{ n: number; missing: number }>(
        sql`select count(*)::int as n, count(*) filter (where summary = '')::int as missing from ${itemVerdicts} where run_id = 'resume-run'`,
      );
      expect(v).toEqual({ n: 200, missing: 0 });
      const [ledger] = await database.db.execute<{ merges: number; judges: number }>(
        sql`select count(*) filter (where kind = 'merge' and request_key like 'merge:resume-run:%')::int as merges, count(*) filter (where kind = 'judge' and model = ${model})::int as judges from ${usageLedger}`,
      );
      expect(ledger).toEqual({ merges: 100, judges: 500 });

      // A retry from the start finds everything stored: no request at all.
      const again = await acts.judgeItems(page);
      expect(again.llmRequests).toBe(0);
      expect(fresh.stats().requests).toBe(after.judge_verdict + after.rationale_merge);
    } finally {
      await fresh.close();
    }
  });

  test('a chunk that cannot be stored fails the page only after the chunks in flight are stored; the retry asks only for what is missing', async () => {
    const fresh = await startSim();
    const model = 'failing-store-model';
    const itemIds = world.itemIds.slice(0, 300); // 6 chunks of 50 (one request an item: productionChunk), 4 in flight
    // A real database refusal (a trigger), for the first chunk's first item only.
    await database.sql.unsafe(`
      create function refuse_judgment() returns trigger language plpgsql as $$
      begin
        if new.model = '${model}' and new.item_id = '${itemIds[0]}' then raise exception 'judgment store refused for the test'; end if;
        return new;
      end $$;
      create trigger refuse_judgment before insert on judgments for each row execute function refuse_judgment();`);
    try {
      const acts = activitiesFor(fresh, { LLM_CONCURRENCY: '64' });
      const prompts = await acts.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
      const page = {
        programId: PROGRAM,
        runId: 'failing-store-run',
        itemIds,
        criteria: ['tone'],
        prompts,
        samples: 1,
        model,
      };
      const error = await acts.judgeItems(page).then(
        () => null,
        (err: Error) => err,
      );
      // Which items, and the database's own words (not drizzle's failed-query text).
      expect(error?.message).toBe('items 1–50 of the page: judgment store refused for the test');
      const stored = async () =>
        (await database.sql<{ n: number }[]>`select count(*)::int as n from judgments where model = ${model}`)[0].n;
      const requested = fresh.stats().byKind.judge_verdict;
      // Every answered request is stored except the refused chunk's 50: nothing was left in flight.
      expect(await stored()).toBe(requested - 50);
      expect(await stored()).toBeGreaterThanOrEqual(150); // the other chunks started with it
      expect((await stored()) % 50).toBe(0);

      await database.sql.unsafe('drop trigger refuse_judgment on judgments; drop function refuse_judgment();');
      const retry = await acts.judgeItems(page);
      expect(retry.judged).toBe(300);
      expect(fresh.stats().byKind.judge_verdict - requested).toBe(300 - (requested - 50));
      expect(await stored()).toBe(300);
    } finally {
      await database.sql.unsafe(
        'drop trigger if exists refuse_judgment on judgments; drop function if exists refuse_judgment();',
      );
      await fresh.close();
    }
  });
});
