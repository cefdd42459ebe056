import { zodResponseFormat } from 'openai/helpers/zod';
import { batchResults, batchStatus, submitBatch, type BatchRequestLine } from './batch';
import { emptyUsage, addUsage, parseAnswer } from './call';
import { createLlmClient } from './client';
import { BUILT_IN_PRICES, costOf } from './pricing';
import { LLM_REQUEST_KINDS } from '../judging/prompts/contract';
import { judgeMessages } from '../judging/prompts/judge';
import { judgeVerdictSchema } from '../judging/prompts/schemas';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { testConfig } from '../test/harness';

let sim: LlmSimulator;
beforeAll(async () => {
  sim = await startLlmSimulator({ port: 0, batch: { validatingMs: 20, msPerRequest: 1, finalizingMs: 20 } });
});
afterAll(() => sim.close());

const judgeLine = (i: number): BatchRequestLine => ({
  customId: `item-${i}|tone|0`,
  body: {
    model: 'gpt-4.1-mini',
    messages: judgeMessages('You judge the tone of a synopsis.', {
      criterionKey: 'tone',
      show: { title: `Show ${i}` },
      synopsis: `A detective returns home, episode ${i}.`,
    }),
    response_format: zodResponseFormat(judgeVerdictSchema, LLM_REQUEST_KINDS.judge),
  },
});

test('a batch round-trips through the simulator’s Batch API; a bad line comes back as a failure to resubmit; batch price ≥45% cheaper', async () => {
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url }));
  const lines = [
    judgeLine(1),
    judgeLine(2),
    judgeLine(3),
    { customId: 'bad|tone|0', body: { model: 'gpt-4.1-mini', messages: [] } },
  ];
  const submitted = await submitBatch(llm, lines, { run: 'p1/r1', shard: '1' });
  expect(submitted.requests).toBe(4);

  let status = await batchStatus(llm, submitted.batchId);
  const deadline = Date.now() + 20_000;
  while (!status.done && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    status = await batchStatus(llm, submitted.batchId);
  }
  expect(status.status).toBe('completed');
  expect(status.counts.total).toBe(4);

  const results = await batchResults(llm, status);
  expect(results.map((r) => r.customId).sort()).toEqual([
    'bad|tone|0',
    'item-1|tone|0',
    'item-2|tone|0',
    'item-3|tone|0',
  ]);
  const bad = results.find((r) => r.customId === 'bad|tone|0');
  expect(bad?.ok).toBe(false);
  const usage = emptyUsage();
  for (const r of results.filter((x) => x.ok)) {
    if (!r.ok) continue;
    const answer = parseAnswer(judgeVerdictSchema, r.completion);
    expect(answer.ok).toBe(true);
    addUsage(usage, r.completion);
  }
  expect(usage.promptTokens).toBeGreaterThan(0);
  const batch = costOf(BUILT_IN_PRICES, 'gpt-4.1-mini', usage, 'batch');
  expect(batch.costUsd).toBeGreaterThan(0);
  expect(batch.costUsd).toBeLessThanOrEqual(batch.altCostUsd * 0.55);
  expect(sim.stats().batches.completed).toBe(1);

  // The provider does not know it (404): lost, terminal, nothing to read back.
  expect(await batchStatus(llm, 'batch_does_not_exist')).toMatchObject({
    status: 'lost',
    done: true,
    outputFileId: null,
    errorFileId: null,
  });
  await expect(submitBatch(llm, [], {})).rejects.toThrow(/at least one request/);
});
