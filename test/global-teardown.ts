import fs from 'node:fs';

export default async function globalTeardown() {
  const services = (globalThis as Record<string, unknown>).__judgeflowServices as
    { pg: { stop(): Promise<void> }; temporal: { stop(): Promise<void> }; root: string } | undefined;
  if (!services) return;
  await Promise.allSettled([services.temporal.stop(), services.pg.stop()]);
  fs.rmSync(services.root, { recursive: true, force: true });
}
