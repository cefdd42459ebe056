/**
 * The simulated world on a Likert criterion: one hidden score per text that agrees with the hidden
 * pass/fail, raters' misses that stay on the scale, and the simulated model answering a Likert
 * judge's and a Likert golden aggregate's requests as judgeflow builds them.
 */
import { z } from 'zod';
import { LLM_REQUEST_KINDS } from '../../../judging/prompts/contract';
import {
  buildJudgeTemplate,
  goldenAggregateMessages,
  judgeMessages,
  showContext,
} from '../../../judging/prompts/judge';
import { goldenScoreAggregateSchema, judgeScoreSchema } from '../../../judging/prompts/schemas';
import { answer } from '../llm/answers';
import { llmSimOptionsSchema } from '../llm/options';
import { fillSchema } from '../llm/schema-fill';
import { assessSynopsis } from './assess';
import { generateCatalog } from './catalog';
import { missedScore, trueLikertScore } from './likert';

const scale = { points: 5, passAt: 4 };
const items = [...generateCatalog({ shows: 80, seed: 7 })].flatMap(({ show, synopses }) =>
  synopses.map((s) => ({ show, text: s.text, truth: assessSynopsis(show, s.text) })),
);
const criterion = { id: 'clarity', name: 'Clarity', description: 'Clear.', rubric: '5 clear, 1 convoluted.' };
const clarityDefects = (t: (typeof items)[number]['truth']) =>
  t.defects.filter((d) => d.criterion === 'clarity').length;

test('the hidden score passes exactly when the hidden verdict does, and uses the whole scale', () => {
  const scores = items.map((i) => {
    const score = trueLikertScore(scale, i.truth.criteria.clarity, clarityDefects(i.truth), 'clarity', i.text);
    expect(score >= scale.passAt ? 1 : 0).toBe(i.truth.criteria.clarity);
    return score;
  });
  expect(new Set(scores)).toEqual(new Set([1, 2, 3, 4, 5]));
});

test('a miss is one or two points off, inside the scale', () => {
  const misses = Array.from({ length: 200 }, (_, k) => {
    const truth = 1 + (k % 5);
    const score = missedScore(scale, truth, (k * 0.618) % 1);
    expect(score).toBeGreaterThanOrEqual(1);
    expect(score).toBeLessThanOrEqual(5);
    return Math.abs(score - truth);
  });
  expect(new Set(misses)).toEqual(new Set([1, 2]));
  expect(misses.filter((d) => d === 1).length).toBeGreaterThan(misses.length * 0.6);
});

test('the simulated model scores a Likert judge request on its scale, near the hidden score', () => {
  const options = llmSimOptionsSchema.parse({ seed: 5 });
  const template = buildJudgeTemplate({ criterion, guidelineText: 'Score clarity.', guidelineVersion: 1, scale });
  const schema = z.toJSONSchema(judgeScoreSchema(scale.points)) as Record<string, unknown>;
  const distances = items.slice(0, 150).map((i, sample) => {
    const messages = judgeMessages(template, {
      criterionKey: 'clarity',
      show: showContext(i.show),
      synopsis: i.text,
      scale,
    });
    const prompt = messages.map((m) => `${m.role}: ${m.content}`).join('\n\n');
    const out = answer({ kind: LLM_REQUEST_KINDS.judge, prompt, schema, sample }, options);
    const value = judgeScoreSchema(scale.points).parse(fillSchema(schema, out.facts));
    const truth = trueLikertScore(scale, i.truth.criteria.clarity, clarityDefects(i.truth), 'clarity', i.text);
    expect(out.facts.verdict).toBe(value.score >= scale.passAt ? 'pass' : 'fail');
    return Math.abs(value.score - truth);
  });
  expect(distances.filter((d) => d === 0).length).toBeGreaterThan(distances.length * 0.6);
  expect(Math.max(...distances)).toBeLessThanOrEqual(2);
});

test('the simulated model aggregates Likert ratings into a score and flags a spread for review', () => {
  const options = llmSimOptionsSchema.parse({ seed: 5 });
  const schema = z.toJSONSchema(goldenScoreAggregateSchema(scale.points)) as Record<string, unknown>;
  const ask = (labels: number[]) => {
    const i = items[0];
    const messages = goldenAggregateMessages({
      criterion,
      guidelineText: 'Score clarity.',
      show: showContext(i.show),
      synopsis: i.text,
      ratings: labels.map((label, k) => ({ rater: `r${k}`, label, explanation: '' })),
      scale,
    });
    const out = answer(
      { kind: LLM_REQUEST_KINDS.goldenAggregate, prompt: messages.map((m) => m.content).join('\n'), schema, sample: 0 },
      options,
    );
    return goldenScoreAggregateSchema(scale.points).parse(fillSchema(schema, out.facts));
  };
  expect(ask([1, 3, 5]).needs_review).toBe(true);
  const close = ask([4, 4, 5]);
  expect(close.label).toBeGreaterThanOrEqual(1);
  expect(close.label).toBeLessThanOrEqual(5);
});
