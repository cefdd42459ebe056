/**
 * The world a program test runs in: a test database with a simulated catalog, the LLM simulator
 * over HTTP, the signed gateway and the simulated vendor, and a way to register a small program the
 * way `judgeflow program start` does.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import YAML from 'yaml';
import { checkProgramPrerequisites, registerProgram } from '../program/registration';
import { generateCatalog } from '../scripts/sim/model/catalog';
import { createLogger } from '../platform/logger';
import { validateProgramSpec, type ProgramSpecInput } from '../schema/program-spec';
import { items, shows } from '../schema/tables';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { buildVendorSim, type VendorSim } from '../scripts/sim/vendor/server';
import { buildGateway, type Gateway } from '../workers/gateway';
import { programStatusQuery, type ProgramStatus } from '../workflows/messages';
import type { NativeConnection, Worker } from '@temporalio/worker';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  testConfig,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from './harness';
import { newSecret } from './human-tasks-fixture';

const logger = createLogger('test', 'silent');
const example = YAML.parse(
  fs.readFileSync(path.resolve(__dirname, '../examples/demo-program.yaml'), 'utf8'),
) as ProgramSpecInput;

export interface ProgramWorld {
  database: TestDatabase;
  deps: ReturnType<typeof testDeps>;
  vendor: { id: string; sim: VendorSim; secret: string; endpoint: string };
  /** `vendorEndpoint`: register the vendor with this endpoint instead of the simulated vendor's (e.g. one that cannot be reached). */
  register(id: string, over?: Record<string, unknown>, opts?: { vendorEndpoint?: string }): Promise<void>;
  close(): Promise<void>;
}

/** `locales`: the catalog in each (70 shows apiece) and simulated raters native to each (default en-US alone, as the demo's). */
export async function createProgramWorld(
  client: Client,
  opts: { searchAttributes: boolean; locales?: string[] },
): Promise<ProgramWorld> {
  const database = await createTestDatabase();
  const llm: LlmSimulator = await startLlmSimulator({ seed: 3, logger });
  const config = testConfig(
    { OPENAI_BASE_URL: llm.url, LLM_CONCURRENCY: '32', JUDGEFLOW_SEARCH_ATTRIBUTES: String(opts.searchAttributes) },
    database,
  );
  const deps = testDeps(database, config);
  const gateway: Gateway = await buildGateway({ db: database.db, config, logger, client });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  // Dispatches link to rater packets on this gateway, whose port is known only now.
  config.gateway.publicUrl = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
  const secret = newSecret();
  const sim = buildVendorSim({
    vendorId: 'sim-vendor',
    secret,
    gatewayUrl: config.gateway.publicUrl,
    latencyMs: 0,
    duplicateRate: 0.2,
    noShowRate: 0,
    declineRate: 0,
    seed: 5,
    raters: 8,
    carelessShare: 0,
    driftingShare: 0,
    guidelineGain: 0.08,
    fixProbability: 1,
    ...(opts.locales && { locales: opts.locales }),
    logger,
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  const vendor = {
    id: 'sim-vendor',
    sim,
    secret,
    endpoint: `http://127.0.0.1:${(sim.app.server.address() as AddressInfo).port}/v1/tasks`,
  };
  const catalogs = (opts.locales ?? ['en-US']).map((locale) => generateCatalog({ shows: 70, seed: 11, locale }));
  for (const { show, synopses, truths } of catalogs.flatMap((c) => [...c])) {
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
  return {
    database,
    deps,
    vendor,
    async register(id, over = {}, opts = {}) {
      const raw = {
        ...example,
        id,
        vendors: [
          {
            ...example.vendors[0],
            id: vendor.id,
            endpoint: opts.vendorEndpoint ?? vendor.endpoint,
            secret: vendor.secret,
            secretEnv: undefined,
          },
        ],
        rounds: { pilotSize: 6, calibrationSize: 6, maxCalibrationRounds: 8, goldenSetSize: 24, testShare: 0.5 },
        raters: { perItem: 3, pilotPerItem: 3, goldRate: 0, minGoldAccuracy: 0.5 },
        judges: { samples: 1, optimize: false },
        sla: { remindAfter: '1d', reassignAfter: '3d', deadline: '7d' },
        gates: { policy: 'manual' },
        production: { mode: 'sync', limit: 12, fixLoop: false, maxFixAttempts: 2, writerVendor: vendor.id },
        ...over,
      };
      const validation = validateProgramSpec(raw);
      if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
      const {
        estimate,
        vendors: vendorPlan,
        selection,
      } = await checkProgramPrerequisites(
        database.db,
        validation.spec,
        {},
        { rpmLimit: 10_000, model: 'gpt-4.1-mini', secretKey: deps.config.secretKey },
      );
      await registerProgram(database.db, validation.spec, estimate, vendorPlan, selection);
    },
    async close() {
      await sim.app.close();
      await gateway.app.close();
      await llm.close();
      await database.drop();
    },
  };
}

/** Polls the status query (in real time: nothing is skipped while the vendor works). */
export async function waitForStatus(
  handle: WorkflowHandle,
  done: (s: ProgramStatus) => boolean,
  timeoutMs = 180_000,
): Promise<ProgramStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: ProgramStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(programStatusQuery).catch(() => undefined);
    if (last && done(last)) return last;
    if (last?.status === 'failed') throw new Error(`program failed: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out; last status ${JSON.stringify(last)}`);
}

/**
 * A program world on the shared dev server with a worker of its own on a fresh task queue, opened
 * in beforeAll and closed in afterAll of the calling test file; its fields are set once beforeAll ran.
 */
export function devServerProgramWorld(name: string, opts: Parameters<typeof createProgramWorld>[1]) {
  const t = {} as { client: Client; world: ProgramWorld; taskQueue: string };
  let worker: Worker | undefined;
  let connection: NativeConnection | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    t.client = await devServerClient();
    t.world = await createProgramWorld(t.client, opts);
    t.taskQueue = uniqueTaskQueue(name);
    ({ worker, connection } = await devServerWorker(t.taskQueue, t.world.deps));
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await t.world?.close();
    await t.client?.connection.close();
  });
  return t;
}
