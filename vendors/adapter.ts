/**
 * One interface for every vendor: judgeflow dispatches and cancels tasks through it and reads the
 * vendor's rater pool. Completions come back through the gateway; for vendors whose webhooks are
 * not retried, the gateway also polls the adapter and stores what it finds through the same inbox.
 */
import type { GuidelinesNotice, RaterList, RaterPacket, TaskDispatch, VendorEvent } from '../schema/vendor-events';
import type { vendors } from '../schema/tables';

export type VendorRecord = typeof vendors.$inferSelect;
/** A vendor as adapters and the gateway use it: its record with its secrets read (vendors/registry.ts). */
export type VendorRow = Omit<VendorRecord, 'legacySecrets'> & {
  /** Valid signing secrets, the primary (newest) first: outgoing requests are signed with it. */
  secrets: string[];
  /** When the first of those secrets expires (a rotation's grace period ends): a cached copy is re-read then. */
  secretsValidUntil: Date | null;
};
export type VendorRater = RaterList['raters'][number];
/** A vendor's answer found by polling, translated exactly as its webhook would be. */
export interface PolledEvent {
  /** The same id the webhook delivery of this answer carries, so both are one inbox event. */
  deliveryId: string;
  event: VendorEvent;
}

export interface VendorAdapter {
  /** Idempotent by task id: dispatching a task twice creates it once at the vendor. */
  dispatch(tasks: TaskDispatch[]): Promise<void>;
  /** Withdraws tasks (reassigned, batch cancelled, deadline passed); unknown ids are ignored. */
  cancel(taskIds: string[]): Promise<void>;
  /** Nudges raters about overdue tasks; vendors without a reminder channel just get it recorded. */
  remind?(taskIds: string[]): Promise<void>;
  listRaters(): Promise<VendorRater[]>;
  /**
   * Configures the vendor's own labeling tool from a guideline version (Label Studio: the labeling
   * config and instructions). Called before tasks of a version are dispatched and on publication;
   * cheap when nothing changed.
   */
  applyGuidelines?(packet: RaterPacket): Promise<void>;
  /** Tells the vendor that a published revision applies to its open tasks of the program too. */
  notifyGuidelines?(notice: GuidelinesNotice): Promise<void>;
  /**
   * Answers saved at the vendor since `cursor` (null: all), and the cursor for the next call. May
   * return answers seen before (they are the same deliveries and change nothing).
   */
  poll?(cursor: string | null): Promise<{ events: PolledEvent[]; cursor: string | null }>;
}
