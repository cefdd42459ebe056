/**
 * The spec is what runs (issue 14, item 5), on the dev server with Postgres and the LLM simulator
 * over HTTP. A recording proxy in front of the simulator sees every request: the spec's model (not
 * JUDGE_MODEL), each criterion's samples and temperature, in production and in judge development
 * (its evaluations and its prompt optimization); and a sync production run sends exactly the
 * requests the scoping estimate priced, for a spec mixing per-criterion samples with a panel.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { eq, sql } from 'drizzle-orm';
import { createJudgingActivities } from '../judging/activities';
import { readDataTag } from '../judging/prompts/contract';
import { estimateProgram } from '../program/estimate';
import { createProgramActivities, type ProgramPlan } from '../program/activities';
import { createLogger } from '../platform/logger';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import type { ProgramSpec } from '../schema/program-spec';
import { judgeEvaluations, judgePrompts, judgments } from '../schema/tables';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { judgeDevelopmentWorkflow } from './judge-development';
import { judgeDevelopmentWorkflowId, productionWorkflowId } from './ids';
import { productionWorkflow } from './production';

jest.setTimeout(240_000);

const PROGRAM = `spec-runs-${Math.random().toString(16).slice(2, 8)}`;
/** Not JUDGE_MODEL's default (gpt-4.1-mini): a request naming it would come from the setting, not the spec. */
const SPEC_MODEL = 'gpt-4o-mini';
const rubric = (what: string) => `Pass when ${what}. Fail otherwise.`;
/** Mixed per-criterion samples and temperatures; clarity sets neither (judges.samples 2, temperature 0.7). */
const CRITERIA = [
  {
    id: 'tone',
    name: 'Tone',
    description: 'On brand.',
    rubric: rubric('the tone fits the show'),
    judge: { samples: 3, temperature: 0.9 },
  },
  { id: 'clarity', name: 'Clarity', description: 'Clear on one read.', rubric: rubric('the premise is clear') },
  {
    id: 'precision',
    name: 'Precision',
    description: 'Specific.',
    rubric: rubric('protagonist, setting and stakes are named'),
    judge: { samples: 1, temperature: 0 },
  },
  {
    id: 'factuality',
    name: 'Factuality',
    description: 'Facts agree with the record.',
    rubric: 'Fail when any fact is wrong.',
    panel: ['plot', 'metadata', 'talent', 'awards'],
    judge: { samples: 1, temperature: 0.2 },
  },
];
const SAMPLES: Record<string, number> = { tone: 3, clarity: 2, precision: 1, factuality: 1 };
const TEMPERATURE: Record<string, number> = { tone: 0.9, clarity: 0.7, precision: 0, factuality: 0.2 };

interface Seen {
  model: string;
  kind: string;
  /** `tone`, `factuality.talent`… (judge requests). */
  criterion?: string;
  temperature?: number;
}

let database: TestDatabase;
let sim: LlmSimulator;
let proxy: http.Server;
const seen: Seen[] = [];
let client: Client;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let spec: ProgramSpec;
let itemIds: string[];
let plan: ProgramPlan;
let seedPrompts: Record<string, string>;
const taskQueue = uniqueTaskQueue('spec-runs');

/** Forwards to the simulator, noting what each chat request asked for. */
function recordingProxy(target: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith('/chat/completions')) {
        const chat = JSON.parse(body.toString('utf8'));
        const user = chat.messages?.find((m: { role: string }) => m.role === 'user')?.content;
        const criterion = typeof user === 'string' ? readDataTag(user, 'criterion') : undefined;
        seen.push({
          model: chat.model,
          kind: chat.response_format?.json_schema?.name,
          criterion: typeof criterion === 'string' ? criterion : undefined,
          temperature: chat.temperature,
        });
      }
      const upstream = http.request(
        `${target}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const judgeRequests = (from: number) => seen.slice(from).filter((s) => s.kind === 'judge_verdict');
const countBy = (list: Seen[], key: (s: Seen) => string) =>
  list.reduce<Record<string, number>>((acc, s) => ({ ...acc, [key(s)]: (acc[key(s)] ?? 0) + 1 }), {});
const criterionOf = (key: string) => key.split('.')[0];

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({ seed: 5, logger: createLogger('test', 'silent') });
  proxy = await recordingProxy(sim.url.replace(/\/v1$/, ''));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`;
  ({ spec, itemIds } = await seedJudgeWorld(database.db, {
    programId: PROGRAM,
    shows: 6,
    seed: 9,
    over: {
      criteria: CRITERIA,
      judges: { model: SPEC_MODEL, samples: 2, optimize: true, maxOptimizerCalls: 150 },
      production: { mode: 'sync', fixLoop: false, maxFixAttempts: 1 },
    },
  }));
  const deps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: proxyUrl, LLM_CONCURRENCY: '16', LLM_RPM_LIMIT: '600000' }, database),
  );
  expect(deps.config.llm.model).not.toBe(SPEC_MODEL);
  plan = await createProgramActivities(deps).loadProgramPlan(PROGRAM);
  seedPrompts = await createJudgingActivities(deps).ensureJudgePrompts({ programId: PROGRAM, guidelineVersion: 1 });
  client = await devServerClient();
  ({ worker, connection } = await devServerWorker(taskQueue, deps));
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await client?.connection.close();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await sim?.close();
  await database?.drop();
});

test('the plan carries the spec: samples per criterion and the spec’s model', () => {
  expect(plan.judges.criterionSamples).toEqual(SAMPLES);
  expect(plan.judges.model).toBe(SPEC_MODEL);
});

test('a sync production run sends exactly the requests the estimate priced, with each criterion’s samples and temperature and the spec’s model', async () => {
  const estimate = estimateProgram(spec, { catalogItems: itemIds.length, rpmLimit: 600_000, model: plan.judges.model });
  const simBefore = sim.stats().requests;
  const from = seen.length;
  // As the program's production phase starts it (workflows/program-phases.ts).
  const result = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'initial'),
    taskQueue,
    args: [
      {
        programId: PROGRAM,
        runId: 'initial',
        mode: 'sync',
        itemSelection: { kind: 'all' },
        criteria: plan.criteria,
        prompts: seedPrompts,
        samples: plan.judges.criterionSamples ?? plan.judges.samples,
        model: plan.judges.model,
        fixLoop: false,
        maxFixAttempts: 1,
      },
    ],
  });
  expect(result).toMatchObject({ total: itemIds.length, judged: itemIds.length, errors: 0 });

  const n = itemIds.length;
  // tone 3 + clarity 2 + precision 1 + four factuality agents × 1 + one rationale merge = 11 per item.
  expect(estimate.llmCalls.production).toBe(n * 11);
  expect(sim.stats().requests - simBefore).toBe(estimate.llmCalls.production);
  expect(seen.length - from).toBe(estimate.llmCalls.production);

  const judged = judgeRequests(from);
  expect(countBy(judged, (s) => s.criterion!)).toEqual({
    tone: n * 3,
    clarity: n * 2,
    precision: n,
    'factuality.plot': n,
    'factuality.metadata': n,
    'factuality.talent': n,
    'factuality.awards': n,
  });
  expect(countBy(seen.slice(from), (s) => s.kind)).toEqual({ judge_verdict: n * 10, rationale_merge: n });
  for (const s of judged) expect(s.temperature).toBe(TEMPERATURE[criterionOf(s.criterion!)]);
  expect(new Set(seen.slice(from).map((s) => s.model))).toEqual(new Set([SPEC_MODEL]));
});

test('judge development evaluates and optimizes each judge with its criterion’s samples and the spec’s model', async () => {
  const from = seen.length;
  const workflowId = judgeDevelopmentWorkflowId(PROGRAM);
  // An accuracy target no judge meets on a handful of dev items: every single-prompt judge is optimized.
  const result = await client.workflow.execute(judgeDevelopmentWorkflow, {
    workflowId,
    taskQueue,
    args: [{ plan: { ...plan, targets: { ...plan.targets, judgeAccuracy: 1 } }, guidelineVersion: 1, workflowId }],
  });
  expect(result.judges.map((j) => j.criterion)).toEqual(plan.criteria);

  // Every request of the phase (judges, critiques, edits) names the spec's model.
  const phase = seen.slice(from);
  expect(phase.length).toBeGreaterThan(0);
  expect(new Set(phase.map((s) => s.model))).toEqual(new Set([SPEC_MODEL]));
  expect(phase.some((s) => s.kind === 'prompt_edit')).toBe(true);
  // Optimizer-edited prompts keep their parent's settings, so the spec's temperature too.
  for (const s of judgeRequests(from)) expect(s.temperature).toBe(TEMPERATURE[criterionOf(s.criterion!)]);

  // Evaluations are stored at the criterion's samples and the spec's model.
  const evaluations = await database.db
    .select({ criterion: judgeEvaluations.criterion, samples: judgeEvaluations.samples, model: judgeEvaluations.model })
    .from(judgeEvaluations)
    .where(eq(judgeEvaluations.programId, PROGRAM));
  expect(evaluations.length).toBeGreaterThanOrEqual(plan.criteria.length * 2);
  for (const e of evaluations)
    expect(e).toEqual({ criterion: e.criterion, samples: SAMPLES[e.criterion], model: SPEC_MODEL });

  // Every judgment of the program, the optimizer's candidates included, took its criterion's samples.
  const perPrompt = await database.db
    .select({
      criterion: judgments.criterion,
      origin: judgePrompts.origin,
      samples: sql<number>`max(${judgments.sampleIndex}) + 1`.mapWith(Number),
      models: sql<string[]>`array_agg(distinct ${judgments.model})`,
    })
    .from(judgments)
    .innerJoin(judgePrompts, eq(judgePrompts.hash, judgments.promptHash))
    .where(eq(judgments.programId, PROGRAM))
    .groupBy(judgments.criterion, judgments.promptHash, judgePrompts.origin);
  expect(perPrompt.some((p) => p.origin === 'optimizer')).toBe(true);
  for (const p of perPrompt)
    expect({ criterion: p.criterion, samples: p.samples, models: p.models }).toEqual({
      criterion: p.criterion,
      samples: SAMPLES[p.criterion],
      models: [SPEC_MODEL],
    });
});

test('batch mode submits each criterion’s samples, no more', async () => {
  // Another model, so nothing judged above is reused: every sample goes through the Batch API.
  const model = 'gpt-4.1';
  const from = seen.length;
  const result = await client.workflow.execute(productionWorkflow, {
    workflowId: productionWorkflowId(PROGRAM, 'batch'),
    taskQueue,
    args: [
      {
        programId: PROGRAM,
        runId: 'batch',
        mode: 'batch',
        itemSelection: { kind: 'all' },
        criteria: plan.criteria,
        prompts: seedPrompts,
        samples: plan.judges.criterionSamples ?? plan.judges.samples,
        model,
        fixLoop: false,
        maxFixAttempts: 1,
        batch: { pollFirstSeconds: 1, pollMaxSeconds: 1 },
      },
    ],
  });
  const n = itemIds.length;
  expect(result).toMatchObject({ total: n, judged: n, errors: 0 });
  const stored = await database.sql<{ key: string; mode: string; n: number; samples: number }[]>`
    select criterion || case when agent = '' then '' else '.' || agent end as key, mode, count(*)::int as n, (max(sample_index) + 1)::int as samples
    from judgments where program_id = ${PROGRAM} and model = ${model} group by 1, 2 order by 1`;
  expect(stored).toEqual(
    [
      'clarity',
      'factuality.awards',
      'factuality.metadata',
      'factuality.plot',
      'factuality.talent',
      'precision',
      'tone',
    ].map((key) => ({
      key,
      mode: 'batch',
      n: n * SAMPLES[criterionOf(key)],
      samples: SAMPLES[criterionOf(key)],
    })),
  );
  // Judged through the batches only: the sync pass found nothing missing (the panel's merges stay sync).
  expect(judgeRequests(from)).toEqual([]);
});
