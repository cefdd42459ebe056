import { eq } from 'drizzle-orm';
import { smokeChecks } from '../schema/tables';
import { smokeWorkflow } from '../workflows';
import {
  createTestDatabase,
  devServerClient,
  devServerWorker,
  recordHistory,
  testDeps,
  uniqueTaskQueue,
  type TestDatabase,
} from './harness';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

test('a workflow round-trips through a worker on the real Temporal server into the real Postgres', async () => {
  const client = await devServerClient();
  const taskQueue = uniqueTaskQueue('smoke');
  const { worker, connection } = await devServerWorker(taskQueue, testDeps(database));
  const workflowId = `smoke/${taskQueue}`;
  const result = await worker.runUntil(async () => {
    const handle = await client.workflow.start(smokeWorkflow, { workflowId, taskQueue, args: ['hello'] });
    const out = await handle.result();
    await recordHistory(handle, 'smokeWorkflow');
    return out;
  });
  await connection.close();
  await client.connection.close();
  expect(result).toMatchObject({ id: workflowId, message: 'hello' });
  const rows = await database.db.select().from(smokeChecks).where(eq(smokeChecks.id, workflowId));
  expect(rows).toHaveLength(1);
  expect(rows[0].createdAt.toISOString()).toBe(result.storedAt);
});
