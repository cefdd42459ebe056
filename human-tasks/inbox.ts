/**
 * The gateway's inbox rules: how one verified vendor event changes its task, inside the gateway's
 * transaction, and which stored events still wait for their signal (the reconciler's query).
 */
import { and, eq, sql } from 'drizzle-orm';
import { textHash } from '../catalog/text-hash';
import type { Db } from '../platform/db';
import type { VendorEvent } from '../schema/vendor-events';
import {
  itemRevisions,
  items,
  labels,
  programs,
  raterQualifications,
  raters,
  taskBatches,
  tasks,
  usageLedger,
  vendorEvents,
} from '../schema/tables';
import type { VendorRow } from '../vendors';
import { taskCostSql } from './accounting';
import { OPEN_STATUSES } from './batch';
import { labelProblem, LabelRulesCache, type RulesSpec } from './label-rules';
import { qualifies, type Qualification } from './qualification';

export interface RecordOutcome {
  status: number;
  body: Record<string, unknown>;
  /** applied: recorded and to be signalled; conflict: kept for audit only; null: not stored. */
  disposition: 'applied' | 'conflict' | null;
  batchId?: string;
}

const refuse = (
  status: number,
  code: string,
  message: string,
  details?: unknown,
  disposition: RecordOutcome['disposition'] = null,
): RecordOutcome => ({
  status,
  body: { error: { code, message, ...(details === undefined ? {} : { details }) } },
  disposition,
});

/**
 * Applies one verified, schema-valid event to its task inside the caller's transaction. A vendor
 * touches only its own tasks and raters; an answer to a closed task is kept for audit only. Work
 * comes only from an active rater qualified for it, with labels inside the program's rules
 * (label-rules.ts); every refusal stores nothing.
 */
export async function applyVendorEvent(
  tx: Db,
  vendor: Pick<VendorRow, 'id' | 'rateCard'>,
  event: VendorEvent,
  rules: LabelRulesCache = new LabelRulesCache(),
): Promise<RecordOutcome> {
  const [row] = await tx
    .select({ task: tasks, phase: taskBatches.phase, round: taskBatches.round, locale: items.locale })
    .from(tasks)
    .innerJoin(taskBatches, eq(taskBatches.id, tasks.batchId))
    .innerJoin(items, eq(items.id, tasks.itemId))
    .where(eq(tasks.id, event.taskId))
    .for('update', { of: tasks });
  // A foreign task is answered exactly like a missing one: a vendor learns nothing about others.
  if (!row || row.task.vendorId !== vendor.id)
    return refuse(404, 'task_not_found', `no task ${event.taskId} for vendor ${vendor.id}`);
  const { task } = row;
  const open = (OPEN_STATUSES as readonly string[]).includes(task.status);
  const raterKey = 'raterId' in event && event.raterId ? `${vendor.id}:${event.raterId}` : null;
  let rater: { status: string; pausedReason: string | null; qualification: Qualification } | undefined;
  if (raterKey) {
    [rater] = await tx
      .select({ status: raters.status, pausedReason: raters.pausedReason, qualification: raters.qualification })
      .from(raters)
      .where(and(eq(raters.id, raterKey), eq(raters.vendorId, vendor.id)));
    // Rater ids are per vendor: another vendor's rater is answered like an unknown one.
    if (!rater)
      return refuse(
        404,
        'rater_not_found',
        `no rater ${'raterId' in event ? event.raterId : ''} for vendor ${vendor.id}`,
      );
  }
  if (!open) {
    return refuse(
      409,
      'task_closed',
      `task ${task.id} is ${task.status}; the answer is kept for audit but not applied`,
      { taskStatus: task.status },
      'conflict',
    );
  }
  const accepted = (extra: Record<string, unknown> = {}): RecordOutcome => ({
    status: 202,
    body: { accepted: true, taskId: task.id, type: event.type, ...extra },
    disposition: 'applied',
    batchId: task.batchId,
  });
  const charge = async (costUsd: number) => {
    await tx
      .insert(usageLedger)
      .values({
        requestKey: task.id,
        programId: task.programId,
        phase: row.phase,
        kind: 'human_task',
        vendorId: vendor.id,
        costUsd,
      })
      .onConflictDoNothing();
  };

  if (rater && (event.type === 'task.completed' || event.type === 'revision.submitted')) {
    const refused = await workerRefusal(tx, task, row.locale, raterKey!, rater, rules);
    if (refused) return refused;
  }

  switch (event.type) {
    case 'task.declined':
    case 'task.expired': {
      await tx
        .update(tasks)
        .set({ status: event.type === 'task.declined' ? 'declined' : 'expired' })
        .where(eq(tasks.id, task.id));
      return accepted();
    }
    case 'task.completed': {
      if (task.kind === 'write')
        return refuse(400, 'wrong_event_for_task', `task ${task.id} is a write task: send revision.submitted`);
      const expected = (task.payload as { criteria: string[] }).criteria;
      const given = event.labels.map((l) => l.criterion);
      const unknown = given.filter((c) => !expected.includes(c));
      const missing = expected.filter((c) => !given.includes(c));
      const repeated = given.filter((c, i) => given.indexOf(c) !== i);
      if (unknown.length || missing.length || repeated.length)
        return refuse(
          400,
          'labels_do_not_match_task',
          `labels must name each criterion of the task once: ${expected.join(', ')}`,
          { unknown, missing, repeated },
        );
      const { rules: programRules, taxonomy } = await rules.get(task.programId, () => programSpec(tx, task.programId));
      const problem = labelProblem(programRules, event.labels, taxonomy ?? []);
      if (problem) return refuse(problem.status, problem.code, problem.message, problem.details);
      if (raterKey !== task.raterId) {
        // The vendor routed the task to another of its raters: fine, unless that rater already had the item.
        const [other] = await tx
          .select({ id: tasks.id })
          .from(tasks)
          .where(and(eq(tasks.batchId, task.batchId), eq(tasks.itemId, task.itemId), eq(tasks.raterId, raterKey!)));
        if (other)
          return refuse(
            409,
            'rater_already_rated_item',
            `rater ${raterKey} already has item ${task.itemId} in this batch`,
            undefined,
            'conflict',
          );
      }
      const [{ costUsd }] = await tx
        .update(tasks)
        .set({
          status: 'completed',
          completedAt: new Date(),
          raterId: raterKey,
          costUsd: taskCostSql(vendor.rateCard, tasks.kind),
        })
        .where(eq(tasks.id, task.id))
        .returning({ costUsd: tasks.costUsd });
      await tx
        .insert(labels)
        .values(
          event.labels.map((l) => ({
            taskId: task.id,
            programId: task.programId,
            itemId: task.itemId,
            raterId: raterKey!,
            criterion: l.criterion,
            value: l.value,
            explanation: l.explanation,
            errorCodes: l.errorCodes,
            guidelineVersion: task.guidelineVersion,
            phase: row.phase,
            round: row.round,
          })),
        )
        .onConflictDoNothing();
      await charge(costUsd);
      return accepted({ labels: event.labels.length });
    }
    case 'revision.submitted': {
      if (task.kind !== 'write')
        return refuse(400, 'wrong_event_for_task', `task ${task.id} is a ${task.kind} task: send task.completed`);
      if (raterKey !== task.raterId)
        return refuse(409, 'rater_mismatch', `task ${task.id} is assigned to another writer`, undefined, 'conflict');
      const hash = textHash(event.text);
      const [item] = await tx.select().from(items).where(eq(items.id, task.itemId)).for('update');
      await tx
        .insert(itemRevisions)
        .values([
          { itemId: item.id, textHash: item.textHash, text: item.text, source: item.source },
          { itemId: item.id, textHash: hash, text: event.text, source: 'writer' },
        ])
        .onConflictDoNothing();
      await tx
        .update(items)
        .set({ text: event.text, textHash: hash, source: 'writer', updatedAt: new Date() })
        .where(eq(items.id, item.id));
      const [{ costUsd }] = await tx
        .update(tasks)
        .set({
          status: 'completed',
          completedAt: new Date(),
          costUsd: taskCostSql(vendor.rateCard, tasks.kind),
          payload: { ...(task.payload as Record<string, unknown>), revisionHash: hash, notes: event.notes },
        })
        .where(eq(tasks.id, task.id))
        .returning({ costUsd: tasks.costUsd });
      await charge(costUsd);
      return accepted({ textHash: hash });
    }
  }
}

const programSpec = async (tx: Db, programId: string): Promise<RulesSpec> =>
  ((await tx.select({ spec: programs.spec }).from(programs).where(eq(programs.id, programId)))[0]?.spec ??
    {}) as RulesSpec;

/**
 * Why this rater may not answer this task, or null: a paused rater answers nothing; a rater with
 * locales answers only in them (the assigned one too: the vendor's rater list may have changed since);
 * another rater than the assigned one must hold the task's qualification; in a program with a
 * qualification batch, only qualification tasks come before a passed one.
 */
async function workerRefusal(
  tx: Db,
  task: typeof tasks.$inferSelect,
  locale: string,
  raterKey: string,
  rater: { status: string; pausedReason: string | null; qualification: Qualification },
  rules: LabelRulesCache,
): Promise<RecordOutcome | null> {
  if (rater.status !== 'active')
    return refuse(
      403,
      'rater_paused',
      `rater ${raterKey} is ${rater.status}: ${rater.pausedReason ?? 'no reason recorded'}`,
      {
        raterStatus: rater.status,
      },
    );
  if (!qualifies({ locales: rater.qualification.locales }, task.kind, [], locale))
    return refuse(
      403,
      'rater_not_qualified_for_locale',
      `rater ${raterKey} rates in ${rater.qualification.locales!.join(', ') || 'no locale'}, not in ${locale} (the task's item)`,
      { locale, raterLocales: rater.qualification.locales },
    );
  const payload = task.payload as { criteria?: string[]; qualification?: boolean };
  if (raterKey !== task.raterId && !qualifies(rater.qualification, task.kind, payload.criteria ?? [], locale))
    return refuse(
      403,
      'rater_not_qualified',
      `rater ${raterKey} is not qualified for ${task.kind} tasks on these criteria and locale`,
      {
        qualification: rater.qualification,
      },
    );
  // Writers are not raters: only rate and review work waits for a qualification.
  if (payload.qualification || task.kind === 'write') return null;
  const { rules: programRules } = await rules.get(task.programId, () => programSpec(tx, task.programId));
  if (!programRules.qualification) return null;
  const [passed] = await tx
    .select({ status: raterQualifications.status })
    .from(raterQualifications)
    .where(
      and(
        eq(raterQualifications.programId, task.programId),
        eq(raterQualifications.raterId, raterKey),
        eq(raterQualifications.locale, locale),
      ),
    );
  if (passed?.status === 'passed') return null;
  return refuse(
    403,
    'rater_not_qualified',
    `rater ${raterKey} has not passed program ${task.programId}'s ${locale} qualification batch (${passed?.status ?? 'not started'})`,
    { qualificationStatus: passed?.status ?? null, locale },
  );
}

/** Stored events whose signal has not gone through yet (for the reconciler). */
export async function unsignalledEvents(db: Db, olderThanMs: number, limit: number) {
  return db
    .select({ id: vendorEvents.id, taskId: vendorEvents.taskId, type: vendorEvents.type, batchId: tasks.batchId })
    .from(vendorEvents)
    .innerJoin(tasks, eq(tasks.id, vendorEvents.taskId))
    .where(
      and(
        sql`${vendorEvents.signalledAt} is null`,
        sql`${vendorEvents.receivedAt} < now() - make_interval(secs => ${olderThanMs / 1000})`,
      ),
    )
    .orderBy(vendorEvents.id)
    .limit(limit);
}
