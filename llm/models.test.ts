/**
 * The model capability table: what each family of model is sent, and — over HTTP against the
 * simulator, which refuses parameters as OpenAI does (temperature or max_tokens to a reasoning
 * model, reasoning_effort to another) — that a judge request with the spec's temperature and
 * reasoning effort is accepted by both kinds of model.
 */
import { z } from 'zod';
import { APIError } from 'openai';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { testConfig } from '../test/harness';
import { chatParams, structuredCall, type StructuredRequest } from './call';
import { createLlmClient } from './client';
import { applyModelCapabilities, modelCapabilities } from './models';

const schema = z.object({ summary: z.string(), verdict: z.enum(['pass', 'fail']) });
const request = (
  model: string,
  extra: Partial<StructuredRequest<typeof schema>> = {},
): StructuredRequest<typeof schema> => ({
  kind: 'judge_verdict',
  schema,
  model,
  messages: [{ role: 'user', content: 'Judge this synopsis.' }],
  temperature: 0,
  reasoningEffort: 'minimal',
  maxTokens: 800,
  seed: 2,
  ...extra,
});

test.each([
  ['o4-mini', true],
  ['o3', true],
  ['o1-preview', true],
  ['gpt-5', true],
  ['gpt-5-mini', true],
  ['gpt-5.1', true],
  ['openai/gpt-5-nano', true],
  ['gpt-5-chat-latest', false],
  ['gpt-4.1-mini', false],
  ['gpt-4o', false],
  ['llama-3.1-70b-instruct', false],
  ['omni-judge', false],
])('%s is a reasoning model: %s', (model, reasoning) => {
  expect(modelCapabilities(model).reasoning).toBe(reasoning);
});

test('a reasoning model gets no temperature or top_p, its reasoning effort and max_completion_tokens', () => {
  const params = chatParams(request('gpt-5-mini'));
  expect(params).not.toHaveProperty('temperature');
  expect(params).not.toHaveProperty('max_tokens');
  expect(params).toMatchObject({
    model: 'gpt-5-mini',
    reasoning_effort: 'minimal',
    max_completion_tokens: 800,
    seed: 2,
  });
  // o-series have no `minimal`: the nearest effort above it.
  expect(chatParams(request('o4-mini'))).toMatchObject({ reasoning_effort: 'low', max_completion_tokens: 800 });
  expect(applyModelCapabilities({ model: 'o3', messages: [], top_p: 0.9, max_tokens: 10 })).toEqual({
    model: 'o3',
    messages: [],
    max_completion_tokens: 10,
  });
});

test('another model keeps temperature, gets max_tokens, and no reasoning effort', () => {
  const params = chatParams(request('gpt-4.1-mini'));
  expect(params).toMatchObject({ model: 'gpt-4.1-mini', temperature: 0, max_tokens: 800 });
  expect(params).not.toHaveProperty('reasoning_effort');
  expect(params).not.toHaveProperty('max_completion_tokens');
});

test('LLM_REASONING_MODELS names Azure deployments (or any model) to treat as reasoning models', () => {
  expect(chatParams(request('judge-prod'))).toHaveProperty('temperature', 0);
  const llm = createLlmClient(testConfig({ LLM_REASONING_MODELS: 'judge-prod,other' }));
  expect(llm.reasoningModels).toEqual(['judge-prod', 'other']);
  expect(chatParams(request('judge-prod'), llm.reasoningModels)).toMatchObject({
    reasoning_effort: 'minimal',
    max_completion_tokens: 800,
  });
  expect(chatParams(request('judge-prod'), llm.reasoningModels)).not.toHaveProperty('temperature');
  expect(() => testConfig({ LLM_REASONING_MODELS: 'a, b' })).toThrow(/LLM_REASONING_MODELS/);
});

describe('over HTTP: the simulator refuses what OpenAI refuses', () => {
  let sim: LlmSimulator;
  beforeAll(async () => {
    sim = await startLlmSimulator({ port: await freePort(), seed: 5, logger: createLogger('test', 'silent') });
  });
  afterAll(() => sim.close());

  test('sent as built before the table (temperature with reasoning_effort), both kinds of model refuse the request', async () => {
    const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url }));
    const raw = (model: string) => ({
      model,
      messages: [{ role: 'user' as const, content: 'hi' }],
      temperature: 0,
      reasoning_effort: 'low' as const,
    });
    const refused = (model: string) => llm.chat(raw(model)).catch((e: unknown) => e as APIError);
    expect(await refused('o4-mini')).toMatchObject({ status: 400, param: 'temperature' });
    expect(await refused('gpt-4.1-mini')).toMatchObject({
      status: 400,
      param: 'reasoning_effort',
      code: 'unsupported_parameter',
    });
    expect(
      await llm
        .chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 })
        .catch((e: unknown) => e as APIError),
    ).toMatchObject({ status: 400, param: 'max_tokens' });
  });

  test.each(['o4-mini', 'gpt-5-mini', 'gpt-4.1-mini'])(
    'a judge request with temperature 0 and a reasoning effort is accepted by %s',
    async (model) => {
      const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url }));
      const out = await structuredCall(llm, request(model, { maxTokens: undefined }));
      expect(out).toMatchObject({ ok: true, requests: 1 });
    },
  );
});
