/**
 * Starts the real services every test file shares, once per run: an embedded PostgreSQL (fresh data
 * dir, migrations applied to a template database each test file clones) and a Temporal CLI dev
 * server (in-memory). The workflow bundle is built once here too. Workflow tests that need time
 * skipping start their own test server per file (see test/harness.ts), because skipped time is
 * global to a server and files run in parallel.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase } from '../platform/db';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
import { freePort } from '../platform/ports';
import { findTemporalCli, startDevServer } from '../platform/temporal';
import { bundleWorkflows } from '../workers/workflow-bundle';

export const TEMPLATE_DB = 'judgeflow_template';

export default async function globalSetup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'judgeflow-test-'));
  // Open to the postgres user (as root), so the cluster stays in here rather than under
  // EMBEDDED_PG_HOME: a run that is killed before its teardown leaves it in the temp dir only.
  fs.chmodSync(root, 0o755);
  const [pgPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const [pg, temporal, bundle] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(root, 'postgres'), port: pgPort, database: TEMPLATE_DB }),
    startDevServer({
      cliPath: findTemporalCli({ temporal: { cliPath: process.env.TEMPORAL_CLI_PATH } } as never),
      port: temporalPort,
      uiPort,
      dbFile: path.join(root, 'temporal.sqlite'),
      namespace: 'default',
    }),
    bundleWorkflows(),
  ]);
  await migrateDatabase(pg.url);
  const bundlePath = path.join(root, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);

  // Test files (jest workers, forked after this) find the services through the environment.
  process.env.JUDGEFLOW_TEST_ROOT = root;
  process.env.JUDGEFLOW_TEST_PG_URL = pg.url;
  process.env.JUDGEFLOW_TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.JUDGEFLOW_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as Record<string, unknown>).__judgeflowServices = { pg, temporal, root };
}
