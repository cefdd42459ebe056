/**
 * A program's audit trail as `judgeflow audit` and the report read it: the rows of the program, and
 * the pauses and reinstatements of its raters (a rater paused by hand belongs to no one program,
 * but stops work in every program they rate for), oldest first.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  programId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  data: Record<string, unknown>;
}

export interface AuditFilter {
  /** Only changes at or after this time. */
  since?: Date;
  /** Only this action (`budget_changed`, `rater_paused`…). */
  action?: string;
}

export async function readAuditTrail(db: Db, programId: string, filter: AuditFilter = {}): Promise<AuditRow[]> {
  const rows = await db.execute<{
    id: string;
    at: Date | string;
    actor: string;
    action: string;
    entity: string;
    entity_id: string;
    program_id: string | null;
    before: unknown;
    after: unknown;
    request_id: string | null;
    data: Record<string, unknown>;
  }>(sql`
    select id, created_at as at, actor, action, entity, entity_id, program_id, before, after, request_id, data
    from audit_log a
    where (a.program_id = ${programId}
        or (a.program_id is null and a.entity = 'rater'
            and exists (select 1 from tasks t where t.program_id = ${programId} and t.rater_id = a.entity_id)))
      ${filter.since ? sql`and a.created_at >= ${filter.since.toISOString()}` : sql``}
      ${filter.action ? sql`and a.action = ${filter.action}` : sql``}
    order by a.created_at, a.id`);
  return [...rows].map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    entity: r.entity,
    entityId: r.entity_id,
    programId: r.program_id,
    before: r.before,
    after: r.after,
    requestId: r.request_id,
    data: r.data,
  }));
}

const compact = (v: unknown) => (v === null || v === undefined ? '—' : JSON.stringify(v));

/** One line for a change: only the fields that differ, `field: before → after` (or the whole values). */
export function describeChange(before: unknown, after: unknown): string {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(before) || !isObject(after)) return `${compact(before)} → ${compact(after)}`;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return (changed.length ? changed : keys).map((k) => `${k}: ${compact(before[k])} → ${compact(after[k])}`).join('; ');
}

/** Why the change was made, as the row recorded it (a note or a reason). */
export const reasonOf = (row: Pick<AuditRow, 'data'>): string => {
  const why = row.data.note ?? row.data.reason;
  return typeof why === 'string' ? why : '';
};

/** The columns `judgeflow audit` and the report's audit trail show, and one row's cells. */
export const AUDIT_HEADERS = ['when', 'actor', 'action', 'target', 'change', 'why', 'request'];
export const auditCells = (r: AuditRow): string[] => [
  r.at.replace(/\.\d{3}Z$/, 'Z'),
  r.actor,
  r.action,
  `${r.entity}:${r.entityId}`,
  describeChange(r.before, r.after),
  reasonOf(r),
  r.requestId ?? '—',
];
