/**
 * The audit trail: one audit_log row per change, written by the code that makes the change inside
 * its own transaction, so a change that rolls back leaves no row and a committed one always has
 * its row. The actor is whatever the caller resolved (the identity work owns how); this module
 * only records it.
 */
import type postgres from 'postgres';
import type { Db } from '../platform/db';
import { auditLog } from '../schema/tables';

/** A drizzle transaction (or the database itself, for a single-statement change). */
export type DbTransaction = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Where an audit row can be written: drizzle or a `postgres` (sql.begin) transaction. */
export type AuditTx = Db | DbTransaction | postgres.Sql | postgres.TransactionSql;

export interface AuditEntry {
  /** Who made the change, as resolved by the caller (e.g. `ann`, `qa` for rater QA). */
  actor: string;
  /** What was done, snake_case past tense: `gate_approved`, `rater_paused`, `catalog_imported`… */
  action: string;
  /** The kind of thing changed (`program`, `guidelines`, `rater`, `vendor`, `catalog`, `report`) and its id. */
  entity: string;
  entityId: string;
  /** The program the change belongs to; null or absent for one outside any program (a catalog import). */
  programId?: string | null;
  /** The changed fields before and after (null: created or removed). */
  before?: unknown;
  after?: unknown;
  /** The id of the request that made it: a Temporal update's id, the CLI's --request-id. A retry with the same id writes nothing. */
  requestId?: string | null;
  /** Why (the note or reason) and other context. */
  data?: Record<string, unknown>;
}

/** Writes the entry's row in `tx`; false when the same request already wrote it (a retry). */
export async function recordAudit(tx: AuditTx, entry: AuditEntry): Promise<boolean> {
  const row = {
    programId: entry.programId ?? null,
    actor: entry.actor,
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId,
    before: entry.before ?? null,
    after: entry.after ?? null,
    requestId: entry.requestId ?? null,
    data: entry.data ?? {},
  };
  if (typeof tx === 'function') {
    const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
    const inserted = await tx`
      insert into audit_log (program_id, actor, action, entity, entity_id, before, after, request_id, data)
      values (${row.programId}, ${row.actor}, ${row.action}, ${row.entity}, ${row.entityId},
        ${json(row.before)}::jsonb, ${json(row.after)}::jsonb, ${row.requestId}, ${json(row.data)}::jsonb)
      on conflict do nothing
      returning id`;
    return inserted.length > 0;
  }
  const inserted = await tx.insert(auditLog).values(row).onConflictDoNothing().returning({ id: auditLog.id });
  return inserted.length > 0;
}
