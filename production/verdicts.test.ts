/**
 * A run's verdict counts as status reads them during a large run (run_verdict_tally's totals, minus
 * verdicts on texts edited since, plus errors a retry decided) against the plain rule: every verdict
 * of the run on its item's current text, an error replaced by a retry's decision. The tally itself
 * (kept by item_verdicts' statement triggers, migration 0021) against item_verdicts' own counts after
 * every kind of write, concurrent writers included.
 */
import { createTestDatabase, type TestDatabase } from '../test/harness';
import { createRng } from '../stats/index';
import { runErrors, runVerdictCounts } from './verdicts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const RUN = 'vp/r1';
const RETRY = 'vp/r1-retry-1';

/** The rule in its plainest form: each verdict joined to its item's current text. */
async function plainCounts(runKey: string) {
  const rows = await database.sql<{ criterion: string; pass: number; fail: number; error: number }[]>`
    select e.criterion, count(*) filter (where e.verdict = 1)::int as pass, count(*) filter (where e.verdict = 0)::int as fail,
      count(*) filter (where e.verdict is null)::int as error
    from (select v.criterion, coalesce(v.verdict, (
        select r.verdict from item_verdicts r where r.run_id = ${RETRY} and r.item_id = v.item_id
          and r.text_hash = v.text_hash and r.criterion = v.criterion and r.verdict is not null)) as verdict
      from item_verdicts v join items i on i.id = v.item_id and i.text_hash = v.text_hash where v.run_id = ${runKey}) e
    group by e.criterion order by e.criterion`;
  return Object.fromEntries(rows.map((r) => [r.criterion, { pass: r.pass, fail: r.fail, error: r.error }]));
}

test('counts equal the plain rule with edited items, errors and a retry run; errors are counted in SQL', async () => {
  const sql = database.sql;
  await sql`insert into programs (id, name, spec, budget_usd) values ('vp', 'vp', '{}', 100)`;
  await sql`insert into shows (id, title, locale, metadata) values ('vs', 'Show', 'en-US', '{}')`;
  const ids = Array.from({ length: 300 }, (_, i) => `vi-${String(i).padStart(3, '0')}`);
  await sql`insert into items (id, show_id, locale, text, text_hash, source, updated_at)
    select id, 'vs', 'en-US', 'text', 'h0-' || id, 'import', now() - interval '1 hour' from unnest(${ids}::text[]) id`;
  await sql`insert into production_runs (id, program_id, mode, params, started_at)
    values (${RUN}, 'vp', 'sync', '{"selection":{"kind":"all"}}', now() - interval '30 minutes'),
      (${RETRY}, 'vp', 'sync', ${JSON.stringify({ selection: { kind: 'errors', runKey: RUN } })}::jsonb, now())`;
  const rng = createRng(7);
  const verdicts: { item: string; criterion: string; verdict: number | null }[] = [];
  for (const item of ids)
    for (const criterion of ['clarity', 'tone']) {
      const r = rng.next();
      verdicts.push({ item, criterion, verdict: r < 0.2 ? null : r < 0.7 ? 1 : 0 });
    }
  await sql`insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples, summary)
    select ${RUN}, 'vp', v->>'item', 'h0-' || (v->>'item'), v->>'criterion', (v->>'verdict')::int, 1, 'error: provider 500'
    from jsonb_array_elements(${JSON.stringify(verdicts)}::jsonb) v`;
  // A retry decides some errors (and leaves one in error); then some items are edited, errors among them.
  const errors = verdicts.filter((v) => v.verdict === null);
  for (const [i, e] of errors.slice(0, 20).entries())
    await sql`insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples)
      values (${RETRY}, 'vp', ${e.item}, ${'h0-' + e.item}, ${e.criterion}, ${i === 0 ? null : i % 2}, 1)`;
  const edited = [...ids.slice(0, 15), ...errors.slice(10, 25).map((e) => e.item)];
  await sql`update items set text_hash = 'h1-' || id, updated_at = now() where id = any(${edited})`;

  const expected = await plainCounts(RUN);
  expect(Object.keys(expected)).toEqual(['clarity', 'tone']);
  expect(await runVerdictCounts(database.db, RUN)).toEqual(expected);
  // The fixture reaches every branch: edited items took verdicts out, the retry moved errors.
  const all = verdicts.filter((v) => v.criterion === 'tone');
  expect(expected.tone.pass + expected.tone.fail + expected.tone.error).toBeLessThan(all.length);

  const open = await runErrors(database.db, RUN, 2);
  const errorTotal = expected.clarity.error + expected.tone.error;
  expect(Object.values(open.byCriterion).reduce((a, n) => a + n, 0)).toBe(errorTotal);
  expect(open.byCriterion).toEqual({ clarity: expected.clarity.error, tone: expected.tone.error });
  expect(open.items).toBeLessThanOrEqual(errorTotal);
  expect(open.items).toBeGreaterThan(0);
  expect(open.samples).toHaveLength(2);
  expect(open.samples[0]).toMatchObject({ error: 'provider 500' });
});

test('a run with no verdicts, or only verdicts of texts since edited, counts nothing', async () => {
  expect(await runVerdictCounts(database.db, 'vp/none')).toEqual({});
  await database.sql`insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples)
    values ('vp/stale', 'vp', 'vi-000', 'h0-vi-000', 'tone', 1, 1)`;
  expect(await runVerdictCounts(database.db, 'vp/stale')).toEqual({});
  expect(await runErrors(database.db, 'vp/none')).toEqual({ byCriterion: {}, items: 0, samples: [] });
});

/** run_verdict_tally against item_verdicts' own counts, every run and criterion. */
async function tallyAndCounts() {
  const [tally, counts] = await Promise.all([
    database.sql`select run_id, criterion, pass::int, fail::int, error::int from run_verdict_tally
      where pass <> 0 or fail <> 0 or error <> 0 order by run_id, criterion`,
    database.sql`select run_id, criterion, count(*) filter (where verdict = 1)::int as pass,
        count(*) filter (where verdict = 0)::int as fail, count(*) filter (where verdict is null)::int as error
      from item_verdicts group by run_id, criterion order by run_id, criterion`,
  ]);
  return { tally: [...tally], counts: [...counts] };
}

test('the tally follows every write to item_verdicts: upserts, updates, deletes, concurrent writers, truncate', async () => {
  const sql = database.sql;
  const before = await tallyAndCounts();
  expect(before.tally).toEqual(before.counts);
  expect(before.tally.length).toBeGreaterThan(2);

  // the judging activity's upsert: a chunk judged again after a crash replaces its verdicts (an error now decided)
  const upsert = (rows: { item: string; verdict: number | null }[]) => sql`
    insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples, summary)
    select 'vp/r2', 'vp', r->>'item', 'h-' || (r->>'item'), 'tone', (r->>'verdict')::int, 1, ''
    from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) r
    on conflict (run_id, item_id, text_hash, criterion) do update set verdict = excluded.verdict`;
  await upsert(Array.from({ length: 40 }, (_, k) => ({ item: `vi-${String(k).padStart(3, '0')}`, verdict: null })));
  await upsert(Array.from({ length: 60 }, (_, k) => ({ item: `vi-${String(k).padStart(3, '0')}`, verdict: k % 2 })));
  await sql`update item_verdicts set verdict = 0 where run_id = ${RUN} and criterion = 'tone' and verdict = 1 and item_id < 'vi-050'`;
  await sql`delete from item_verdicts where run_id = ${RUN} and criterion = 'clarity' and item_id >= 'vi-250'`;
  // writers of one run at once, as a run's shards write: each statement's delta lands, none lost
  await Promise.all(
    Array.from({ length: 20 }, (_, w) =>
      sql.begin(
        (tx) => tx`
        insert into item_verdicts (run_id, program_id, item_id, text_hash, criterion, verdict, samples)
        select 'vp/r3', 'vp', 'vi-' || lpad(k::text, 3, '0'), 'h', c, nullif((k + ${w}::int) % 3, 2), 1
        from generate_series(${w * 15}::int, ${w * 15 + 14}::int) k, unnest(array['clarity', 'tone']) c`,
      ),
    ),
  );
  const after = await tallyAndCounts();
  expect(after.tally).toEqual(after.counts);
  const r3 = after.tally.find((r) => r.run_id === 'vp/r3' && r.criterion === 'tone')!;
  expect([r3.pass + r3.fail + r3.error, r3.pass > 0, r3.fail > 0, r3.error > 0]).toEqual([300, true, true, true]);
  expect(after.tally.find((r) => r.run_id === 'vp/r2')).toEqual({
    run_id: 'vp/r2',
    criterion: 'tone',
    pass: 30,
    fail: 30,
    error: 0,
  });

  await sql`truncate item_verdicts`;
  expect((await tallyAndCounts()).tally).toEqual([]);
});
