/**
 * Notifications received on a local HTTP server. The delivery activity against a real Postgres:
 * a webhook whose signature the `standardwebhooks` library verifies, a Slack message's shape, and
 * each failure (500, 404, a hang, an unset secret) recorded with its error. Then a whole program on a
 * time-skipping Temporal server with four receivers — one answering 500 and one that never answers
 * among them — that completes as if they were not there, while the others hear of every gate, the
 * rounds, the budget at 80 % and 100 % and the end.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { programSpend } from '../human-tasks/accounting';
import { notificationDeliveries, programs } from '../schema/tables';
import {
  createTestDatabase,
  recordHistory,
  testConfig,
  timeSkippingEnv,
  timeSkippingWorker,
  uniqueTaskQueue,
  type TestDatabase,
} from '../test/harness';
import { newSecret } from '../test/human-tasks-fixture';
import { createProgramWorld, waitForStatus, type ProgramWorld } from '../test/program-fixture';
import { formatStatus, programStatus } from '../scripts/commands/program-status';
import { approveGateUpdate, changeBudgetUpdate } from '../workflows/messages';
import { notifyWorkflowId } from '../workflows/ids';
import { programWorkflow } from '../workflows/program';
import { createLogger } from '../platform/logger';
import { createNotificationActivities } from './deliver';
import type { NotificationEvent } from './events';

jest.setTimeout(480_000);

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Receivers: /hook and /slack answer 200, /fail 500, /gone 404, /hang never. */
async function startReceiver() {
  const received: Received[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/hang') return void hanging.push(res);
      const status = { '/fail': 500, '/gone': 404 }[req.url ?? ''] ?? 200;
      res.writeHead(status).end(status === 200 ? 'ok' : 'receiver error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    at: (path: string) => received.filter((r) => r.path === path),
    close: () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const secret = newSecret();
const ENV = { OPS_HOOK_SECRET: secret, SLACK_URL: '' };

/** The Slack message's shape: fallback text and header, section and context blocks. */
function expectSlackShape(body: string, type: string) {
  const msg = JSON.parse(body);
  expect(Object.keys(msg).sort()).toEqual(['blocks', 'text']);
  expect(typeof msg.text).toBe('string');
  expect(msg.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);
  expect(msg.blocks[0].text.type).toBe('plain_text');
  expect(msg.blocks[1].text.type).toBe('mrkdwn');
  expect(msg.blocks[2].elements[0].text).toContain(`\`${type}\``);
  return msg as { text: string; blocks: Array<{ text?: { text: string } }> };
}

describe('the delivery activity', () => {
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let deliver: ReturnType<typeof createNotificationActivities>['deliverNotification'];

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await startReceiver();
    const env = { ...ENV, SLACK_URL: `${receiver.url}/slack` };
    const config = testConfig({ ...env, NOTIFY_TIMEOUT_MS: '2000' }, database);
    deliver = createNotificationActivities({
      db: database.db,
      config,
      logger: createLogger('test', 'silent'),
    }).deliverNotification;
    const hook = (id: string, path: string, extra = {}) => ({
      id,
      kind: 'webhook',
      url: `${receiver.url}${path}`,
      secretEnv: 'OPS_HOOK_SECRET',
      events: ['gate.waiting'],
      ...extra,
    });
    await database.db.insert(programs).values({
      id: 'p1',
      name: 'p1',
      budgetUsd: 10,
      spec: {
        notifications: [
          hook('ops', '/hook'),
          { id: 'pm', kind: 'slack', urlEnv: 'SLACK_URL', events: ['gate.waiting'] },
          hook('broken', '/fail'),
          hook('gone', '/gone'),
          hook('stuck', '/hang'),
          hook('unsigned', '/hook', { secretEnv: 'NOT_SET_ANYWHERE' }),
        ],
      },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await database?.drop();
  });

  const event: NotificationEvent = {
    id: 'gate-waiting/pilot',
    type: 'gate.waiting',
    programId: 'p1',
    at: '2026-01-01T00:00:00.000Z',
    summary: 'waiting at gate pilot: <review> the pilot & approve',
    details: { gate: 'pilot', manual: true },
  };
  const run = (receiverId: string, attempt = 1) =>
    new MockActivityEnvironment({ attempt }).run(deliver, { event, receiverId });
  const delivery = async (receiverId: string) =>
    (
      await database.db
        .select()
        .from(notificationDeliveries)
        .where(and(eq(notificationDeliveries.receiverId, receiverId), eq(notificationDeliveries.eventId, event.id)))
    )[0];

  test('a webhook signed with Standard Webhooks: the standardwebhooks library verifies it', async () => {
    await expect(run('ops')).resolves.toEqual({ responseStatus: 200 });
    const [req] = receiver.at('/hook');
    expect(req.headers['content-type']).toBe('application/json');
    const payload = new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
    expect(payload).toEqual({
      type: 'gate.waiting',
      timestamp: event.at,
      data: { eventId: event.id, programId: 'p1', summary: event.summary, gate: 'pilot', manual: true },
    });
    expect(req.headers['webhook-id']).toBe('p1/gate-waiting/pilot');
    // A body changed on the way is refused by the same check.
    expect(() =>
      new Webhook(secret).verify(req.body.replace('pilot', 'judges'), req.headers as Record<string, string>),
    ).toThrow();
    expect(await delivery('ops')).toMatchObject({ status: 'delivered', attempts: 1, responseStatus: 200 });
  });

  test('Slack: {text, blocks} with Slack’s reserved characters escaped, to the URL named by urlEnv', async () => {
    await run('pm');
    const [req] = receiver.at('/slack');
    expect(req.headers['webhook-signature']).toBeUndefined();
    const msg = expectSlackShape(req.body, 'gate.waiting');
    expect(msg.text).toBe(
      'Gate waiting for approval: p1 — waiting at gate pilot: &lt;review&gt; the pilot &amp; approve',
    );
    expect(msg.blocks[0].text?.text).toBe('Gate waiting for approval: p1');
  });

  test('a 500 is retried (failing, then failed on the last attempt); a 404 fails at once', async () => {
    await expect(run('broken')).rejects.toThrow('receiver broken answered 500: receiver error');
    expect(await delivery('broken')).toMatchObject({ status: 'failing', attempts: 1, responseStatus: 500 });
    await expect(run('broken', 10)).rejects.toThrow('answered 500');
    expect(await delivery('broken')).toMatchObject({ status: 'failed', attempts: 10 });
    await expect(run('gone')).rejects.toMatchObject({ nonRetryable: true, message: expect.stringContaining('404') });
    expect(await delivery('gone')).toMatchObject({ status: 'failed', attempts: 1, responseStatus: 404 });
  });

  test('a receiver that never answers is abandoned after NOTIFY_TIMEOUT_MS', async () => {
    const started = Date.now();
    await expect(run('stuck')).rejects.toThrow('no answer within 2000 ms');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await delivery('stuck')).toMatchObject({ status: 'failing', responseStatus: null });
  });

  test('an unset secret or an unknown receiver fails at once, naming what to fix, and sends nothing', async () => {
    const before = receiver.received.length;
    await expect(run('unsigned')).rejects.toMatchObject({
      nonRetryable: true,
      message: 'environment variable NOT_SET_ANYWHERE (the signing secret of receiver unsigned) is not set',
    });
    await expect(run('nobody')).rejects.toMatchObject({
      nonRetryable: true,
      message: 'program p1 has no notification receiver "nobody"',
    });
    expect(receiver.received.length).toBe(before);
  });
});

describe('a program with receivers', () => {
  let env: TestWorkflowEnvironment;
  let world: ProgramWorld;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const taskQueue = uniqueTaskQueue('notify');

  beforeAll(async () => {
    env = await timeSkippingEnv();
    world = await createProgramWorld(env.client, { searchAttributes: false });
    receiver = await startReceiver();
    const config = world.deps.config;
    worker = await timeSkippingWorker(env, taskQueue, {
      ...world.deps,
      config: {
        ...config,
        env: { ...config.env, ...ENV, SLACK_URL: `${receiver.url}/slack` },
        notifications: { timeoutMs: 2000 },
      },
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await receiver?.close();
    await world?.close();
    await env?.teardown();
  });

  test('completes while one receiver answers 500 and one hangs; the others hear of gates, rounds, budget and the end', async () => {
    const id = 'notified';
    await world.register(id, {
      targets: { agreement: 0.5, agreementMetric: 'percent_agreement', judgeAccuracy: 0.7 },
      notifications: [
        { id: 'ops', kind: 'webhook', url: `${receiver.url}/hook`, secretEnv: 'OPS_HOOK_SECRET' },
        {
          id: 'pm',
          kind: 'slack',
          urlEnv: 'SLACK_URL',
          events: ['gate.waiting', 'budget.reached', 'program.completed'],
        },
        { id: 'broken', kind: 'webhook', url: `${receiver.url}/fail`, secretEnv: 'OPS_HOOK_SECRET' },
        { id: 'stuck', kind: 'slack', url: `${receiver.url}/hang` },
      ],
    });
    const handle = await env.client.workflow.start(programWorkflow, {
      workflowId: `program/${id}`,
      taskQueue,
      args: [{ programId: id }],
    });
    let n = 0;
    const approve = async (gate: string) => {
      await waitForStatus(handle, (s) => s.gate?.name === gate);
      await handle.executeUpdate(approveGateUpdate, { args: [{ requestId: `a-${++n}`, actor: 'pm', gate }] });
    };
    await approve('scoping');
    // After the pilot, a budget the spend is 85 % of: the next checkpoint warns, the one after pauses.
    await waitForStatus(handle, (s) => s.gate?.name === 'pilot');
    const spent = (await programSpend(world.database.db, id)).totalUsd;
    expect(spent).toBeGreaterThan(0);
    const tight = Math.round((spent / 0.85) * 100) / 100;
    await handle.executeUpdate(changeBudgetUpdate, { args: [{ requestId: 'b-1', actor: 'pm', usd: tight }] });
    await approve('pilot');
    // Then every gate as it comes (a calibration round below target waits at one); raise the budget once paused.
    const approved = new Set(['scoping', 'pilot']);
    let raised = false;
    for (;;) {
      const s = await waitForStatus(
        handle,
        (x) =>
          x.status === 'completed' || (x.status === 'paused' && !raised) || !!(x.gate && !approved.has(x.gate.name)),
        240_000,
      );
      if (s.status === 'completed') break;
      if (s.status === 'paused') {
        expect(s.pausedReason).toMatch(/^budget cap reached/);
        raised = true;
        await handle.executeUpdate(changeBudgetUpdate, { args: [{ requestId: 'b-2', actor: 'pm', usd: 100_000 }] });
      } else {
        approved.add(s.gate!.name);
        await approve(s.gate!.name);
      }
    }
    expect(raised).toBe(true);

    // The status says completed before the program starts its completion notice: its result comes after.
    await handle.result();
    // Every notification child ends: the 500 and the hang after their retries (time skipped).
    const completed = env.client.workflow.getHandle(notifyWorkflowId(id, 'program-completed'));
    const outcome = await completed.result();
    expect(outcome.delivered.sort()).toEqual(['ops', 'pm']);
    expect(outcome.failed.sort()).toEqual(['broken', 'stuck']);

    const hooks = receiver.at('/hook').map((r) => {
      const payload = new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        data: Record<string, unknown>;
      };
      return `${payload.type} ${String(payload.data.eventId)}`;
    });
    expect(hooks).toEqual(
      expect.arrayContaining([
        'gate.waiting gate-waiting/scoping',
        'gate.waiting gate-waiting/pilot',
        `budget.warning budget.warning/${tight}`,
        `budget.reached budget.reached/${tight}`,
        'gate.waiting gate-waiting/golden-set',
        'program.completed program-completed',
      ]),
    );
    expect(hooks.filter((h) => h.startsWith('round.'))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^round\.target_(met|missed) round\/pilot\/0$/),
        expect.stringMatching(/^round\.target_(met|missed) round\/calibration\/1$/),
      ]),
    );
    // Each event once, although checkpoints after the pause and resume saw the same spend again.
    expect(new Set(hooks).size).toBe(hooks.length);
    const slack = receiver.at('/slack').map((r) => JSON.parse(r.body) as { text: string });
    for (const r of receiver.at('/slack'))
      expectSlackShape(r.body, JSON.parse(r.body).blocks[2].elements[0].text.split('`')[1]);
    expect(slack.map((m) => m.text.split(':')[0])).toEqual(
      expect.arrayContaining(['Gate waiting for approval', 'Budget reached', 'Program completed']),
    );
    expect(slack.some((m) => m.text.startsWith('Round'))).toBe(false);

    const rows = await world.database.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.eventId, 'program-completed'));
    const byReceiver = Object.fromEntries(rows.map((r) => [r.receiverId, r]));
    expect(byReceiver.ops).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(byReceiver.broken).toMatchObject({ status: 'failed', attempts: 10, responseStatus: 500 });
    expect(byReceiver.stuck).toMatchObject({ status: 'failed', attempts: 10, lastError: 'no answer within 2000 ms' });

    // The program's status carries the vendor scorecard from the same database.
    const status = await programStatus(env.client, id, world.database.db, { retrying: false });
    const vendorRow = status.vendors?.find((v) => v.vendorId === 'sim-vendor' && v.raterId === null);
    expect(vendorRow?.completed).toBeGreaterThan(0);
    expect(vendorRow?.slaHitRate).toBe(1);
    expect(formatStatus(status)).toMatch(/^sim-vendor\s+\d+\s+100\.0%/m);

    await recordHistory(handle, 'programWorkflow-notifications');
    await recordHistory(completed, 'notifyWorkflow');
  });
});
