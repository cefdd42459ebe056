/**
 * A run's verdict counts as status reads them during a large run (counted from the run_id/verdict
 * index, minus verdicts on texts edited since, plus errors a retry decided) against the plain rule:
 * every verdict of the run on its item's current text, an error replaced by a retry's decision.
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
