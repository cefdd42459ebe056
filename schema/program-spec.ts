/**
 * The program spec a program manager writes (YAML or JSON). Everything is validated before anything
 * starts; `validateProgramSpec` lists every problem with its path. `npm run docs:spec-schema` exports
 * the JSON Schema for editors (schema/program-spec.schema.json).
 */
import { z } from 'zod';

const duration = z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration like 90s, 30m, 12h or 3d');
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'expected a slug: lowercase letters, digits and dashes');
const share = z.number().min(0).max(1);

export const criterionSpecSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a lowercase identifier'),
  name: z.string().min(1),
  description: z.string().min(1),
  /**
   * Binary (pass/fail) is what judgeflow runs end to end — rater agreement, golden labels, judges
   * and their metrics — and agrees better (seed 004). `likert` is refused with a message saying so.
   */
  scale: z.literal('binary').default('binary'),
  rubric: z.string().min(1),
  /** Factuality-style criteria are judged by a panel of narrow agents; verdict = min over agents. */
  panel: z
    .array(z.enum(['plot', 'metadata', 'talent', 'awards']))
    .min(1)
    .optional(),
  /** The criterion's judge; unset fields take `judges.samples` and a temperature of 0.7. */
  judge: z
    .object({
      /** Requests per item (per agent of a panel); the verdict is their rounded mean. */
      samples: z.number().int().min(1).max(15).optional(),
      temperature: z.number().min(0).max(2).optional(),
      reasoningEffort: z.enum(['minimal', 'low', 'medium', 'high']).optional(),
    })
    .default({}),
});

export const vendorSpecSchema = z.object({
  id: slug,
  name: z.string().min(1),
  kind: z.enum(['http', 'label-studio']),
  /** Where judgeflow sends task batches (http) or the Label Studio base URL. */
  endpoint: z.string().url(),
  /** Name of the environment variable holding the Standard Webhooks secret(s), comma-separated for rotation. */
  secretEnv: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/, 'expected an environment variable name')
    .optional(),
  /** The secret itself (simulated vendors and tests only; prefer secretEnv). */
  secret: z.string().min(1).optional(),
  /** USD per task kind. */
  rateCard: z.object({
    rate: z.number().nonnegative(),
    review: z.number().nonnegative(),
    write: z.number().nonnegative(),
  }),
  /** Task kinds this vendor takes. */
  roles: z
    .array(z.enum(['rate', 'review', 'write']))
    .min(1)
    .default(['rate', 'review']),
  config: z.record(z.string(), z.unknown()).default({}),
});

export const programSpecSchema = z
  .object({
    id: slug,
    name: z.string().min(1),
    locale: z.string().default('en-US'),
    criteria: z.array(criterionSpecSchema).min(1, 'a program needs at least one criterion'),
    guidelines: z.object({ version: z.number().int().positive().default(1), text: z.string().min(1) }),
    errorTaxonomy: z
      .array(z.object({ code: z.string().min(1), criterion: z.string().min(1), description: z.string().min(1) }))
      .default([]),
    goldExamples: z
      .array(
        z.object({
          itemId: z.string().min(1),
          labels: z.record(
            z.string(),
            z.number().int().min(0, 'expected 0 (fail) or 1 (pass)').max(1, 'expected 0 (fail) or 1 (pass)'),
          ),
          explanation: z.string().default(''),
        }),
      )
      .default([]),
    items: z.object({
      /** A catalog file (JSONL of schema/catalog.ts records) imported at start; or items already imported. */
      catalog: z.string().min(1).optional(),
      locale: z.string().optional(),
    }),
    vendors: z.array(vendorSpecSchema).min(1, 'a program needs at least one vendor'),
    raters: z
      .object({
        perItem: z.number().int().min(1).max(15).default(3),
        pilotPerItem: z.number().int().min(2).max(15).default(4),
        goldRate: share.default(0.1),
        minGoldAccuracy: share.default(0.7),
      })
      .default({ perItem: 3, pilotPerItem: 4, goldRate: 0.1, minGoldAccuracy: 0.7 }),
    rounds: z
      .object({
        pilotSize: z.number().int().min(5).max(1000).default(30),
        calibrationSize: z.number().int().min(5).max(1000).default(50),
        maxCalibrationRounds: z.number().int().min(1).max(8).default(8),
        goldenSetSize: z.number().int().min(10).max(20000).default(600),
        testShare: share.default(0.5),
      })
      .default({ pilotSize: 30, calibrationSize: 50, maxCalibrationRounds: 8, goldenSetSize: 600, testShare: 0.5 }),
    targets: z
      .object({
        agreement: z.number().gt(0).max(1).default(0.8),
        agreementMetric: z
          .enum(['percent_agreement', 'krippendorff_alpha', 'gwet_ac1', 'fleiss_kappa'])
          .default('percent_agreement'),
        judgeAccuracy: z.number().gt(0).max(1).default(0.85),
      })
      .default({ agreement: 0.8, agreementMetric: 'percent_agreement', judgeAccuracy: 0.85 }),
    judges: z
      .object({
        model: z.string().min(1).optional(),
        samples: z.number().int().min(1).max(15).default(5),
        optimize: z.boolean().default(true),
        maxOptimizerCalls: z.number().int().min(10).default(2000),
      })
      .default({ samples: 5, optimize: true, maxOptimizerCalls: 2000 }),
    budget: z.object({ usd: z.number().positive('budget must be positive') }),
    sla: z
      .object({
        remindAfter: duration.default('1d'),
        reassignAfter: duration.default('3d'),
        deadline: duration.default('7d'),
      })
      .default({ remindAfter: '1d', reassignAfter: '3d', deadline: '7d' }),
    /** auto: gates pass by themselves after `autoAfter` (a window for the PM to act), except a missed target. */
    gates: z
      .object({ policy: z.enum(['manual', 'auto']).default('manual'), autoAfter: duration.default('0s') })
      .default({ policy: 'manual', autoAfter: '0s' }),
    production: z
      .object({
        mode: z.enum(['sync', 'batch']).default('sync'),
        limit: z.number().int().positive().optional(),
        fixLoop: z.boolean().default(true),
        maxFixAttempts: z.number().int().min(1).max(10).default(3),
        writerVendor: z.string().optional(),
      })
      .default({ mode: 'sync', fixLoop: true, maxFixAttempts: 3 }),
  })
  .superRefine((spec, ctx) => {
    for (const problem of referenceProblems(spec))
      ctx.addIssue({ code: 'custom', path: problem.path.split('.'), message: problem.message });
  });

/**
 * Checks between fields (unknown criteria, vendors, duplicates, missing secrets). Tolerant of a
 * malformed input, so it also runs when the shape itself is invalid: every problem is listed at once.
 */
function referenceProblems(input: unknown): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const spec = (input ?? {}) as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
  const criteria = list(spec.criteria).map((c) => c?.id);
  const known = new Set(criteria);
  criteria.forEach((id, i) => {
    if (criteria.indexOf(id) !== i)
      problems.push({ path: `criteria.${i}.id`, message: `duplicate criterion "${String(id)}"` });
  });
  list(spec.criteria).forEach((c, i) => {
    if (c?.scale === 'likert')
      problems.push({
        path: `criteria.${i}.scale`,
        message: `criterion "${String(c.id)}": Likert scales are not supported — judgeflow runs binary (pass/fail) criteria only (agreement, golden labels and judge metrics are binary); use scale: binary, or split the scale into binary criteria`,
        supersedes: true,
      });
  });
  list(spec.errorTaxonomy).forEach((e, i) => {
    if (!known.has(e?.criterion))
      problems.push({ path: `errorTaxonomy.${i}.criterion`, message: `unknown criterion "${String(e?.criterion)}"` });
  });
  list(spec.goldExamples).forEach((g, i) => {
    for (const key of Object.keys((g?.labels as object) ?? {}))
      if (!known.has(key))
        problems.push({ path: `goldExamples.${i}.labels.${key}`, message: `unknown criterion "${key}"` });
  });
  const vendorList = list(spec.vendors);
  vendorList.forEach((v, i) => {
    if (!v?.secret && !v?.secretEnv)
      problems.push({ path: `vendors.${i}`, message: 'a vendor needs secretEnv (or secret) to verify its events' });
  });
  const writer = (spec.production as Record<string, unknown> | undefined)?.writerVendor;
  if (writer !== undefined && !vendorList.some((v) => v?.id === writer))
    problems.push({ path: 'production.writerVendor', message: `unknown vendor "${String(writer)}"` });
  const raters = (spec.raters ?? {}) as Record<string, number>;
  if (
    typeof raters.perItem === 'number' &&
    typeof raters.pilotPerItem === 'number' &&
    raters.pilotPerItem < raters.perItem
  )
    problems.push({
      path: 'raters.pilotPerItem',
      message: 'the pilot needs at least as many raters per item as later rounds',
    });
  return problems;
}

export type ProgramSpecInput = z.input<typeof programSpecSchema>;
export type ProgramSpec = z.output<typeof programSpecSchema>;
export type CriterionSpec = ProgramSpec['criteria'][number];
export type VendorSpec = ProgramSpec['vendors'][number];

export interface SpecProblem {
  path: string;
  message: string;
}

/** A reference problem that replaces zod's own issue at its path (a clearer message for the same thing). */
type ReferenceProblem = SpecProblem & { supersedes?: boolean };

export type SpecValidation = { ok: true; spec: ProgramSpec } | { ok: false; problems: SpecProblem[] };

export function validateProgramSpec(input: unknown): SpecValidation {
  const parsed = programSpecSchema.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const references = referenceProblems(input);
  const superseded = new Set(references.filter((r) => r.supersedes).map((r) => r.path));
  const problems: SpecProblem[] = parsed.error.issues
    .map((issue) => ({ path: issue.path.length ? issue.path.map(String).join('.') : '(root)', message: issue.message }))
    .filter((p) => !superseded.has(p.path));
  for (const { path, message } of references)
    if (!problems.some((p) => p.path === path && p.message === message)) problems.push({ path, message });
  return { ok: false, problems };
}

/**
 * Samples per criterion as the spec sets them: the criterion's `judge.samples`, else `judges.samples`
 * (what the estimate prices and every judging phase runs).
 */
export function criterionSamples(spec: Pick<ProgramSpec, 'criteria' | 'judges'>): Record<string, number> {
  return Object.fromEntries(spec.criteria.map((c) => [c.id, c.judge?.samples ?? spec.judges.samples]));
}

/**
 * The label values a criterion accepts — the one rule the gateway, the spec's gold examples and the
 * statistics read. Binary: 0 (fail) or 1 (pass).
 */
export function criterionLabelRange(criterion: Pick<CriterionSpec, 'scale'>): { min: number; max: number } {
  switch (criterion.scale) {
    case 'binary':
      return { min: 0, max: 1 };
  }
}

/** "3d" → milliseconds (workflow-safe: no Node APIs). */
export function durationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) throw new Error(`not a duration: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
