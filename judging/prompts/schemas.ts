/**
 * Structured outputs the judge engine asks for (zod; sent as strict JSON Schema under the request
 * kind's name). Field order is the order a model writes them in: a judge reasons at any length,
 * then summarises briefly, and only then commits to a verdict (tiered rationale, seed 004).
 */
import { z } from 'zod';
import { LLM_REQUEST_KINDS, type LlmRequestKind } from './contract';

export const judgeVerdictSchema = z.object({
  reasoning: z.string().describe('Step-by-step reasoning about the synopsis against the rubric, any length.'),
  summary: z.string().describe('At most two sentences a writer can act on.'),
  verdict: z.enum(['pass', 'fail']),
});
export type JudgeVerdict = z.infer<typeof judgeVerdictSchema>;

/** A Likert criterion's judge: the same tiered rationale, then a score on the criterion's scale. */
export const judgeScoreSchema = (points: number) =>
  z.object({
    reasoning: judgeVerdictSchema.shape.reasoning,
    summary: judgeVerdictSchema.shape.summary,
    score: z.int().min(1).max(points).describe(`1 = does not meet the rubric at all, ${points} = fully meets it.`),
  });

export const goldenAggregateSchema = z.object({
  explanation: z.string().describe('Why the final label follows from the raters and the rubric.'),
  label: z.int().min(0).max(1).describe('1 = passes the criterion, 0 = fails.'),
  needs_review: z.boolean().describe('True when the raters disagree substantially and a human should adjudicate.'),
});
export type GoldenAggregate = z.infer<typeof goldenAggregateSchema>;

/** A Likert criterion's golden aggregate: the label is a score 1..points. */
export const goldenScoreAggregateSchema = (points: number) =>
  goldenAggregateSchema.extend({
    label: z.int().min(1).max(points).describe(`The final score, 1 to ${points}.`),
  });

export const rationaleMergeSchema = z.object({
  explanation: z.string().describe('One readable explanation combining the agents’ rationales.'),
});

export const promptCritiqueSchema = z.object({
  critique: z.string().describe('What in the prompt made the judge get these examples wrong.'),
});

export const promptEditSchema = z.object({
  prompt: z.string().describe('The full edited judge prompt.'),
});

/** The output schema of each request kind. */
export const OUTPUT_SCHEMAS = {
  [LLM_REQUEST_KINDS.judge]: judgeVerdictSchema,
  [LLM_REQUEST_KINDS.goldenAggregate]: goldenAggregateSchema,
  [LLM_REQUEST_KINDS.rationaleMerge]: rationaleMergeSchema,
  [LLM_REQUEST_KINDS.promptCritique]: promptCritiqueSchema,
  [LLM_REQUEST_KINDS.promptEdit]: promptEditSchema,
} as const satisfies Record<LlmRequestKind, z.ZodType>;
