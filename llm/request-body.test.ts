import { judgeMessages } from '../judging/prompts/judge';
import { judgeVerdictSchema, rationaleMergeSchema } from '../judging/prompts/schemas';
import { LLM_REQUEST_KINDS } from '../judging/prompts/contract';
import { chatParams } from './call';
import { requestBody } from './request-body';

const item = (synopsis: string) => ({
  criterionKey: 'tone',
  show: { title: 'Iron "Orchard"', genres: ['western'] },
  synopsis,
});

test('a request body is JSON.stringify of its params, byte for byte, with the shared parts serialized once', () => {
  const first = judgeMessages('Judge the tone.\n<rubric>\n"calm"\n</rubric>', item('A <b>quiet</b> town.'));
  const second = judgeMessages('Judge the tone.\n<rubric>\n"calm"\n</rubric>', item('Another town.'));
  // Every request of a judge carries one frozen system message: what requestBody serializes once.
  expect(second[0]).toBe(first[0]);
  expect(Object.isFrozen(first[0])).toBe(true);
  const judge = { kind: LLM_REQUEST_KINDS.judge, schema: judgeVerdictSchema, model: 'gpt-4.1-mini' } as const;
  const bodies = [
    chatParams({ ...judge, messages: first, temperature: 0, seed: 3 }),
    chatParams({ ...judge, messages: second, temperature: 0, seed: 3 }),
    chatParams({ ...judge, messages: first, reasoningEffort: 'low', maxTokens: 100 }, ['gpt-4.1-mini']),
    // A repair: the answer and the problem follow the judge's messages.
    chatParams({
      ...judge,
      messages: [...first, { role: 'assistant', content: '{"verdict":' }, { role: 'user', content: 'Again ✓' }],
    }),
    chatParams({
      kind: LLM_REQUEST_KINDS.rationaleMerge,
      schema: rationaleMergeSchema,
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'merge\u2028these' }],
      temperature: undefined,
    }),
  ];
  for (const params of bodies) {
    expect(requestBody(params)).toBe(JSON.stringify(params));
    expect(requestBody(params)).toBe(JSON.stringify(params)); // from the cache too
  }
});
