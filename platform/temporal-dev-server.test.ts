/**
 * The embedded Temporal server's data file: a workflow started before the server is killed (not
 * stopped) is there after it starts again on the same file, as the stack's supervisor restarts it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from './ports';
import { findTemporalCli, startDevServer } from './temporal';

jest.setTimeout(120_000);

test('a workflow started before a SIGKILL is still running after a restart on the same SQLite file (write-ahead log)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-dev-'));
  const dbFile = path.join(dir, 'temporal.sqlite');
  const start = async () =>
    startDevServer({
      cliPath: findTemporalCli({ temporal: { cliPath: process.env.TEMPORAL_CLI_PATH } } as never),
      port: await freePort(),
      uiPort: await freePort(),
      dbFile,
      namespace: 'default',
    });
  const first = await start();
  try {
    const connection = await Connection.connect({ address: first.address });
    const started = await new Client({ connection }).workflow.start('notRegisteredAnywhere', {
      taskQueue: 'nobody-polls',
      workflowId: 'survives-a-kill',
    });
    await connection.close();
    expect(fs.existsSync(`${dbFile}-wal`)).toBe(true);
    first.process.kill('SIGKILL');
    await new Promise((resolve) => first.process.once('exit', resolve));

    const second = await start();
    try {
      const again = await Connection.connect({ address: second.address });
      const description = await new Client({ connection: again }).workflow.getHandle('survives-a-kill').describe();
      await again.close();
      expect([description.runId, description.status.name]).toEqual([started.firstExecutionRunId, 'RUNNING']);
    } finally {
      await second.stop();
    }
  } finally {
    first.process.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
