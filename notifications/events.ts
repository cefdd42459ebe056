/**
 * What a program tells its notification receivers about, as plain data: workflows build these
 * events (no I/O here), the spec names the ones each receiver wants, and notifications/deliver.ts
 * sends them.
 */
export const NOTIFICATION_EVENTS = [
  'gate.waiting',
  'sla.missed',
  'budget.warning',
  'budget.reached',
  'round.target_met',
  'round.target_missed',
  'program.completed',
  'program.failed',
] as const;

export type NotificationEventType = (typeof NOTIFICATION_EVENTS)[number];

/** Share of the budget at which `budget.warning` is sent (`budget.reached` at 100 %). */
export const BUDGET_WARNING_SHARE = 0.8;

/** A receiver as workflows know it: its id and the events it wants (no URL, no secret). */
export interface NotificationRoute {
  id: string;
  events: NotificationEventType[];
}

export interface NotificationEvent {
  /** Unique within the program and stable across retries and replays: receivers dedupe on it. */
  id: string;
  type: NotificationEventType;
  programId: string;
  /** When it happened (workflow time). */
  at: string;
  /** One line a person reads (the Slack text, the webhook's `data.summary`). */
  summary: string;
  /** Small facts for machines (gate name, round, agreement, spend…). */
  details: Record<string, unknown>;
}

/** The receivers that want `type`. */
export const receiversFor = (routes: readonly NotificationRoute[] | undefined, type: NotificationEventType) =>
  (routes ?? []).filter((r) => r.events.includes(type)).map((r) => r.id);
