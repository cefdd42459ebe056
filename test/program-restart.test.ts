/**
 * A worker restart mid-phase, on the dev server (the time-skipping server does not release a
 * stopped worker's long polls): the program carries on with a new worker and nothing is recorded twice.
 */
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { programWorkflow } from '../workflows/program';
import { devServerClient, devServerWorker, uniqueTaskQueue } from './harness';
import { createProgramWorld, waitForStatus, type ProgramWorld } from './program-fixture';

jest.setTimeout(300_000);
let client: Client;
let world: ProgramWorld;

beforeAll(async () => {
  client = await devServerClient();
  world = await createProgramWorld(client, { searchAttributes: true });
});
afterAll(async () => {
  await world?.close();
  await client?.connection.close();
});

test('a worker restart mid-phase loses nothing and repeats nothing', async () => {
  const taskQueue = uniqueTaskQueue('program-restart');
  await world.register('restart', {
    gates: { policy: 'auto', autoAfter: '0s' },
    targets: { agreement: 0.999, agreementMetric: 'percent_agreement', judgeAccuracy: 0.85 },
    rounds: { pilotSize: 6, calibrationSize: 6, maxCalibrationRounds: 3, goldenSetSize: 24, testShare: 0.5 },
  });
  let { worker, connection } = await devServerWorker(taskQueue, world.deps);
  let running = worker.run();
  const handle = await client.workflow.start(programWorkflow, {
    workflowId: `program/restart-${taskQueue}`,
    taskQueue,
    args: [{ programId: 'restart' }],
  });
  await waitForStatus(handle, (s) => s.phase === 'calibration');
  worker.shutdown();
  await running;
  await connection.close();
  ({ worker, connection } = await devServerWorker(taskQueue, world.deps));
  running = worker.run();
  try {
    const atGate = await waitForStatus(handle, (s) => s.gate?.name === 'calibration');
    expect(atGate.rounds.map((r) => `${r.phase}${r.round}`)).toEqual([
      'pilot0',
      'calibration1',
      'calibration2',
      'calibration3',
    ]);
    const twice = (await world.database.db.execute(
      sql`select task_id, criterion from labels where program_id = 'restart' group by task_id, criterion having count(*) > 1`,
    )) as unknown[];
    expect(twice).toEqual([]);
    const perRound = (await world.database.db.execute(
      sql`select purpose, count(*)::int as n from program_items where program_id = 'restart' group by purpose order by purpose`,
    )) as unknown as { purpose: string; n: number }[];
    expect(perRound).toEqual([
      { purpose: 'calibration/1', n: 6 },
      { purpose: 'calibration/2', n: 6 },
      { purpose: 'calibration/3', n: 6 },
      { purpose: 'pilot', n: 6 },
    ]);
    await handle.cancel();
    await handle.result();
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
