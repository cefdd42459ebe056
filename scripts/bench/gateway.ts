/**
 * `npm run bench:gateway`: sustained signed vendor events through the real gateway process.
 * Starts a private embedded stack (PostgreSQL, Temporal dev server, the `judgeflow gateway` and
 * `judgeflow worker` processes), opens one human-task batch of 1,000 items × 5 raters with a silent simulated vendor
 * (every rater a no-show, so only the load generator answers), then a SECOND process
 * (scripts/bench/gateway-load.ts) posts a signed completion for every task plus duplicates over
 * loopback. Checks nothing is lost: every task applied once, every event signalled, the workflow
 * complete. Writes bench-results/gateway.json and prints it.
 *
 * Settings (environment): BENCH_CONCURRENCY (32: connections, and requests in flight in the closed
 * loop), BENCH_RATE (unset: closed loop; else events/s, open loop), BENCH_ITEMS (1,000 items × 5
 * raters), BENCH_WARMUP (500 requests sent before measuring).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { loadConfig } from '../../platform/config';
import { connectDatabase } from '../../platform/db';
import { createLogger } from '../../platform/logger';
import { freePort } from '../../platform/ports';
import { tasks, vendorEvents } from '../../schema/tables';
import { humanTasksWorkflow } from '../../workflows/human-tasks';
import { newSecret } from '../../vendors/signing';
import { buildVendorSim } from '../sim/vendor/server';
import { seedWorld } from '../sim/vendor/world';
import { startStack } from '../stack';
import { BENCH_OUT, useIsolatedStack } from './stack-env';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 1000);
const RATERS = 5;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** Open-loop arrival rate (events/s); unset: closed loop at CONCURRENCY. */
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
const DUPLICATE_RATE = 0.05;
/** Requests sent (and checked) before measuring. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);

async function main() {
  // Children of the stack (the gateway) read their settings from the environment.
  await useIsolatedStack('gateway', {
    GATEWAY_PORT: String(await freePort()),
    GATEWAY_MAX_IN_FLIGHT: '4096',
  });
  const config = loadConfig();
  // The production topology: gateway and worker are their own processes.
  const stack = await startStack(config, { only: ['gateway', 'worker'], workers: 1, log: (l) => console.error(l) });
  const database = await connectDatabase(stack.env.DATABASE_URL, { max: 4 });
  const logger = createLogger('bench', 'warn');
  const secret = newSecret();
  const gatewayUrl = `http://127.0.0.1:${config.gateway.port}`;
  const silent = buildVendorSim({
    vendorId: 'bench-vendor',
    secret,
    gatewayUrl,
    latencyMs: 0,
    duplicateRate: 0,
    noShowRate: 1,
    declineRate: 0,
    seed: 1,
    raters: RATERS,
    carelessShare: 0,
    driftingShare: 0,
    guidelineGain: 0,
    fixProbability: 1,
    logger,
  });
  await silent.app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const endpoint = `http://127.0.0.1:${(silent.app.server.address() as AddressInfo).port}/v1/tasks`;
    console.error(`• seeding ${ITEMS} items`);
    const { itemIds } = await seedWorld(database.db, {
      programId: 'bench',
      items: ITEMS,
      vendors: [{ id: 'bench-vendor', endpoint, secrets: [secret] }],
    });
    const batchId = 'program/bench/golden-set/tasks-1';
    const criteria = ['tone', 'clarity', 'precision', 'factuality'];
    const handle = await stack.client.workflow.start(humanTasksWorkflow, {
      workflowId: batchId,
      taskQueue: config.temporal.taskQueue,
      args: [
        {
          batchId,
          programId: 'bench',
          phase: 'golden-set',
          kind: 'rate',
          itemIds,
          ratersPerItem: RATERS,
          criteria,
          vendorIds: ['bench-vendor'],
          guidelineVersion: 1,
          goldRate: 0,
          sla: { remindAfterMs: 3_600_000, reassignAfterMs: 7_200_000, deadlineMs: 86_400_000 },
        },
      ],
    });
    const expected = ITEMS * RATERS;
    while (silent.stats.received < expected) await new Promise((r) => setTimeout(r, 200));
    const rows = await database.db
      .select({ id: tasks.id, raterId: tasks.raterId })
      .from(tasks)
      .where(eq(tasks.batchId, batchId));
    const plan = path.join(BENCH_OUT, 'gateway-plan.json');
    fs.writeFileSync(
      plan,
      JSON.stringify({
        gatewayUrl,
        vendorId: 'bench-vendor',
        secret,
        criteria,
        concurrency: CONCURRENCY,
        rate: RATE,
        warmup: WARMUP,
        duplicateRate: DUPLICATE_RATE,
        tasks: rows.map((r) => ({ id: r.id, raterId: r.raterId!.split(':')[1] })),
      }),
    );

    console.error(
      `• load: ${rows.length} tasks + ${DUPLICATE_RATE * 100}% duplicates, ${RATE ? `${RATE} events/s open loop over ≤ ${CONCURRENCY} connections` : `concurrency ${CONCURRENCY}`}, from a second process`,
    );
    // The 1-minute load average just before the load: what else (other users) was running.
    const loadAverageBefore = Math.round(os.loadavg()[0] * 100) / 100;
    const load = await runLoad(plan);
    const result = await handle.result();
    await new Promise((r) => setTimeout(r, 500));
    const [inbox] = await database.db
      .select({
        applied: sql<number>`count(*) filter (where ${vendorEvents.disposition} = 'applied')::int`,
        distinctTasks: sql<number>`count(distinct ${vendorEvents.taskId})::int`,
        unsignalled: sql<number>`count(*) filter (where ${vendorEvents.signalledAt} is null)::int`,
      })
      .from(vendorEvents);
    const summary = {
      benchmark: 'gateway',
      command: `${RATE ? `BENCH_RATE=${RATE} ` : ''}BENCH_CONCURRENCY=${CONCURRENCY} BENCH_ITEMS=${ITEMS} BENCH_WARMUP=${WARMUP} npm run bench:gateway`,
      machine: `${os.cpus().length} CPUs`,
      events: load.total,
      warmup: load.warmup,
      unique: rows.length,
      duplicates: load.total - rows.length,
      concurrency: CONCURRENCY,
      rate: RATE ?? null,
      loadAverageBefore,
      // Measured after the warm-up requests.
      eventsPerSecond: Math.round(load.measured / (load.elapsedMs / 1000)),
      latencyMs: load.latencyMs,
      non2xx: load.non2xx,
      lost: expected - inbox.applied,
      appliedOnce: inbox.applied === expected && inbox.distinctTasks === expected,
      unsignalledAfterRun: inbox.unsignalled,
      workflow: { tasksCompleted: result.tasksCompleted, labelsRecorded: result.labelsRecorded },
    };
    fs.writeFileSync(path.join(BENCH_OUT, 'gateway.json'), JSON.stringify(summary, null, 2));
    console.log(JSON.stringify(summary));
  } finally {
    await silent.app.close();
    await database.close();
    await stack.stop();
  }
}

function runLoad(plan: string): Promise<{
  total: number;
  warmup: number;
  measured: number;
  elapsedMs: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, 'gateway-load.ts'), plan], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
