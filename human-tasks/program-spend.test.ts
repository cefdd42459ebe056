/**
 * A program's spend is read from program_spend, which the usage ledger's statement triggers keep
 * (migration 0019), against a real Postgres: after inserts from every writer (writeLedger's multi-row
 * statement, a retried request that adds to its row through ON CONFLICT DO UPDATE, a human task
 * charge), a delete and a truncate, programSpend equals the ledger's own sums, per program, and a
 * row without a program counts for none. Concurrent writers of one program lose nothing.
 */
import { sql } from 'drizzle-orm';
import { writeLedger, type LedgerEntry } from '../judging/ledger';
import type { ModelPrice } from '../llm/pricing';
import { programs, usageLedger } from '../schema/tables';
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { programSpend } from './accounting';

const prices: Record<string, ModelPrice> = { m: { input: 1, cachedInput: 0.5, output: 4, batchDiscount: 0.5 } };
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db
    .insert(programs)
    .values(['p1', 'p2'].map((id) => ({ id, name: id, spec: {}, budgetUsd: 100, status: 'running' as const })));
});
afterAll(() => database?.drop());

const entry = (programId: string, requestKey: string, promptTokens: number): LedgerEntry => ({
  requestKey,
  programId,
  phase: 'production',
  kind: 'judge',
  model: 'm',
  mode: 'sync',
  usage: { promptTokens, cachedTokens: 0, completionTokens: 10 },
});

/** The ledger's own sums, as programSpend computed them before program_spend. */
async function ledgerSums(programId: string) {
  const [row] = await database.db.execute<{ human: number; llm: number }>(sql`
    select coalesce(sum(cost_usd) filter (where kind = 'human_task'), 0)::float8 as human,
           coalesce(sum(cost_usd) filter (where kind <> 'human_task'), 0)::float8 as llm
    from usage_ledger where program_id = ${programId}`);
  const round = (n: number) => Math.round(n * 100) / 100;
  return { humanUsd: round(row.human), llmUsd: round(row.llm), totalUsd: round(row.human + row.llm) };
}

test('program_spend follows every write to the ledger', async () => {
  const { db } = database;
  expect(await programSpend(db, 'p1')).toEqual({ humanUsd: 0, llmUsd: 0, totalUsd: 0 });
  await writeLedger(
    db,
    prices,
    Array.from({ length: 50 }, (_, k) => entry(k % 2 ? 'p1' : 'p2', `r${k}`, 100_000 + k)),
  );
  // a retried request adds to its own row (ON CONFLICT DO UPDATE): the update trigger's delta
  await writeLedger(db, prices, [entry('p1', 'r1', 300_000), entry('p1', 'new', 200_000)]);
  await db.insert(usageLedger).values([
    { requestKey: 't1', programId: 'p1', phase: 'pilot', kind: 'human_task', costUsd: 1.25 },
    { requestKey: 't2', programId: null, phase: 'pilot', kind: 'human_task', costUsd: 99 },
  ]);
  for (const p of ['p1', 'p2']) expect(await programSpend(db, p)).toEqual(await ledgerSums(p));
  expect((await programSpend(db, 'p1')).humanUsd).toBe(1.25);
  expect((await programSpend(db, 'p1')).llmUsd).toBeGreaterThan(2);

  await db.execute(sql`update usage_ledger set cost_usd = cost_usd * 2 where program_id = 'p2'`);
  await db.execute(sql`delete from usage_ledger where request_key in ('r1', 't1')`);
  for (const p of ['p1', 'p2']) expect(await programSpend(db, p)).toEqual(await ledgerSums(p));

  // writers of one program at once: each statement's delta lands, none lost
  await Promise.all(
    Array.from({ length: 20 }, (_, k) =>
      writeLedger(db, prices, [entry('p1', `c${k}-a`, 50_000), entry('p1', `c${k}-b`, 70_000)]),
    ),
  );
  expect(await programSpend(db, 'p1')).toEqual(await ledgerSums('p1'));

  await db.execute(sql`truncate usage_ledger`);
  expect(await programSpend(db, 'p1')).toEqual({ humanUsd: 0, llmUsd: 0, totalUsd: 0 });
});
