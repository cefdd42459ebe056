/**
 * `judgeflow stack up` supervises what it started: each service killed with SIGKILL is announced and
 * restarted (Temporal resumes its SQLite file, PostgreSQL its data, the worker and the gateway
 * reconnect) and a smoke workflow round-trips afterwards; a service that keeps failing makes the
 * stack stop everything and exit 1, naming the service and its log.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { connectClient } from '../platform/temporal';
import { isolatedStackEnv, removeStackData } from '../scripts/isolated-stack';
import { smokeWorkflow } from '../workflows';
import { alive, processesUsing, startCli } from './stack-process';

const VENDOR_SIM_SECRET = 'whsec_c3VwZXJ2aXNpb24tdGVzdC1zZWNyZXQ=';

const servicesOf = (dataDir: string) =>
  (JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.json'), 'utf8')) as { services: Record<string, number> })
    .services;

/** Binds the port as soon as the process that held it is gone (within a second). */
async function occupy(port: number): Promise<net.Server> {
  for (let attempt = 0; ; attempt++) {
    const server = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return server;
    if (attempt > 50) throw new Error(`port ${port} stayed busy`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('stack up supervision', () => {
  const dataDirs: string[] = [];
  const newDataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-supervise-'));
    dataDirs.push(dir);
    return dir;
  };
  afterAll(() => dataDirs.forEach(removeStackData));

  test('every service killed once is restarted, and a workflow round-trips afterwards', async () => {
    const dataDir = newDataDir();
    const env: Record<string, string> = {
      ...(await isolatedStackEnv(dataDir)),
      VENDOR_SIM_SECRET,
      VENDOR_SIM_LATENCY_MS: '0',
    };
    const stack = startCli(['stack', 'up'], env);
    try {
      await stack.waitFor(/READY/, 180_000);
      const killed = ['temporal', 'postgres', 'worker', 'gateway', 'sim-llm', 'vendor-sim'];
      expect(Object.keys(servicesOf(dataDir)).sort()).toEqual([...killed].sort());
      for (const name of killed) {
        const pid = servicesOf(dataDir)[name];
        process.kill(pid, 'SIGKILL');
        await stack.waitFor(
          new RegExp(`! ${name} exited \\(SIGKILL\\); restarting in \\d+s \\(log: .*${name}\\.log\\)`),
          10_000,
        );
        await stack.waitFor(new RegExp(`✓ ${name} restarted`), 120_000);
        const restarted = servicesOf(dataDir)[name];
        expect(restarted).not.toBe(pid);
        expect(alive(restarted)).toBe(true);
      }
      expect(stack.output()).not.toMatch(/✗/);

      const client = await connectClient({ address: `127.0.0.1:${env.TEMPORAL_DEV_PORT}`, namespace: 'default' });
      const workflowId = `smoke/after-kills-${Date.now()}`;
      const result = await client.workflow.execute(smokeWorkflow, {
        workflowId,
        taskQueue: 'judgeflow',
        args: ['after every service was killed once'],
        workflowExecutionTimeout: '2 minutes',
      });
      await client.connection.close();
      expect(result.id).toBe(workflowId);
      const sql = postgres(`postgres://judgeflow:judgeflow@127.0.0.1:${env.EMBEDDED_PG_PORT}/judgeflow`, { max: 1 });
      const rows = await sql`select id from smoke_checks order by created_at`;
      await sql.end();
      // The check at start survived PostgreSQL's restart; the new one was stored by the restarted worker.
      expect(rows.map((r) => r.id as string)).toEqual([expect.stringMatching(/^smoke\//), workflowId]);

      const pids = Object.values(servicesOf(dataDir));
      const stopped = await stack.stop();
      expect(stopped.code).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
      expect(processesUsing(dataDir)).toEqual([]);
    } finally {
      await stack.stop();
    }
  }, 900_000);

  test('a service that keeps failing stops the stack, which exits 1 naming it and its log', async () => {
    const dataDir = newDataDir();
    const env: Record<string, string> = { ...(await isolatedStackEnv(dataDir)), STACK_RESTART_LIMIT: '2' };
    const stack = startCli(['stack', 'up', '--workers', '0'], env);
    let blocker: net.Server | undefined;
    try {
      await stack.waitFor(/READY/, 180_000);
      const services = servicesOf(dataDir);
      process.kill(services.gateway, 'SIGKILL');
      // Something else takes the gateway's port: its restart fails, the second failure within the window.
      blocker = await occupy(Number(env.GATEWAY_PORT));
      const run = await stack.exited;
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`! gateway exited (SIGKILL); restarting in 1s`);
      expect(run.stdout).toMatch(
        new RegExp(
          `gateway failed 2 times within 120s \\(last: did not restart: Port ${env.GATEWAY_PORT} \\(gateway\\) is already in use.*\\); stopped the stack\\. Its log: ${path.join(dataDir, 'logs', 'gateway.log')}`,
        ),
      );
      expect(Object.values(services).filter(alive)).toEqual([]);
      expect(processesUsing(dataDir)).toEqual([]);
      expect(fs.existsSync(path.join(dataDir, 'stack.json'))).toBe(false);
    } finally {
      blocker?.close();
      await stack.stop();
    }
  }, 600_000);
});
