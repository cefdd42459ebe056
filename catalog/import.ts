/**
 * Catalog import: streams a JSONL or CSV catalog (shows and synopses) into Postgres in constant
 * memory. Rows are validated with zod and staged into temp tables inside ONE transaction; only when
 * the whole file is read are shows/items/item_revisions upserted from the stage, so a fatal error
 * (or any invalid row, unless skipped) leaves the database as it was. An edited synopsis gets a new
 * text hash, a new item_revisions row and a fresh items.updated_at, which is what pre-launch
 * detection selects (`changedSince`).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import type postgres from 'postgres';
import { catalogRecordSchema } from '../schema/catalog';
import { recordAudit } from '../governance/audit';
import { SeenIds } from './seen-ids';
import { textHash } from './text-hash';

export type CatalogFormat = 'jsonl' | 'csv';

export interface ImportProblem {
  line: number;
  message: string;
}

export interface ImportOptions {
  format?: CatalogFormat;
  /** Import the valid rows and report the invalid ones (default: any invalid row rejects the file). */
  skipInvalid?: boolean;
  /** How many problems are kept for the report (the count is always exact). */
  maxProblems?: number;
  /** Rows per COPY into the stage. */
  chunkSize?: number;
  /** Return the ids of the file's synopses (what a program's item set takes from its import). */
  keepItemIds?: boolean;
  /** Who imports, by which request, for which program: the import's audit row commits with it. */
  audit?: { actor: string; requestId?: string; programId?: string };
}

export interface ImportResult {
  rows: number;
  shows: number;
  synopses: number;
  newItems: number;
  editedItems: number;
  unchangedItems: number;
  invalidRows: number;
  problems: ImportProblem[];
  /** The import transaction's timestamp: every item it created or edited has this updated_at. */
  importedAt: string;
  /** The file's synopsis ids, new, edited and unchanged (with `keepItemIds`). */
  itemIds?: string[];
}

export class CatalogRejectedError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly invalidRows: number,
    readonly problems: ImportProblem[],
  ) {
    super(
      `catalog rejected, nothing imported: ${invalidRows} invalid row(s)\n` +
        problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n') +
        (invalidRows > problems.length ? `\n  … and ${invalidRows - problems.length} more` : '') +
        '\nFix these rows, or pass --skip-invalid to import the valid rows only.',
    );
    this.name = 'CatalogRejectedError';
  }
}

export const formatOf = (file: string): CatalogFormat => (/\.csv$/i.test(file) ? 'csv' : 'jsonl');

/** Lines of a file, streamed, with 1-based line numbers. */
async function* fileLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const rl = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) yield { line: ++line, text };
}

/**
 * RFC 4180 records of a CSV file, streamed through csv-parse; a record's line number is the line it
 * starts on (a quoted field may span lines), so problems name the line a person sees first.
 */
async function* csvRecords(file: string): AsyncGenerator<{ line: number; fields: string[] }> {
  const parser = fs
    .createReadStream(file)
    .pipe(parse({ bom: true, info: true, raw: true, relax_column_count: true, skip_empty_lines: true }));
  let lastLine = 0;
  try {
    for await (const { record, raw, info } of parser as AsyncIterable<{
      record: string[];
      raw: string;
      info: { lines: number };
    }>) {
      // `raw` carries the empty lines skipped before the record and its own line break.
      const inner =
        raw
          .replace(/^[\r\n]+/, '')
          .replace(/\r?\n$/, '')
          .split('\n').length - 1;
      lastLine = info.lines;
      yield { line: info.lines - inner, fields: record };
    }
  } catch (err) {
    if (err instanceof CsvError && err.code === 'CSV_QUOTE_NOT_CLOSED')
      throw new CatalogRejectedError(1, [{ line: lastLine + 1, message: 'unterminated quoted field' }]);
    if (err instanceof CsvError)
      throw new CatalogRejectedError(1, [{ line: lastLine + 1, message: `unparseable CSV: ${err.message}` }]);
    throw err;
  }
}

/** Catalog records (still unvalidated objects) with their line numbers, from either format. */
async function* rawRecords(
  file: string,
  format: CatalogFormat,
): AsyncGenerator<{ line: number; value: unknown } | { line: number; error: string }> {
  if (format === 'jsonl') {
    for await (const { line, text } of fileLines(file)) {
      if (text.trim() === '') continue;
      try {
        yield { line, value: JSON.parse(text) };
      } catch (err) {
        yield { line, error: `not valid JSON (${(err as Error).message})` };
      }
    }
    return;
  }
  let header: string[] | undefined;
  for await (const { line, fields } of csvRecords(file)) {
    if (!header) {
      header = fields.map((f) => f.trim());
      const missing = ['id'].filter((c) => !header!.includes(c));
      if (missing.length)
        throw new CatalogRejectedError(1, [
          {
            line,
            message: `CSV header lacks column(s) ${missing.join(', ')} (expected kind,id,showId,title,locale,text)`,
          },
        ]);
      continue;
    }
    if (fields.length !== header.length) {
      yield { line, error: `expected ${header.length} fields as in the header, got ${fields.length}` };
      continue;
    }
    const row: Record<string, string> = {};
    header.forEach((name, i) => {
      if (fields[i] !== '') row[name] = fields[i];
    });
    // A CSV catalog is mostly synopses: `kind` may be omitted; show rows carry `kind=show`.
    yield { line, value: { kind: 'synopsis', ...row, ...(row.year ? { year: Number(row.year) } : {}) } };
  }
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
/** A field in COPY's text format. */
const copyField = (v: string | number) =>
  typeof v === 'number' ? String(v) : v.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]);

/**
 * Rows into a stage table with one COPY: no query of thousands of parameters to build in this process
 * and to parse in PostgreSQL (half the importer's CPU at a million rows).
 */
async function copyRows(tx: postgres.TransactionSql, table: string, columns: string[], rows: (string | number)[][]) {
  if (!rows.length) return;
  const text = rows.map((r) => r.map(copyField).join('\t')).join('\n') + '\n';
  const stream = await tx.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable();
  await pipeline(Readable.from([text]), stream);
}

const describeIssues = (issues: { path: PropertyKey[]; message: string }[]) =>
  issues.map((i) => `${i.path.length ? i.path.join('.') : 'row'}: ${i.message}`).join('; ');

/** Imports a catalog file; see the module comment for the all-or-nothing contract. */
export async function importCatalog(sql: postgres.Sql, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  if (!fs.existsSync(file)) throw new CatalogRejectedError(1, [{ line: 0, message: `no such file: ${file}` }]);
  const format = opts.format ?? formatOf(file);
  const maxProblems = opts.maxProblems ?? 50;
  const chunkSize = opts.chunkSize ?? 1000;
  const problems: ImportProblem[] = [];
  let invalidRows = 0;
  const invalid = (line: number, message: string) => {
    invalidRows++;
    if (problems.length < maxProblems) problems.push({ line, message });
  };

  return (await sql.begin(async (tx) => {
    await tx`create temp table stage_shows (line int not null, id text not null, title text not null, locale text not null, metadata jsonb not null) on commit drop`;
    await tx`create temp table stage_synopses (line int not null, id text not null, show_id text not null, locale text not null, text text not null, text_hash text not null) on commit drop`;
    let shows: (string | number)[][] = [];
    let synopses: (string | number)[][] = [];
    // Ids repeated within the file, found in constant memory: the stage keeps only their last row.
    const seenShows = new SeenIds();
    const seenSynopses = new SeenIds();
    const flush = async () => {
      await copyRows(tx, 'stage_shows', ['line', 'id', 'title', 'locale', 'metadata'], shows);
      await copyRows(tx, 'stage_synopses', ['line', 'id', 'show_id', 'locale', 'text', 'text_hash'], synopses);
      shows = [];
      synopses = [];
    };
    let rows = 0;
    for await (const raw of rawRecords(file, format)) {
      rows++;
      if ('error' in raw) {
        invalid(raw.line, raw.error);
        continue;
      }
      const parsed = catalogRecordSchema.safeParse(raw.value);
      if (!parsed.success) {
        invalid(raw.line, describeIssues(parsed.error.issues));
        continue;
      }
      // Rows are staged even after a problem, so the report lists every invalid row in one pass.
      const record = parsed.data;
      if (record.kind === 'show') {
        const { kind: _kind, id, title, locale, ...metadata } = record;
        shows.push([raw.line, id, title, locale, JSON.stringify(metadata)]);
        seenShows.add(id);
      } else {
        synopses.push([raw.line, record.id, record.showId, record.locale, record.text, textHash(record.text)]);
        seenSynopses.add(record.id);
      }
      if (shows.length + synopses.length >= chunkSize) await flush();
    }
    await flush();

    // A synopsis must belong to a show of this file or one already imported. The orphans are
    // deleted from the stage and counted; only the first ones are read, for the report.
    const orphans = await tx<{ line: number; show_id: string; n: number }[]>`
      with d as (delete from stage_synopses s where not exists (select 1 from stage_shows h where h.id = s.show_id)
        and not exists (select 1 from shows h where h.id = s.show_id) returning s.line, s.show_id)
      select line, show_id, count(*) over ()::int as n from d order by line limit ${maxProblems}`;
    for (const o of orphans)
      invalid(o.line, `showId: unknown show "${o.show_id}" (not in this file nor imported before)`);
    invalidRows += (orphans[0]?.n ?? 0) - orphans.length;
    problems.sort((a, b) => a.line - b.line);
    if (invalidRows && !opts.skipInvalid) throw new CatalogRejectedError(invalidRows, problems);

    // The last row of an id wins within one file: earlier rows of the ids SeenIds flagged are deleted.
    for (const [table, seen] of [
      ['stage_shows', seenShows],
      ['stage_synopses', seenSynopses],
    ] as const)
      if (seen.maybeRepeated.size)
        await tx`
          delete from ${tx(table)} s using (select id, max(line) as line from ${tx(table)} where id = any(${[...seen.maybeRepeated]}) group by id) m
          where s.id = m.id and s.line < m.line`;
    const [counts] = await tx<{ new_items: number; edited: number; unchanged: number; synopses: number }[]>`
      select count(*) filter (where i.id is null)::int as new_items,
             count(*) filter (where i.id is not null and i.text_hash <> s.text_hash)::int as edited,
             count(*) filter (where i.id is not null and i.text_hash = s.text_hash)::int as unchanged,
             count(*)::int as synopses
      from stage_synopses s left join items i on i.id = s.id`;
    await tx`
      insert into shows (id, title, locale, metadata, updated_at)
      select id, title, locale, metadata, now() from stage_shows
      on conflict (id) do update set title = excluded.title, locale = excluded.locale, metadata = excluded.metadata, updated_at = now()
      where (shows.title, shows.locale, shows.metadata) is distinct from (excluded.title, excluded.locale, excluded.metadata)`;
    await tx`
      insert into items (id, show_id, locale, text, text_hash, source, updated_at)
      select id, show_id, locale, text, text_hash, 'import', now() from stage_synopses
      on conflict (id) do update set show_id = excluded.show_id, locale = excluded.locale, text = excluded.text,
        text_hash = excluded.text_hash, source = 'import', updated_at = now()
      where items.text_hash <> excluded.text_hash or items.show_id <> excluded.show_id or items.locale <> excluded.locale`;
    await tx`
      insert into item_revisions (item_id, text_hash, text, source)
      select id, text_hash, text, 'import' from stage_synopses
      on conflict do nothing`;
    const [{ now }] = await tx<{ now: Date }[]>`select now()`;
    const itemIds = opts.keepItemIds
      ? (await tx<{ id: string }[]>`select id from stage_synopses order by id`).map((r) => r.id)
      : undefined;
    const [{ shows: showCount }] = await tx<{ shows: number }[]>`select count(*)::int as shows from stage_shows`;
    if (opts.audit) {
      const [{ items }] = await tx<{ items: number }[]>`select count(*)::int as items from items`;
      await recordAudit(tx, {
        ...opts.audit,
        action: 'catalog_imported',
        entity: 'catalog',
        entityId: path.basename(file),
        before: { items: items - counts.new_items },
        after: { items, newItems: counts.new_items, editedItems: counts.edited, shows: showCount },
        data: { file: path.resolve(file), rows, skippedRows: invalidRows },
      });
    }
    return {
      rows,
      shows: showCount,
      synopses: counts.synopses,
      newItems: counts.new_items,
      editedItems: counts.edited,
      unchangedItems: counts.unchanged,
      invalidRows,
      problems,
      importedAt: new Date(now).toISOString(),
      ...(itemIds ? { itemIds } : {}),
    };
  })) as ImportResult;
}
