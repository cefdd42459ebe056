/** A catalog import's audit row commits with the import, against a real PostgreSQL; a rejected import leaves none. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { CatalogRejectedError, importCatalog } from '../catalog/import';
import { auditLog } from '../schema/tables';
import { createTestDatabase, type TestDatabase } from '../test/harness';

let database: TestDatabase;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-audit-'));
});
afterAll(async () => {
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, lines: unknown[]) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
};
const show = { kind: 'show', id: 's1', title: 'Show', genres: ['drama'], plot: 'A plot.' };
const synopsis = (id: string, text: string) => ({ kind: 'synopsis', id, showId: 's1', text });
const catalogRows = () =>
  database.db.select().from(auditLog).where(eq(auditLog.entity, 'catalog')).orderBy(asc(auditLog.id));

test('an import writes one row: who, the request, the item counts before and after', async () => {
  const first = write('first.jsonl', [show, synopsis('i1', 'One.'), synopsis('i2', 'Two.')]);
  await importCatalog(database.sql, first, { audit: { actor: 'ann', requestId: 'imp-1' } });
  const second = write('second.jsonl', [synopsis('i2', 'Two, edited.'), synopsis('i3', 'Three.')]);
  await importCatalog(database.sql, second, { audit: { actor: 'bob', requestId: 'imp-2', programId: 'p1' } });
  await importCatalog(database.sql, second); // no actor given (a test world, the demo): no row
  const rows = await catalogRows();
  expect(rows.map((r) => [r.actor, r.action, r.entityId, r.programId, r.requestId, r.before, r.after])).toEqual([
    [
      'ann',
      'catalog_imported',
      'first.jsonl',
      null,
      'imp-1',
      { items: 0 },
      { items: 2, newItems: 2, editedItems: 0, shows: 1 },
    ],
    [
      'bob',
      'catalog_imported',
      'second.jsonl',
      'p1',
      'imp-2',
      { items: 2 },
      { items: 3, newItems: 1, editedItems: 1, shows: 0 },
    ],
  ]);
  expect(rows[1].data).toEqual({ file: second, rows: 2, skippedRows: 0 });
});

test('an import rejected for a bad line writes no audit row; one that skips it records the skipped rows', async () => {
  const bad = write('bad.jsonl', [synopsis('i9', 'Nine.'), '{"kind":"synopsis","id":"i10"}', 'not json']);
  const audit = { actor: 'ann', requestId: 'imp-bad' };
  await expect(importCatalog(database.sql, bad, { audit })).rejects.toBeInstanceOf(CatalogRejectedError);
  expect(await database.db.select().from(auditLog).where(eq(auditLog.requestId, 'imp-bad'))).toEqual([]);
  await importCatalog(database.sql, bad, { audit: { ...audit, requestId: 'imp-skip' }, skipInvalid: true });
  const [skipped] = await database.db.select().from(auditLog).where(eq(auditLog.requestId, 'imp-skip'));
  expect([skipped.after, skipped.data.skippedRows]).toEqual([{ items: 4, newItems: 1, editedItems: 0, shows: 0 }, 2]);
});
