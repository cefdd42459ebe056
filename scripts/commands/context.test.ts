/**
 * What every command opens (context.ts): PostgreSQL and Temporal are reached at once, and a command
 * that cannot reach one of them exits 2 with the message that says which — without waiting for the
 * other to answer or time out. Run as a user runs it (bin/judgeflow.js).
 */
import net from 'node:net';
import { freePort } from '../../platform/ports';
import { createTestDatabase, type TestDatabase } from '../../test/harness';
import { runCli } from '../../test/stack-process';

jest.setTimeout(120_000);
// Its own database: a command connected to the template would make every other file's clone of it fail.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

/** A Temporal address that accepts connections and never answers (the client waits its 10 s for it). */
async function silentServer() {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { address: `127.0.0.1:${port}`, close };
}

const env = (databaseUrl: string, temporalAddress: string) => ({
  DATABASE_URL: databaseUrl,
  TEMPORAL_ADDRESS: temporalAddress,
  TEMPORAL_NAMESPACE: 'default',
  LOG_LEVEL: 'warn',
});

test('PostgreSQL unreachable: its message, without waiting for a Temporal that does not answer', async () => {
  const temporal = await silentServer();
  try {
    const pgPort = await freePort();
    const started = Date.now();
    const run = await runCli(
      ['program', 'status', 'some-program'],
      env(`postgres://u:p@127.0.0.1:${pgPort}/x`, temporal.address),
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1/);
    expect(run.stdout).not.toMatch(/Cannot reach Temporal/);
    // Waiting for Temporal would take its whole 10 s connect timeout on top of the start.
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    await temporal.close();
  }
});

test('Temporal unreachable: its message, with the settings to check, and the command ends', async () => {
  const temporalPort = await freePort();
  const run = await runCli(['program', 'status', 'some-program'], env(database.url, `127.0.0.1:${temporalPort}`));
  expect(run.code).toBe(2);
  expect(run.stdout).toMatch(new RegExp(`Cannot reach Temporal at 127\\.0\\.0\\.1:${temporalPort}`));
  expect(run.stdout).toMatch(/Check TEMPORAL_ADDRESS/);
  expect(run.stdout).not.toMatch(/Cannot reach PostgreSQL/);
});

test('both reachable: the command runs (an unknown program is refused with exit code 2 and its message)', async () => {
  const run = await runCli(
    ['program', 'status', 'no-such-program'],
    env(database.url, process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS!),
  );
  expect([run.code, run.stdout.trim()]).toEqual([2, 'no program "no-such-program" (see `judgeflow program list`)']);
});
