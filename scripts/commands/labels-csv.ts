/**
 * Reads a labels CSV export (`item`, `rater`, `label`, optional `criterion`; any column order, extra
 * columns ignored) for the stats commands. Every problem is a CliError (exit 2) naming the line.
 */
import fs from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import type { Level, Rating } from '../../stats/index';
import { CliError } from './context';

export interface LabelRow extends Rating {
  criterion: string;
  line: number;
}

export interface LabelsFile {
  rows: LabelRow[];
  hasCriterion: boolean;
  /** Rows per criterion (key "all" without a criterion column), in first-seen order. */
  byCriterion: Map<string, LabelRow[]>;
}

const REQUIRED = ['item', 'rater', 'label'] as const;

export function readLabelsCsv(file: string, opts: { level?: Level } = {}): LabelsFile {
  if (!fs.existsSync(file)) throw new CliError(`input file not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError)
      throw new CliError(
        `${file}:${(err as CsvError & { lines?: number }).lines ?? '?'}: unparseable CSV: ${err.message}`,
      );
    throw err;
  }
  if (records.length === 0)
    throw new CliError(
      `${file} is empty: expected a header line with the columns item, rater, label (and optionally criterion)`,
    );
  const header = records[0].record.map((h) => h.toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length)
    throw new CliError(
      `${file}:${records[0].info.lines}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the header has: ${records[0].record.join(', ')})`,
    );
  if (records.length === 1) throw new CliError(`${file} has a header but no ratings`);
  const col = Object.fromEntries([...REQUIRED, 'criterion'].map((c) => [c, header.indexOf(c)]));
  const hasCriterion = col.criterion >= 0;
  const numeric = opts.level !== undefined && opts.level !== 'nominal';
  const seen = new Map<string, { label: string; line: number }>();
  const rows: LabelRow[] = [];
  const byCriterion = new Map<string, LabelRow[]>();
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    const cell = (name: string) => record[col[name]] ?? '';
    for (const name of REQUIRED) if (cell(name) === '') throw new CliError(`${file}:${line}: empty ${name}`);
    const criterion = hasCriterion ? cell('criterion') : 'all';
    if (hasCriterion && criterion === '') throw new CliError(`${file}:${line}: empty criterion`);
    const raw = cell('label');
    const key = `${criterion}\u0000${cell('item')}\u0000${cell('rater')}`;
    const before = seen.get(key);
    if (before && before.label !== raw) {
      throw new CliError(
        `${file}:${line}: rater "${cell('rater')}" rated item "${cell('item')}"${hasCriterion ? ` (criterion "${criterion}")` : ''} twice with different labels: "${before.label}" on line ${before.line}, "${raw}" here`,
      );
    }
    seen.set(key, { label: raw, line });
    let label: string | number = raw;
    if (numeric) {
      label = Number(raw);
      if (!Number.isFinite(label))
        throw new CliError(`${file}:${line}: label "${raw}" is not a number (needed for --level ${opts.level})`);
    }
    const row = { item: cell('item'), rater: cell('rater'), label, criterion, line };
    rows.push(row);
    const list = byCriterion.get(criterion);
    if (list) list.push(row);
    else byCriterion.set(criterion, [row]);
  }
  return { rows, hasCriterion, byCriterion };
}

/** One CSV field, quoted when it needs to be. */
export function csvField(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
