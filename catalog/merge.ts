/**
 * The set-based half of a catalog import: the staged file (one temp table `stage`, shows and
 * synopses, validated line by line by import.ts) checked and merged into shows, items and
 * item_revisions by a few statements inside the import's transaction. A synopsis row has a
 * show_id; a show row has none.
 */
import type postgres from 'postgres';

export const STAGE_COLUMNS = ['line', 'id', 'show_id', 'locale', 'title', 'metadata', 'text', 'text_hash'];

/** Not logged, dropped at commit; columns a kind does not have are null. */
export const createStage = (tx: postgres.TransactionSql) =>
  tx`create temp table stage (line int not null, id text not null, show_id text, locale text not null, title text, metadata jsonb, text text, text_hash text) on commit drop`;

/** Catalog imports one at a time: new synopses are then inserted without ON CONFLICT's speculative insertion. */
const IMPORT_LOCK = 7233002;

/**
 * Deletes the synopses whose show is neither in the file nor imported before (one anti-join), and
 * returns the first `limit` of them by line, with how many there were.
 */
export async function removeOrphans(tx: postgres.TransactionSql, limit: number) {
  // Temp tables are never analysed by autovacuum: without statistics the joins below are planned
  // blind. The keys are enough (the texts' statistics cost more and decide nothing); hashing a
  // million of them in 4 MB (the default work_mem) would spill to disk in batches.
  await tx`analyze stage (id, show_id)`;
  await tx`set local work_mem = '64MB'`;
  const orphans = await tx<{ line: number; show_id: string; n: number }[]>`
    with d as (delete from stage s where s.show_id is not null
        and not exists (select 1 from stage h where h.show_id is null and h.id = s.show_id)
        and not exists (select 1 from shows h where h.id = s.show_id) returning s.line, s.show_id)
    select line, show_id, count(*) over ()::int as n from d order by line limit ${limit}`;
  return { first: orphans, count: orphans[0]?.n ?? 0 };
}

/** The last row of an id wins within one file: earlier rows of the ids flagged as maybe repeated are deleted. */
export async function keepLastRows(
  tx: postgres.TransactionSql,
  maybeRepeated: { shows: string[]; synopses: string[] },
) {
  for (const [synopses, ids] of [
    [false, maybeRepeated.shows],
    [true, maybeRepeated.synopses],
  ] as const)
    if (ids.length)
      await tx`
        delete from stage s using (select id, max(line) as line from stage
          where id = any(${ids}) and (show_id is not null) = ${synopses} group by id) m
        where s.id = m.id and (s.show_id is not null) = ${synopses} and s.line < m.line`;
}

export interface MergeCounts {
  new_items: number;
  edited: number;
  unchanged: number;
  synopses: number;
  shows: number;
  /** Items before the import (counted only for its audit row, else 0). */
  items_before: number;
}

/**
 * Upserts the stage's shows, then writes only the synopses that are new or changed: new ones by a
 * plain insert, edited ones by an update, and a revision for each, in one statement that reads the
 * stage once. Unchanged synopses (same text hash, show and locale) are not written at all.
 *
 * Every show a staged synopsis names exists (removeOrphans proved it with one anti-join, and
 * nothing deletes shows or items), and every revision's item is written by the same statement, so
 * when the role may set session_replication_role the statement runs without the per-row
 * foreign-key triggers, which were half of PostgreSQL's time. Both constraints stay declared and
 * checked for every other writer; a role without that privilege keeps the per-row checks.
 */
export async function mergeStage(tx: postgres.TransactionSql, countItems: boolean): Promise<MergeCounts> {
  await tx`select pg_advisory_xact_lock(${IMPORT_LOCK})`;
  const itemsBefore = countItems ? (await tx<{ n: number }[]>`select count(*)::int as n from items`)[0].n : 0;
  const [counts] = await tx<Omit<MergeCounts, 'items_before'>[]>`
    select count(*) filter (where s.show_id is not null and i.id is null)::int as new_items,
           count(*) filter (where s.show_id is not null and i.id is not null and i.text_hash <> s.text_hash)::int as edited,
           count(*) filter (where s.show_id is not null and i.id is not null and i.text_hash = s.text_hash)::int as unchanged,
           count(*) filter (where s.show_id is not null)::int as synopses,
           count(*) filter (where s.show_id is null)::int as shows
    from stage s left join items i on i.id = s.id and s.show_id is not null`;
  await tx`
    insert into shows (id, title, locale, metadata, updated_at)
    select id, title, locale, metadata, now() from stage where show_id is null
    on conflict (id) do update set title = excluded.title, locale = excluded.locale, metadata = excluded.metadata, updated_at = now()
    where (shows.title, shows.locale, shows.metadata) is distinct from (excluded.title, excluded.locale, excluded.metadata)`;
  // Tried rather than asked: has_parameter_privilege is PostgreSQL 15+, and a refusal must not abort the import.
  const bulk = await tx
    .savepoint((sp) => sp`set local session_replication_role = replica`)
    .then(
      () => true,
      () => false,
    );
  await tx`
    with changed as (
      select s.id, s.show_id, s.locale, s.text, s.text_hash, i.id is null as new
      from stage s left join items i on i.id = s.id
      where s.show_id is not null
        and (i.id is null or (i.text_hash, i.show_id, i.locale) is distinct from (s.text_hash, s.show_id, s.locale))
    ), inserted as (
      insert into items (id, show_id, locale, text, text_hash, source, updated_at)
      select id, show_id, locale, text, text_hash, 'import', now() from changed where new
    ), updated as (
      update items set show_id = c.show_id, locale = c.locale, text = c.text, text_hash = c.text_hash,
        source = 'import', updated_at = now()
      from changed c where not c.new and items.id = c.id
    ), new_revisions as (
      insert into item_revisions (item_id, text_hash, text, source)
      select id, text_hash, text, 'import' from changed where new
    )
    -- An edited text may return to one of the item's earlier revisions.
    insert into item_revisions (item_id, text_hash, text, source)
    select id, text_hash, text, 'import' from changed where not new
    on conflict do nothing`;
  if (bulk) await tx`set local session_replication_role = origin`;
  return { ...counts, items_before: itemsBefore };
}
