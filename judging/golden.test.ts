/**
 * Killing the worker process (SIGKILL) while aggregateGolden has its LLM requests out: the
 * activity's retry (after its heartbeat timeout) finds the labels stored before the kill and
 * requests only the items still missing — the simulator's request count shows it — and the golden
 * set ends complete: one label per item × criterion, one ledger row per aggregated item, none twice.
 * The golden-set workflow runs for real: the simulated vendor rates the items through the signed
 * gateway, the worker runs as a child process.
 */
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { eq, sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { createProgramActivities } from '../program/activities';
import { checkProgramPrerequisites, registerProgram } from '../program/registration';
import { validateProgramSpec, type ProgramSpecInput } from '../schema/program-spec';
import { goldenLabels, items, labels, shows, usageLedger } from '../schema/tables';
import { generateCatalog } from '../scripts/sim/model/catalog';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { buildVendorSim, type VendorSim } from '../scripts/sim/vendor/server';
import {
  createTestDatabase,
  devServerClient,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
  judgeflowProcesses,
} from '../test/harness';
import { newSecret } from '../test/human-tasks-fixture';
import { buildGateway, type Gateway } from '../workers/gateway';
import { goldenSetWorkflow } from '../workflows/golden-set';
import { goldenSetWorkflowId } from '../workflows/ids';

const PROGRAM = 'golden-crash';
const ITEMS = 60;
const logger = createLogger('test', 'silent');
let database: TestDatabase;
let client: Client;
let llm: LlmSimulator;
let gateway: Gateway;
let vendor: VendorSim;
const workers = judgeflowProcesses();

afterAll(async () => {
  workers.killAll();
  await vendor?.app.close();
  await gateway?.app.close();
  await client?.connection.close();
  await llm?.close();
  await database?.drop();
});

const aggregated = async () =>
  (
    await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from ${usageLedger} where program_id = ${PROGRAM} and kind = 'aggregate'`,
    )
  )[0].n;
const aggregateCalls = () => llm.stats().byKind.golden_aggregate ?? 0;

test('a worker killed mid-aggregation: the retry requests only the labels not stored, and the golden set is complete and not duplicated', async () => {
  database = await createTestDatabase();
  client = await devServerClient();
  // Slow answers, two at a time: the aggregation of one criterion takes seconds, so the kill lands inside it.
  llm = await startLlmSimulator({ port: await freePort(), seed: 3, latency: { medianMs: 300, p99Ms: 300 }, logger });
  const config = testConfig({ OPENAI_BASE_URL: llm.url }, database);
  gateway = await buildGateway({ db: database.db, config, logger, client });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const secret = newSecret();
  vendor = buildVendorSim({
    vendorId: 'sim-vendor',
    secret,
    gatewayUrl: `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`,
    latencyMs: 0,
    duplicateRate: 0,
    noShowRate: 0,
    declineRate: 0,
    seed: 5,
    raters: 8,
    carelessShare: 0,
    driftingShare: 0,
    guidelineGain: 0,
    fixProbability: 1,
    logger,
  });
  await vendor.app.listen({ port: 0, host: '127.0.0.1' });
  for (const { show, synopses, truths } of generateCatalog({ shows: 40, seed: 11 })) {
    const { id, title, locale, ...metadata } = show;
    await database.db.insert(shows).values({ id, title, locale, metadata });
    await database.db.insert(items).values(
      synopses.map((s, i) => ({
        id: s.id,
        showId: id,
        locale: s.locale,
        text: s.text,
        textHash: truths[i].textHash,
      })),
    );
  }
  const example = YAML.parse(
    fs.readFileSync(path.resolve(__dirname, '../examples/demo-program.yaml'), 'utf8'),
  ) as ProgramSpecInput;
  const validation = validateProgramSpec({
    ...example,
    id: PROGRAM,
    vendors: [
      {
        ...example.vendors[0],
        id: 'sim-vendor',
        endpoint: `http://127.0.0.1:${(vendor.app.server.address() as AddressInfo).port}/v1/tasks`,
        secret,
        secretEnv: undefined,
      },
    ],
    rounds: { pilotSize: 6, calibrationSize: 6, maxCalibrationRounds: 8, goldenSetSize: ITEMS, testShare: 0.5 },
    raters: { perItem: 3, pilotPerItem: 3, goldRate: 0, minGoldAccuracy: 0.5 },
    sla: { remindAfter: '1d', reassignAfter: '3d', deadline: '7d' },
  });
  if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
  const {
    estimate,
    vendors: vendorPlan,
    selection,
  } = await checkProgramPrerequisites(
    database.db,
    validation.spec,
    {},
    {
      rpmLimit: 10_000,
      model: 'gpt-4.1-mini',
      secretKey: config.secretKey,
    },
  );
  await registerProgram(database.db, validation.spec, estimate, vendorPlan, selection);
  const plan = await createProgramActivities(testDeps(database, config)).loadProgramPlan(PROGRAM);

  const taskQueue = uniqueTaskQueue('golden-crash');
  const start = () => workers.start({ databaseUrl: database.url, taskQueue, llmUrl: llm.url, llmConcurrency: 2 });
  const worker = start();
  const workflowId = goldenSetWorkflowId(PROGRAM);
  const handle = await client.workflow.start(goldenSetWorkflow, {
    workflowId,
    taskQueue,
    args: [{ plan, guidelineVersion: plan.guidelineVersion, workflowId }],
  });
  // Kill once a few labels of the first criterion are aggregated (and stored), well before its last.
  while ((await aggregated()) < 6) await new Promise((r) => setTimeout(r, 25));
  await workers.kill(worker);
  await new Promise((r) => setTimeout(r, 500)); // requests already on the wire reach the simulator
  const storedAtKill = await aggregated();
  const callsAtKill = aggregateCalls();
  start();
  const result = await handle.result();
  const stored = await aggregated();
  console.log(
    JSON.stringify({ storedAtKill, callsAtKill, stored, calls: aggregateCalls(), sentToReview: result.sentToReview }),
  );
  expect(storedAtKill).toBeLessThan(stored);

  // After the restart exactly the aggregations missing at the kill were requested, each once.
  expect(aggregateCalls() - callsAtKill).toBe(stored - storedAtKill);
  // Complete: a label per item × criterion; an aggregate ledger row per item whose raters disagreed, each key once.
  const [{ n: goldenRows }] = await database.db.execute<{ n: number }>(
    sql`select count(*)::int as n from ${goldenLabels} where program_id = ${PROGRAM}`,
  );
  expect(goldenRows).toBe(ITEMS * plan.criteria.length);
  const [{ n: split }] = await database.db.execute<{ n: number }>(sql`
    select count(*)::int as n from (select item_id, criterion from ${labels} where program_id = ${PROGRAM} and phase = 'golden-set'
    group by item_id, criterion having count(distinct value) > 1) d`);
  const [ledger] = await database.db.execute<{ n: number; keys: number }>(sql`
    select count(*)::int as n, count(distinct request_key)::int as keys from ${usageLedger} where program_id = ${PROGRAM} and kind = 'aggregate'`);
  expect(ledger).toEqual({ n: split, keys: split });
  const unanimous = await database.db.$count(goldenLabels, eq(goldenLabels.source, 'unanimous'));
  expect(unanimous).toBe(ITEMS * plan.criteria.length - split);
}, 300_000);
