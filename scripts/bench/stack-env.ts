import fs from 'node:fs';
import path from 'node:path';
import { isolatedStackEnv, removeStackData } from '../isolated-stack';

export const BENCH_OUT = path.resolve('bench-results');

/**
 * Points this process (and the stack children it starts, which read the environment) at a fresh
 * data dir under bench-results/ and free ports, so a benchmark never touches a developer's stack.
 */
export async function useIsolatedStack(name: string, extra: Record<string, string> = {}): Promise<string> {
  const dataDir = path.join(BENCH_OUT, `${name}-stack`);
  removeStackData(dataDir);
  fs.mkdirSync(BENCH_OUT, { recursive: true });
  Object.assign(process.env, await isolatedStackEnv(dataDir), extra);
  return dataDir;
}
