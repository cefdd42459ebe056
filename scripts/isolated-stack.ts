import fs from 'node:fs';
import path from 'node:path';
import { removeDataDir } from '../platform/embedded-postgres-layout';
import { freePort } from '../platform/ports';

/**
 * Settings for a private embedded stack in `dataDir` on free ports, with every external service
 * unset so the embedded ones start: what tests, the demo test and benchmarks give the processes
 * they spawn, so they never touch a developer's own stack.
 */
export async function isolatedStackEnv(dataDir: string): Promise<Record<string, string>> {
  return {
    JUDGEFLOW_DATA_DIR: dataDir,
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    LLM_SIM_PORT: String(await freePort()),
    GATEWAY_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    VENDOR_SIM_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
    DATABASE_URL: '',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    LOG_LEVEL: 'warn',
  };
}

/** Throws a stack's data dir away, with the PostgreSQL cluster its `postgres` entry may link to (as root). */
export function removeStackData(dataDir: string) {
  removeDataDir(path.join(dataDir, 'postgres'));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
