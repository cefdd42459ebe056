/**
 * `flock /tmp/judgeflow-bench.lock npx tsx scripts/bench/catalog-import.ts <file>... [--reimport] [--explain]`:
 * `judgeflow catalog import <file> --json` as an operator runs it, under `/usr/bin/time -v`, into an
 * empty migrated database of a private embedded PostgreSQL (no Temporal: the import does not use
 * it). Per file: wall, importer CPU and peak RSS, PostgreSQL's CPU (its processes' /proc times,
 * the postmaster's reaped children included) and the load average before and after. `--reimport`
 * imports the same file again (every row unchanged); `--explain` logs the plan of every statement
 * over 1 s (auto_explain, with buffers) into the stack's postgres.log. Writes
 * bench-results/catalog-import.json and prints it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../platform/config';
import { connectDatabase, migrateDatabase } from '../../platform/db';
import { startEmbeddedPostgres } from '../../platform/embedded-postgres';
import { BIN } from '../stack';
import { BENCH_OUT, useIsolatedStack } from './stack-env';

/** CPU seconds of a process and, with `reaped`, of its children it has waited for. */
function cpuSeconds(pid: number, reaped: boolean): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

const parentOf = (pid: string) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
};

/** The postmaster's CPU with its reaped children's plus that of its live children (backends, checkpointer…). */
function postgresCpu(postmaster: number): number {
  const live = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && parentOf(p) === postmaster)
    .reduce((sum, p) => sum + cpuSeconds(Number(p), false), 0);
  return cpuSeconds(postmaster, true) + live;
}

/** The figures `/usr/bin/time -v` prints, by label. */
function timeFigure(report: string, label: string): string {
  const line = report.split('\n').find((l) => l.trim().startsWith(label));
  if (!line) throw new Error(`no "${label}" in /usr/bin/time output:\n${report}`);
  return line.slice(line.lastIndexOf(': ') + 2).trim();
}

const wallSeconds = (clock: string) => clock.split(':').reduce((s, part) => s * 60 + Number(part), 0);
const round1 = (x: number) => Math.round(x * 10) / 10;
const load = () => os.loadavg().map((l) => round1(l));

async function main() {
  const args = process.argv.slice(2);
  const files = args.filter((a) => !a.startsWith('--')).map((f) => path.resolve(f));
  if (!files.length) throw new Error('usage: catalog-import.ts <file>... [--reimport] [--explain]');
  const dataDir = await useIsolatedStack('catalog-import');
  const config = loadConfig();
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    port: config.database.embeddedPort,
    home: config.database.embeddedHome,
    onLog: (text) => fs.appendFileSync(path.join(dataDir, 'postgres.log'), text),
  });
  const postmaster = Number(fs.readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const database = await connectDatabase(pg.url, { max: 1 });
  const results: Record<string, unknown>[] = [];
  try {
    await migrateDatabase(pg.url);
    if (args.includes('--explain')) {
      for (const setting of [
        `session_preload_libraries = 'auto_explain'`,
        `auto_explain.log_min_duration = '1s'`,
        'auto_explain.log_analyze = on',
        'auto_explain.log_buffers = on',
        'auto_explain.log_timing = off',
        'auto_explain.log_nested_statements = on',
      ])
        await database.sql.unsafe(`alter system set ${setting}`);
      await database.sql`select pg_reload_conf()`;
    }
    const settings = await database.sql<{ name: string; setting: string; unit: string | null }[]>`
      select name, setting, unit from pg_settings
      where name in ('shared_buffers', 'work_mem', 'max_wal_size', 'fsync', 'synchronous_commit', 'wal_level', 'server_version')`;
    for (const file of files) {
      await database.sql`truncate shows, items, item_revisions, audit_log cascade`;
      await database.sql`checkpoint`;
      for (const pass of args.includes('--reimport') ? ['import', 'reimport'] : ['import']) {
        const loadBefore = load();
        const pgBefore = postgresCpu(postmaster);
        const run = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, 'catalog', 'import', file, '--json'], {
          env: { ...process.env, DATABASE_URL: pg.url },
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (run.status !== 0) throw new Error(`import of ${file} exited ${run.status}: ${run.stderr}`);
        const row = {
          file: path.basename(file),
          pass,
          result: JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>,
          wall_s: round1(wallSeconds(timeFigure(run.stderr, 'Elapsed (wall clock) time'))),
          importer_cpu_s: round1(
            Number(timeFigure(run.stderr, 'User time (seconds)')) +
              Number(timeFigure(run.stderr, 'System time (seconds)')),
          ),
          importer_peak_rss_mb: Math.round(Number(timeFigure(run.stderr, 'Maximum resident set size')) / 1024),
          postgres_cpu_s: round1(postgresCpu(postmaster) - pgBefore),
          load_before: loadBefore,
          load_after: load(),
        };
        console.error(JSON.stringify(row));
        results.push(row);
      }
    }
    const report = { settings, runs: results };
    fs.writeFileSync(path.join(BENCH_OUT, 'catalog-import.json'), JSON.stringify(report, null, 2));
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await database.close();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
