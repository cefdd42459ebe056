import { removeStackData } from '../scripts/isolated-stack';

export default async function globalTeardown() {
  const services = (globalThis as Record<string, unknown>).__judgeflowServices as
    { pg: { stop(): Promise<void> }; temporal: { stop(): Promise<void> }; root: string } | undefined;
  if (!services) return;
  await Promise.allSettled([services.temporal.stop(), services.pg.stop()]);
  // As root the cluster may live under EMBEDDED_PG_HOME, linked from root/postgres.
  removeStackData(services.root);
}
