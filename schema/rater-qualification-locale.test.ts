/**
 * Migration 0016 on a database that has qualifications from before: each existing pass counts for
 * its program's default locale (the first of `locales:`, else `locale`), and a rater can then hold
 * one qualification per locale. Real Postgres; the table is put back in its 0015 shape first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { programs, raterQualifications, raters, vendors } from './tables';
import { createTestDatabase, type TestDatabase } from '../test/harness';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

test('existing qualifications take their program default locale', async () => {
  const { db, sql } = database;
  await sql.unsafe(`
    alter table rater_qualifications drop constraint rater_qualifications_program_id_rater_id_locale_pk;
    alter table rater_qualifications drop column locale;
    alter table rater_qualifications add constraint rater_qualifications_program_id_rater_id_pk primary key (program_id, rater_id);`);
  const specs: Record<string, Record<string, unknown>> = {
    multi: { locales: [{ code: 'es-ES' }, { code: 'en-US' }] },
    french: { locale: 'fr-FR' },
    plain: {},
  };
  await db.insert(programs).values(Object.entries(specs).map(([id, spec]) => ({ id, name: id, spec, budgetUsd: 1 })));
  await db.insert(vendors).values({ id: 'v', name: 'v', kind: 'http' });
  await db.insert(raters).values({ id: 'v:r', vendorId: 'v', externalId: 'r' });
  for (const programId of Object.keys(specs))
    await sql`insert into rater_qualifications (program_id, rater_id, status) values (${programId}, 'v:r', 'passed')`;

  const migration = fs.readFileSync(path.join(__dirname, 'migrations/0016_rater_qualification_locale.sql'), 'utf8');
  for (const statement of migration.split('--> statement-breakpoint')) await sql.unsafe(statement);

  const rows = await db.select().from(raterQualifications);
  expect(Object.fromEntries(rows.map((q) => [q.programId, [q.locale, q.status]]))).toEqual({
    multi: ['es-ES', 'passed'],
    french: ['fr-FR', 'passed'],
    plain: ['en-US', 'passed'],
  });
  // the same rater and program in another locale is a row of its own
  await db.insert(raterQualifications).values({ programId: 'multi', raterId: 'v:r', locale: 'en-US' });
  await expect(
    db.insert(raterQualifications).values({ programId: 'multi', raterId: 'v:r', locale: 'en-US' }),
  ).rejects.toThrow();
});
