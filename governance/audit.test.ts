/** recordAudit through both transaction kinds the code base uses, against a real PostgreSQL. */
import { asc, eq } from 'drizzle-orm';
import { auditLog } from '../schema/tables';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { recordAudit } from './audit';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

const rows = (entityId: string) =>
  database.db.select().from(auditLog).where(eq(auditLog.entityId, entityId)).orderBy(asc(auditLog.id));

test('a drizzle transaction writes the row with before/after; the same request again writes nothing', async () => {
  const entry = {
    actor: 'ann',
    action: 'budget_changed',
    entity: 'program',
    entityId: 'p-drizzle',
    programId: 'p-drizzle',
    before: { budgetUsd: 10 },
    after: { budgetUsd: 20 },
    requestId: 'r-1',
    data: { note: 'more rounds' },
  };
  expect(await database.db.transaction((tx) => recordAudit(tx, entry))).toBe(true);
  expect(await database.db.transaction((tx) => recordAudit(tx, entry))).toBe(false);
  const [row, ...more] = await rows('p-drizzle');
  expect(more).toEqual([]);
  expect(row).toMatchObject({
    actor: 'ann',
    action: 'budget_changed',
    programId: 'p-drizzle',
    before: { budgetUsd: 10 },
    after: { budgetUsd: 20 },
    requestId: 'r-1',
    data: { note: 'more rounds' },
  });
});

test('a postgres sql transaction writes the same row shape; without a request id every call is a row', async () => {
  const entry = {
    actor: 'qa',
    action: 'rater_paused',
    entity: 'rater',
    entityId: 'acme:sql',
    after: { status: 'paused' },
  };
  await database.sql.begin(async (tx) => {
    expect(await recordAudit(tx, entry)).toBe(true);
    expect(await recordAudit(tx, entry)).toBe(true);
  });
  const written = await rows('acme:sql');
  expect(written).toHaveLength(2);
  expect(written[0]).toMatchObject({
    programId: null,
    before: null,
    after: { status: 'paused' },
    requestId: null,
    data: {},
  });
});

test('a transaction that rolls back leaves no audit row', async () => {
  const entry = { actor: 'ann', action: 'catalog_imported', entity: 'catalog', entityId: 'rolled-back' };
  await expect(
    database.sql.begin(async (tx) => {
      await recordAudit(tx, entry);
      throw new Error('the change failed');
    }),
  ).rejects.toThrow('the change failed');
  await expect(
    database.db.transaction(async (tx) => {
      await recordAudit(tx, entry);
      throw new Error('the change failed');
    }),
  ).rejects.toThrow('the change failed');
  expect(await rows('rolled-back')).toEqual([]);
});
