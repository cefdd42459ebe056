/**
 * Two programs on one stack over overlapping item sets (issue 16 item 1), run at the same time on
 * the dev server with auto gates, Postgres, the LLM simulator and the simulated vendor: each one's
 * draws, tasks, golden set, judgments, verdicts and fix loops reference only its own items, and its
 * draws and production run are exactly what its item set alone gives.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { eq, sql } from 'drizzle-orm';
import {
  fixCycles,
  goldenLabels,
  itemVerdicts,
  judgments,
  programItems,
  programItemSet,
  tasks,
} from '../schema/tables';
import { devServerClient, devServerWorker, uniqueTaskQueue } from '../test/harness';
import { createProgramWorld, waitForStatus, type ProgramWorld } from '../test/program-fixture';
import { approveGateUpdate } from './messages';
import { programWorkflow } from './program';
import { programWorkflowId } from './ids';

jest.setTimeout(900_000);
const suffix = Math.random().toString(16).slice(2, 8);
const PROGRAMS = [`two-a-${suffix}`, `two-b-${suffix}`];
const LIMIT = 30;

let client: Client;
let world: ProgramWorld;
let worker: Worker;
let connection: NativeConnection;
let running: Promise<void>;
beforeAll(async () => {
  client = await devServerClient();
  world = await createProgramWorld(client, { searchAttributes: true });
  const taskQueue = uniqueTaskQueue('two-programs');
  ({ worker, connection } = await devServerWorker(taskQueue, world.deps));
  running = worker.run();
  for (const [i, id] of PROGRAMS.entries())
    await world.register(id, {
      // Two samples of one catalog (~245 synopses): they overlap by about a third.
      items: { sample: { size: 90, seed: i + 1 } },
      targets: { agreement: 0.5, agreementMetric: 'percent_agreement', judgeAccuracy: 0.5 },
      gates: { policy: 'auto', autoAfter: '0s' },
      production: { mode: 'sync', limit: LIMIT, fixLoop: true, maxFixAttempts: 1, writerVendor: world.vendor.id },
    });
  await Promise.all(
    PROGRAMS.map((id) =>
      client.workflow.start(programWorkflow, {
        workflowId: programWorkflowId(id),
        taskQueue,
        args: [{ programId: id }],
      }),
    ),
  );
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await world?.close();
  await client?.connection.close();
});

const db = () => world.database.db;
const column = async (query: ReturnType<typeof sql>) => (await db().execute<{ v: string }>(query)).map((r) => r.v);

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * Runs a program to completion. Auto gates pass by themselves except a missed target (which waits,
 * whatever the policy): the random ids change the draws, so a judge may miss its accuracy target on
 * its held-out set; that gate is approved as a PM would, since isolation, not accuracy, is tested here.
 */
async function completed(programId: string) {
  const handle = client.workflow.getHandle(programWorkflowId(programId));
  for (let approvals = 0; ; approvals++) {
    const status = await waitForStatus(handle, (s) => s.status === 'completed' || s.status === 'waiting_gate', 300_000);
    if (status.status === 'completed') return status;
    const gate = status.gate?.name ?? 'unknown';
    await handle.executeUpdate(approveGateUpdate, {
      args: [{ requestId: `${programId}/approve/${approvals}`, actor: 'test-pm', gate }],
    });
  }
}

test('two programs over overlapping items run at once, each on its own items only', async () => {
  const finals = await Promise.all(PROGRAMS.map(completed));
  // Fix loops run detached from the program: wait until each program's have all ended.
  for (const [p, programId] of PROGRAMS.entries()) {
    const failing = finals[p].production?.failing ?? 0;
    for (const deadline = Date.now() + 300_000; ;) {
      const cycles = await db().select().from(fixCycles).where(eq(fixCycles.programId, programId));
      if (cycles.length === failing && cycles.every((c) => c.status !== 'open')) break;
      if (Date.now() > deadline) throw new Error(`fix loops of ${programId}: ${JSON.stringify(cycles)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const sets = await Promise.all(
    PROGRAMS.map(async (id) =>
      (
        await db()
          .select({ id: programItemSet.itemId })
          .from(programItemSet)
          .where(eq(programItemSet.programId, id))
          .orderBy(programItemSet.itemId)
      ).map((r) => r.id),
    ),
  );
  expect(sets.map((s) => s.length)).toEqual([90, 90]);
  const shared = sets[0].filter((id) => sets[1].includes(id));
  expect(shared.length).toBeGreaterThan(10);

  for (const [p, programId] of PROGRAMS.entries()) {
    const own = new Set(sets[p]);
    const final = finals[p];
    const outside = (ids: string[]) => ids.filter((id) => !own.has(id));

    // Draws: exactly what the set alone gives, in the program's stable order (pilot, rounds, golden set).
    const order = [...own].sort((a, b) => (md5(programId + a) < md5(programId + b) ? -1 : 1));
    const rounds = final.rounds.filter((r) => r.phase === 'calibration').length;
    const draws = await db()
      .select({ itemId: programItems.itemId, purpose: programItems.purpose })
      .from(programItems)
      .where(eq(programItems.programId, programId));
    const drawn = (purpose: string) =>
      draws
        .filter((d) => d.purpose === purpose)
        .map((d) => d.itemId)
        .sort();
    expect(drawn('pilot')).toEqual(order.slice(0, 6).sort());
    for (let r = 1; r <= rounds; r++) expect(drawn(`calibration/${r}`)).toEqual(order.slice(6 * r, 6 * r + 6).sort());
    expect(drawn('golden-set')).toEqual(order.slice(6 + 6 * rounds, 6 + 6 * rounds + 24).sort());

    // Tasks, golden labels, judgments, verdicts and fix cycles: only the program's own items.
    const taskItems = await column(sql`select distinct item_id as v from ${tasks} where program_id = ${programId}`);
    expect(taskItems.length).toBeGreaterThan(0);
    expect(outside(taskItems)).toEqual([]);
    const rateTasks = await db().$count(
      tasks,
      sql`${tasks.programId} = ${programId} and ${tasks.kind} = 'rate' and ${tasks.attempt} = 0`,
    );
    // pilot 6 × 3 raters, each round 6 × 3, the golden set 24 × 3 (no gold mixed in: goldRate 0).
    expect(rateTasks).toBe(18 + 18 * rounds + 72);
    const golden = await column(sql`select distinct item_id as v from ${goldenLabels} where program_id = ${programId}`);
    expect(golden.sort()).toEqual(drawn('golden-set'));
    expect(final.goldenSet?.items).toBe(24);
    const judged = await column(sql`select distinct item_id as v from ${judgments} where program_id = ${programId}`);
    expect(outside(judged)).toEqual([]);
    const verdictItems = await column(
      sql`select distinct item_id as v from ${itemVerdicts} where run_id = ${`${programId}/initial`} order by 1`,
    );
    // Production judged the first LIMIT items of its own set (in id order): what it would alone.
    expect(verdictItems).toEqual(sets[p].slice(0, LIMIT));
    expect(final.production).toMatchObject({ judged: LIMIT, total: LIMIT });
    expect(
      outside(await column(sql`select distinct item_id as v from ${itemVerdicts} where program_id = ${programId}`)),
    ).toEqual([]);
    const cycles = await db()
      .select({ itemId: fixCycles.itemId, id: fixCycles.id })
      .from(fixCycles)
      .where(eq(fixCycles.programId, programId));
    expect(cycles).toHaveLength(final.production?.failing ?? -1);
    expect(outside(cycles.map((c) => c.itemId))).toEqual([]);
    expect(cycles.every((c) => c.id.startsWith(`${programId}/`))).toBe(true);
    // Every fix loop is the program's own workflow (…/program/<id>/fix/<item>).
    for (const c of cycles)
      await expect(
        client.workflow.getHandle(`${programWorkflowId(programId)}/fix/${c.itemId}`).describe(),
      ).resolves.toMatchObject({ status: { name: 'COMPLETED' } });
  }
  // Some item was drawn, rated or judged by both programs, each on its own records.
  const both = await column(sql`
    select item_id as v from ${judgments} where program_id in ${PROGRAMS}
    group by item_id having count(distinct program_id) = 2`);
  expect(both.length).toBeGreaterThan(0);
  console.log(
    `two programs: ${shared.length} shared items of 90 each; judged by both: ${both.length}; rounds ${finals
      .map((f) => f.rounds.length)
      .join(' and ')}`,
  );
});
