/** Deliveries of program notifications to their receivers (webhooks, Slack): what reached whom, and what failed. */
import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { createdAt, json } from './columns';
import { programs } from './program';

/**
 * One event for one receiver, updated on every attempt: `delivered`, `failing` (retries left) or
 * `failed` (retries spent, or the receiver refused it for good). A failure is recorded here and
 * never stops the program.
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    receiverId: text('receiver_id').notNull(),
    /** The event's id within the program (also the webhook-id a receiver dedupes on). */
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    payload: json<Record<string, unknown>>('payload').notNull(),
    status: text('status').notNull(), // delivered|failing|failed
    attempts: integer('attempts').notNull(),
    /** The receiver's HTTP status of the last attempt (null: no answer). */
    responseStatus: integer('response_status'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.receiverId, t.eventId] })],
);
