/**
 * The LLM simulator through the official `openai` client over real HTTP: strict structured outputs
 * validate, 429s carry OpenAI's headers and the client's retry honours them, every fault is
 * reachable by configuration, the Batch API round-trips, and judge accuracy (single sample and 5×
 * consensus) lands where the configuration says — numbers printed.
 */
import OpenAI, { toFile } from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { dataTag, wrapTag } from '../../../judging/prompts/contract';
import { generateCatalog } from '../model/catalog';
import type { Show } from '../../../schema/catalog';
import { createLogger } from '../../../platform/logger';
import { RUBRIC_HINTS } from './hints';
import { startLlmSimulator, type LlmSimulator, type StartLlmSimulatorOptions } from './server';

const verdictSchema = z.object({ reasoning: z.string(), summary: z.string(), verdict: z.enum(['pass', 'fail']) });
const judgeFormat = zodResponseFormat(verdictSchema, 'judge_verdict');
const logger = createLogger('sim-llm-test', 'silent');

/** What each factuality agent sees of the show (the contract in judging/prompts/contract.ts). */
const CONTEXT: Record<string, (s: Show) => object> = {
  tone: (s) => ({ title: s.title, genres: s.genres }),
  'factuality.talent': (s) => ({ title: s.title, talent: s.talent }),
};

function judgeMessages(
  criterion: string,
  show: Show,
  synopsis: string,
  rubric = `Judge the ${criterion} of a show synopsis. Answer pass or fail.`,
) {
  return [
    { role: 'system' as const, content: rubric },
    // Encoded as judgeflow sends it (data blocks); the other requests below put raw text in the tags, which the simulator reads too.
    {
      role: 'user' as const,
      content: [
        dataTag('criterion', criterion),
        dataTag('show', CONTEXT[criterion](show)),
        dataTag('synopsis', synopsis),
      ].join('\n'),
    },
  ];
}

const items = [...generateCatalog({ shows: 300, seed: 77 })].flatMap(({ show, synopses, truths }) =>
  synopses.map((s, i) => ({ show, text: s.text, truth: truths[i] })),
);

async function pool<T, R>(inputs: T[], concurrency: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(inputs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < inputs.length) {
        const i = next++;
        out[i] = await fn(inputs[i]);
      }
    }),
  );
  return out;
}

const sims: LlmSimulator[] = [];
async function simulator(opts: StartLlmSimulatorOptions = {}) {
  const sim = await startLlmSimulator({ logger, ...opts });
  sims.push(sim);
  return { sim, client: new OpenAI({ baseURL: sim.url, apiKey: 'sim-key', maxRetries: 0 }) };
}
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

const binomialSe = (p: number, n: number) => Math.sqrt((p * (1 - p)) / n);

describe('chat completions', () => {
  it('returns n schema-valid choices for a strict json_schema judge request, labelled as simulated, with usage', async () => {
    const { client } = await simulator();
    const item = items.find((i) => i.truth.criteria.tone === 0)!;
    const { data, response } = await client.chat.completions
      .create({
        model: 'gpt-4.1-mini',
        n: 3,
        temperature: 1,
        messages: judgeMessages('tone', item.show, item.text),
        response_format: judgeFormat,
      })
      .withResponse();
    expect(response.headers.get('x-judgeflow-simulator')).toBe('true');
    expect(data.system_fingerprint).toBe('judgeflow-sim');
    expect(data.choices).toHaveLength(3);
    for (const choice of data.choices) {
      expect(choice.finish_reason).toBe('stop');
      verdictSchema.parse(JSON.parse(choice.message.content!));
    }
    expect(data.usage!.prompt_tokens).toBeGreaterThan(50);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(data.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    // a correct failing verdict cites the injected defect
    const failing = data.choices
      .map((c) => verdictSchema.parse(JSON.parse(c.message.content!)))
      .find((v) => v.verdict === 'fail');
    if (failing) expect(failing.reasoning).toContain(item.truth.defects.find((d) => d.criterion === 'tone')!.detail);
    const parsed = await client.chat.completions.parse({
      model: 'gpt-4.1-mini',
      messages: judgeMessages('tone', item.show, item.text),
      response_format: judgeFormat,
    });
    expect(['pass', 'fail']).toContain(parsed.choices[0].message.parsed!.verdict);
  });

  it('fills whatever fields a schema has (nested, arrays, enums, numbers, nullable) and validates', async () => {
    const { client } = await simulator();
    const schema = z.object({
      analysis: z.object({ steps: z.array(z.string()), confidence: z.number().min(0).max(1) }),
      summary: z.string(),
      verdict: z.enum(['PASS', 'FAIL']),
      label: z.union([z.literal(0), z.literal(1)]),
      note: z.string().nullable(),
    });
    const item = items[0];
    const r = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: judgeMessages('tone', item.show, item.text),
      response_format: zodResponseFormat(schema, 'judge_verdict'),
    });
    const value = schema.parse(JSON.parse(r.choices[0].message.content!));
    expect(value.label).toBe(value.verdict === 'PASS' ? 1 : 0);
  });

  it('reports cached prompt tokens for a repeated prefix of ≥1024 tokens, in 128-token steps', async () => {
    const { client } = await simulator();
    const rubric = `Judge tone. ${'Rubric detail that stays the same across requests. '.repeat(120)}`;
    const ask = (synopsis: string) =>
      client.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: judgeMessages('tone', items[0].show, synopsis, rubric),
        response_format: judgeFormat,
      });
    const first = await ask(items[0].text);
    const second = await ask(items[1].text);
    const short = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(first.usage!.prompt_tokens).toBeGreaterThan(1024);
    expect(first.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect(cached % 128).toBe(0);
    expect(cached).toBeLessThan(second.usage!.prompt_tokens);
    expect(short.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
  });

  it('answers bad requests with OpenAI-shaped 400/404 errors naming the parameter', async () => {
    const { client, sim } = await simulator();
    const bad = (body: object) =>
      client.chat.completions.create(body as never).then(
        () => null,
        (e: unknown) => e,
      );
    const noMessages = (await bad({ model: 'gpt-4.1-mini', messages: [] })) as InstanceType<
      typeof OpenAI.BadRequestError
    >;
    expect(noMessages).toBeInstanceOf(OpenAI.BadRequestError);
    expect(noMessages.param).toBe('messages');
    expect(await bad({ messages: [{ role: 'user', content: 'x' }] })).toMatchObject({ status: 400, param: 'model' });
    expect(await bad({ model: 'm', n: 0, messages: [{ role: 'user', content: 'x' }] })).toMatchObject({
      status: 400,
      param: 'n',
    });
    expect(
      await bad({
        model: 'm',
        response_format: { type: 'json_schema', json_schema: { name: 'judge_verdict' } },
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).toMatchObject({ status: 400, param: 'response_format' });
    const unknown = await fetch(`${sim.url}/nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('/v1/nope');
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4.1-mini');
  });

  it('answers an unrecognisable judge request schema-validly but says so, and counts it', async () => {
    const { client, sim } = await simulator();
    const r = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'Is this good?' }],
      response_format: judgeFormat,
    });
    const value = verdictSchema.parse(JSON.parse(r.choices[0].message.content!));
    expect(value.reasoning).toMatch(/Simulated model: .*<synopsis>/);
    expect(sim.stats().unrecognized).toBe(1);
  });
});

describe('rate limits and faults', () => {
  it('answers over-limit requests with 429 and the real retry headers; the client retry honours them', async () => {
    const { sim, client } = await simulator({ rpm: 120 }); // bucket of 120, one more every 500 ms
    const ask = (c: OpenAI) =>
      c.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'ping' }] });
    const first = await ask(client).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('120');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('119');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?m?s$/);
    // the bucket refills while we spend it (more so on a loaded machine): ask until the first 429
    let succeeded = 1;
    let limited: InstanceType<typeof OpenAI.RateLimitError> | undefined;
    while (!limited && succeeded < 1000) {
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () =>
          ask(client).then(
            () => null,
            (e: unknown) => e,
          ),
        ),
      );
      succeeded += outcomes.filter((o) => o === null).length;
      limited = outcomes.find((o) => o !== null) as typeof limited;
    }
    expect(succeeded).toBeGreaterThanOrEqual(120);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    if (!limited) return;
    expect(limited.code).toBe('rate_limit_exceeded');
    const retryMs = Number(limited.headers!.get('retry-after-ms'));
    expect(retryMs).toBeGreaterThan(0);
    expect(retryMs).toBeLessThanOrEqual(500);
    expect(limited.headers!.get('retry-after')).toBe('1');
    expect(limited.headers!.get('x-ratelimit-remaining-requests')).toBe('0');
    // the official client waits retry-after-ms and then gets through
    const retrying = new OpenAI({ baseURL: sim.url, apiKey: 'sim-key', maxRetries: 3 });
    const started = Date.now();
    await pool(Array.from({ length: 5 }), 1, () => ask(retrying)); // past the bucket: each needs a wait
    const waited = Date.now() - started;
    console.log(
      `5 over-limit requests succeeded through client retries after ${waited} ms; 429s so far: ${sim.stats().rateLimited}`,
    );
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(sim.stats().rateLimited).toBeGreaterThanOrEqual(5);
  });

  it('limits tokens per minute too, counting prompt + max_tokens', async () => {
    const { client } = await simulator({ tpm: 1000 });
    const ask = () =>
      client.chat.completions.create({ model: 'm', max_tokens: 400, messages: [{ role: 'user', content: 'ping' }] });
    await ask();
    await ask();
    const limited = (await ask().then(
      () => null,
      (e: unknown) => e,
    )) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.type).toBe('tokens');
    expect(limited.headers!.get('x-ratelimit-limit-tokens')).toBe('1000');
  });

  it('injects each fault when configured: 500, malformed JSON, schema-violating JSON, truncated output, hang', async () => {
    const item = items[0];
    const ask = (c: OpenAI) =>
      c.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: judgeMessages('tone', item.show, item.text),
        response_format: judgeFormat,
      });

    const s500 = await simulator({ faults: { serverError: 1 } });
    await expect(ask(s500.client)).rejects.toBeInstanceOf(OpenAI.InternalServerError);

    const malformed = await ask((await simulator({ faults: { malformed: 1 } })).client);
    expect(malformed.choices[0].finish_reason).toBe('stop');
    expect(() => JSON.parse(malformed.choices[0].message.content!)).toThrow();

    const violating = await ask((await simulator({ faults: { schemaViolation: 1 } })).client);
    const violatingValue = JSON.parse(violating.choices[0].message.content!);
    expect(verdictSchema.safeParse(violatingValue).success).toBe(false);

    const truncated = await ask((await simulator({ faults: { truncated: 1 } })).client);
    expect(truncated.choices[0].finish_reason).toBe('length');
    expect(() => JSON.parse(truncated.choices[0].message.content!)).toThrow();

    const hanging = await simulator({ faults: { hang: 1 }, hangMs: 60_000 });
    const timeoutClient = new OpenAI({ baseURL: hanging.sim.url, apiKey: 'k', maxRetries: 0, timeout: 300 });
    const asked = Date.now();
    // APIConnectionTimeoutError outside jest; jest's realm hides the abort's type, so accept its parent class
    await expect(ask(timeoutClient)).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(290);
    expect(hanging.sim.stats().faults.hang).toBe(1);
    const closing = Date.now();
    await hanging.sim.close(); // a hanging request does not hold the server open
    expect(Date.now() - closing).toBeLessThan(2000);
    sims.splice(sims.indexOf(hanging.sim), 1);
  });

  it('injects faults at the configured rate', async () => {
    const { client, sim } = await simulator({ faults: { malformed: 0.2 }, seed: 3 });
    const results = await pool(items.slice(0, 400), 8, async (item) => {
      const r = await client.chat.completions.create({
        model: 'm',
        messages: judgeMessages('tone', item.show, item.text),
        response_format: judgeFormat,
      });
      return verdictSchema.safeParse(
        (() => {
          try {
            return JSON.parse(r.choices[0].message.content!);
          } catch {
            return null;
          }
        })(),
      ).success;
    });
    const rate = results.filter((ok) => !ok).length / results.length;
    console.log(`malformed rate configured 0.2, observed ${rate.toFixed(3)} over ${results.length}`);
    expect(Math.abs(rate - 0.2)).toBeLessThan(3 * binomialSe(0.2, results.length));
    expect(sim.stats().faults.malformed).toBe(results.filter((ok) => !ok).length);
  });
});

describe('Batch API', () => {
  it('round-trips upload → batch → poll → output and error files, with custom_id', async () => {
    const { client, sim } = await simulator({ batch: { validatingMs: 50, msPerRequest: 2, finalizingMs: 50 } });
    const chosen = items.slice(0, 20);
    const lines = chosen.map((item, i) => ({
      custom_id: `req-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: 'gpt-4.1-mini',
        messages: judgeMessages('tone', item.show, item.text),
        response_format: judgeFormat,
      },
    }));
    lines.push({
      custom_id: 'broken',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4.1-mini', messages: [] } as never,
    });
    const file = await client.files.create({
      file: await toFile(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), 'batch.jsonl'),
      purpose: 'batch',
    });
    expect(file).toMatchObject({ purpose: 'batch', filename: 'batch.jsonl' });
    expect((await client.files.retrieve(file.id)).bytes).toBe(file.bytes);

    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(batch.status).toBe('validating');
    const seen = new Set<string>([batch.status]);
    let current = batch;
    while (!['completed', 'failed', 'cancelled', 'expired'].includes(current.status)) {
      await new Promise((r) => setTimeout(r, 10));
      current = await client.batches.retrieve(batch.id);
      seen.add(current.status);
    }
    expect(current.status).toBe('completed');
    expect([...seen]).toEqual(expect.arrayContaining(['validating', 'in_progress', 'finalizing', 'completed']));
    expect(current.request_counts).toEqual({ total: 21, completed: 20, failed: 1 });

    const output = (await (await client.files.content(current.output_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(output.map((o) => o.custom_id).sort()).toEqual(chosen.map((_, i) => `req-${i}`).sort());
    for (const o of output) {
      expect(o.error).toBeNull();
      expect(o.response.status_code).toBe(200);
      verdictSchema.parse(JSON.parse(o.response.body.choices[0].message.content));
    }
    const errors = (await (await client.files.content(current.error_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors).toEqual([
      expect.objectContaining({ custom_id: 'broken', response: expect.objectContaining({ status_code: 400 }) }),
    ]);
    const listed = await client.batches.list();
    expect(listed.data.map((b) => b.id)).toContain(batch.id);
    expect(sim.stats().batches).toMatchObject({ created: 1, completed: 1, requests: 21 });
  });

  it('fails a batch whose input is invalid, and cancels one in progress', async () => {
    const { client } = await simulator({ batch: { validatingMs: 10, msPerRequest: 50, finalizingMs: 10 } });
    const upload = async (text: string) =>
      client.files.create({ file: await toFile(Buffer.from(text), 'in.jsonl'), purpose: 'batch' });
    const line = (id: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      });
    const waitFor = async (id: string, done: string[]) => {
      for (;;) {
        const b = await client.batches.retrieve(id);
        if (done.includes(b.status)) return b;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const dup = await client.batches.create({
      input_file_id: (await upload(`${line('a')}\n${line('a')}\nnot json`)).id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const failed = await waitFor(dup.id, ['failed', 'completed']);
    expect(failed.status).toBe('failed');
    expect(failed.errors!.data!.map((e) => [e.code, e.line])).toEqual([
      ['duplicate_custom_id', 2],
      ['invalid_json_line', 3],
    ]);

    const long = await client.batches.create({
      input_file_id: (await upload(Array.from({ length: 100 }, (_, i) => line(`r${i}`)).join('\n'))).id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await waitFor(long.id, ['in_progress']);
    expect((await client.batches.cancel(long.id)).status).toBe('cancelling');
    const cancelled = await waitFor(long.id, ['cancelled', 'completed']);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.request_counts!.completed).toBeLessThan(100);

    await expect(
      client.batches.create({
        input_file_id: 'file-missing',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      client.batches.create({
        input_file_id: long.input_file_id,
        endpoint: '/v1/embeddings',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'endpoint' });
  });
});

describe('judge accuracy against the hidden truth', () => {
  const accuracyOf = async (
    client: OpenAI,
    criterion: 'tone' | 'factuality.talent',
    key: 'tone' | 'factuality_talent',
    n: number,
    rubric?: string,
  ) => {
    const correct = await pool(items, 16, async (item) => {
      const r = await client.chat.completions.create({
        model: 'gpt-4.1-mini',
        n,
        temperature: 1,
        messages: judgeMessages(criterion, item.show, item.text, rubric),
        response_format: judgeFormat,
      });
      const passes = r.choices.map(
        (c) => (verdictSchema.parse(JSON.parse(c.message.content!)).verdict === 'pass' ? 1 : 0) as number,
      );
      const consensus = Math.round(passes.reduce((a, b) => a + b, 0) / n); // rounded mean keeps it binary
      return consensus === item.truth.criteria[key] ? 1 : 0;
    });
    return correct.reduce((a: number, b) => a + b, 0) / correct.length;
  };

  it('a single sample lands within sampling error of the configured accuracy; 5× consensus beats it when per-sample noise is on', async () => {
    const { client } = await simulator({
      seed: 5,
      accuracy: { tone: 0.8, factuality_talent: 0.9 },
      perSampleShare: 0.7,
      tieredRationaleGain: 0,
    });
    const single = await accuracyOf(client, 'tone', 'tone', 1);
    const talent = await accuracyOf(client, 'factuality.talent', 'factuality_talent', 1);
    const consensus = await accuracyOf(client, 'tone', 'tone', 5);
    const se = binomialSe(0.8, items.length);
    console.log(
      `judge accuracy over ${items.length} synopses: tone single ${single.toFixed(3)} (configured 0.80 ± ${(3 * se).toFixed(3)}), tone 5× consensus ${consensus.toFixed(3)}, talent single ${talent.toFixed(3)} (configured 0.90)`,
    );
    expect(Math.abs(single - 0.8)).toBeLessThan(3 * se);
    expect(Math.abs(talent - 0.9)).toBeLessThan(3 * binomialSe(0.9, items.length));
    // expected ≈ 1 − (0.06 + 0.94·P(≥3 of 5 wrong at 0.149)) ≈ 0.92
    expect(consensus).toBeGreaterThan(single + 0.06);
  });

  it('without per-sample noise consensus cannot help (every sample of an item agrees)', async () => {
    const { client } = await simulator({ seed: 5, accuracy: { tone: 0.8 }, perSampleShare: 0, tieredRationaleGain: 0 });
    const single = await accuracyOf(client, 'tone', 'tone', 1);
    const consensus = await accuracyOf(client, 'tone', 'tone', 5);
    console.log(`perSampleShare 0: single ${single.toFixed(3)}, 5× consensus ${consensus.toFixed(3)}`);
    expect(consensus).toBe(single);
  });

  it('rubric hints in the prompt raise accuracy, and the optimizer endpoints add them', async () => {
    const { client } = await simulator({
      seed: 8,
      accuracy: { tone: 0.8 },
      hintGain: 0.03,
      tieredRationaleGain: 0,
      uselessEditRate: 0,
    });
    const base = 'Judge the tone of a show synopsis. Answer pass or fail.';
    const critiqueFormat = zodResponseFormat(z.object({ critique: z.string() }), 'prompt_critique');
    const editFormat = zodResponseFormat(z.object({ reasoning: z.string(), edited_prompt: z.string() }), 'prompt_edit');
    let prompt = base;
    for (let round = 0; round < 4; round++) {
      const errors = JSON.stringify([{ synopsis: items[round].text, expected: 'fail', got: 'pass' }]);
      const critique = z.object({ critique: z.string() }).parse(
        JSON.parse(
          (
            await client.chat.completions.create({
              model: 'gpt-4.1',
              messages: [
                {
                  role: 'user',
                  content: [wrapTag('criterion', 'tone'), wrapTag('prompt', prompt), wrapTag('errors', errors)].join(
                    '\n',
                  ),
                },
              ],
              response_format: critiqueFormat,
            })
          ).choices[0].message.content!,
        ),
      ).critique;
      const edit = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [
          {
            role: 'user',
            content: [wrapTag('criterion', 'tone'), wrapTag('prompt', prompt), wrapTag('critique', critique)].join(
              '\n',
            ),
          },
        ],
        response_format: editFormat,
      });
      prompt = z
        .object({ edited_prompt: z.string() })
        .parse(JSON.parse(edit.choices[0].message.content!)).edited_prompt;
    }
    const added = RUBRIC_HINTS.tone.filter((h) => prompt.includes(h));
    expect(prompt.startsWith(base)).toBe(true);
    expect(added).toHaveLength(4);
    const before = await accuracyOf(client, 'tone', 'tone', 1, base);
    const after = await accuracyOf(client, 'tone', 'tone', 1, prompt);
    console.log(
      `prompt optimization: tone accuracy ${before.toFixed(3)} with the base prompt → ${after.toFixed(3)} with 4 hints (configured 0.80 → 0.92)`,
    );
    expect(after - before).toBeGreaterThan(0.07);
  });

  it('golden_aggregate follows the truth and flags rater splits for review', async () => {
    const { client } = await simulator({ seed: 2, aggregateAccuracy: 0.95 });
    const format = zodResponseFormat(
      z.object({ label: z.union([z.literal(0), z.literal(1)]), explanation: z.string(), needs_review: z.boolean() }),
      'golden_aggregate',
    );
    const results = await pool(items.slice(0, 300), 8, async (item) => {
      const truth = item.truth.criteria.tone;
      const split = item.text.length % 2 === 0;
      const ratings = [0, 1, 2].map((r) => ({
        rater: `r${r}`,
        label: split && r === 2 ? 1 - truth : truth,
        explanation: `rater ${r} view`,
      }));
      const r = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [
          {
            role: 'user',
            content: [
              wrapTag('criterion', 'tone'),
              wrapTag('synopsis', item.text),
              wrapTag('ratings', JSON.stringify(ratings)),
            ].join('\n'),
          },
        ],
        response_format: format,
      });
      const v = JSON.parse(r.choices[0].message.content!);
      return { correct: v.label === truth, split, review: v.needs_review as boolean };
    });
    const accuracy = results.filter((r) => r.correct).length / results.length;
    console.log(`golden_aggregate accuracy ${accuracy.toFixed(3)} (configured 0.95)`);
    expect(Math.abs(accuracy - 0.95)).toBeLessThan(3 * binomialSe(0.95, results.length));
    expect(results.filter((r) => r.split).every((r) => r.review)).toBe(true);
    expect(results.filter((r) => !r.split && r.correct).every((r) => !r.review)).toBe(true);
  });

  it('rationale_merge merges the failing agents into one explanation', async () => {
    const { client } = await simulator();
    const format = zodResponseFormat(
      z.object({ explanation: z.string(), verdict: z.enum(['pass', 'fail']) }),
      'rationale_merge',
    );
    const rationales = [
      { agent: 'plot', verdict: 'pass', rationale: 'Plot matches.' },
      { agent: 'talent', verdict: 'fail', rationale: 'Names Kofi Osei, who is not in the cast.' },
    ];
    const r = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: wrapTag('rationales', JSON.stringify(rationales)) }],
      response_format: format,
    });
    const v = JSON.parse(r.choices[0].message.content!);
    expect(v.verdict).toBe('fail');
    expect(v.explanation).toContain('Kofi Osei');
  });
});
