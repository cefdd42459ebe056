/**
 * A multilingual program's judges and production (issue 16): judges are developed and measured per
 * locale, the judges gate lists each locale's held-out accuracy and does not pass a locale below
 * target, and production judges each validated locale with its own judges and skips (and reports)
 * a locale with none — never judging it with another locale's. The program starts at the judges
 * phase over a seeded golden set (the human phases are tested elsewhere); the simulated model is
 * much weaker in es-ES, so en-US passes the target and es-ES does not.
 */
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { and, eq, sql } from 'drizzle-orm';
import type { ActivityDeps } from '../activities/deps';
import { freePort } from '../platform/ports';
import { createProgramActivities } from '../program/activities';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { decisionLog, itemVerdicts, items } from '../schema/tables';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  recordHistory,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { judgeSection } from '../reporting/queries/judges';
import { productionSection } from '../reporting/queries/production';
import { waitForStatus } from '../test/program-fixture';
import { judgeDevelopmentWorkflowId, programWorkflowId } from './ids';
import { approveGateUpdate } from './messages';
import { programWorkflow, type ProgramState } from './program';
import { initialState } from './program-run';

jest.setTimeout(300_000);
const PROGRAM = 'bilingual';
const TARGET = 0.7;
let database: TestDatabase;
let sim: LlmSimulator;
let client: Client;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let taskQueue: string;
let deps: ActivityDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({ port: await freePort(), seed: 11, localeAccuracy: { 'es-ES': -0.3 } });
  deps = testDeps(
    database,
    testConfig({ OPENAI_BASE_URL: sim.url, LLM_CONCURRENCY: '32', LLM_RPM_LIMIT: '600000' }, database),
  );
  await seedJudgeWorld(database.db, {
    programId: PROGRAM,
    shows: 40,
    seed: 7,
    over: {
      locales: [
        { code: 'en-US' },
        { code: 'es-ES', rubrics: { tone: 'Aprueba: voz tranquila. Suspende: exageraciones.' } },
      ],
      targets: { agreement: 0.6, judgeAccuracy: TARGET },
      judges: { samples: 1, optimize: false },
      gates: { policy: 'manual' },
      production: { mode: 'sync', limit: 10, fixLoop: false, maxFixAttempts: 1 },
    },
  });
  await database.db.execute(sql`update items set locale = 'es-ES' where md5(id) < '8'`);
  client = await devServerClient();
  taskQueue = uniqueTaskQueue('locales');
  ({ worker, connection } = await devServerWorker(taskQueue, deps));
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await client?.connection.close();
  await sim?.close();
  await database?.drop();
});

/** The program as it stands when its golden set is approved. */
const atJudges = async (): Promise<ProgramState> => ({
  ...initialState(await createProgramActivities(deps).loadProgramPlan(PROGRAM)),
  phase: 'judges',
  round: 1,
  budgetUsd: 100_000,
  approvedGates: ['scoping', 'pilot', 'golden-set'],
});

test('a judge passing en-US but below target in es-ES fails the gate for es-ES; production skips es-ES', async () => {
  const handle = await client.workflow.start(programWorkflow, {
    workflowId: programWorkflowId(PROGRAM),
    taskQueue,
    args: [{ programId: PROGRAM, state: await atJudges() }],
  });
  const atGate = await waitForStatus(handle, (s) => s.gate?.name === 'judges' && s.status === 'waiting_gate');
  const evidence = atGate.gate!.evidence.locales as Record<
    string,
    { passes: boolean; accuracy: Record<string, number> }
  >;
  console.log(`judges gate: ${atGate.gate!.reason}\n${JSON.stringify(evidence)}`);
  // Both locales are listed, each with its own accuracy per criterion.
  expect(Object.keys(evidence).sort()).toEqual(['en-US', 'es-ES']);
  expect(evidence['en-US'].passes).toBe(true);
  expect(evidence['es-ES'].passes).toBe(false);
  for (const locale of ['en-US', 'es-ES'])
    expect(Object.keys(evidence[locale].accuracy).sort()).toEqual(['clarity', 'factuality', 'precision', 'tone']);
  for (const accuracy of Object.values(evidence['en-US'].accuracy)) expect(accuracy).toBeGreaterThanOrEqual(TARGET);
  expect(Math.min(...Object.values(evidence['es-ES'].accuracy))).toBeLessThan(TARGET);
  expect(atGate.gate!.reason).toMatch(/below the accuracy target .*: es-ES \(/);
  expect(atGate.gate!.reason).not.toMatch(/en-US \(/);
  expect(atGate.judges).toHaveLength(8);
  expect(new Set(atGate.judges.map((j) => `${j.locale}/${j.criterion}`)).size).toBe(8);

  await handle.executeUpdate(approveGateUpdate, {
    args: [{ requestId: 'approve-judges', actor: 'test-pm', gate: 'judges' }],
  });
  const done = await waitForStatus(handle, (s) => s.status === 'completed', 240_000);
  const production = done.production!;
  console.log(`production: ${JSON.stringify(production)}`);
  expect(production.locales!['en-US']).toMatchObject({ runId: 'initial-en-US', judged: 10, total: 10 });
  expect(production.locales!['es-ES']).toMatchObject({ runId: null, judged: 0, total: 10 });
  expect(production.locales!['es-ES'].skipped).toMatch(/no judge validated for es-ES/);
  expect(production).toMatchObject({ judged: 10, total: 10 });

  // No es-ES item was judged, by any judge; every en-US verdict is the en-US run's.
  const verdicts = await database.db
    .select({ runId: itemVerdicts.runId, locale: items.locale })
    .from(itemVerdicts)
    .innerJoin(items, eq(items.id, itemVerdicts.itemId))
    .where(eq(itemVerdicts.programId, PROGRAM));
  expect(verdicts.length).toBeGreaterThan(0);
  expect(new Set(verdicts.map((v) => `${v.runId} ${v.locale}`))).toEqual(new Set([`${PROGRAM}/initial-en-US en-US`]));
  const skipped = await database.db
    .select()
    .from(decisionLog)
    .where(and(eq(decisionLog.programId, PROGRAM), eq(decisionLog.kind, 'locale_skipped')));
  expect(skipped).toHaveLength(1);
  expect(skipped[0].note).toMatch(/^10 es-ES item\(s\) not judged/);

  // The report names each judge with its locale, and lists the one production run made.
  const judges = await judgeSection(database.db, PROGRAM);
  expect(judges.heldOut.map((h) => h.criterion).sort()).toEqual(
    ['clarity', 'factuality', 'precision', 'tone'].flatMap((c) => [`${c} · en-US`, `${c} · es-ES`]),
  );
  expect(judges.heldOut.find((h) => h.criterion === 'factuality · es-ES')!.accuracy).toBeLessThan(TARGET);
  expect((await productionSection(database.db, PROGRAM)).runs.map((r) => r.id)).toEqual([`${PROGRAM}/initial-en-US`]);

  await recordHistory(handle, 'programWorkflow-locales');
  await recordHistory(
    client.workflow.getHandle(judgeDevelopmentWorkflowId(PROGRAM)),
    'judgeDevelopmentWorkflow-locales',
  );
});
