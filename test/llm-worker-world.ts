/**
 * For tests that run real `judgeflow worker` processes against the LLM simulator (crashes, metrics,
 * a shared limit): a fresh database, the dev server's client, a simulator, a task queue and the
 * processes, all torn down when the file ends. Call at the top of the file; `open` in the test.
 */
import type { Client } from '@temporalio/client';
import { ensureJudgePrompts } from '../judging/prompt-registry';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator, type StartLlmSimulatorOptions } from '../scripts/sim/llm/server';
import { createTestDatabase, devServerClient, judgeflowProcesses, uniqueTaskQueue, type TestDatabase } from './harness';
import { seedJudgeWorld } from './judge-fixture';

export interface LlmWorkerWorld {
  database: TestDatabase;
  client: Client;
  sim: LlmSimulator;
  taskQueue: string;
  /** A judgeflow worker on this world's database, task queue and simulator. */
  startWorker(opts: WorkerOptions): ReturnType<Processes['start']>;
  kill: Processes['kill'];
}

type Processes = ReturnType<typeof judgeflowProcesses>;
type WorkerOptions = Omit<Parameters<Processes['start']>[0], 'command' | 'databaseUrl' | 'taskQueue' | 'llmUrl'>;

export function llmWorkerWorld(name: string) {
  const processes = judgeflowProcesses();
  const parts: Partial<Pick<LlmWorkerWorld, 'database' | 'client' | 'sim'>> = {};
  afterAll(async () => {
    processes.killAll();
    await parts.client?.connection.close();
    await parts.sim?.close();
    await parts.database?.drop();
  });
  return {
    async open(sim: Omit<StartLlmSimulatorOptions, 'port'>): Promise<LlmWorkerWorld> {
      parts.database = await createTestDatabase();
      parts.client = await devServerClient();
      parts.sim = await startLlmSimulator({ logger: createLogger('test', 'silent'), ...sim, port: await freePort() });
      const { database, client, sim: simulator } = parts as Required<typeof parts>;
      const taskQueue = uniqueTaskQueue(name);
      return {
        database,
        client,
        sim: simulator,
        taskQueue,
        startWorker: (opts) =>
          processes.start({ ...opts, databaseUrl: database.url, taskQueue, llmUrl: simulator.url }),
        kill: processes.kill,
      };
    },
  };
}

/** A simulated catalog of `shows` shows for `programId`, and its judge prompts (hash per criterion). */
export async function seedJudgePrompts(
  world: LlmWorkerWorld,
  programId: string,
  catalog: { shows: number; seed: number },
): Promise<Record<string, string>> {
  await seedJudgeWorld(world.database.db, { programId, ...catalog });
  return ensureJudgePrompts(world.database.db, { programId, guidelineVersion: 1 });
}
