/**
 * Writes a generated catalog to JSONL: what judges and raters may see (catalog.jsonl: show and
 * synopsis records) apart from the answer key (truth.jsonl) and member behaviour (behavior.jsonl).
 * Streams with backpressure, so memory stays flat however many shows are asked for.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { generateCatalog, type CatalogOptions } from './model/catalog';

export interface CatalogFiles {
  out: string;
  /** Default: <out without .jsonl>.truth.jsonl beside it. */
  truth?: string;
  /** Default: <out without .jsonl>.behavior.jsonl beside it. */
  behavior?: string;
}

export interface CatalogSummary {
  files: Required<CatalogFiles>;
  shows: number;
  synopses: number;
  /** Share of synopses passing each criterion (what the defect rates produced). */
  passRates: Record<string, number>;
  seconds: number;
}

export function defaultCatalogPaths(files: CatalogFiles): Required<CatalogFiles> {
  const base = files.out.replace(/\.jsonl$/i, '');
  return {
    out: files.out,
    truth: files.truth ?? `${base}.truth.jsonl`,
    behavior: files.behavior ?? `${base}.behavior.jsonl`,
  };
}

async function write(stream: fs.WriteStream, chunk: string) {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function end(stream: fs.WriteStream) {
  stream.end();
  await once(stream, 'finish');
}

export async function writeCatalogFiles(options: CatalogOptions, files: CatalogFiles): Promise<CatalogSummary> {
  const started = performance.now();
  const paths = defaultCatalogPaths(files);
  const records = generateCatalog(options); // validates options before any file is created
  const first = records.next();
  for (const p of Object.values(paths)) fs.mkdirSync(path.dirname(path.resolve(p)), { recursive: true });
  const [catalog, truth, behavior] = [paths.out, paths.truth, paths.behavior].map((p) => fs.createWriteStream(p));
  const passes: Record<string, number> = {};
  let shows = 0;
  let synopses = 0;
  try {
    for (let next = first; !next.done; next = records.next()) {
      const { show, synopses: texts, truths, behaviors } = next.value;
      shows++;
      synopses += texts.length;
      let lines = `${JSON.stringify({ kind: 'show', ...show })}\n`;
      for (const s of texts) lines += `${JSON.stringify({ kind: 'synopsis', ...s })}\n`;
      await write(catalog, lines);
      await write(truth, truths.map((t) => `${JSON.stringify(t)}\n`).join(''));
      await write(behavior, behaviors.map((b) => `${JSON.stringify(b)}\n`).join(''));
      for (const t of truths) for (const [c, v] of Object.entries(t.criteria)) passes[c] = (passes[c] ?? 0) + v;
    }
  } finally {
    await Promise.all([catalog, truth, behavior].map(end));
  }
  const passRates = Object.fromEntries(
    Object.entries(passes).map(([c, n]) => [c, Math.round((n / synopses) * 1000) / 1000]),
  );
  return { files: paths, shows, synopses, passRates, seconds: Math.round(performance.now() - started) / 1000 };
}
