/**
 * Personal data never reaches the provider: the rules on their own, then a golden-aggregation
 * request — raters' ids and explanations with an email, a phone number and a name — sent through
 * the real client to the LLM simulator behind a recording proxy, which must see none of them while
 * the ledger counts what was replaced.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { ConfigError } from '../platform/config';
import { startLlmSimulator, type LlmSimulator } from '../scripts/sim/llm/server';
import { createTestDatabase, testConfig, type TestDatabase } from '../test/harness';
import { LLM_REQUEST_KINDS } from '../judging/prompts/contract';
import { goldenAggregateMessages } from '../judging/prompts/judge';
import { goldenAggregateSchema } from '../judging/prompts/schemas';
import { writeLedger } from '../judging/ledger';
import { programs } from '../schema/tables';
import { priceTable } from './pricing';
import { structuredCall } from './call';
import { createLlmClient } from './client';
import { createRedactor, DEFAULT_REDACTION_PATTERNS, redactMessages } from './redaction';

const redactor = createRedactor({ enabled: true, patterns: {}, names: ['Dana Whitfield'] });

describe('the redaction rules', () => {
  test.each([
    ['write to dana.w+eval@vendor-mail.co.uk today', 'write to [redacted:email] today'],
    ['call +44 20 7946 0958 or (415) 555-0134', 'call [redacted:phone] or [redacted:phone]'],
    ['415-555-0134 and 415.555.0134', '[redacted:phone] and [redacted:phone]'],
    ['as DANA WHITFIELD said', 'as [redacted:name] said'],
  ])('%s', (text, expected) => expect(redactor.redact(text).text).toBe(expected));

  test('leaves what a synopsis is made of: years, ranges, runtimes, counts, dates, ids', () => {
    const synopsis =
      'Running 1999–2004 and 2010-2012, season 3 has 10 episodes of 45 min; it aired 2024-05-01 as sim7-show-000012 (rated 7.9/10, 2 h 15 min).';
    expect(redactor.redact(synopsis)).toEqual({ text: synopsis, count: 0 });
  });

  test('counts every replacement; a rule of LLM_REDACT_PATTERNS adds to the defaults; off is off', () => {
    const custom = createRedactor({ enabled: true, patterns: { employee_id: 'EMP-\\d{6}' }, names: [] });
    expect(custom.redact('EMP-123456 wrote to a@b.io and c@d.io')).toEqual({
      text: '[redacted:employee_id] wrote to [redacted:email] and [redacted:email]',
      count: 3,
    });
    expect(createRedactor({ enabled: false, patterns: {}, names: ['x'] }).redact('a@b.io').count).toBe(0);
    expect(Object.keys(DEFAULT_REDACTION_PATTERNS)).toEqual(['email', 'phone']);
  });

  test('a rule LLM_REDACT_PATTERNS redefines as email is applied to texts without "@" (only the default email rule skips them)', () => {
    const spelled = createRedactor({ enabled: true, patterns: { email: String.raw`\w+ at \w+ dot com` }, names: [] });
    expect(spelled.redact('mail bob at example dot com').text).toBe('mail [redacted:email]');
    expect(redactor.redact('mail bob at example dot com').count).toBe(0);
  });

  test('a repeated text (a system prompt) is redacted the same each time; messages keep their roles', () => {
    const prompt = 'Judge tone. Questions to dana@raters.example.';
    for (let i = 0; i < 3; i++)
      expect(redactor.redact(prompt, true)).toEqual({ text: 'Judge tone. Questions to [redacted:email].', count: 1 });
    const out = redactMessages(redactor, [
      { role: 'system', content: prompt },
      { role: 'user', content: 'Call (415) 555-0134 about Dana Whitfield.' },
    ]);
    expect(out).toEqual({
      messages: [
        { role: 'system', content: 'Judge tone. Questions to [redacted:email].' },
        { role: 'user', content: 'Call [redacted:phone] about [redacted:name].' },
      ],
      count: 3,
    });
  });

  test('a bad LLM_REDACT_PATTERNS is refused at start, naming the rule', () => {
    expect(() => testConfig({ LLM_REDACT_PATTERNS: '{"bad":"(unclosed"}' })).toThrow(ConfigError);
    expect(() => testConfig({ LLM_REDACT_PATTERNS: '{"bad":"(unclosed"}' })).toThrow(/rule "bad"/);
    expect(() => testConfig({ LLM_REDACT_PATTERNS: '["a"]' })).toThrow(/JSON object of rule name/);
    expect(() => testConfig({ LLM_REDACT: 'maybe' })).toThrow(ConfigError);
  });
});

describe('a golden-aggregation request through the client', () => {
  let sim: LlmSimulator;
  let proxy: http.Server;
  let database: TestDatabase;
  const seen: string[] = [];

  beforeAll(async () => {
    sim = await startLlmSimulator({ seed: 3 });
    database = await createTestDatabase();
    // Records each body on its way to the simulator, and passes the answer back unchanged.
    proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push(body.toString('utf8'));
        const upstream = http.request(
          `${sim.url}${req.url!.replace(/^\/v1/, '')}`,
          { method: req.method, headers: { ...req.headers, host: new URL(sim.url).host } },
          (answer) => {
            res.writeHead(answer.statusCode!, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await sim?.close();
    await database?.drop();
  });

  test('no rater id, email, phone number or listed name reaches the provider; the ledger counts them', async () => {
    const config = testConfig({
      OPENAI_BASE_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`,
      LLM_REDACT_NAMES: 'Dana Whitfield',
    });
    const llm = createLlmClient(config);
    const ratings = [
      { rater: 'vendor-a:rater-dana.whitfield', label: 0, explanation: 'Fails: see my note, mail dana@raters.example' },
      { rater: 'vendor-a:rater-0042', label: 1, explanation: 'Passes. Reach me on +1 415 555 0134 — Dana Whitfield' },
    ];
    const out = await structuredCall(llm, {
      kind: LLM_REQUEST_KINDS.goldenAggregate,
      schema: goldenAggregateSchema,
      messages: goldenAggregateMessages({
        criterion: { id: 'tone', name: 'Tone', description: 'Matches the show', rubric: 'Pass when it does.' },
        guidelineText: 'Write well.',
        show: { title: 'A show' },
        synopsis: 'A detective returns to her home town.',
        ratings,
      }),
      model: config.llm.model,
      temperature: 0,
    });
    expect(out.ok).toBe(true);
    expect(seen).toHaveLength(out.requests);
    for (const body of seen) {
      for (const secret of ['rater-dana', 'rater-0042', 'vendor-a', 'dana@raters.example', '555 0134', 'Whitfield'])
        expect(body).not.toContain(secret);
      expect(body).toContain('rater 1');
      expect(body).toContain('[redacted:email]');
      expect(body).toContain('[redacted:phone]');
      expect(body).toContain('[redacted:name]');
    }
    expect(out.usage.redactions).toBe(3);

    await database.db.insert(programs).values({ id: 'p', name: 'p', spec: {}, budgetUsd: 1 });
    await writeLedger(database.db, priceTable(config), [
      {
        requestKey: 'golden/x',
        programId: 'p',
        phase: 'golden-set',
        kind: 'golden',
        model: config.llm.model,
        mode: 'sync',
        usage: out.usage,
      },
    ]);
    const [row] = await database.db.execute<{ redactions: number }>(
      sql`select redactions from usage_ledger where request_key = 'golden/x'`,
    );
    expect(row.redactions).toBe(3);
  });
});
