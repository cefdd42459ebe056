/**
 * Fault test: the gateway and the worker run as real processes (`judgeflow gateway`,
 * `judgeflow worker`) and are killed with SIGKILL at random points during a burst of simulated
 * completions with duplicate deliveries. Afterwards every delivery that got a 2xx is in Postgres
 * exactly once and has reached its workflow, and the batch finishes with the right labels.
 */
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { eq, inArray, sql } from 'drizzle-orm';
import { Rng } from '../scripts/sim/model/rng';
import { createLogger } from '../platform/logger';
import { freePort, waitForTcp } from '../platform/ports';
import { labels, vendorEvents } from '../schema/tables';
import { buildVendorSim } from '../scripts/sim/vendor/server';
import {
  createTestDatabase,
  devServerClient,
  judgeflowProcesses,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { humanTasksWorkflow } from '../workflows/human-tasks';

jest.setTimeout(240_000);

let database: TestDatabase;
let client: Client;
const processes = judgeflowProcesses();

afterAll(async () => {
  processes.killAll();
  await client?.connection.close();
  await database?.drop();
});

test('killing the gateway and the worker mid-burst loses nothing and applies nothing twice', async () => {
  database = await createTestDatabase();
  client = await devServerClient();
  const taskQueue = uniqueTaskQueue('fault');
  const gatewayPort = await freePort();
  const start = (command: 'gateway' | 'worker') =>
    processes.start({
      command,
      databaseUrl: database.url,
      taskQueue,
      env: { GATEWAY_PORT: String(gatewayPort), GATEWAY_RECONCILE_INTERVAL_MS: '300' },
    });
  const { kill } = processes;
  let gateway = start('gateway');
  let worker = start('worker');
  expect(await waitForTcp('127.0.0.1', gatewayPort, 60_000)).toBe(true);

  const acked = new Map<string, string>();
  const secret = newSecret();
  const sim = buildVendorSim({
    vendorId: 'sim-f',
    secret,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    latencyMs: 2_500,
    duplicateRate: 0.3,
    noShowRate: 0,
    declineRate: 0,
    seed: 11,
    raters: 8,
    carelessShare: 0,
    driftingShare: 0,
    guidelineGain: 0,
    fixProbability: 1,
    logger: createLogger('test', 'silent'),
    onDelivered: (deliveryId, taskId) => acked.set(deliveryId, taskId),
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const endpoint = `http://127.0.0.1:${(sim.app.server.address() as AddressInfo).port}/v1/tasks`;
    const criteria = ['tone', 'clarity', 'precision'];
    const { itemIds } = await seedWorld(database.db, {
      programId: 'prog-f',
      items: 30,
      vendors: [{ id: 'sim-f', endpoint, secrets: [secret] }],
    });
    const batchId = 'program/prog-f/golden-set/tasks-1';
    const handle = await client.workflow.start(humanTasksWorkflow, {
      workflowId: batchId,
      taskQueue,
      args: [
        {
          batchId,
          programId: 'prog-f',
          phase: 'golden-set',
          kind: 'rate',
          itemIds,
          ratersPerItem: 3,
          criteria,
          vendorIds: ['sim-f'],
          guidelineVersion: 1,
          goldRate: 0,
          sla: { remindAfterMs: 600_000, reassignAfterMs: 1_200_000, deadlineMs: 3_600_000 },
        },
      ],
    });
    const total = itemIds.length * 3;
    await until(async () => sim.stats.received === total, 60_000);

    // Chaos during the burst: kill one of the two at a random moment, bring it back shortly after.
    const rng = Rng.for('fault-test', 1);
    for (let round = 0; round < 6; round++) {
      await sleep(150 + rng.next() * 600);
      if (rng.next() < 0.5) {
        await kill(gateway);
        await sleep(100 + rng.next() * 400);
        gateway = start('gateway');
      } else {
        await kill(worker);
        await sleep(100 + rng.next() * 400);
        worker = start('worker');
      }
    }

    const result = await handle.result();
    expect(result).toMatchObject({
      tasksCompleted: total,
      labelsRecorded: total * criteria.length,
      itemsComplete: itemIds.length,
      itemsIncomplete: 0,
      tasksReassigned: 0,
    });
    expect(acked.size).toBeGreaterThanOrEqual(total);
    expect(sim.stats.duplicatesSent).toBeGreaterThan(0);

    // Every 2xx delivery is stored exactly once (unique per vendor + webhook-id), and was signalled.
    await until(async () => {
      const [row] = await database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(vendorEvents)
        .where(sql`${vendorEvents.signalledAt} is null`);
      return row.n === 0;
    }, 30_000);
    const stored = await database.db
      .select()
      .from(vendorEvents)
      .where(inArray(vendorEvents.deliveryId, [...acked.keys()]));
    expect(stored.length).toBe(acked.size);
    expect(new Set(stored.map((e) => e.deliveryId)).size).toBe(acked.size);
    const applied = stored.filter((e) => e.disposition === 'applied');
    expect(new Set(applied.map((e) => e.taskId)).size).toBe(total);
    expect(applied.length).toBe(total);
    // Exactly one label per task × criterion.
    const [{ n }] = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(labels)
      .where(eq(labels.programId, 'prog-f'));
    expect(n).toBe(total * criteria.length);
  } finally {
    await sim.app.close();
    await Promise.all([kill(gateway), kill(worker)]);
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(100);
  }
}
