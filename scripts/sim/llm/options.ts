/**
 * Settings of the LLM simulator: accuracy model, latency, limits, faults, batch timing. Loadable
 * from a JSON/YAML file (`--config`) and flags; every field has a default and a description.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';

const rate = z.number().min(0).max(1);
const accuracy = z.number().min(0.5).max(1);

export const llmSimOptionsSchema = z.strictObject({
  seed: z.number().int().default(0).describe('Seed of every random choice the simulator makes.'),
  accuracy: z
    .strictObject({
      tone: accuracy.default(0.85),
      clarity: accuracy.default(0.85),
      precision: accuracy.default(0.9),
      factuality_plot: accuracy.default(0.92),
      factuality_metadata: accuracy.default(0.92),
      factuality_talent: accuracy.default(0.92),
      factuality_awards: accuracy.default(0.92),
    })
    .prefault({})
    .describe(
      'Probability that one judge sample matches the hidden truth, per criterion, for a prompt with no rubric hints and no tiered rationale.',
    ),
  perSampleShare: rate
    .default(0.7)
    .describe(
      'Share of judge error drawn per sample (consensus removes it); the rest is per item and stable across samples.',
    ),
  hintGain: z
    .number()
    .min(0)
    .max(0.2)
    .default(0.02)
    .describe('Accuracy added per distinct rubric hint of the criterion found in the prompt.'),
  tieredRationaleGain: z
    .number()
    .min(0)
    .max(0.2)
    .default(0.013)
    .describe('Accuracy added when the output schema asks for reasoning and a summary before the verdict.'),
  localeAccuracy: z
    .record(z.string(), z.number().min(-0.5).max(0.2))
    .default({ 'es-ES': -0.05, 'fr-FR': -0.1 })
    .describe(
      "Added to a judge's accuracy when its request names this locale (a multilingual program's judge sends the synopsis's locale): the simulated model is weaker in some languages, so judge accuracy differs by locale. Requests naming no locale are unaffected.",
    ),
  maxAccuracy: accuracy.default(0.99).describe('Cap on judge accuracy whatever the prompt.'),
  aggregateAccuracy: accuracy.default(0.95).describe('Probability that a golden_aggregate label matches the truth.'),
  uselessEditRate: rate.default(0.25).describe('Probability that a prompt_edit adds a hint that does not help.'),
  latency: z
    .strictObject({
      medianMs: z.number().min(0).default(0),
      p99Ms: z.number().min(0).default(0),
    })
    .prefault({})
    .refine((l) => l.p99Ms === 0 || l.p99Ms >= l.medianMs, 'p99Ms must be ≥ medianMs')
    .describe('Log-normal response latency of chat completions (p99Ms ≤ medianMs: fixed at medianMs).'),
  rpm: z.number().int().min(0).default(0).describe('Requests per minute before 429 (0 = unlimited).'),
  tpm: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Tokens per minute before 429, counting prompt + max_tokens (0 = unlimited).'),
  faults: z
    .strictObject({
      serverError: rate.default(0),
      hang: rate.default(0),
      malformed: rate.default(0),
      schemaViolation: rate.default(0),
      truncated: rate.default(0),
      unauthorized: rate.default(0),
      forbidden: rate.default(0),
      modelNotFound: rate.default(0),
      badRequest: rate.default(0),
      insufficientQuota: rate.default(0),
      rateLimited: rate.default(0),
    })
    .prefault({})
    .refine((f) => Object.values(f).reduce((a, b) => a + b, 0) <= 1, 'fault rates must sum to at most 1')
    .describe(
      'Per-request fault rates: 500 error, hang (no answer for hangMs), malformed JSON, schema-violating JSON, truncated output (finish_reason length); ' +
        'and chat requests answered as OpenAI answers a misconfiguration, with its error bodies: 401 invalid_api_key, 403, 404 model_not_found, 400 invalid_request_error, 429 insufficient_quota, and a plain 429 rate limit (retry-after-ms 200).',
    ),
  hangMs: z
    .number()
    .int()
    .min(0)
    .default(600_000)
    .describe('How long a hanging request stays open before its connection is dropped.'),
  batch: z
    .strictObject({
      validatingMs: z.number().min(0).default(200),
      msPerRequest: z.number().min(0).default(0),
      finalizingMs: z.number().min(0).default(200),
      lineErrorRate: rate.default(0),
      expireAfterMs: z.number().min(0).default(0),
    })
    .prefault({})
    .describe(
      'Batch API: time in validating, per request in in_progress, in finalizing; share of request lines that fail with a 500 in the error file (on top of faults, batch only); expiry of a batch still running that long after its creation, its unrun lines in the error file as batch_expired (0: never).',
    ),
  models: z
    .array(z.string().min(1))
    .min(1)
    .default(['gpt-4.1-mini', 'gpt-4.1', 'gpt-4o-mini', 'gpt-5-mini', 'o4-mini'])
    .describe('Models listed by /v1/models (any model name is accepted).'),
});

export type LlmSimOptions = z.output<typeof llmSimOptionsSchema>;
export type LlmSimOptionsInput = z.input<typeof llmSimOptionsSchema>;

export class LlmSimConfigError extends Error {
  readonly exitCode = 2;
}

/** Validates options; the error names each bad field and what it should be. */
export function parseLlmSimOptions(input: unknown, source = 'options'): LlmSimOptions {
  const parsed = llmSimOptionsSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new LlmSimConfigError(`Invalid LLM simulator ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/** Reads a JSON or YAML options file (unparsed: flags are merged on top before validation). */
export function readLlmSimConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LlmSimConfigError(`Cannot read LLM simulator config ${file}: ${(err as Error).message}`);
  }
  try {
    const value = YAML.parse(text) as unknown;
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value))
      throw new Error('expected a mapping of option names to values');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new LlmSimConfigError(`Invalid LLM simulator config ${file}: ${(err as Error).message}`);
  }
}
