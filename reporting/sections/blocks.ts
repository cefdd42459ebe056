/**
 * What a report section is made of (text, tables and charts, rendered by render.ts into HTML or
 * Markdown), and the formats and helpers the sections share.
 */
export type Block =
  | { kind: 'text'; text: string }
  | { kind: 'table'; headers: string[]; rows: string[][] }
  | { kind: 'chart'; name: string; svg: string };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

/** Cells show a missing value as a dash, never NaN or an empty cell. */
export const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
export const dec = (v: number | null, digits = 3) => (v === null ? '—' : v.toFixed(digits));
export const empty = (what: string): Block => ({ kind: 'text', text: `No ${what} recorded for this program yet.` });
export const group = <T, K>(rows: T[], key: (r: T) => K) => {
  const m = new Map<K, T[]>();
  for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
  return m;
};
