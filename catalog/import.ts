/**
 * Catalog import: streams a JSONL or CSV catalog (shows and synopses) into Postgres in constant
 * memory. Rows are validated with zod and COPYed into a temp stage inside ONE transaction; only when
 * the whole file is read are shows/items/item_revisions written from the stage (merge.ts), so a fatal error
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
import { createStage, keepLastRows, mergeStage, removeOrphans, STAGE_COLUMNS } from './merge';
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
/** A field in COPY's text format (null is \N). */
const copyField = (v: string | number | null) =>
  v === null ? '\\N' : typeof v === 'number' ? String(v) : v.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]);
const copyLine = (row: (string | number | null)[]) => row.map(copyField).join('\t') + '\n';

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

  const seenShows = new SeenIds();
  const seenSynopses = new SeenIds();
  let rows = 0;
  /** The file as COPY text, `chunkSize` rows a chunk; ids repeated within it are found in constant memory. */
  async function* stageText(): AsyncGenerator<string> {
    let chunk = '';
    let inChunk = 0;
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
        chunk += copyLine([raw.line, id, null, locale, title, JSON.stringify(metadata), null, null]);
        seenShows.add(id);
      } else {
        const { id, showId, locale, text } = record;
        chunk += copyLine([raw.line, id, showId, locale, null, null, text, textHash(text)]);
        seenSynopses.add(id);
      }
      if (++inChunk >= chunkSize) {
        yield chunk;
        chunk = '';
        inChunk = 0;
      }
    }
    if (chunk) yield chunk;
  }

  return (await sql.begin(async (tx) => {
    await createStage(tx);
    // One COPY for the whole file, fed as it is parsed: PostgreSQL stores a chunk while the next is validated.
    const copy = await tx.unsafe(`copy stage (${STAGE_COLUMNS.join(', ')}) from stdin`).writable();
    await pipeline(Readable.from(stageText()), copy);

    const orphans = await removeOrphans(tx, maxProblems);
    for (const o of orphans.first)
      invalid(o.line, `showId: unknown show "${o.show_id}" (not in this file nor imported before)`);
    invalidRows += orphans.count - orphans.first.length;
    problems.sort((a, b) => a.line - b.line);
    if (invalidRows && !opts.skipInvalid) throw new CatalogRejectedError(invalidRows, problems);

    await keepLastRows(tx, { shows: [...seenShows.maybeRepeated], synopses: [...seenSynopses.maybeRepeated] });
    const counts = await mergeStage(tx, Boolean(opts.audit));
    const [{ now }] = await tx<{ now: Date }[]>`select now()`;
    const itemIds = opts.keepItemIds
      ? (await tx<{ id: string }[]>`select id from stage where show_id is not null order by id`).map((r) => r.id)
      : undefined;
    if (opts.audit) {
      const items = counts.items_before + counts.new_items;
      await recordAudit(tx, {
        ...opts.audit,
        action: 'catalog_imported',
        entity: 'catalog',
        entityId: path.basename(file),
        before: { items: counts.items_before },
        after: { items, newItems: counts.new_items, editedItems: counts.edited, shows: counts.shows },
        data: { file: path.resolve(file), rows, skippedRows: invalidRows },
      });
    }
    return {
      rows,
      shows: counts.shows,
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
