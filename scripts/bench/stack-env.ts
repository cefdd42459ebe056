import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../platform/ports';

export const BENCH_OUT = path.resolve('bench-results');

/**
 * Points this process (and the stack children it starts, which read the environment) at a fresh
 * data dir under bench-results/ and free ports, so a benchmark never touches a developer's stack.
 */
export async function useIsolatedStack(name: string, extra: Record<string, string> = {}): Promise<string> {
  const dataDir = path.join(BENCH_OUT, `${name}-stack`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(BENCH_OUT, { recursive: true });
  Object.assign(process.env, {
    JUDGEFLOW_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    ...extra,
  });
  return dataDir;
}
