/**
 * The audit rows of a program's steering. A steering change made only in the workflow's state (a
 * gate approved, a pause, a resume, new targets, a cancellation) has one persistence point, its
 * decision-log row, so its audit row is written with that row. A budget change and a guideline
 * publish are written by their own activities, with their audit rows (program/activities.ts).
 */
import { recordAudit, type AuditTx } from './audit';

export interface SteeringDecision {
  programId: string;
  requestId: string;
  kind: string;
  phase: string;
  actor: string;
  note?: string;
  data?: Record<string, unknown>;
}

/** Each audited decision kind: the state it changed, before and after. */
const STEERING: Record<string, (d: SteeringDecision) => { before: unknown; after: unknown }> = {
  gate_approved: (d) => ({
    before: { gate: d.data?.gate, approved: false },
    after: { gate: d.data?.gate, approved: true },
  }),
  paused: (d) => ({ before: { paused: false }, after: { paused: true, reason: d.note ?? null } }),
  resumed: () => ({ before: { paused: true }, after: { paused: false } }),
  targets_changed: (d) => ({ before: d.data?.before ?? null, after: d.data?.after ?? null }),
  cancelled: (d) => ({ before: { status: 'running', phase: d.phase }, after: { status: 'cancelled', phase: d.phase } }),
};

/** Writes the decision's audit row in `tx` when its kind is a steering change; other decisions (a phase completed) are not changes anyone made. */
export async function auditSteeringDecision(tx: AuditTx, decision: SteeringDecision): Promise<void> {
  const change = STEERING[decision.kind];
  if (!change) return;
  await recordAudit(tx, {
    actor: decision.actor,
    action: decision.kind,
    entity: 'program',
    entityId: decision.programId,
    programId: decision.programId,
    requestId: decision.requestId,
    ...change(decision),
    data: { phase: decision.phase, ...(decision.note ? { note: decision.note } : {}) },
  });
}
