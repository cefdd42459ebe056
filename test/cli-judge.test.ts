/** `judgeflow judge eval` as a program manager runs it: the spec's samples and model are the defaults. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ensureJudgePrompts } from '../judging/prompt-registry';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { freePort } from '../platform/ports';
import { createTestDatabase, type TestDatabase } from './harness';
import { seedJudgeWorld } from './judge-fixture';

const BIN = path.join(__dirname, '..', 'bin', 'judgeflow.js');
let database: TestDatabase;
let sim: LlmSimulator;

afterAll(async () => {
  await sim?.close();
  await database?.drop();
});

function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    OPENAI_BASE_URL: sim.url,
    JUDGE_MODEL: 'gpt-4.1-mini',
    LOG_LEVEL: 'error',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

test('judge eval defaults to the criterion’s samples and the spec’s model; flags override; unknown ids are bad input', async () => {
  database = await createTestDatabase();
  sim = await startLlmSimulator({ port: await freePort(), seed: 3 });
  const { spec } = await seedJudgeWorld(database.db, {
    programId: 'cli-judge',
    shows: 4,
    seed: 5,
    over: { judges: { model: 'gpt-4.1', samples: 5, optimize: false, maxOptimizerCalls: 100 } },
  });
  const prompts = await ensureJudgePrompts(database.db, {
    programId: spec.id,
    guidelineVersion: spec.guidelines.version,
  });
  const precision = spec.criteria.find((c) => c.id === 'precision')!;
  expect(precision.judge?.samples).toBe(1); // differs from the program's 5, so the default is visibly the criterion's
  const byDefault = await run(
    'judge',
    'eval',
    '--program',
    spec.id,
    '--criterion',
    'precision',
    '--prompt',
    prompts.precision,
    '--json',
  );
  expect(byDefault.err).toBe('');
  expect(byDefault.code).toBe(0);
  expect(JSON.parse(byDefault.out)).toMatchObject({ samples: 1, model: 'gpt-4.1' });

  const given = await run(
    'judge',
    'eval',
    '--program',
    spec.id,
    '--criterion',
    'tone',
    '--prompt',
    prompts.tone,
    '--samples',
    '2',
    '--model',
    'gpt-4o-mini',
    '--json',
  );
  expect(JSON.parse(given.out)).toMatchObject({ samples: 2, model: 'gpt-4o-mini' });

  const unknown = await run('judge', 'eval', '--program', spec.id, '--criterion', 'nope');
  expect(unknown.code).toBe(2);
  expect(unknown.err).toContain('has no criterion nope');
});
