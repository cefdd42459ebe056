import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogRejectedError, importCatalog } from './import';
import { textHash } from './text-hash';
import { createTestDatabase, type TestDatabase } from '../test/harness';

let database: TestDatabase;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
});
afterAll(async () => {
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, lines: string[]) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
};
const show = (id: string) =>
  JSON.stringify({ kind: 'show', id, title: `Show ${id}`, genres: ['drama'], plot: 'A plot.' });
const synopsis = (id: string, showId: string, text: string) => JSON.stringify({ kind: 'synopsis', id, showId, text });
const counts = async () => {
  const [row] = await database.sql<{ shows: number; items: number; revisions: number }[]>`
    select (select count(*)::int from shows) as shows, (select count(*)::int from items) as items, (select count(*)::int from item_revisions) as revisions`;
  return row;
};

test('a JSONL catalog is imported; re-importing it changes nothing; an edit is a new revision with a fresh updated_at', async () => {
  const file = write('a.jsonl', [
    show('s1'),
    show('s2'),
    synopsis('i1', 's1', 'First text.'),
    '',
    synopsis('i2', 's2', 'Second text.'),
  ]);
  const first = await importCatalog(database.sql, file, { chunkSize: 2 });
  expect(first).toMatchObject({
    rows: 4,
    shows: 2,
    synopses: 2,
    newItems: 2,
    editedItems: 0,
    unchangedItems: 0,
    invalidRows: 0,
  });
  expect(await counts()).toEqual({ shows: 2, items: 2, revisions: 2 });
  const [s1] = await database.sql<
    { genres: string; plot: string }[]
  >`select metadata->'genres'->>0 as genres, metadata->>'plot' as plot from shows where id = 's1'`;
  expect(s1).toEqual({ genres: 'drama', plot: 'A plot.' });

  const again = await importCatalog(database.sql, file);
  expect(again).toMatchObject({ newItems: 0, editedItems: 0, unchangedItems: 2 });
  const [{ n: touched }] = await database.sql<
    { n: number }[]
  >`select count(*)::int as n from items where updated_at >= ${again.importedAt}`;
  expect(touched).toBe(0);

  const edit = write('b.jsonl', [synopsis('i2', 's2', 'Second text, edited.')]);
  const edited = await importCatalog(database.sql, edit);
  expect(edited).toMatchObject({ newItems: 0, editedItems: 1 });
  const changed = await database.sql<
    { id: string; text_hash: string }[]
  >`select id, text_hash from items where updated_at >= ${edited.importedAt}`;
  expect(changed).toEqual([{ id: 'i2', text_hash: textHash('Second text, edited.') }]);
  expect(await counts()).toEqual({ shows: 2, items: 2, revisions: 3 });
});

test('invalid rows are reported with their line numbers and nothing is imported', async () => {
  const before = await counts();
  const file = write('bad.jsonl', [
    show('s9'),
    synopsis('n1', 's9', 'Fine.'),
    '{"kind":"synopsis","id":"n2","showId":"s9"}', // line 3: no text
    '{not json', // line 4
    synopsis('n3', 'nowhere', 'Orphan.'), // line 5: unknown show
    JSON.stringify({ kind: 'movie', id: 'x' }), // line 6: unknown kind
  ]);
  const err = await importCatalog(database.sql, file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CatalogRejectedError);
  const rejected = err as CatalogRejectedError;
  expect(rejected.invalidRows).toBe(4);
  expect(rejected.problems.map((p) => p.line)).toEqual([3, 4, 5, 6]);
  expect(rejected.problems[0].message).toMatch(/text/);
  expect(rejected.problems[2].message).toMatch(/unknown show "nowhere"/);
  expect(rejected.message).toMatch(/line 4: not valid JSON/);
  expect(await counts()).toEqual(before);

  const partial = await importCatalog(database.sql, file, { skipInvalid: true });
  expect(partial).toMatchObject({ invalidRows: 4, newItems: 1, shows: 1 });
  expect(await counts()).toEqual({ shows: before.shows + 1, items: before.items + 1, revisions: before.revisions + 1 });
});

test('CSV with quoted commas, quotes and newlines; a short row is reported by the line it starts on', async () => {
  const file = write('c.csv', [
    'kind,id,showId,title,text',
    'show,c1,,"Show, with comma",',
    'synopsis,k1,c1,,"He said ""hi"", then',
    'left."',
    'synopsis,k2,c1',
  ]);
  const err = (await importCatalog(database.sql, file).catch((e: unknown) => e)) as CatalogRejectedError;
  expect(err.problems).toEqual([{ line: 5, message: 'expected 5 fields as in the header, got 3' }]);
  const result = await importCatalog(database.sql, file, { skipInvalid: true });
  expect(result).toMatchObject({ newItems: 1, shows: 1 });
  const [item] = await database.sql<{ text: string }[]>`select text from items where id = 'k1'`;
  expect(item.text).toBe('He said "hi", then\nleft.');
  const [s] = await database.sql<{ title: string }[]>`select title from shows where id = 'c1'`;
  expect(s.title).toBe('Show, with comma');
});

test('a fatal error mid-file (a missing file, an unterminated quote) imports nothing', async () => {
  const before = await counts();
  await expect(importCatalog(database.sql, path.join(dir, 'absent.jsonl'))).rejects.toThrow(/no such file/);
  const file = write('d.csv', ['id,showId,text', 'z1,c1,fine', 'z2,c1,"never closed']);
  await expect(importCatalog(database.sql, file, { skipInvalid: true })).rejects.toThrow(/unterminated quoted field/);
  expect(await counts()).toEqual(before);
});

test('a repeated id keeps its last row; texts with backslashes, tabs and line breaks are stored byte for byte', async () => {
  const odd = 'Line one.\nA tab\there, a backslash \\n not a newline, \\\\ two, and a CR\r.';
  const file = write('repeats.jsonl', [
    show('r1'),
    JSON.stringify({ kind: 'show', id: 'r1', title: 'Renamed', genres: ['comedy'], plot: 'Later plot.' }),
    synopsis('ri1', 'r1', 'Old text.'),
    synopsis('ri2', 'r1', odd),
    synopsis('ri1', 'r1', 'New text.'),
  ]);
  const result = await importCatalog(database.sql, file, { chunkSize: 2 });
  expect(result).toMatchObject({ rows: 5, shows: 1, synopses: 2, newItems: 2 });
  const rows = await database.sql<
    { id: string; text: string; text_hash: string }[]
  >`select id, text, text_hash from items where id in ('ri1', 'ri2') order by id`;
  expect(rows).toEqual([
    { id: 'ri1', text: 'New text.', text_hash: textHash('New text.') },
    { id: 'ri2', text: odd, text_hash: textHash(odd) },
  ]);
  const [title] = await database.sql<{ title: string }[]>`select title from shows where id = 'r1'`;
  expect(title.title).toBe('Renamed');
  // Only the winning row is a revision: the repeated id's earlier text never reached the tables.
  const [{ n }] = await database.sql<
    { n: number }[]
  >`select count(*)::int as n from item_revisions where item_id = 'ri1'`;
  expect(n).toBe(1);
});

test('orphans past the report limit are counted exactly, and --skip-invalid imports the rest', async () => {
  const before = await counts();
  const lines = [show('o1'), synopsis('oi1', 'o1', 'Has a show.')];
  for (let i = 0; i < 7; i++) lines.push(synopsis(`orphan-${i}`, 'no-such-show', 'Lost.'));
  const file = write('orphans.jsonl', lines);
  const rejected = await importCatalog(database.sql, file, { maxProblems: 3 }).catch((e: unknown) => e);
  expect(rejected).toBeInstanceOf(CatalogRejectedError);
  expect(rejected).toMatchObject({ invalidRows: 7 });
  expect((rejected as CatalogRejectedError).problems.map((p) => p.line)).toEqual([3, 4, 5]);
  expect(await counts()).toEqual(before);

  const skipped = await importCatalog(database.sql, file, { maxProblems: 3, skipInvalid: true });
  expect(skipped).toMatchObject({ invalidRows: 7, synopses: 1, newItems: 1 });
  expect(skipped.problems).toHaveLength(3);
  expect(await counts()).toEqual({
    ...before,
    shows: before.shows + 1,
    items: before.items + 1,
    revisions: before.revisions + 1,
  });
});
