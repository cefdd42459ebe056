/**
 * Getting stored events to their batch workflows: the gateway's coalesced signals, and the
 * reconciler that re-sends those whose signal did not go through (gateway crash, Temporal
 * unreachable). The inbox row's `signalled_at` is the only state either keeps.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { inArray } from 'drizzle-orm';
import { unsignalledEvents } from '../human-tasks/inbox';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { vendorEvents } from '../schema/tables';
import type { VendorEvent, VendorEventSignal } from '../schema/vendor-events';
import { vendorEventsSignal } from '../workflows/human-tasks';

// Signals wake workflows, which wait for people: 250 ms adds nothing a rater notices, and under a
// burst it keeps Temporal and the worker (sharing the machine) at a few signals per second.
const SIGNAL_FLUSH_MS = 250;
const MAX_EVENTS_PER_SIGNAL = 1000;

/**
 * Coalesces the events bound for each batch workflow into one signal per flush (every
 * SIGNAL_FLUSH_MS, or at MAX_EVENTS_PER_SIGNAL), then marks them signalled in one UPDATE. A failed
 * signal leaves `signalled_at` null: the reconciler delivers those events later.
 */
export class SignalBatcher {
  private pending = new Map<string, VendorEventSignal[]>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  constructor(
    private readonly client: Client,
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}
  add(batchId: string, event: VendorEventSignal) {
    const list = this.pending.get(batchId) ?? [];
    list.push(event);
    this.pending.set(batchId, list);
    if (list.length >= MAX_EVENTS_PER_SIGNAL) this.send(batchId);
    // flush() never rejects: each signal catches its own failure and leaves the event to the reconciler.
    this.timer ??= setTimeout(() => void this.flush(), SIGNAL_FLUSH_MS);
  }
  private send(batchId: string) {
    const events = this.pending.get(batchId) ?? [];
    this.pending.delete(batchId);
    if (!events.length) return;
    const work = signalEvents(this.client, batchId, events)
      .then(() =>
        markSignalled(
          this.db,
          events.map((e) => e.eventId),
        ),
      )
      .catch((err: unknown) =>
        this.logger.warn({ err, batchId, events: events.length }, 'signal failed; the reconciler will deliver it'),
      )
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }
  /** Sends everything pending and waits for the signals in flight. */
  async flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const batchId of [...this.pending.keys()]) this.send(batchId);
    await Promise.all([...this.inFlight]);
  }
}

const markSignalled = async (db: Db, ids: number[], lastError: string | null = null) => {
  await db.update(vendorEvents).set({ signalledAt: new Date(), lastError }).where(inArray(vendorEvents.id, ids));
};

/** Signals a batch workflow with stored events; a closed workflow has nothing left to wake. */
export async function signalEvents(
  client: Client,
  batchId: string,
  events: VendorEventSignal[],
): Promise<'signalled' | 'workflow_closed'> {
  try {
    await client.workflow.getHandle(batchId).signal(vendorEventsSignal, { events });
    return 'signalled';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'workflow_closed';
    throw err;
  }
}

/**
 * Re-signals stored, applied events whose signal has not gone through (older than `graceMs`, so
 * it does not race the gateway's own signal). Returns how many it delivered.
 */
export async function reconcileOnce(
  db: Db,
  client: Client,
  logger: Logger,
  opts: { graceMs?: number; limit?: number } = {},
): Promise<number> {
  const pending = await unsignalledEvents(db, opts.graceMs ?? 2_000, opts.limit ?? 500);
  const byBatch = new Map<string, VendorEventSignal[]>();
  for (const e of pending)
    byBatch.set(e.batchId, [
      ...(byBatch.get(e.batchId) ?? []),
      { eventId: e.id, taskId: e.taskId!, type: e.type as VendorEvent['type'] },
    ]);
  let delivered = 0;
  for (const [batchId, events] of byBatch) {
    const ids = events.map((e) => e.eventId);
    try {
      const outcome = await signalEvents(client, batchId, events);
      await markSignalled(db, ids, outcome === 'workflow_closed' ? 'workflow not running' : null);
      delivered += events.length;
    } catch (err) {
      await db
        .update(vendorEvents)
        .set({ lastError: String((err as Error).message).slice(0, 500) })
        .where(inArray(vendorEvents.id, ids));
      logger.warn({ err, batchId }, 'reconciler: signal failed, will retry');
      break; // Temporal is likely unreachable: wait for the next round
    }
  }
  if (delivered) logger.info({ delivered }, 'reconciler re-signalled stored events');
  return delivered;
}

/** Runs `round` every `intervalMs`, one round at a time, until stopped. */
export function every(
  intervalMs: number,
  round: () => Promise<unknown>,
  logger: Logger,
  what: string,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(round).catch((err: unknown) => logger.warn({ err }, `${what} round failed`));
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/** Runs the reconciler every `intervalMs` until stopped. */
export function startReconciler(
  db: Db,
  client: Client,
  logger: Logger,
  intervalMs: number,
  graceMs = 2_000,
): { stop(): Promise<void> } {
  return every(intervalMs, () => reconcileOnce(db, client, logger, { graceMs }), logger, 'reconciler');
}
