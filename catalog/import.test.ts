import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
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

test('a re-import with one row changed writes that row alone: its item, one revision; a text may return to an earlier one', async () => {
  const rows = (second: string) => [show('e1'), synopsis('e-a', 'e1', 'Alpha.'), synopsis('e-b', 'e1', second)];
  await importCatalog(database.sql, write('e1.jsonl', rows('Beta.')));
  const before = await counts();
  const edited = await importCatalog(database.sql, write('e2.jsonl', rows('Beta, edited.')));
  expect(edited).toMatchObject({ synopses: 2, newItems: 0, editedItems: 1, unchangedItems: 1 });
  const touched = await database.sql<{ id: string }[]>`
    select id from items where updated_at >= ${edited.importedAt} order by id`;
  expect(touched.map((r) => r.id)).toEqual(['e-b']);
  expect(await counts()).toEqual({ ...before, revisions: before.revisions + 1 });

  // Back to the first text: the item changes, its revision already exists and is kept once.
  const reverted = await importCatalog(database.sql, write('e3.jsonl', rows('Beta.')));
  expect(reverted).toMatchObject({ editedItems: 1, unchangedItems: 1 });
  const [b] = await database.sql<{ text: string }[]>`select text from items where id = 'e-b'`;
  expect(b.text).toBe('Beta.');
  expect(await counts()).toEqual({ ...before, revisions: before.revisions + 1 });
});

test('a synopsis of a show imported before is not an orphan; a malformed line past the first COPY chunks stores nothing', async () => {
  await importCatalog(database.sql, write('p1.jsonl', [show('p1')]));
  const later = await importCatalog(database.sql, write('p2.jsonl', [synopsis('p-1', 'p1', 'Belongs to p1.')]));
  expect(later).toMatchObject({ invalidRows: 0, newItems: 1, shows: 0 });

  const before = await counts();
  const lines = [show('p2')];
  for (let i = 0; i < 9; i++) lines.push(synopsis(`p2-${i}`, 'p2', `Text ${i}.`));
  lines.push('{"kind":"synopsis","id":"p2-x","showId":"p2","text":"cut short');
  lines.push(synopsis('p2-9', 'p2', 'After the bad line.'));
  const err = await importCatalog(database.sql, write('p3.jsonl', lines), { chunkSize: 2 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CatalogRejectedError);
  expect((err as CatalogRejectedError).problems).toEqual([
    { line: 11, message: expect.stringMatching(/not valid JSON/) },
  ]);
  expect(await counts()).toEqual(before);
});

test('the foreign keys stay declared and enforced after an import that wrote without their per-row triggers', async () => {
  await importCatalog(database.sql, write('fk.jsonl', [show('f1'), synopsis('f-1', 'f1', 'Text.')]));
  await expect(
    database.sql`insert into items (id, show_id, text, text_hash) values ('f-2', 'no-such-show', 'x', 'x')`,
  ).rejects.toThrow(/foreign key/);
  await expect(
    database.sql`insert into item_revisions (item_id, text_hash, text, source) values ('no-such-item', 'x', 'x', 'import')`,
  ).rejects.toThrow(/foreign key/);
});

test('a role that may not set session_replication_role imports the same way, through the per-row foreign-key checks', async () => {
  const role = `importer_${Math.random().toString(36).slice(2, 10)}`;
  await database.sql.unsafe(`create role ${role} login password 'importer'`);
  await database.sql.unsafe(`grant usage on schema public to ${role}`);
  await database.sql.unsafe(`grant select, insert, update on all tables in schema public to ${role}`);
  await database.sql.unsafe(`grant usage on all sequences in schema public to ${role}`);
  const url = new URL(database.url);
  const [{ db }] = await database.sql<{ db: string }[]>`select current_database() as db`;
  await database.sql.unsafe(`grant temporary on database ${db} to ${role}`);
  url.username = role;
  url.password = 'importer';
  const importer = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  try {
    const [{ bulk }] = await importer<{ bulk: boolean }[]>`
      select has_parameter_privilege('session_replication_role', 'set') as bulk`;
    expect(bulk).toBe(false);
    const file = write('role.jsonl', [show('g1'), synopsis('g-1', 'g1', 'One.'), synopsis('g-2', 'g1', 'Two.')]);
    expect(await importCatalog(importer, file)).toMatchObject({ newItems: 2, shows: 1 });
    const edit = write('role-edit.jsonl', [synopsis('g-2', 'g1', 'Two, edited.')]);
    expect(await importCatalog(importer, edit)).toMatchObject({ editedItems: 1 });
    const revisions = await database.sql<{ n: number }[]>`
      select count(*)::int as n from item_revisions where item_id in ('g-1', 'g-2')`;
    expect(revisions[0].n).toBe(3);
  } finally {
    await importer.end();
    await database.sql.unsafe(`drop owned by ${role}`);
    await database.sql.unsafe(`drop role ${role}`);
  }
});
