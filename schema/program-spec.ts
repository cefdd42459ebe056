/**
 * The program spec a program manager writes (YAML or JSON). Everything is validated before anything
 * starts; `validateProgramSpec` lists every problem with its path. `npm run docs:spec-schema` exports
 * the JSON Schema for editors (schema/program-spec.schema.json).
 */
import { z } from 'zod';
import { NOTIFICATION_EVENTS } from '../notifications/events';
import { envName, slug, vendorEntryProblems, vendorSpecSchema } from './vendor-spec';

export { vendorSpecSchema };

const duration = z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration like 90s, 30m, 12h or 3d');
const share = z.number().min(0).max(1);

export const criterionSpecSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a lowercase identifier'),
  name: z.string().min(1),
  description: z.string().min(1),
  /**
   * binary (pass/fail, the default: it agrees better, seed 004) or likert: ratings and judge scores
   * 1..points, agreement at an ordinal (or interval) level, and a score ≥ passAt passes — the
   * verdict of production and the fix loop stays pass/fail.
   */
  scale: z.enum(['binary', 'likert']).default('binary'),
  /** Likert only: the number of scale points (ratings 1..points). */
  points: z.number().int().min(3).max(10).optional(),
  /** Likert only: the lowest score that passes (2..points). */
  passAt: z.number().int().min(2).max(10).optional(),
  /** Likert only: Krippendorff's level for agreement (ordinal by default; interval weighs distances). */
  agreementLevel: z.enum(['ordinal', 'interval']).optional(),
  /** The agreement metric of this criterion's rounds; unset: `targets.agreementMetric`. */
  agreementMetric: z.enum(['percent_agreement', 'krippendorff_alpha', 'gwet_ac1', 'fleiss_kappa']).optional(),
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

const localeCode = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z][A-Za-z0-9]{1,3})?$/, 'expected a locale code like en-US or es-ES');

const guidelinesSchema = z.object({ version: z.number().int().positive().default(1), text: z.string().min(1) });

/**
 * One language of a multilingual program (seed 003): its raters, golden set and judges are its own;
 * its guidelines and rubrics fall back to the program's where the spec gives none.
 */
export const localeSpecSchema = z.object({
  code: localeCode,
  /** The guidelines raters of this locale read; unset: the program's. */
  guidelines: guidelinesSchema.optional(),
  /** Rubric text per criterion id, in this locale; a criterion not listed keeps its own rubric. */
  rubrics: z.record(z.string(), z.string().min(1)).default({}),
});

/**
 * A receiver of the program's notifications. Secrets are named, never written: the worker reads
 * them from its environment when it sends.
 */
export const notificationSpecSchema = z.object({
  id: slug,
  /** webhook: a JSON event signed with Standard Webhooks (secretEnv); slack: a Slack incoming-webhook message. */
  kind: z.enum(['webhook', 'slack']),
  url: z.string().url().optional(),
  /** Name of the environment variable holding the URL instead (a Slack incoming-webhook URL is a secret). */
  urlEnv: envName.optional(),
  /** Name of the environment variable holding the webhook's signing secret (`whsec_…`). */
  secretEnv: envName.optional(),
  /** The events this receiver wants (default: all). */
  events: z
    .array(z.enum(NOTIFICATION_EVENTS))
    .min(1)
    .default([...NOTIFICATION_EVENTS]),
});

export const programSpecSchema = z
  .object({
    id: slug,
    name: z.string().min(1),
    locale: z.string().default('en-US'),
    /** The program's languages; unset: one, `locale`, with the program's guidelines and rubrics. */
    locales: z.array(localeSpecSchema).min(1).optional(),
    criteria: z.array(criterionSpecSchema).min(1, 'a program needs at least one criterion'),
    guidelines: guidelinesSchema,
    errorTaxonomy: z
      .array(z.object({ code: z.string().min(1), criterion: z.string().min(1), description: z.string().min(1) }))
      .default([]),
    goldExamples: z
      .array(
        z.object({
          itemId: z.string().min(1),
          /** Within each criterion's criterionLabelRange (checked with the criteria, below). */
          labels: z.record(z.string(), z.number().int()),
          explanation: z.string().default(''),
        }),
      )
      .default([]),
    /**
     * The program's item set (catalog/item-set.ts), selected once at start: the items of `catalog`
     * (else the whole catalog) in the program's locales, narrowed by the filters, then sampled.
     * Every draw, production run and pre-launch reads only this set; `catalog import --program`
     * adds an import's items that pass the filters.
     */
    items: z.object({
      /** A catalog file (JSONL or CSV, schema/catalog.ts records) imported at start; a relative path is from the spec's folder. */
      catalog: z.string().min(1).optional(),
      /** Only items in this locale (or these); each must be a program locale. Unset: all the program's locales. */
      locale: z.union([localeCode, z.array(localeCode).min(1)]).optional(),
      /** Only the synopses of these shows. */
      showIds: z.array(z.string().min(1)).min(1).optional(),
      /** Only shows with one of these genres (case-insensitive). */
      genres: z.array(z.string().min(1)).min(1).optional(),
      /** Only items created or edited at or after this date or time (ISO 8601). */
      updatedSince: z.union([z.iso.date(), z.iso.datetime({ offset: true })]).optional(),
      /** A deterministic sample of what the filters select: the same seed over the same catalog gives the same items. */
      sample: z.object({ size: z.number().int().min(1), seed: z.number().int().default(1) }).optional(),
    }),
    vendors: z.array(vendorSpecSchema).min(1, 'a program needs at least one vendor'),
    raters: z
      .object({
        perItem: z.number().int().min(1).max(15).default(3),
        pilotPerItem: z.number().int().min(2).max(15).default(4),
        goldRate: share.default(0.1),
        /** A rater is paused when the upper bound of their gold accuracy's 95% Wilson interval is below it. */
        minGoldAccuracy: share.default(0.7),
        /** Gold answers (labels on gold items) a rater gives before their accuracy can pause them. */
        minGoldAnswers: z.number().int().min(1).default(10),
        /** What a significant drop in a rater's recent gold accuracy (stats detectDrift) does: flag only, or pause too. */
        onDrift: z.enum(['flag', 'pause']).default('flag'),
        /** Gold items a rater answers before any program work; work waits until they pass. */
        qualification: z.object({ items: z.number().int().min(1).max(100), minAccuracy: share }).optional(),
      })
      .default({
        perItem: 3,
        pilotPerItem: 4,
        goldRate: 0.1,
        minGoldAccuracy: 0.7,
        minGoldAnswers: 10,
        onDrift: 'flag',
      }),
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
    /**
     * How golden labels are made. `aggregation`: `llm` (the model reads the raters' labels and
     * explanations; unanimous items need no call), `dawid-skene` (each rater's confusion matrix with a
     * crowd prior, fitted over the whole golden set) or `majority` (a tie takes the lowest label).
     * `redundancy`: `fixed` gives every item `raters.perItem` ratings; `adaptive` gives two, then one more
     * per wave to items whose aggregate is below `minConfidence` on some criterion (a split pair always
     * is), up to `maxRatingsPerItem`. Items still below it after that go to a reviewer.
     */
    golden: z
      .object({
        aggregation: z.enum(['llm', 'dawid-skene', 'majority']).default('llm'),
        redundancy: z.enum(['fixed', 'adaptive']).default('fixed'),
        maxRatingsPerItem: z.number().int().min(2, 'adaptive redundancy starts at 2 ratings').max(15).default(5),
        minConfidence: z
          .number()
          .gt(0.5, 'a confidence of 0.5 or less is a coin flip: expected above 0.5')
          .max(1)
          .default(0.75),
      })
      .default({ aggregation: 'llm', redundancy: 'fixed', maxRatingsPerItem: 5, minConfidence: 0.75 }),
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
    /** Who hears of gates waiting, SLAs missed, the budget, rounds and the program's end. */
    notifications: z.array(notificationSpecSchema).default([]),
    /**
     * Who may steer the program, as `judgeflow whoami` names them (a JWT API key's subject, an mTLS
     * certificate's CN, `apikey:<fingerprint>`, `os:<user>` for an unverified OS user); anyone else
     * is refused. Unset: anyone may (docs/security.md).
     */
    owners: z.array(z.string().min(1)).min(1).optional(),
    /** Who may only look: their steering requests are refused as a viewer's (it needs owners). */
    viewers: z.array(z.string().min(1)).default([]),
  })
  .refine((spec) => !spec.viewers.length || spec.owners, {
    path: ['viewers'],
    message: 'viewers restrict nothing without owners: list the owners too',
  })
  .superRefine((spec, ctx) => {
    for (const problem of referenceProblems(spec))
      ctx.addIssue({ code: 'custom', path: problem.path.split('.'), message: problem.message });
  });

/**
 * Checks between fields (unknown criteria, vendors, duplicates, missing secrets). Tolerant of a
 * malformed input, so it also runs when the shape itself is invalid: every problem is listed at once.
 */
function referenceProblems(input: unknown): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const spec = (input ?? {}) as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
  const criteria = list(spec.criteria).map((c) => c?.id);
  const known = new Set(criteria);
  criteria.forEach((id, i) => {
    if (criteria.indexOf(id) !== i)
      problems.push({ path: `criteria.${i}.id`, message: `duplicate criterion "${String(id)}"` });
  });
  list(spec.criteria).forEach((c, i) => problems.push(...scaleProblems(c ?? {}, `criteria.${i}`)));
  list(spec.errorTaxonomy).forEach((e, i) => {
    if (!known.has(e?.criterion))
      problems.push({ path: `errorTaxonomy.${i}.criterion`, message: `unknown criterion "${String(e?.criterion)}"` });
  });
  list(spec.goldExamples).forEach((g, i) => {
    for (const [key, value] of Object.entries((g?.labels as Record<string, unknown>) ?? {})) {
      const criterion = list(spec.criteria).find((c) => c?.id === key);
      if (!criterion) problems.push({ path: `goldExamples.${i}.labels.${key}`, message: `unknown criterion "${key}"` });
      else if (typeof value === 'number' && !scaleProblems(criterion, '').length) {
        // The raw input may leave scale to its default; an unknown scale is zod's to report.
        const scale = criterion.scale ?? 'binary';
        if (scale !== 'binary' && scale !== 'likert') continue;
        const problem = labelProblem({ scale, points: criterion.points as number | undefined }, value);
        if (problem) problems.push({ path: `goldExamples.${i}.labels.${key}`, message: problem });
      }
    }
  });
  const locales = list(spec.locales);
  locales.forEach((l, i) => {
    if (locales.findIndex((o) => o?.code === l?.code) !== i)
      problems.push({ path: `locales.${i}.code`, message: `duplicate locale "${String(l?.code)}"` });
    for (const key of Object.keys((l?.rubrics as Record<string, unknown>) ?? {}))
      if (!known.has(key))
        problems.push({ path: `locales.${i}.rubrics.${key}`, message: `unknown criterion "${key}"` });
  });
  const programCodes = locales.length ? locales.map((l) => l?.code) : [spec.locale ?? 'en-US'];
  const itemLocale = (spec.items as Record<string, unknown> | undefined)?.locale;
  (Array.isArray(itemLocale) ? itemLocale : itemLocale === undefined ? [] : [itemLocale]).forEach((code, i) => {
    if (typeof code === 'string' && !programCodes.includes(code))
      problems.push({
        path: Array.isArray(itemLocale) ? `items.locale.${i}` : 'items.locale',
        message: `"${code}" is not a locale of the program (${programCodes.map(String).join(', ')}): add it to locales`,
      });
  });
  const vendorList = list(spec.vendors);
  vendorList.forEach((v, i) => problems.push(...vendorEntryProblems(v ?? {}, vendorList, i)));
  const receivers = list(spec.notifications);
  receivers.forEach((n, i) => {
    if (receivers.findIndex((o) => o?.id === n?.id) !== i)
      problems.push({ path: `notifications.${i}.id`, message: `duplicate receiver "${String(n?.id)}"` });
    if (!n?.url === !n?.urlEnv)
      problems.push({ path: `notifications.${i}`, message: 'a receiver needs url or urlEnv (one of them)' });
    if (n?.kind === 'webhook' && !n.secretEnv)
      problems.push({
        path: `notifications.${i}.secretEnv`,
        message: 'a webhook receiver needs secretEnv to sign with',
      });
  });
  const writer = (spec.production as Record<string, unknown> | undefined)?.writerVendor;
  if (writer !== undefined && !vendorList.some((v) => v?.id === writer))
    problems.push({ path: 'production.writerVendor', message: `unknown vendor "${String(writer)}"` });
  const raters = (spec.raters ?? {}) as Record<string, number>;
  const qualifying = (spec.raters as { qualification?: { items?: unknown } } | undefined)?.qualification?.items;
  if (typeof qualifying === 'number' && qualifying > list(spec.goldExamples).length)
    problems.push({
      path: 'raters.qualification.items',
      message: `the qualification batch needs ${qualifying} gold items; goldExamples has ${list(spec.goldExamples).length}`,
    });
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

/** A criterion's scale fields that do not fit together (Likert needs points and passAt; binary takes neither). */
function scaleProblems(c: Record<string, unknown>, path: string): SpecProblem[] {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const name = `criterion "${String(c.id)}"`;
  const problems: SpecProblem[] = [];
  if (c.scale === 'likert') {
    if (typeof c.points !== 'number')
      problems.push({ path: at('points'), message: `${name}: a Likert criterion needs points (3 to 10)` });
    if (typeof c.passAt !== 'number')
      problems.push({
        path: at('passAt'),
        message: `${name}: a Likert criterion needs passAt (the lowest score that passes)`,
      });
    else if (typeof c.points === 'number' && c.passAt > c.points)
      problems.push({
        path: at('passAt'),
        message: `${name}: passAt ${c.passAt} is above the scale's ${c.points} points`,
      });
    if (Array.isArray(c.panel))
      problems.push({
        path: at('panel'),
        message: `${name}: a panel's verdict is the min of pass/fail agents, so it needs scale: binary`,
      });
  } else
    for (const field of ['points', 'passAt', 'agreementLevel'])
      if (c[field] !== undefined)
        problems.push({
          path: at(field),
          message: `${name}: ${field} applies to Likert criteria only (scale: likert)`,
        });
  return problems;
}

/** Why `value` is not a label of `criterion`, or null. */
function labelProblem(criterion: Pick<CriterionSpec, 'scale' | 'points'>, value: number): string | null {
  const { min, max } = criterionLabelRange(criterion);
  if (Number.isInteger(value) && value >= min && value <= max) return null;
  return criterion.scale === 'binary' ? 'expected 0 (fail) or 1 (pass)' : `expected an integer from ${min} to ${max}`;
}

export type ProgramSpecInput = z.input<typeof programSpecSchema>;
export type ProgramSpec = z.output<typeof programSpecSchema>;
export type CriterionSpec = ProgramSpec['criteria'][number];
export type VendorSpec = ProgramSpec['vendors'][number];
export type NotificationSpec = ProgramSpec['notifications'][number];
export type LocaleSpec = z.output<typeof localeSpecSchema>;

/** A program locale with every fallback applied: what its raters read and its judges are prompted with. */
export interface ProgramLocale {
  code: string;
  guidelines: ProgramSpec['guidelines'];
  /** criterion id → rubric text in this locale */
  rubrics: Record<string, string>;
}

/** The program's locales, each with its guidelines and a rubric for every criterion. */
export function programLocales(
  spec: Pick<ProgramSpec, 'locale' | 'locales' | 'guidelines' | 'criteria'>,
): ProgramLocale[] {
  return (spec.locales ?? [{ code: spec.locale, rubrics: {} }]).map((l) => ({
    code: l.code,
    guidelines: l.guidelines ?? spec.guidelines,
    rubrics: Object.fromEntries(spec.criteria.map((c) => [c.id, l.rubrics[c.id] ?? c.rubric])),
  }));
}

export interface SpecProblem {
  path: string;
  message: string;
}

export type SpecValidation = { ok: true; spec: ProgramSpec } | { ok: false; problems: SpecProblem[] };

export function validateProgramSpec(input: unknown): SpecValidation {
  const parsed = programSpecSchema.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const references = referenceProblems(input);
  const problems: SpecProblem[] = parsed.error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
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

/** The spec's golden settings; a spec stored before they existed has none and runs as it did (LLM aggregation, fixed redundancy). */
export function goldenSettings(spec: Pick<ProgramSpec, 'golden'>): ProgramSpec['golden'] {
  return spec.golden ?? { aggregation: 'llm', redundancy: 'fixed', maxRatingsPerItem: 5, minConfidence: 0.75 };
}

/**
 * The label values a criterion accepts — the one rule the gateway, the spec's gold examples and the
 * statistics read. Binary: 0 (fail) or 1 (pass); Likert: 1..points.
 */
export function criterionLabelRange(criterion: Pick<CriterionSpec, 'scale' | 'points'>): { min: number; max: number } {
  switch (criterion.scale) {
    case 'binary':
      return { min: 0, max: 1 };
    case 'likert':
      return { min: 1, max: criterion.points ?? 5 };
  }
}

/** The lowest label or score that passes: 1 for binary, `passAt` for Likert (verdict = score ≥ it). */
export const criterionPassAt = (criterion: Pick<CriterionSpec, 'scale' | 'passAt'>): number =>
  criterion.scale === 'likert' ? (criterion.passAt ?? 1) : 1;

/** The level agreement is computed at: nominal for binary, the criterion's (ordinal by default) for Likert. */
export const criterionAgreementLevel = (
  criterion: Pick<CriterionSpec, 'scale' | 'agreementLevel'>,
): 'nominal' | 'ordinal' | 'interval' =>
  criterion.scale === 'likert' ? (criterion.agreementLevel ?? 'ordinal') : 'nominal';

/** The Likert scale a judge answers on, or undefined for a binary criterion (the form judge prompts carry). */
export const likertScale = (
  criterion: Pick<CriterionSpec, 'scale' | 'points' | 'passAt'>,
): { points: number; passAt: number } | undefined =>
  criterion.scale === 'likert'
    ? { points: criterionLabelRange(criterion).max, passAt: criterionPassAt(criterion) }
    : undefined;

/** "3d" → milliseconds (workflow-safe: no Node APIs). */
export function durationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) throw new Error(`not a duration: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
