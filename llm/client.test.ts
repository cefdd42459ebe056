/**
 * The client's direct chat path against the LLM simulator over HTTP: an answer, the SDK's retry
 * rules (5xx retried up to LLM_MAX_RETRIES, a 400 never, a hang ends as a timeout) and its error
 * classes, and a 429 pausing the pacer for as long as the provider says.
 */
import { getEventListeners, setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { freePort } from '../platform/ports';
import { startLlmSimulator, type LlmSimulator, type StartLlmSimulatorOptions } from '../scripts/sim/llm/server';
import { testConfig } from '../test/harness';
import { onAbort } from './abort';
import { createLlmClient } from './client';

const sims: LlmSimulator[] = [];
afterAll(async () => {
  for (const s of sims) await s.close();
});
const simWith = async (opts: StartLlmSimulatorOptions) => {
  const sim = await startLlmSimulator({ port: await freePort(), seed: 3, ...opts });
  sims.push(sim);
  return sim;
};
const params = { model: 'gpt-4.1-mini', messages: [{ role: 'user' as const, content: 'Say something.' }] };

test('an answer comes back as the chat completion', async () => {
  const sim = await simWith({});
  const completion = await createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url })).chat(params);
  expect(completion.system_fingerprint).toBe('judgeflow-sim');
  expect(completion.choices[0].message.content).toContain('Simulated model');
  expect(sim.stats().requests).toBe(1);
});

test('a 5xx is retried LLM_MAX_RETRIES times, then thrown as the SDK’s APIError', async () => {
  const sim = await simWith({ faults: { serverError: 1 } });
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url, LLM_MAX_RETRIES: '2' }));
  const err = await llm.chat(params).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(APIError);
  expect((err as APIError).status).toBe(500);
  expect((err as APIError).message).toMatch(/simulated fault/);
  expect(sim.stats().requests).toBe(3);
});

test('a 400 is not retried', async () => {
  const sim = await simWith({});
  const err = await createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url }))
    .chat({ ...params, messages: [] })
    .catch((e: unknown) => e);
  expect((err as APIError).status).toBe(400);
  expect((err as APIError).message).toMatch(/messages/);
  expect(sim.stats().requests).toBe(1);
});

test('a request that hangs ends as a connection timeout after LLM_TIMEOUT_MS', async () => {
  const sim = await simWith({ faults: { hang: 1 }, hangMs: 10_000 });
  const started = Date.now();
  const err = await createLlmClient(
    testConfig({ OPENAI_BASE_URL: sim.url, LLM_TIMEOUT_MS: '300', LLM_MAX_RETRIES: '0' }),
  )
    .chat(params)
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(APIConnectionTimeoutError);
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  expect(Date.now() - started).toBeLessThan(5000);
});

test('a 429 waits for the provider’s retry-after, then succeeds', async () => {
  // Injected 429s (seeded, so the same requests are refused every run) carry retry-after-ms 200;
  // a bucket-based limit would make the test depend on how fast this machine drains the bucket.
  const sim = await simWith({ faults: { rateLimited: 0.5 } });
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url, LLM_RPM_LIMIT: '600000', LLM_MAX_RETRIES: '10' }));
  const started = Date.now();
  for (let i = 0; i < 10; i++) await llm.chat(params);
  const waited = Date.now() - started;
  const refused = sim.stats().faults.rateLimited;
  expect(refused).toBeGreaterThanOrEqual(1);
  expect(sim.stats().byStatus['200']).toBe(10);
  expect(waited).toBeGreaterThanOrEqual(refused * 180); // each refusal waited the ~200 ms it asked for
});

test('an aborted request is abandoned at once: in flight, waiting to retry, or waiting for the pacer (then never sent)', async () => {
  const sim = await simWith({ faults: { hang: 1 }, hangMs: 30_000 });
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url, LLM_TIMEOUT_MS: '20000' }));
  const inFlight = new AbortController();
  const started = Date.now();
  const pending = llm.chat(params, inFlight.signal).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 200));
  inFlight.abort();
  expect(await pending).toBeInstanceOf(APIUserAbortError);
  expect(Date.now() - started).toBeLessThan(2000);
  expect(sim.stats().received).toBe(1);

  // One request per 10 s: the second waits for the pacer and is abandoned before it is sent.
  const slow = await simWith({});
  const paced = createLlmClient(testConfig({ OPENAI_BASE_URL: slow.url, LLM_RPM_LIMIT: '6' }));
  await paced.chat(params);
  const queued = new AbortController();
  const waiting = paced.chat(params, queued.signal).catch((e: unknown) => e);
  queued.abort();
  expect(await waiting).toBeInstanceOf(APIUserAbortError);
  await new Promise((r) => setTimeout(r, 100));
  expect(slow.stats().received).toBe(1);
});

test("a page's requests share one listener on its signal, and its abort still abandons every one", async () => {
  const sim = await simWith({ faults: { hang: 1 }, hangMs: 30_000 });
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url, LLM_TIMEOUT_MS: '20000' }));
  const page = new AbortController();
  setMaxListeners(0, page.signal);
  const pending = Array.from({ length: 40 }, () => llm.chat(params, page.signal).catch((e: unknown) => e));
  while (sim.stats().received < 40) await new Promise((r) => setTimeout(r, 20));
  // One listener per request made each add and remove walk all the others (issue 18).
  expect(getEventListeners(page.signal, 'abort')).toHaveLength(1);
  const started = Date.now();
  page.abort();
  for (const err of await Promise.all(pending)) expect(err).toBeInstanceOf(APIUserAbortError);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('after a request on a signal answered, its abort calls back only the callbacks still registered, once', async () => {
  const sim = await simWith({});
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: sim.url }));
  const page = new AbortController();
  const done = await llm.chat(params, page.signal);
  expect(done.choices[0].message.content).toContain('Simulated model');
  const called: string[] = [];
  const stop = onAbort(page.signal, () => called.push('stopped'));
  onAbort(page.signal, () => called.push('kept'));
  stop();
  page.abort();
  page.abort();
  expect(called).toEqual(['kept']);
});

test('a 429 insufficient_quota is not retried; a plain 429 is', async () => {
  const quota = await simWith({ faults: { insufficientQuota: 1 } });
  const err = await createLlmClient(testConfig({ OPENAI_BASE_URL: quota.url, LLM_MAX_RETRIES: '3' }))
    .chat(params)
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 429, code: 'insufficient_quota' });
  expect(quota.stats().requests).toBe(1);
  const limited = await simWith({ faults: { rateLimited: 0.5 } });
  const llm = createLlmClient(testConfig({ OPENAI_BASE_URL: limited.url, LLM_MAX_RETRIES: '8' }));
  await Promise.all(Array.from({ length: 4 }, () => llm.chat(params)));
  expect(limited.stats().faults.rateLimited).toBeGreaterThan(0);
  expect(limited.stats().byStatus['200']).toBe(4);
}, 30_000);

test('a keep-alive socket the server closed as a request went out is replaced once; a reset on a new socket is an error', async () => {
  const served = new WeakSet<object>();
  let answered = 0;
  let resetFresh = false;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // The second request on a socket meets the socket's close, as at a server's keep-alive timeout.
      if (served.has(req.socket) || resetFresh) return req.socket.destroy();
      served.add(req.socket);
      answered++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `c${answered}`,
          object: 'chat.completion',
          created: 0,
          model: params.model,
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const llm = createLlmClient(
      testConfig({
        OPENAI_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        LLM_MAX_RETRIES: '0',
      }),
    );
    expect((await llm.chat(params)).id).toBe('c1');
    expect((await llm.chat(params)).id).toBe('c2');
    expect(answered).toBe(2);
    resetFresh = true;
    server.closeAllConnections();
    await expect(llm.chat(params)).rejects.toBeInstanceOf(APIConnectionError);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
