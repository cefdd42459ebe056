/**
 * Guideline revisions per locale (issue 16), through the program workflow's publishGuidelines
 * update on the dev server: a revision naming es-ES is that locale's packet from its version on
 * while en-US keeps the program's, one without a locale revises the program's guidelines and the
 * locales without their own, and a locale the program does not have is refused with nothing stored.
 * Real Postgres; the program waits at its scoping gate (no human or judge work is needed).
 */
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import { createJudgingActivities } from '../judging/activities';
import { loadRaterPacket } from '../program/rater-packet';
import { auditLog, decisionLog, guidelineVersions, judgePrompts } from '../schema/tables';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { seedJudgeWorld } from '../test/judge-fixture';
import { waitForStatus } from '../test/program-fixture';
import { programWorkflowId } from './ids';
import { publishGuidelinesUpdate } from './messages';
import { programWorkflow } from './program';

jest.setTimeout(300_000);
const PROGRAM = 'revised-locales';
let database: TestDatabase;
let client: Client;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
let world: Awaited<ReturnType<typeof seedJudgeWorld>>;

beforeAll(async () => {
  database = await createTestDatabase();
  world = await seedJudgeWorld(database.db, {
    programId: PROGRAM,
    shows: 10,
    seed: 3,
    over: { locales: [{ code: 'en-US' }, { code: 'es-ES' }], gates: { policy: 'manual' } },
  });
  client = await devServerClient();
  const taskQueue = uniqueTaskQueue('guideline-locales');
  ({ worker, connection } = await devServerWorker(taskQueue, testDeps(database)));
  running = worker.run();
  await client.workflow.start(programWorkflow, {
    workflowId: programWorkflowId(PROGRAM),
    taskQueue,
    args: [{ programId: PROGRAM }],
  });
});
afterAll(async () => {
  await client?.workflow
    .getHandle(programWorkflowId(PROGRAM))
    .terminate()
    .catch(() => undefined);
  worker?.shutdown();
  await running;
  await connection?.close();
  await client?.connection.close();
  await database?.drop();
});

test("a revision naming a locale is that locale's packet from its version on; the others keep theirs", async () => {
  const handle = client.workflow.getHandle(programWorkflowId(PROGRAM));
  await waitForStatus(handle, (s) => s.gate?.name === 'scoping');
  const publish = (version: number, text: string, locale?: string) =>
    handle.executeUpdate(publishGuidelinesUpdate, {
      args: [{ requestId: `r-${version}-${locale}`, actor: 'test-pm', version, text, note: 'why', locale }],
    });
  const refused = publish(2, 'Texto', 'fr-FR');
  await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  await expect(refused).rejects.toMatchObject({
    cause: { message: "locale fr-FR is not one of the program's (en-US, es-ES)" },
  });
  expect(await database.db.$count(guidelineVersions, eq(guidelineVersions.programId, PROGRAM))).toBe(1);

  expect((await publish(2, 'Guía revisada v2', 'es-ES')).message).toBe('guidelines v2 of es-ES published');
  const text = async (version: number | 'latest', locale: string) => {
    const packet = await loadRaterPacket(database.db, PROGRAM, version, undefined, locale);
    return [packet?.version, packet?.guidelines];
  };
  const original = world.spec.guidelines.text;
  expect(await text(2, 'es-ES')).toEqual([2, 'Guía revisada v2']);
  expect(await text(2, 'en-US')).toEqual([1, original]);
  expect(await text(1, 'es-ES')).toEqual([1, original]);

  // without a locale: the program's guidelines, and those of locales without their own
  await publish(3, 'Program guidelines v3');
  expect(await text(3, 'en-US')).toEqual([3, 'Program guidelines v3']);
  expect(await text('latest', 'es-ES')).toEqual([2, 'Guía revisada v2']);
  expect(await loadRaterPacket(database.db, PROGRAM, 4, undefined, 'es-ES')).toBeNull();

  // the judges read the same: en-US at v2 still the program's v1
  const judging = createJudgingActivities(testDeps(database));
  const template = async (locale: string, guidelineVersion: number) => {
    const { tone } = await judging.ensureJudgePrompts({ programId: PROGRAM, guidelineVersion, locale });
    return (await database.db.select().from(judgePrompts).where(eq(judgePrompts.hash, tone)))[0].template;
  };
  expect(await template('en-US', 2)).toContain(`Writing guidelines (version 1):\n${original.trim()}`);
  expect(await template('es-ES', 3)).toContain('Writing guidelines (version 2):\nGuía revisada v2');

  const rows = await database.db.execute<{ kind: string; locale: string | null }>(
    sql`select kind, data ->> 'locale' as locale from ${decisionLog} where program_id = ${PROGRAM} and kind = 'guideline_published' order by id`,
  );
  expect([...rows].map((r) => r.locale)).toEqual(['es-ES', null]);
  const audits = await database.db.select().from(auditLog).where(eq(auditLog.action, 'guideline_published'));
  expect(audits.map((a) => a.after)).toEqual([{ version: 2, locale: 'es-ES' }, { version: 3 }]);
});
