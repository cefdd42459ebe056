/**
 * A program's item set on a real PostgreSQL: what each filter of `items:` selects, a seeded sample
 * (the same twice, another with another seed), a selection from the spec's catalog file, an empty
 * selection refused with nothing registered, a later import into the program, and the draws and
 * production pages that read only the set (a program from before item sets still reads everything).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import YAML from 'yaml';
import { importCatalog } from './import';
import { addImportToItemSet, recordSelection, specSelection } from './item-set';
import { createProgramActivities } from '../program/activities';
import { createProductionActivities } from '../production/activities';
import {
  checkProgramPrerequisites,
  importSpecCatalog,
  ProgramRegistrationError,
  registerProgram,
} from '../program/registration';
import { validateProgramSpec, type ProgramSpec, type ProgramSpecInput } from '../schema/program-spec';
import { programItemSet, programs, programSelections } from '../schema/tables';
import { createTestDatabase, testDeps, type TestDatabase } from '../test/harness';

let database: TestDatabase;
let dir: string;

const show = (id: string, locale: string, genres: string[]) =>
  JSON.stringify({ kind: 'show', id, title: id, locale, genres });
const synopsis = (id: string, showId: string, locale: string) =>
  JSON.stringify({ kind: 'synopsis', id, showId, locale, text: `The synopsis ${id}.` });
const ids = (showId: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${showId}-${String(i + 1).padStart(2, '0')}`);
/** `count` synopses of a show, ids `<show>-01`…. */
const synopses = (showId: string, locale: string, count: number) =>
  ids(showId, count).map((id) => synopsis(id, showId, locale));

function writeCatalog(name: string, lines: string[]) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

const example = YAML.parse(
  fs.readFileSync(path.resolve(__dirname, '../examples/demo-program.yaml'), 'utf8'),
) as ProgramSpecInput;

/** A small valid spec (rounds need 5 + 5 + 10 items) with `items` and any overrides. */
function spec(id: string, items: Record<string, unknown>, over: Record<string, unknown> = {}): ProgramSpec {
  const result = validateProgramSpec({
    ...example,
    id,
    items,
    vendors: [{ ...example.vendors[0], id: 'item-set-vendor', secretEnv: 'ITEM_SET_SECRET' }],
    goldExamples: [],
    production: { writerVendor: 'item-set-vendor' },
    rounds: { pilotSize: 5, calibrationSize: 5, maxCalibrationRounds: 1, goldenSetSize: 10, testShare: 0.5 },
    ...over,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

const env = { ITEM_SET_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
const checkOpts = { rpmLimit: 10_000, model: 'gpt-4.1-mini' };

async function register(s: ProgramSpec, catalog?: Awaited<ReturnType<typeof importSpecCatalog>>) {
  const checked = await checkProgramPrerequisites(database.db, s, env, { ...checkOpts, catalog });
  await registerProgram(database.db, s, checked.estimate, checked.vendors, checked.selection);
}

const itemSet = async (programId: string) =>
  (
    await database.db
      .select({ id: programItemSet.itemId })
      .from(programItemSet)
      .where(eq(programItemSet.programId, programId))
      .orderBy(programItemSet.itemId)
  ).map((r) => r.id);

/** A program row with no selection: as registered before item sets. */
const legacyProgram = (id: string) => database.db.insert(programs).values({ id, name: id, spec: {}, budgetUsd: 100 });

let secondImport: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'item-set-'));
  // 16 English dramas, 20 English comedies, 20 Spanish dramas; 4 more English dramas imported later.
  await importCatalog(
    database.sql,
    writeCatalog('first.jsonl', [
      show('en-drama', 'en-US', ['Drama', 'Crime']),
      show('en-comedy', 'en-US', ['Comedy']),
      show('es-drama', 'es-ES', ['drama']),
      ...synopses('en-drama', 'en-US', 16),
      ...synopses('en-comedy', 'en-US', 20),
      ...synopses('es-drama', 'es-ES', 20),
    ]),
  );
  await new Promise((r) => setTimeout(r, 20));
  const later = await importCatalog(
    database.sql,
    writeCatalog('later.jsonl', [show('en-late', 'en-US', ['Drama']), ...synopses('en-late', 'en-US', 4)]),
  );
  secondImport = later.importedAt;
});
afterAll(async () => {
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('each filter selects what it names, within the program locales', async () => {
  await register(spec('all-en', {}));
  expect(await itemSet('all-en')).toHaveLength(16 + 20 + 4);
  await register(spec('es-only', { locale: 'es-ES' }, { locale: 'es-ES' }));
  expect(await itemSet('es-only')).toEqual(ids('es-drama', 20));
  // Genres match case-insensitively across both locales of a multilingual program.
  const both = { locales: [{ code: 'en-US' }, { code: 'es-ES' }] };
  await register(spec('dramas', { genres: ['DRAMA'] }, both));
  expect((await itemSet('dramas')).map((id) => id.replace(/-\d+$/, ''))).toEqual([
    ...Array(16).fill('en-drama'),
    ...Array(4).fill('en-late'),
    ...Array(20).fill('es-drama'),
  ]);
  await register(spec('shows', { showIds: ['en-comedy', 'es-drama'] }));
  expect(await itemSet('shows')).toEqual(ids('en-comedy', 20));
  // Gold examples join the set (they are mixed into batches), wherever they are in the catalog.
  const gold = [{ itemId: 'en-drama-01', labels: { tone: 1 }, explanation: 'on brand' }];
  await register(spec('gold', { showIds: ['en-comedy'] }, { goldExamples: gold }));
  expect(await itemSet('gold')).toEqual([...ids('en-comedy', 20), 'en-drama-01']);
  // updatedSince: only the later import (recorded directly: 4 items cannot fill the rounds).
  const plan = specSelection(spec('recent', { updatedSince: secondImport }));
  await legacyProgram('recent');
  expect(await recordSelection(database.db, 'recent', 'spec', plan)).toBe(4);
  expect(await itemSet('recent')).toEqual(['en-late-01', 'en-late-02', 'en-late-03', 'en-late-04']);
  const [recorded] = await database.db
    .select()
    .from(programSelections)
    .where(eq(programSelections.programId, 'recent'));
  expect(recorded).toMatchObject({
    kind: 'spec',
    added: 4,
    definition: { locales: ['en-US'], updatedSince: secondImport },
  });
});

test('a seeded sample is the same twice, another seed draws other items', async () => {
  await register(spec('sample-a', { sample: { size: 20, seed: 7 } }));
  await register(spec('sample-b', { sample: { size: 20, seed: 7 } }));
  await register(spec('sample-c', { sample: { size: 20, seed: 8 } }));
  const [a, b, c] = await Promise.all(['sample-a', 'sample-b', 'sample-c'].map(itemSet));
  expect(a).toHaveLength(20);
  expect(b).toEqual(a);
  expect(c).toHaveLength(20);
  expect(c).not.toEqual(a);
  expect(a.every((id) => !id.startsWith('es-'))).toBe(true);
});

test("the spec's catalog file is imported and its synopses, new or already there, are the set", async () => {
  const file = writeCatalog('own.jsonl', [
    show('own-show', 'en-US', ['Documentary']),
    ...synopses('own-show', 'en-US', 19),
    synopsis('en-comedy-01', 'en-comedy', 'en-US'), // already imported, unchanged
    synopsis('es-drama-01', 'es-drama', 'es-ES'), // outside the program's locale
  ]);
  const s = spec('own-catalog', { catalog: path.basename(file) });
  const catalog = await importSpecCatalog(database.sql, s, dir);
  expect(catalog?.itemIds).toHaveLength(21);
  await register(s, catalog);
  const set = await itemSet('own-catalog');
  expect(set).toHaveLength(20);
  expect(set).toContain('en-comedy-01');
  expect(set).not.toContain('es-drama-01');
  const [recorded] = await database.db
    .select()
    .from(programSelections)
    .where(eq(programSelections.programId, 'own-catalog'));
  expect(recorded.definition).toMatchObject({ catalog: { file, synopses: 21 }, locales: ['en-US'] });
});

test('an empty selection is a spec error naming the selection, and nothing is registered', async () => {
  const empty = spec('empty', { genres: ['Western'] });
  const refused = checkProgramPrerequisites(database.db, empty, env, checkOpts);
  await expect(refused).rejects.toBeInstanceOf(ProgramRegistrationError);
  await expect(refused).rejects.toThrow(
    /items: no catalog item is selected \(locale en-US; genres Western\): import the catalog, or widen the filters/,
  );
  const small = spec('small', { showIds: ['en-late'] });
  await expect(checkProgramPrerequisites(database.db, small, env, checkOpts)).rejects.toThrow(
    /the program's items are 4 \(locale en-US; shows en-late\); pilot \+ 1 calibration rounds \+ golden set need 20/,
  );
  expect(await database.db.$count(programs, eq(programs.id, 'empty'))).toBe(0);
  expect(await database.db.$count(programSelections, eq(programSelections.programId, 'empty'))).toBe(0);
  // A filter locale outside the program's locales is refused by the spec itself.
  const outside = validateProgramSpec({ ...example, id: 'outside', items: { locale: ['en-US', 'fr-FR'] } });
  expect(outside.ok ? [] : outside.problems).toContainEqual({
    path: 'items.locale.1',
    message: '"fr-FR" is not a locale of the program (en-US): add it to locales',
  });
});

test('a later import into the program adds what passes its filters; a program without a selection reads everything', async () => {
  const before = await itemSet('shows');
  const imported = await importCatalog(
    database.sql,
    writeCatalog('more.jsonl', [
      synopsis('en-comedy-21', 'en-comedy', 'en-US'),
      synopsis('en-drama-17', 'en-drama', 'en-US'), // not one of its shows
    ]),
    { keepItemIds: true },
  );
  const added = await addImportToItemSet(database.db, 'shows', {
    file: 'more.jsonl',
    importedAt: imported.importedAt,
    itemIds: imported.itemIds ?? [],
  });
  expect(added).toBe(1);
  expect(await itemSet('shows')).toEqual([...before, 'en-comedy-21']);
  await legacyProgram('legacy');
  expect(
    await addImportToItemSet(database.db, 'legacy', { file: 'x', importedAt: '', itemIds: ['en-drama-17'] }),
  ).toBeNull();
  await expect(addImportToItemSet(database.db, 'nope', { file: 'x', importedAt: '', itemIds: [] })).rejects.toThrow(
    /unknown program "nope"/,
  );
});

test("pre-launch's changed-since selection takes the unchanged synopses an import added to the program", async () => {
  const production = createProductionActivities(testDeps(database));
  const sampled = await itemSet('sample-a');
  const [inside] = sampled;
  const outside = (await itemSet('all-en')).find((id) => !sampled.includes(id))!;
  const file = writeCatalog(
    'again.jsonl',
    [inside, outside].map((id) => synopsis(id, id.replace(/-\d+$/, ''), 'en-US')),
  );
  const imported = await importCatalog(database.sql, file, { keepItemIds: true });
  expect(imported).toMatchObject({ newItems: 0, editedItems: 0, unchangedItems: 2 });
  const added = await addImportToItemSet(database.db, 'sample-a', { ...imported, file, itemIds: imported.itemIds! });
  expect(added).toBe(1);
  const since = { kind: 'changedSince' as const, since: imported.importedAt };
  const changed = async (programId: string) => {
    const range = await production.nextShard({ programId, selection: since, after: null, size: 10 });
    return range
      ? production.shardItems({ programId, selection: since, after: null, through: range.through, limit: 10 })
      : [];
  };
  expect(await changed('sample-a')).toEqual([outside]);
  expect(await changed('all-en')).toEqual([]);
});

test('draws and production pages read only the set; a program from before item sets reads the whole catalog', async () => {
  const deps = testDeps(database);
  const program = createProgramActivities(deps);
  const production = createProductionActivities(deps);
  const set = await itemSet('shows');
  const pilot = await program.drawItems({ programId: 'shows', purpose: 'pilot', count: 5 });
  const round = await program.drawItems({ programId: 'shows', purpose: 'calibration/1', count: 4 });
  expect([...pilot, ...round].every((id) => set.includes(id))).toBe(true);
  expect(new Set([...pilot, ...round]).size).toBe(9);
  await expect(program.drawItems({ programId: 'shows', purpose: 'golden-set', count: 13 })).rejects.toThrow(
    /Only 12 fresh items left for golden-set of program shows/,
  );
  const selection = { kind: 'all' as const };
  const range = await production.nextShard({ programId: 'shows', selection, after: null, size: 100 });
  expect(range).toMatchObject({ count: 21, through: 'en-comedy-21' });
  expect(
    await production.shardItems({ programId: 'shows', selection, after: null, through: range!.through, limit: 100 }),
  ).toEqual(set);
  expect(await production.countSelection({ programId: 'shows', selection: { kind: 'all', locale: 'es-ES' } })).toBe(0);
  const everything = await production.countSelection({ programId: 'legacy', selection });
  expect(everything).toBe(16 + 20 + 20 + 4 + 19 + 2);
  expect(await program.drawItems({ programId: 'legacy', purpose: 'pilot', count: 50 })).toHaveLength(50);
});
