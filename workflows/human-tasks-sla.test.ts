/**
 * SLA timers over simulated days (time-skipping server): a reminder after 1 day, a breach and
 * reassignment to another rater after 3 days, completions through the signed gateway for the
 * replacements, and the deadline expiring what is left after 7 days; each breach is told to the
 * program's notification receivers (`sla.missed`, a signed webhook on a local server).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { asc, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { signHeaders } from '../vendors/signing';
import { createLogger } from '../platform/logger';
import { programs, tasks } from '../schema/tables';
import { buildVendorSim, type VendorSim } from '../scripts/sim/vendor/server';
import {
  createTestDatabase,
  testConfig,
  testDeps,
  timeSkippingEnv,
  timeSkippingWorker,
  uniqueTaskQueue,
  type TestDatabase,
  recordHistory,
} from '../test/harness';
import { newSecret, seedWorld } from '../test/human-tasks-fixture';
import { buildGateway, type Gateway } from '../workers/gateway';
import { humanTasksStatusQuery, humanTasksWorkflow } from './human-tasks';

const DAY = 86_400_000;
const HOUR = 3_600_000;
let env: TestWorkflowEnvironment;
let database: TestDatabase;
let gateway: Gateway;
let sim: VendorSim;
let worker: Worker;
const taskQueue = uniqueTaskQueue('human-tasks-sla');
const logger = createLogger('test', 'silent');
const secret = newSecret();
let gatewayUrl: string;
/** The notification receiver: the bodies of what it got. */
const notices: Array<{ body: string; headers: http.IncomingHttpHeaders }> = [];
let receiver: http.Server;
const hookSecret = newSecret();

beforeAll(async () => {
  env = await timeSkippingEnv();
  database = await createTestDatabase();
  gateway = await buildGateway({ db: database.db, config: testConfig({}, database), logger, client: env.client });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  gatewayUrl = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
  // Every simulated rater is a no-show: only the test answers, through the gateway.
  sim = buildVendorSim({
    vendorId: 'sim-sla',
    secret,
    gatewayUrl,
    latencyMs: 0,
    duplicateRate: 0,
    noShowRate: 1,
    declineRate: 0,
    seed: 1,
    raters: 4,
    carelessShare: 0,
    driftingShare: 0,
    guidelineGain: 0,
    fixProbability: 1,
    logger,
  });
  await sim.app.listen({ port: 0, host: '127.0.0.1' });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      notices.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  worker = await timeSkippingWorker(
    env,
    taskQueue,
    testDeps(database, testConfig({ SLA_HOOK_SECRET: hookSecret }, database)),
  );
});

afterAll(async () => {
  await sim?.app.close();
  await gateway?.app.close();
  receiver?.close();
  await database?.drop();
  await env?.teardown();
});

test('reminder after a day, reassignment to another rater on breach, expiry at the deadline', async () => {
  const endpoint = `http://127.0.0.1:${(sim.app.server.address() as AddressInfo).port}/v1/tasks`;
  const { itemIds } = await seedWorld(database.db, {
    programId: 'prog-sla',
    items: 3,
    vendors: [{ id: 'sim-sla', endpoint, secrets: [secret] }],
  });
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await database.db
    .update(programs)
    .set({ spec: { notifications: [{ id: 'ops', kind: 'webhook', url: hook, secretEnv: 'SLA_HOOK_SECRET' }] } })
    .where(eq(programs.id, 'prog-sla'));
  const batchId = 'program/prog-sla/calibration/1/tasks';
  const handle = await env.client.workflow.start(humanTasksWorkflow, {
    workflowId: batchId,
    taskQueue,
    args: [
      {
        batchId,
        programId: 'prog-sla',
        phase: 'calibration',
        round: 1,
        kind: 'rate',
        itemIds,
        ratersPerItem: 1,
        criteria: ['tone', 'clarity'],
        vendorIds: ['sim-sla'],
        guidelineVersion: 1,
        goldRate: 0,
        sla: { remindAfterMs: DAY, reassignAfterMs: 3 * DAY, deadlineMs: 7 * DAY },
        notifications: [{ id: 'ops', events: ['sla.missed'] }],
      },
    ],
  });
  const status = () => handle.query(humanTasksStatusQuery);
  const result = await worker.runUntil(async () => {
    await until(async () => (await status()).counts.open === 3 && sim.stats.received === 3);

    await env.sleep(DAY + HOUR);
    await until(async () => (await status()).reminders === 3);
    expect(sim.stats.reminders).toBe(3);
    const reminded = await database.db.select().from(tasks).where(eq(tasks.batchId, batchId));
    expect(reminded.every((t) => t.remindedAt !== null && t.status === 'dispatched')).toBe(true);

    await env.sleep(2 * DAY);
    await until(async () => (await status()).reassigned === 3 && sim.stats.received === 6);
    expect((await status()).slaBreaches).toBe(3);
    await until(async () => notices.length === 1);
    const notice = new Webhook(hookSecret).verify(notices[0].body, notices[0].headers as Record<string, string>);
    expect(notice).toMatchObject({
      type: 'sla.missed',
      data: { eventId: 'sla-missed/calibration/1/tasks/3', programId: 'prog-sla', tasks: 3, batchId, round: 1 },
    });
    const rows = await database.db.select().from(tasks).where(eq(tasks.batchId, batchId)).orderBy(asc(tasks.attempt));
    const first = rows.filter((t) => t.attempt === 0);
    const second = rows.filter((t) => t.attempt === 1);
    expect(first.map((t) => t.status)).toEqual(['reassigned', 'reassigned', 'reassigned']);
    for (const t of second) expect(t.raterId).not.toBe(first.find((f) => f.itemId === t.itemId)!.raterId);

    // Two replacement raters answer, signed as the vendor.
    for (const t of second.slice(0, 2)) {
      const body = JSON.stringify({
        type: 'task.completed',
        taskId: t.id,
        raterId: t.raterId!.split(':')[1],
        labels: [
          { criterion: 'tone', value: 1 },
          { criterion: 'clarity', value: 0 },
        ],
      });
      const res = await fetch(`${gatewayUrl}/v1/vendors/sim-sla/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signHeaders(secret, body) },
        body,
      });
      expect(res.status).toBe(202);
    }
    await until(async () => (await status()).counts.completed === 2);
    // The last one breaches again, is reassigned once more, and expires at the deadline.
    return handle.result();
  });
  expect(result).toMatchObject({
    tasksCompleted: 2,
    tasksReassigned: 4,
    tasksExpired: 1,
    labelsRecorded: 4,
    itemsComplete: 2,
    itemsIncomplete: 1,
    cancelled: false,
  });
  const last = await database.db.select().from(tasks).where(eq(tasks.batchId, batchId));
  expect(last.filter((t) => t.status === 'expired').map((t) => t.attempt)).toEqual([2]);
  // The second breach (the last task) is a second notice.
  expect(notices.map((n) => (JSON.parse(n.body) as { data: { eventId: string } }).data.eventId)).toEqual([
    'sla-missed/calibration/1/tasks/3',
    'sla-missed/calibration/1/tasks/4',
  ]);
  await recordHistory(handle, 'humanTasksWorkflow-sla-notifications');
});

async function until(check: () => Promise<boolean>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
