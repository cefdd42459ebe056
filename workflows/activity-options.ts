/**
 * The activity option sets every workflow uses, named for the kind of work: a timeout or retry
 * policy is chosen here once, not per call site.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/** Reads and writes of the system of record: short, retried through a database restart. */
export const DATABASE = { startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 20 } } satisfies ActivityOptions;

/**
 * The same reads and writes run as local activities, in the workflow task that asks for them: a
 * workflow that runs by the hundred (a fix loop per failing item) then costs one history marker per
 * call instead of three activity events and a workflow task, and no round trip through the server.
 */
export const LOCAL_DATABASE = {
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 20 },
  localRetryThreshold: '10 seconds',
} satisfies LocalActivityOptions;

/** Calls to a vendor's API (dispatch, withdraw, rater pools): a vendor outage is waited out with backoff. */
export const VENDOR_CALL = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
} satisfies ActivityOptions;

/**
 * Telling a vendor about a published guideline revision: retried with backoff for about a day,
 * never awaited, so a vendor that is down delays only its own notice.
 */
export const VENDOR_NOTICE = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '1 hour', maximumAttempts: 30 },
} satisfies ActivityOptions;

/**
 * One page of judging (up to ~500 items × criteria × samples): long, heartbeating every few
 * seconds, resumed from its heartbeat after a worker dies; retried many times because each
 * retry pays only for what is missing.
 */
export const LLM_PAGE = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 50 },
} satisfies ActivityOptions;

/** LLM work over a set of items or a prompt (evaluate a judge, aggregate golden labels, optimizer steps): heartbeating. */
export const LLM_CALL = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 10 },
} satisfies ActivityOptions;

/** The provider's Batch API (upload, create, status, download): files can be large. */
export const LLM_BATCH_API = {
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 20 },
} satisfies ActivityOptions;

/**
 * Sending one notification to one receiver (notifications/deliver.ts): retried with backoff for
 * about 40 minutes in a fire-and-forget child workflow, so a receiver that is down or hangs
 * (NOTIFY_TIMEOUT_MS per attempt) never holds up the program; the last failure is recorded.
 */
export const NOTIFY = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
} satisfies ActivityOptions;
