/**
 * `judgeflow demo` as a new user runs it, on a private embedded stack: every phase end to end on the
 * demo-size world (1,000 shows, production over 1,000 synopses, fix loops), exit 0, spend within the
 * budget, and no workflow history anywhere near Temporal's limits (51,200 events; we hold < 10,000).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { DemoSummary } from '../scripts/demo';
import { isolatedStackEnv, removeStackData } from '../scripts/isolated-stack';

const BIN = path.resolve(__dirname, '../bin/judgeflow.js');
// About 8 minutes on an idle 2-core machine; CI runs it beside other test files.
const DEMO_TIMEOUT_MS = 30 * 60_000;

let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-demo-'));
});
afterAll(() => removeStackData(dataDir));

test(
  'the demo runs the program end to end and keeps every history under 10,000 events',
  async () => {
    const summaryFile = path.join(dataDir, 'summary.json');
    const logFile = path.join(dataDir, 'demo.log');
    const log = fs.openSync(logFile, 'w');
    const child = spawn(process.execPath, [BIN, 'demo', '--summary-json', summaryFile], {
      env: { ...process.env, ...(await isolatedStackEnv(dataDir)) },
      stdio: ['ignore', log, log],
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    fs.closeSync(log);
    const output = fs.readFileSync(logFile, 'utf8');
    if (code !== 0) throw new Error(`judgeflow demo exited ${code}:\n${output.slice(-6000)}`);

    const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as DemoSummary;
    expect(summary.status).toBe('completed');
    expect(summary.roundsToTarget).not.toBeNull();
    expect(summary.goldenSet?.items).toBe(200);
    expect(Object.keys(summary.judgeTestAccuracy).sort()).toEqual(['clarity', 'factuality', 'precision', 'tone']);
    expect(summary.production).toEqual({ judged: 1000, total: 1000 });
    expect(Object.values(summary.fixCycles).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(summary.spendUsd).toBeLessThanOrEqual(summary.budgetUsd);
    // Hundreds of workflows (rounds, rating batches, shards, fix loops), none with a large history.
    expect(summary.workflows).toBeGreaterThan(500);
    expect(summary.largestHistory!.events).toBeGreaterThan(0);
    expect(summary.largestHistory!.events).toBeLessThan(10_000);
    expect(output).toContain('══ judgeflow demo summary (simulated world) ══');
    // The PM's status during production shows the run's live progress, not only its end.
    expect(output).toMatch(/\[production\] running .* judged [1-9]\d{0,2}\/1000\n/);
    expect(fs.existsSync(path.join(dataDir, `report-${summary.programId}.html`))).toBe(true);
  },
  DEMO_TIMEOUT_MS,
);

test(
  'the multilingual demo runs a program over en-US and es-ES and summarizes each locale',
  async () => {
    // A stack of its own: the first demo's world and programs are not this one's.
    const localesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-demo-locales-'));
    try {
      await multilingualDemo(localesDir);
    } finally {
      removeStackData(localesDir);
    }
  },
  DEMO_TIMEOUT_MS,
);

async function multilingualDemo(dir: string) {
  const summaryFile = path.join(dir, 'summary.json');
  const logFile = path.join(dir, 'demo.log');
  const log = fs.openSync(logFile, 'w');
  const spec = path.resolve(__dirname, '../examples/multilingual-demo.yaml');
  const child = spawn(
    process.execPath,
    [BIN, 'demo', '--spec', spec, '--shows', '300', '--summary-json', summaryFile],
    { env: { ...process.env, ...(await isolatedStackEnv(dir)) }, stdio: ['ignore', log, log] },
  );
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  fs.closeSync(log);
  const output = fs.readFileSync(logFile, 'utf8');
  if (code !== 0) throw new Error(`judgeflow demo --spec exited ${code}:\n${output.slice(-6000)}`);

  const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as DemoSummary;
  expect(summary.status).toBe('completed');
  expect(summary.programId).toMatch(/^multilingual-demo-/);
  const locales = summary.locales!;
  console.log(`multilingual demo in ${summary.wallSeconds} s: ${JSON.stringify(locales)}`);
  const program = YAML.parse(fs.readFileSync(spec, 'utf8')) as {
    locales: { code: string }[];
    criteria: { id: string }[];
    rounds: { goldenSetSize: number; maxCalibrationRounds: number };
    targets: { judgeAccuracy: number };
    production: { limit: number };
  };
  const criteria = program.criteria.map((c) => c.id).sort();
  expect(Object.keys(locales).sort()).toEqual(program.locales.map((l) => l.code).sort());
  // The golden set is split between the locales, each judge measured on its own locale's items.
  expect(Object.values(locales).reduce((n, l) => n + l.goldenSet.items, 0)).toBe(summary.goldenSet?.items);
  // Every locale reaches production (none skipped) with judges validated on its own golden set, and
  // its whole sample is judged on every criterion.
  for (const [code, l] of Object.entries(locales)) {
    expect({ code, judged: l.judged, production: l.production }).toEqual({
      code,
      judged: true,
      production: { judged: program.production.limit, total: program.production.limit },
    });
    expect({ code, rounds: l.roundsToTarget }).toEqual({ code, rounds: expect.any(Number) });
    expect(l.roundsToTarget).toBeLessThanOrEqual(program.rounds.maxCalibrationRounds);
    expect({ code, golden: l.goldenSet.items }).toEqual({ code, golden: program.rounds.goldenSetSize });
    expect(l.goldenSet.test).toBeGreaterThan(0);
    expect(Object.keys(l.judgeTestAccuracy).sort()).toEqual(criteria);
    for (const [criterion, accuracy] of Object.entries(l.judgeTestAccuracy))
      expect({ code, criterion, atTarget: accuracy! >= program.targets.judgeAccuracy }).toEqual({
        code,
        criterion,
        atTarget: true,
      });
    expect(l.passRates.map((r) => [r.criterion, r.items, r.errors])).toEqual(
      criteria.map((c) => [c, program.production.limit, 0]),
    );
  }
  expect(summary.largestHistory!.events).toBeLessThan(10_000);
  expect(output).toContain('── es-ES');
  expect(fs.existsSync(path.join(dir, `report-${summary.programId}.html`))).toBe(true);
}
