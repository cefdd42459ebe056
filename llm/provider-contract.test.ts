/**
 * Contract tests against a tiny local HTTP server that answers exactly as each provider documents:
 * OpenAI's error body {"error":{"message","type","param","code"}} and Azure OpenAI's
 * {"error":{"code","message"}} (content filter: with `innererror`), OpenAI's chat completion, and
 * Azure's URL shape (/openai/deployments/<deployment>/chat/completions?api-version=…, `api-key`).
 * Each error the openai SDK classifies as authentication, permission, not found, bad request or
 * insufficient quota is thrown by structuredCall as a non-retryable ApplicationFailure naming the
 * setting to fix, after exactly one request; rate limits and 5xx are retried; a bad request about
 * one item's content stays that item's error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { testConfig } from '../test/harness';
import { structuredCall, type StructuredRequest } from './call';
import { createLlmClient } from './client';
import { submitBatch } from './batch';
import { PROVIDER_FAILURE_TYPES } from './errors';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** A provider that answers each request with `reply(request, n)` and records what it received. */
async function provider(reply: (req: Seen, n: number) => Reply) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body:
          text && req.headers['content-type']?.startsWith('application/json')
            ? (JSON.parse(text) as Record<string, unknown>)
            : undefined,
      };
      seen.push(entry);
      const r = reply(entry, seen.length);
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});
const start = async (reply: (req: Seen, n: number) => Reply) => {
  const p = await provider(reply);
  servers.push(p);
  return p;
};

const schema = z.object({ summary: z.string(), verdict: z.enum(['pass', 'fail']) });
const request = (model = 'gpt-4.1-mini'): StructuredRequest<typeof schema> => ({
  kind: 'judge_verdict',
  schema,
  model,
  temperature: 0,
  messages: [{ role: 'user', content: 'Judge this.' }],
});

/** A chat completion as OpenAI documents it. */
const completion = (content: string, model = 'gpt-4.1-mini') => ({
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1_741_569_952,
  model,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 19,
    completion_tokens: 10,
    total_tokens: 29,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  service_tier: 'default',
});
const ok = () => ({ status: 200, body: completion(JSON.stringify({ summary: 'Fine.', verdict: 'pass' })) });

const openaiError = (message: string, type: string, code: string | null, param: string | null = null) => ({
  error: { message, type, param, code },
});

const OPENAI_FATAL: [string, number, unknown, keyof typeof PROVIDER_FAILURE_TYPES, RegExp][] = [
  [
    '401 invalid_api_key',
    401,
    openaiError(
      'Incorrect API key provided: sk-proj-****abcd. You can find your API key at https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      'invalid_api_key',
    ),
    'authentication',
    /fix OPENAI_API_KEY.*Provider said: Incorrect API key provided/,
  ],
  [
    '403 permission',
    403,
    openaiError('You are not allowed to sample from this model', 'invalid_request_error', null),
    'permission',
    /OPENAI_API_KEY access to it, or choose another model in JUDGE_MODEL or the program spec's judges\.model.*not allowed to sample/,
  ],
  [
    '404 model_not_found',
    404,
    openaiError(
      'The model `gpt-9-judge` does not exist or you do not have access to it.',
      'invalid_request_error',
      'model_not_found',
    ),
    'not_found',
    /no model "gpt-4\.1-mini".*fix JUDGE_MODEL or the program spec's judges\.model.*gpt-9-judge` does not exist/,
  ],
  [
    '400 unsupported_parameter',
    400,
    openaiError(
      "Unsupported parameter: 'temperature' is not supported with this model.",
      'invalid_request_error',
      'unsupported_parameter',
      'temperature',
    ),
    'bad_request',
    /invalid \(400 unsupported_parameter, parameter temperature\).*JUDGE_MODEL.*Provider said: Unsupported parameter/,
  ],
  [
    '429 insufficient_quota',
    429,
    openaiError(
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      'insufficient_quota',
      'insufficient_quota',
    ),
    'quota',
    /account behind OPENAI_API_KEY has no quota left.*exceeded your current quota/,
  ],
];

describe('OpenAI: fatal errors stop with the setting to fix, after one request', () => {
  test.each(OPENAI_FATAL)('%s', async (_name, status, body, kind, message) => {
    const p = await start(() => ({ status, body }));
    const llm = createLlmClient(
      testConfig({ OPENAI_BASE_URL: `${p.origin}/v1`, OPENAI_API_KEY: 'sk-test', LLM_MAX_RETRIES: '3' }),
    );
    const err = await structuredCall(llm, request()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe(PROVIDER_FAILURE_TYPES[kind]);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(message);
    expect(p.seen).toHaveLength(1); // never retried: the same request gets the same answer
    expect(p.seen[0].headers.authorization).toBe('Bearer sk-test');
  });

  test('a 404 that is not about the model names OPENAI_BASE_URL', async () => {
    const p = await start(() => ({ status: 404, body: '<html><body>Not Found</body></html>' }));
    const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: p.origin, OPENAI_API_KEY: 'sk-test' }));
    const err = (await structuredCall(llm, request()).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.type).toBe('ProviderNotFoundError');
    expect(err.message).toMatch(
      /answered 404 for http:\/\/127\.0\.0\.1:\d+\/chat\/completions: check OPENAI_BASE_URL .*usually ends in \/v1/,
    );
    expect(err.message).toMatch(/Not Found/);
  });

  test('a plain 429 (rate limit) and a 500 are retried, honouring retry-after-ms, then answered', async () => {
    const p = await start((_req, n) =>
      n === 1
        ? {
            status: 429,
            body: openaiError(
              'Rate limit reached for gpt-4.1-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.',
              'requests',
              'rate_limit_exceeded',
            ),
            headers: { 'retry-after-ms': '50' },
          }
        : n === 2
          ? {
              status: 500,
              body: openaiError(
                'The server had an error while processing your request. Sorry about that!',
                'server_error',
                null,
              ),
            }
          : ok(),
    );
    const llm = createLlmClient(
      testConfig({ OPENAI_BASE_URL: `${p.origin}/v1`, OPENAI_API_KEY: 'sk-test', LLM_MAX_RETRIES: '3' }),
    );
    const out = await structuredCall(llm, request());
    expect(out).toMatchObject({ ok: true, value: { verdict: 'pass' } });
    expect(p.seen).toHaveLength(3);
  });

  test('a 429 insufficient_quota is not retried even with retry headers; 5xx after the last retry is an error result, not a failure', async () => {
    const quota = await start(() => ({
      status: 429,
      body: openaiError('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota'),
      headers: { 'retry-after': '1' },
    }));
    const llm = createLlmClient(
      testConfig({ OPENAI_BASE_URL: `${quota.origin}/v1`, OPENAI_API_KEY: 'sk-test', LLM_MAX_RETRIES: '3' }),
    );
    await expect(structuredCall(llm, request())).rejects.toMatchObject({ type: 'ProviderQuotaExceededError' });
    expect(quota.seen).toHaveLength(1);
    const down = await start(() => ({
      status: 503,
      body: openaiError('The engine is currently overloaded, please try again later.', 'server_error', null),
    }));
    const out = await structuredCall(
      createLlmClient(
        testConfig({ OPENAI_BASE_URL: `${down.origin}/v1`, OPENAI_API_KEY: 'sk-test', LLM_MAX_RETRIES: '1' }),
      ),
      request(),
    );
    expect(out).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^provider: 503 The engine is currently overloaded/) as string,
    });
    expect(down.seen).toHaveLength(2);
  });

  test('a bad request about the item (context_length_exceeded) is that item’s error, the run goes on', async () => {
    const p = await start(() => ({
      status: 400,
      body: openaiError(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      ),
    }));
    const out = await structuredCall(
      createLlmClient(testConfig({ OPENAI_BASE_URL: `${p.origin}/v1`, OPENAI_API_KEY: 'sk-test' })),
      request(),
    );
    expect(out).toMatchObject({ ok: false, error: expect.stringMatching(/maximum context length/) as string });
  });
});

describe('Azure OpenAI', () => {
  const azureEnv = (origin: string) => ({
    AZURE_OPENAI_ENDPOINT: `${origin}/`,
    AZURE_OPENAI_API_KEY: 'azure-key-1',
    OPENAI_API_VERSION: '2024-10-21',
    LLM_MAX_RETRIES: '2',
  });

  test('a chat request goes to the deployment URL with api-version and the api-key header, as AzureOpenAI builds it', async () => {
    const p = await start(() => ok());
    const llm = createLlmClient(testConfig(azureEnv(p.origin)));
    expect(llm.provider).toMatchObject({ kind: 'azure', baseUrl: `${p.origin}/openai`, apiVersion: '2024-10-21' });
    expect(await structuredCall(llm, request('judge-prod'))).toMatchObject({ ok: true });
    expect(p.seen[0]).toMatchObject({
      method: 'POST',
      url: '/openai/deployments/judge-prod/chat/completions?api-version=2024-10-21',
    });
    expect(p.seen[0].headers['api-key']).toBe('azure-key-1');
    expect(p.seen[0].headers.authorization).toBeUndefined();
    // The SDK client (files, batches) is AzureOpenAI over the same endpoint.
    await llm.openai.batches.list({ limit: 1 }).catch(() => undefined);
    expect(p.seen[1].url).toBe('/openai/batches?api-version=2024-10-21&limit=1');
    expect(p.seen[1].headers['api-key']).toBe('azure-key-1');
  });

  test.each([
    [
      '401',
      401,
      {
        error: {
          code: '401',
          message:
            'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        },
      },
      'ProviderAuthenticationError',
      /fix AZURE_OPENAI_API_KEY — it must be a valid key for AZURE_OPENAI_ENDPOINT \(http:\/\/127\.0\.0\.1:\d+\).*Access denied due to invalid subscription key/,
    ],
    [
      'DeploymentNotFound',
      404,
      {
        error: {
          code: 'DeploymentNotFound',
          message:
            'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
        },
      },
      'ProviderNotFoundError',
      /no deployment "judge-prod" \(404 DeploymentNotFound\): the model name is the deployment name — fix JUDGE_MODEL.*OPENAI_API_VERSION \(2024-10-21\).*The API deployment for this resource does not exist/,
    ],
  ])('%s stops with the Azure setting to fix', async (_name, status, body, type, message) => {
    const p = await start(() => ({ status, body }));
    const err = (await structuredCall(createLlmClient(testConfig(azureEnv(p.origin))), request('judge-prod')).catch(
      (e: unknown) => e,
    )) as ApplicationFailure;
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type, nonRetryable: true });
    expect(err.message).toMatch(message);
    expect(p.seen).toHaveLength(1);
  });

  test('a 429 with retry-after is retried; a content-filter 400 is the item’s error, not a stop', async () => {
    const throttled = await start((_req, n) =>
      n === 1
        ? {
            status: 429,
            headers: { 'retry-after': '0', 'retry-after-ms': '20' },
            body: {
              error: {
                code: '429',
                message:
                  'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.',
              },
            },
          }
        : ok(),
    );
    expect(
      await structuredCall(createLlmClient(testConfig(azureEnv(throttled.origin))), request('judge-prod')),
    ).toMatchObject({ ok: true });
    expect(throttled.seen).toHaveLength(2);
    const filtered = await start(() => ({
      status: 400,
      body: {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_result: {
              hate: { filtered: false, severity: 'safe' },
              violence: { filtered: true, severity: 'high' },
            },
          },
        },
      },
    }));
    const out = await structuredCall(createLlmClient(testConfig(azureEnv(filtered.origin))), request('judge-prod'));
    expect(out).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^provider: 400 The response was filtered/) as string,
    });
    expect(filtered.seen).toHaveLength(1);
  });

  test('Azure settings are checked at start: an endpoint without key or api-version is refused naming them', () => {
    expect(() => testConfig({ AZURE_OPENAI_ENDPOINT: 'https://example-resource.openai.azure.com' })).toThrow(
      /AZURE_OPENAI_API_KEY is unset.*\n.*OPENAI_API_VERSION is unset/,
    );
    expect(() =>
      testConfig({
        AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com',
        AZURE_OPENAI_API_KEY: 'k',
        OPENAI_API_VERSION: '2024/10/21',
      }),
    ).toThrow(/OPENAI_API_VERSION="2024\/10\/21"/);
  });
});

describe('the Batch API probe', () => {
  test('an OpenAI-compatible server without /batches: batch mode is not available, with the reason; asked once', async () => {
    const p = await start((req) =>
      req.url.startsWith('/v1/batches') ? { status: 404, body: { detail: 'Not Found' } } : ok(),
    );
    const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: `${p.origin}/v1` }));
    const api = await llm.batchApi();
    expect(api).toEqual({
      ok: false,
      reason: expect.stringMatching(/has no Batch API \(GET \/batches answered 404/) as string,
    });
    await llm.batchApi();
    expect(p.seen).toHaveLength(1);
  });

  test('a provider with the Batch API says so; a refused key fails like a chat request would', async () => {
    const p = await start(() => ({
      status: 200,
      body: { object: 'list', data: [], first_id: null, last_id: null, has_more: false },
    }));
    expect(await createLlmClient(testConfig({ OPENAI_BASE_URL: `${p.origin}/v1` })).batchApi()).toEqual({ ok: true });
    const refused = await start(() => ({
      status: 401,
      body: openaiError('Incorrect API key provided: sk-x.', 'invalid_request_error', 'invalid_api_key'),
    }));
    await expect(
      createLlmClient(
        testConfig({ OPENAI_BASE_URL: `${refused.origin}/v1`, OPENAI_API_KEY: 'sk-x', LLM_MAX_RETRIES: '0' }),
      ).batchApi(),
    ).rejects.toMatchObject({ type: 'ProviderAuthenticationError', nonRetryable: true });
  });

  test('a batch upload the provider refuses with insufficient_quota stops like a chat request', async () => {
    const p = await start(() => ({
      status: 429,
      body: openaiError(
        'You exceeded your current quota, please check your plan and billing details.',
        'insufficient_quota',
        'insufficient_quota',
      ),
    }));
    const llm = createLlmClient(
      testConfig({ OPENAI_BASE_URL: `${p.origin}/v1`, OPENAI_API_KEY: 'sk-x', LLM_MAX_RETRIES: '2' }),
    );
    const line = {
      customId: 'k1',
      body: { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'hi' }] },
    };
    await expect(submitBatch(llm, [line], {})).rejects.toMatchObject({
      type: 'ProviderQuotaExceededError',
      nonRetryable: true,
    });
    expect(p.seen.map((r) => r.url)).toEqual(['/v1/files']);
  });
});
