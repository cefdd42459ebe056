/**
 * The catalog as judgeflow imports it (shows and their synopses), the hidden answer key the
 * simulated world writes separately, and member-behaviour metrics. JSONL, one record a line.
 */
import { z } from 'zod';

/** The criteria of the synopsis program (seed 004); factuality is judged by a panel of agents. */
export const SYNOPSIS_CRITERIA = ['tone', 'clarity', 'precision', 'factuality'] as const;
export const FACTUALITY_AGENTS = ['plot', 'metadata', 'talent', 'awards'] as const;
export type FactualityAgent = (typeof FACTUALITY_AGENTS)[number];

export const showSchema = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  locale: z.string().default('en-US'),
  genres: z.array(z.string()).default([]),
  year: z.number().int().optional(),
  locations: z.array(z.string()).default([]),
  talent: z.array(z.object({ name: z.string(), role: z.string() })).default([]),
  awards: z.array(z.string()).default([]),
  plot: z.string().default(''),
});
export type Show = z.infer<typeof showSchema>;

export const synopsisSchema = z.object({
  id: z.string().min(1),
  showId: z.string().min(1),
  locale: z.string().default('en-US'),
  text: z.string().min(1),
});
export type Synopsis = z.infer<typeof synopsisSchema>;

/** One catalog line: a show record or a synopsis record. */
export const catalogRecordSchema = z.discriminatedUnion('kind', [
  showSchema.extend({ kind: z.literal('show') }),
  synopsisSchema.extend({ kind: z.literal('synopsis') }),
]);
export type CatalogRecord = z.infer<typeof catalogRecordSchema>;

/**
 * The hidden ground truth of one synopsis (simulation only, never shown to judges or raters):
 * 1 = passes the criterion, 0 = fails; factuality per agent; the defects injected; latent quality.
 */
export const truthSchema = z.object({
  synopsisId: z.string(),
  showId: z.string(),
  textHash: z.string(),
  criteria: z.record(z.string(), z.union([z.literal(0), z.literal(1)])),
  defects: z.array(z.object({ criterion: z.string(), code: z.string(), detail: z.string() })),
  quality: z.number(),
});
export type Truth = z.infer<typeof truthSchema>;

export const behaviorSchema = z.object({
  synopsisId: z.string(),
  showId: z.string(),
  impressions: z.number().int().nonnegative(),
  takeFraction: z.number().min(0).max(1),
  abandonmentRate: z.number().min(0).max(1),
});
export type Behavior = z.infer<typeof behaviorSchema>;
