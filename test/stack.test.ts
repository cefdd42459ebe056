/**
 * `judgeflow stack up` as a new user runs it: starts Temporal (Web UI answers) and PostgreSQL, a
 * smoke workflow round-trips through the worker, Ctrl-C leaves no process behind, and a second
 * start resumes with the data of the first. Bad settings fail fast with a message saying what to fix.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort } from '../platform/ports';
import { isolatedStackEnv, removeStackData } from '../scripts/isolated-stack';
import { alive, processesUsing, runCli } from './stack-process';

describe('judgeflow stack up', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-stack-'));
    env = await isolatedStackEnv(dataDir);
  });
  afterAll(() => removeStackData(dataDir));

  test('starts everything, answers on the Web UI, stops cleanly, and resumes with its data', async () => {
    const first = await runCli(['stack', 'up'], env, true);
    expect(first.stdout).toContain('smoke workflow round-tripped');
    // The /metrics URLs it prints answer: the worker's (with the Temporal SDK's) and the gateway's.
    const metrics = { worker: env.WORKER_METRICS_PORT, gateway: env.GATEWAY_PORT };
    for (const [what, port] of Object.entries(metrics)) {
      const url = `http://127.0.0.1:${port}/metrics`;
      expect(first.stdout).toContain(url);
      const text = await (await fetch(url)).text();
      expect(text).toContain(what === 'worker' ? 'temporal_' : 'judgeflow_gateway_inbox_lag_seconds');
    }
    const ui = await fetch(`http://localhost:${env.TEMPORAL_UI_PORT}/`);
    expect(ui.status).toBe(200);
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.json'), 'utf8'));
    const childPids = Object.values(state.services as Record<string, number>);
    expect(Object.keys(state.services)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'worker', 'gateway']));
    const dbUrl: string = state.env.DATABASE_URL;
    expect(processesUsing(dataDir).length).toBeGreaterThan(0);

    const stopped = await first.stop!();
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('stack stopped');
    expect(processesUsing(dataDir)).toEqual([]);
    expect(childPids.filter(alive)).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'stack.json'))).toBe(false);

    const second = await runCli(['stack', 'up'], env, true);
    const sql = postgres(dbUrl, { max: 1 });
    const rows = await sql`select id from smoke_checks`;
    await sql.end();
    expect(rows.length).toBe(2); // the first run's check survived the restart
    const again = await second.stop!();
    expect(again.code).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);
  }, 400_000); // two starts: each took up to 100 s on a loaded 2-core machine

  test('TEMPORAL_ADDRESS=nonsense fails at once, naming the setting', async () => {
    const run = await runCli(['stack', 'up'], { ...env, TEMPORAL_ADDRESS: 'nonsense' });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/TEMPORAL_ADDRESS="nonsense": expected host:port/);
  });

  test('an unreachable DATABASE_URL fails fast with what to check', async () => {
    const port = await freePort();
    const run = await runCli(['stack', 'up'], { ...env, DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/x` });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1/);
    expect(run.stdout).toMatch(/Check DATABASE_URL/);
  });

  test('a busy port is named with the setting that moves it', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const run = await runCli(['stack', 'up'], { ...env, EMBEDDED_PG_PORT: String(port) });
      expect(run.code).toBe(2);
      expect(run.stdout).toContain(`Port ${port} (embedded PostgreSQL) is already in use`);
      expect(run.stdout).toContain('EMBEDDED_PG_PORT');
      expect(processesUsing(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});
