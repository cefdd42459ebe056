/** What the LLM simulator counts, read by tests and benchmarks through `stats()`. */
import type { Fault } from './faults';

export interface LlmSimStats {
  /** HTTP requests answered (hangs are not, until dropped). */
  requests: number;
  /** HTTP requests that arrived, answered or not: what a client sent. */
  received: number;
  /** Chat requests with distinct bodies: received chat requests minus this many repeated one byte for byte (retries). */
  distinct: number;
  byKind: Record<string, number>;
  byStatus: Record<string, number>;
  rateLimited: number;
  faults: Record<Fault, number>;
  /** Requests whose prompt lacked what their kind needs (answered with a labelled placeholder). */
  unrecognized: number;
  samples: number;
  tokens: { prompt: number; completion: number; cached: number };
  /** Batch request lines: all, answered per kind (the rest of byKind came over HTTP), failed by lineErrorRate. */
  batches: {
    created: number;
    completed: number;
    failed: number;
    cancelled: number;
    expired: number;
    requests: number;
    byKind: Record<string, number>;
    lineErrors: number;
  };
}

export const emptyStats = (): LlmSimStats => ({
  requests: 0,
  received: 0,
  distinct: 0,
  byKind: {},
  byStatus: {},
  rateLimited: 0,
  faults: {
    serverError: 0,
    hang: 0,
    malformed: 0,
    schemaViolation: 0,
    truncated: 0,
    unauthorized: 0,
    forbidden: 0,
    modelNotFound: 0,
    badRequest: 0,
    insufficientQuota: 0,
    rateLimited: 0,
  },
  unrecognized: 0,
  samples: 0,
  tokens: { prompt: 0, completion: 0, cached: 0 },
  batches: { created: 0, completed: 0, failed: 0, cancelled: 0, expired: 0, requests: 0, byKind: {}, lineErrors: 0 },
});
