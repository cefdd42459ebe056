/**
 * A program's item set: the catalog items its spec selects (`items:` — a catalog file or the whole
 * catalog, in the program's locales, narrowed by show ids, genres and an updated-since time, then
 * a seeded sample), recorded once at registration in program_item_set with how they were selected
 * (program_selections). Every draw, production run and pre-launch of the program reads through
 * `programItemsWhere`, so two programs over one catalog never draw or judge each other's items.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import { programLocales, type ProgramSpec } from '../schema/program-spec';
import { items, programItemSet, programSelections, programs, shows } from '../schema/tables';
import type { Db } from '../platform/db';

/** What narrows a selection; a later import into the program passes the same filters. */
export interface ItemFilter {
  locales: string[];
  showIds?: string[];
  genres?: string[];
  updatedSince?: string;
}

/** A selection as recorded in program_selections.definition. */
export interface SelectionDefinition extends ItemFilter {
  /** The catalog file whose items the selection is drawn from (else the whole catalog). */
  catalog?: { file: string; importedAt: string; synopses: number };
  sample?: { size: number; seed: number };
}

/** A selection and, when it comes from a catalog file, the ids of that file's synopses. */
export interface ItemSelectionPlan {
  definition: SelectionDefinition;
  within?: string[];
}

/** The spec's catalog file as imported at start. */
export interface SpecCatalogImport {
  file: string;
  importedAt: string;
  itemIds: string[];
}

/** What the spec selects: its catalog file's synopses (else the whole catalog), filtered, sampled. */
export function specSelection(spec: ProgramSpec, catalog?: SpecCatalogImport): ItemSelectionPlan {
  const definition: SelectionDefinition = itemFilterOf(spec);
  if (catalog)
    definition.catalog = { file: catalog.file, importedAt: catalog.importedAt, synopses: catalog.itemIds.length };
  if (spec.items.sample) definition.sample = spec.items.sample;
  return catalog ? { definition, within: catalog.itemIds } : { definition };
}

/** The spec's filters: `items.locale` (else every program locale), show ids, genres, updated since. */
export function itemFilterOf(spec: Pick<ProgramSpec, 'items' | 'locale' | 'locales' | 'guidelines' | 'criteria'>) {
  const { locale, showIds, genres, updatedSince } = spec.items;
  const filter: ItemFilter = {
    locales: locale === undefined ? programLocales(spec).map((l) => l.code) : [locale].flat(),
  };
  if (showIds) filter.showIds = showIds;
  if (genres) filter.genres = genres;
  if (updatedSince) filter.updatedSince = updatedSince;
  return filter;
}

/** One parameter however long the list (a catalog file's ids may be hundreds of thousands). */
const listOf = (values: string[]) => sql`(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

function filterWhere(filter: ItemFilter, within: string[] | undefined): SQL {
  const parts = [sql`${items.locale} in ${listOf(filter.locales)}`];
  if (within) parts.push(sql`${items.id} in ${listOf(within)}`);
  if (filter.showIds) parts.push(sql`${items.showId} in ${listOf(filter.showIds)}`);
  if (filter.genres)
    parts.push(sql`exists (
      select 1 from ${shows}, jsonb_array_elements_text(coalesce(${shows.metadata}->'genres', '[]'::jsonb)) g(name)
      where ${shows.id} = ${items.showId}
        and lower(g.name) in (select lower(x) from jsonb_array_elements_text(${JSON.stringify(filter.genres)}::jsonb) x))`);
  if (filter.updatedSince) parts.push(sql`${items.updatedAt} >= ${filter.updatedSince}::timestamptz`);
  return sql.join(parts, sql` and `);
}

/** The selection's item ids: a seeded sample is the first `size` items in md5(seed:id) order. */
function selectionQuery(plan: ItemSelectionPlan): SQL {
  const { sample } = plan.definition;
  const where = filterWhere(plan.definition, plan.within);
  return sample
    ? sql`select ${items.id} as id from ${items} where ${where} order by md5(${`${sample.seed}:`} || ${items.id}) limit ${sample.size}`
    : sql`select ${items.id} as id from ${items} where ${where}`;
}

/** How many items a selection holds, leaving out `except` (gold examples, which are never drawn). */
export async function countSelection(db: Db, plan: ItemSelectionPlan, except: string[] = []): Promise<number> {
  const [{ n }] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from (${selectionQuery(plan)}) s where s.id not in ${listOf(except)}`,
  );
  return n;
}

/** A selection's items, in readable words for a spec error. */
export function describeSelection(definition: SelectionDefinition): string {
  const parts = [`locale ${definition.locales.join(' or ')}`];
  if (definition.catalog) parts.unshift(`the ${definition.catalog.synopses} synopses of ${definition.catalog.file}`);
  if (definition.showIds) parts.push(`shows ${definition.showIds.join(', ')}`);
  if (definition.genres) parts.push(`genres ${definition.genres.join(', ')}`);
  if (definition.updatedSince) parts.push(`updated since ${definition.updatedSince}`);
  return parts.join('; ');
}

/**
 * Records a selection and adds its items (and `extra` ids: gold examples) to the program's set;
 * returns how many were new to it. Inside the caller's transaction when given one.
 */
export async function recordSelection(
  db: Pick<Db, 'insert' | 'update' | 'execute'>,
  programId: string,
  kind: 'spec' | 'import',
  plan: ItemSelectionPlan,
  extra: string[] = [],
): Promise<number> {
  const [selection] = await db
    .insert(programSelections)
    .values({ programId, kind, definition: plan.definition as unknown as Record<string, unknown>, added: 0 })
    .returning({ id: programSelections.id });
  const [{ added }] = await db.execute<{ added: number }>(sql`
    with added as (
      insert into ${programItemSet} (program_id, item_id, selection_id)
      select ${programId}, id, ${selection.id} from (
        select id from (${selectionQuery(plan)}) q union select x from jsonb_array_elements_text(${JSON.stringify(extra)}::jsonb) x
      ) s
      on conflict do nothing returning 1)
    select count(*)::int as added from added`);
  await db.update(programSelections).set({ added }).where(eq(programSelections.id, selection.id));
  return added;
}

/**
 * Adds the synopses of a catalog import (`itemIds`) that pass the program's filters to its set:
 * `catalog import --program` and `judge run --catalog`. Returns how many were added, or null for a
 * program registered before item sets (it reads the whole catalog already).
 */
export async function addImportToItemSet(
  db: Db,
  programId: string,
  imported: { file: string; importedAt: string; itemIds: string[] },
): Promise<number | null> {
  const [program] = await db.select({ spec: programs.spec }).from(programs).where(eq(programs.id, programId));
  if (!program) throw new Error(`unknown program "${programId}"`);
  const scoped = await db.$count(programSelections, eq(programSelections.programId, programId));
  if (!scoped) return null;
  const catalog = { file: imported.file, importedAt: imported.importedAt, synopses: imported.itemIds.length };
  const definition = { catalog, ...itemFilterOf(program.spec as unknown as ProgramSpec) };
  return db.transaction((tx) => recordSelection(tx, programId, 'import', { definition, within: imported.itemIds }));
}

/**
 * The condition "the `items` row is in the program's set, and in `locale` if given", for a query
 * over `items` (unaliased). A program registered before item sets has no selection: it reads the
 * whole catalog, as it did then. Locale-stratified draws call it once per locale.
 */
export function programItemsWhere(programId: string, opts: { locale?: string } = {}): SQL {
  const inSet = sql`(exists (select 1 from ${programItemSet} s where s.program_id = ${programId} and s.item_id = ${items.id})
    or not exists (select 1 from ${programSelections} ps where ps.program_id = ${programId}))`;
  return opts.locale ? sql`${inSet} and ${items.locale} = ${opts.locale}` : inSet;
}
