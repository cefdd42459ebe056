/**
 * What crosses the vendor boundary, validated with zod on both sides: the events a vendor posts to
 * the gateway (`POST /v1/vendors/:vendorId/events`) and the task dispatches judgeflow sends to a
 * generic HTTP vendor. docs/vendors.md documents both with examples.
 */
import { z } from 'zod';

/** NUL (U+0000) or a UTF-16 surrogate that is not half of a pair (`u`: a pair is one code point). */
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/u;

/** Why PostgreSQL cannot store `value` (text and jsonb refuse NUL; a lone surrogate is not UTF-8), or null. */
export function unstorableText(value: string): string | null {
  const found = UNSTORABLE.exec(value);
  if (!found) return null;
  return found[0] === '\u0000'
    ? 'contains a NUL byte (\\u0000), which PostgreSQL cannot store'
    : `contains a lone UTF-16 surrogate (\\u${found[0].charCodeAt(0).toString(16)}), which is not valid Unicode text`;
}

/**
 * A string PostgreSQL can store. Every string a vendor sends goes through it: otherwise the
 * database refuses the insert and the gateway would answer 500, which a vendor retries forever.
 */
export const storableText = () =>
  z.string().superRefine((value, ctx) => {
    const problem = unstorableText(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Bounded identifiers: they end up in unique indexes and workflow signals. */
const id = storableText().min(1).max(300);

export const labelSchema = z.object({
  criterion: storableText().min(1).max(100),
  /** binary: 1 pass, 0 fail; Likert: 1..n */
  value: z.number().int().min(0).max(10),
  explanation: storableText().max(5_000).default(''),
  errorCodes: z.array(storableText().min(1).max(100)).max(20).default([]),
});
export type LabelInput = z.infer<typeof labelSchema>;

const base = { taskId: id, occurredAt: z.string().datetime({ offset: true }).optional() };

export const vendorEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('task.completed'),
    /** The vendor's own rater id (judgeflow stores it as `<vendorId>:<raterId>`). */
    raterId: id,
    labels: z.array(labelSchema).min(1).max(50),
  }),
  z.object({
    ...base,
    type: z.literal('task.declined'),
    raterId: id.optional(),
    reason: storableText().max(2_000).default(''),
  }),
  z.object({ ...base, type: z.literal('task.expired'), reason: storableText().max(2_000).default('') }),
  z.object({
    ...base,
    type: z.literal('revision.submitted'),
    raterId: id,
    text: storableText().min(1).max(20_000),
    notes: storableText().max(5_000).default(''),
  }),
]);
export type VendorEvent = z.infer<typeof vendorEventSchema>;
export type VendorEventType = VendorEvent['type'];
export const VENDOR_EVENT_TYPES = ['task.completed', 'task.declined', 'task.expired', 'revision.submitted'] as const;

/**
 * Where a vendor fetches a guideline version's rater packet: a gateway URL signed for this vendor
 * that stops working at `expiresAt` (after that, fetch it with signed headers; docs/vendors.md).
 */
export const packetLinkSchema = z.object({
  version: z.number().int(),
  url: z.string().url(),
  expiresAt: z.string().datetime({ offset: true }),
});
export type PacketLink = z.infer<typeof packetLinkSchema>;

/** What a rater works from: one guideline version's text, rubric and scale per criterion, error codes, gold examples. */
export const raterPacketSchema = z.object({
  programId: z.string(),
  programName: z.string(),
  version: z.number().int(),
  publishedAt: z.string(),
  note: z.string(),
  /** A multilingual program's packet for one locale's raters (its guidelines, rubrics and gold examples). */
  locale: z.string().optional(),
  guidelines: z.string(),
  criteria: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      description: z.string(),
      rubric: z.string(),
      scale: z.string(),
      /** The label values accepted, with what each means (binary: 1 pass, 0 fail; Likert: 1..n). */
      values: z.array(z.object({ value: z.number().int(), label: z.string() })),
      /** Likert only: the lowest score that passes. */
      passAt: z.number().int().optional(),
      errorCodes: z.array(z.object({ code: z.string(), description: z.string() })),
    }),
  ),
  goldExamples: z.array(
    z.object({
      itemId: z.string(),
      title: z.string(),
      text: z.string(),
      labels: z.record(z.string(), z.number().int()),
      explanation: z.string(),
    }),
  ),
});
export type RaterPacket = z.infer<typeof raterPacketSchema>;

/** Sent to a vendor when a guideline revision is published: it applies to the program's open tasks too. */
export const guidelinesNoticeSchema = z.object({
  type: z.literal('guidelines.published'),
  programId: z.string(),
  version: z.number().int(),
  note: z.string(),
  guidelines: packetLinkSchema,
});
export type GuidelinesNotice = z.infer<typeof guidelinesNoticeSchema>;

/** What a rater needs to do a task without access to judgeflow's database. */
export const taskDispatchSchema = z.object({
  taskId: id,
  batchId: id,
  programId: id,
  kind: z.enum(['rate', 'review', 'write']),
  /** The vendor's rater id the task is assigned to. */
  raterId: id,
  item: z.object({ id, textHash: z.string(), text: z.string(), locale: z.string() }),
  show: z.record(z.string(), z.unknown()),
  criteria: z.array(z.string()),
  guidelineVersion: z.number().int(),
  /** The rater packet of `guidelineVersion` (absent only from vendors' own test fixtures). */
  guidelines: packetLinkSchema.optional(),
  dueAt: z.string(),
  context: z.record(z.string(), z.unknown()).default({}),
});
export type TaskDispatch = z.infer<typeof taskDispatchSchema>;

export const dispatchRequestSchema = z.object({ tasks: z.array(taskDispatchSchema).min(1).max(1_000) });
export const taskIdsRequestSchema = z.object({ taskIds: z.array(id).min(1).max(1_000) });

export const raterListSchema = z.object({
  raters: z.array(
    z.object({
      id,
      /** kinds / criteria / locales the rater may take; absent = any. */
      qualification: z
        .object({
          kinds: z.array(z.string()).optional(),
          criteria: z.array(z.string()).optional(),
          locales: z.array(z.string()).optional(),
        })
        .default({}),
    }),
  ),
});
export type RaterList = z.infer<typeof raterListSchema>;

/** The signal the gateway and the reconciler send to a human-task workflow for each stored event. */
export interface VendorEventSignal {
  eventId: number;
  taskId: string;
  type: VendorEventType;
}

/** The gateway's error body, for every 4xx/5xx. */
export interface GatewayError {
  error: { code: string; message: string; details?: unknown };
}
