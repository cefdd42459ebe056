/**
 * The judging benchmark's catalog, seeded the way an operator loads one: a simulated catalog file,
 * generated once per size into the temp dir (a million synopses take minutes to write) and loaded
 * by `judgeflow catalog import` in its own process, whose wall time and peak RSS are the import's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImportResult } from '../../catalog/import';
import { writeCatalogFiles } from '../sim/catalog-files';
import { BIN } from '../stack';
import { procStats } from './process-stats';

/** Synopses per simulated show are 3.49 on average; 3.4 leaves a margin so N are always there. */
const SYNOPSES_PER_SHOW = 3.4;

/** A simulated catalog (seed 1) with at least `synopses` synopses, written once and kept in the temp dir. */
export async function benchCatalogFile(synopses: number): Promise<string> {
  const shows = Math.ceil(synopses / SYNOPSES_PER_SHOW);
  const file = path.join(os.tmpdir(), 'judgeflow-bench-catalogs', `shows-${shows}-seed-1.jsonl`);
  if (fs.existsSync(file)) return file;
  // Written beside and renamed, so a run killed while writing never leaves a short catalog behind.
  const partial = `${file}.${process.pid}.partial`;
  await writeCatalogFiles({ shows, seed: 1 }, { out: partial, truth: '/dev/null', behavior: '/dev/null' });
  fs.renameSync(partial, file);
  return file;
}

export interface CatalogImportFigures {
  seconds: number;
  peakRssMb: number;
  result: ImportResult;
}

/** `judgeflow catalog import <file> --json` as a child process with `env`, sampled for its peak RSS. */
export async function importCatalogProcess(file: string, env: NodeJS.ProcessEnv): Promise<CatalogImportFigures> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'catalog', 'import', file, '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, procStats(child.pid!)?.peakRssMb ?? 0);
  }, 200);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`judgeflow catalog import ${file} exited ${code}: ${stderr || stdout}`);
  return {
    seconds: Math.round(performance.now() - started) / 1000,
    peakRssMb: Math.round(peakRssMb),
    result: JSON.parse(stdout.trim().split('\n').pop()!) as ImportResult,
  };
}
