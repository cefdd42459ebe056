/**
 * Human-task activities: creating and assigning tasks (k distinct qualified raters per item, balanced
 * load, gold items mixed in), dispatching and withdrawing them through the vendor adapters, and
 * rater QA on gold items. What vendors send is recorded by the gateway (inbox.ts); what it costs is
 * accounting.ts. Every write is keyed by what it is, so a retried activity changes nothing.
 */
import { createHash } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { packOpenedBatch, taskId, type OpenedBatch, type TaskRef } from './ids';
import { programSpend, roundUsd, vendorReport, type Spend } from './accounting';
import {
  MAX_ATTEMPTS_PER_SLOT,
  OPEN_STATUSES,
  type CloseBatchResult,
  type HumanTasksInput,
  type TaskKind,
} from './batch';
import { goldAnswers, items, labels, raters, shows, taskBatches, tasks } from '../schema/tables';
import type { ActivityDeps } from '../activities/deps';
import type { Db } from '../platform/db';
import { ratedInEarlierBatches } from './rated-before';
import {
  heldTaskIds,
  qualificationGate,
  qualificationTasks,
  qualifies,
  releaseOf,
  sendable,
  type Qualification,
} from './qualification';
import { evaluateRaters, type RaterQaResult } from './rater-qa';
import type { VendorAdapter } from '../vendors';
import { dispatchLinks, localeLink, multilingualPrograms, vendorAdapterCache } from './guidelines';

/** The workflow's input without what only the workflow uses (SLA, QA bar). */
export type OpenBatchInput = Omit<HumanTasksInput, 'sla' | 'minGoldAccuracy'>;

/** Deterministic tie-break, so a retried assignment picks the same raters. */
const rank = (...parts: string[]) => createHash('md5').update(parts.join('|')).digest('hex');

export function createHumanTaskActivities({ db, logger, config, metrics }: ActivityDeps) {
  // Keyed by what the adapter is built from: a vendor fixed while its batch waits at a vendor gate
  // (endpoint, secret) gets a new adapter on the next call, without restarting the worker.
  const vendorAdapter = vendorAdapterCache(db, config);
  const adapterFor = async (vendorId: string): Promise<VendorAdapter> => (await vendorAdapter(vendorId)).adapter;

  /**
   * Active, qualified raters of these vendors, least loaded in the batch first. Read in the caller's
   * transaction: from the pool, a transaction waiting for a second connection deadlocks once as many
   * batches open at once as the pool has connections (a program's fix loops open one each).
   */
  const eligibleRaters = async (
    tx: Db,
    batchId: string,
    vendorIds: string[],
    kind: string,
    criteria: string[],
    locale: string,
  ) => {
    const rows = await tx
      .select({
        id: raters.id,
        vendorId: raters.vendorId,
        qualification: raters.qualification,
        load: sql<number>`(select count(*)::int from ${tasks} where ${tasks.raterId} = ${raters.id} and ${tasks.batchId} = ${batchId})`,
      })
      .from(raters)
      .where(and(inArray(raters.vendorId, vendorIds), eq(raters.status, 'active')));
    return rows.filter((r) => qualifies(r.qualification as Qualification, kind, criteria, locale));
  };

  const activities = {
    /**
     * Opens a batch: syncs the vendors' rater pools, mixes in gold items, assigns every item to k
     * distinct raters and records the tasks (status pending), returned packed (human-tasks/ids.ts). A
     * retry returns the tasks recorded.
     */
    async openTaskBatch(input: OpenBatchInput): Promise<OpenedBatch> {
      for (const vendorId of input.vendorIds) {
        const pool = await (await adapterFor(vendorId)).listRaters();
        for (const r of pool) {
          await db
            .insert(raters)
            .values({ id: `${vendorId}:${r.id}`, vendorId, externalId: r.id, qualification: r.qualification })
            .onConflictDoUpdate({ target: raters.id, set: { qualification: r.qualification } });
        }
      }
      return db.transaction(async (tx) => {
        await tx
          .insert(taskBatches)
          .values({
            id: input.batchId,
            programId: input.programId,
            phase: input.phase,
            round: input.round,
            kind: input.kind,
            guidelineVersion: input.guidelineVersion,
          })
          .onConflictDoNothing();
        const recorded = await tx.select().from(tasks).where(eq(tasks.batchId, input.batchId));
        if (recorded.length) {
          const first = recorded.filter((t) => t.attempt === 0);
          return packOpenedBatch(
            input.itemIds,
            first.map((t) => ({ itemId: t.itemId, slot: t.slot, raterId: t.raterId!, gold: t.isGold })),
            0,
          );
        }
        const requested = new Set(input.itemIds);
        const goldCount = Math.round(input.goldRate * input.itemIds.length);
        const gold = goldCount
          ? (
              await tx
                .selectDistinct({ itemId: goldAnswers.itemId })
                .from(goldAnswers)
                .where(eq(goldAnswers.programId, input.programId))
            )
              .map((g) => g.itemId)
              .filter((id) => !requested.has(id))
              .sort((a, b) => rank(input.batchId, a).localeCompare(rank(input.batchId, b)))
              .slice(0, goldCount)
          : [];
        const allIds = [...input.itemIds, ...gold];
        const itemRows = new Map(
          (
            await tx
              .select({ id: items.id, textHash: items.textHash, locale: items.locale })
              .from(items)
              .where(inArray(items.id, allIds))
          ).map((i) => [i.id, i]),
        );
        const missing = allIds.filter((id) => !itemRows.has(id));
        if (missing.length)
          throw new Error(
            `unknown items: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` … (${missing.length})` : ''}`,
          );
        const ratedBefore = await ratedInEarlierBatches(tx as unknown as Db, input.batchId, input.kind, allIds);
        const gate = await qualificationGate(tx as unknown as Db, input.programId, input.kind);
        const load = new Map<string, number>();
        const rows: (typeof tasks.$inferInsert)[] = [];
        let unassignedSlots = 0;
        const goldSet = new Set(gold);
        for (const itemId of allIds) {
          const item = itemRows.get(itemId)!;
          const criteria = criteriaFor(input, itemId);
          const pool = (
            await eligibleRaters(tx as unknown as Db, input.batchId, input.vendorIds, input.kind, criteria, item.locale)
          )
            .filter((r) => !ratedBefore.get(itemId)?.has(r.id) && gate.mayAssign(r.id, item.locale))
            .map((r) => ({ ...r, load: load.get(r.id) ?? 0 }))
            .sort((a, b) => a.load - b.load || rank(itemId, a.id).localeCompare(rank(itemId, b.id)));
          for (let slot = 0; slot < input.ratersPerItem; slot++) {
            const rater = pool[slot];
            if (!rater) {
              unassignedSlots++;
              continue;
            }
            load.set(rater.id, rater.load + 1);
            rows.push({
              id: taskId(input.batchId, itemId, slot, 0),
              batchId: input.batchId,
              programId: input.programId,
              itemId,
              textHash: item.textHash,
              slot,
              vendorId: rater.vendorId,
              raterId: rater.id,
              kind: input.kind,
              isGold: goldSet.has(itemId),
              guidelineVersion: input.guidelineVersion,
              payload: { criteria, context: input.itemContext?.[itemId] ?? {} },
            });
          }
        }
        rows.push(...(await qualificationTasks(tx as unknown as Db, input, rows, gate, rank)));
        for (let i = 0; i < rows.length; i += 500)
          await tx
            .insert(tasks)
            .values(rows.slice(i, i + 500))
            .onConflictDoNothing();
        return packOpenedBatch(
          input.itemIds,
          rows.map((t) => ({ itemId: t.itemId, slot: t.slot, raterId: t.raterId!, gold: t.isGold! })),
          unassignedSlots,
        );
      });
    },

    /**
     * Sends tasks still pending to their vendors, with what a rater needs (text, show record,
     * criteria, the current guideline version), and marks them dispatched with their due time.
     */
    async dispatchTasks(input: {
      taskIds: string[];
      guidelineVersion: number;
      dueInMs: number;
    }): Promise<{ dispatched: number }> {
      const found = await db
        .select({
          task: tasks,
          text: items.text,
          locale: items.locale,
          showId: shows.id,
          title: shows.title,
          metadata: shows.metadata,
          externalId: raters.externalId,
        })
        .from(tasks)
        .innerJoin(items, eq(items.id, tasks.itemId))
        .innerJoin(shows, eq(shows.id, items.showId))
        .innerJoin(raters, eq(raters.id, tasks.raterId))
        .where(and(inArray(tasks.id, input.taskIds), inArray(tasks.status, ['pending', 'dispatched'])));
      const rows = await sendable(db, found);
      const dueAt = new Date(Date.now() + input.dueInMs);
      const byVendor = new Map<string, typeof rows>();
      for (const r of rows) byVendor.set(r.task.vendorId, [...(byVendor.get(r.task.vendorId) ?? []), r]);
      const versionOf = (r: (typeof rows)[number]) =>
        r.task.status === 'pending' ? input.guidelineVersion : r.task.guidelineVersion;
      for (const [vendorId, list] of byVendor) {
        const target = await vendorAdapter(vendorId);
        const wanted = list.map((r) => ({ programId: r.task.programId, version: versionOf(r) }));
        const links = await dispatchLinks(db, config, target, wanted, dueAt);
        const multilingual = await multilingualPrograms(db, [...new Set(list.map((r) => r.task.programId))]);
        for (let i = 0; i < list.length; i += 500) {
          await target.adapter.dispatch(
            list.slice(i, i + 500).map((r) => {
              const payload = r.task.payload as { criteria: string[]; context: Record<string, unknown> };
              return {
                taskId: r.task.id,
                batchId: r.task.batchId,
                programId: r.task.programId,
                kind: r.task.kind as TaskKind,
                raterId: r.externalId,
                item: { id: r.task.itemId, textHash: r.task.textHash, text: r.text, locale: r.locale },
                show: { ...r.metadata, id: r.showId, title: r.title },
                criteria: payload.criteria,
                guidelineVersion: versionOf(r),
                guidelines: localeLink(
                  links.get(`${r.task.programId}/${versionOf(r)}`),
                  multilingual.has(r.task.programId) ? r.locale : undefined,
                ),
                dueAt: dueAt.toISOString(),
                context: payload.context,
              };
            }),
          );
        }
      }
      // Only tasks still pending: a fast vendor may have completed some already.
      const updated = await db
        .update(tasks)
        .set({ status: 'dispatched', dispatchedAt: new Date(), dueAt, guidelineVersion: input.guidelineVersion })
        .where(
          and(
            inArray(
              tasks.id,
              rows.map((r) => r.task.id),
            ),
            eq(tasks.status, 'pending'),
          ),
        )
        .returning({ id: tasks.id });
      metrics.humanTasks('dispatched', updated.length);
      return { dispatched: updated.length };
    },

    /**
     * SLA reminder: sent through the vendor when it has a channel, always recorded. Only for tasks
     * the vendor has: work held for a qualification is still pending, unsent.
     */
    async remindTasks(input: { taskIds: string[] }): Promise<{ reminded: number }> {
      const rows = await db
        .update(tasks)
        .set({ remindedAt: new Date() })
        .where(and(inArray(tasks.id, input.taskIds), eq(tasks.status, 'dispatched')))
        .returning({ id: tasks.id, vendorId: tasks.vendorId });
      for (const [vendorId, ids] of groupBy(rows, (r) => r.vendorId)) {
        const adapter = await adapterFor(vendorId);
        // A reminder is a courtesy: a vendor that cannot take it does not stop the batch.
        await adapter
          .remind?.(ids.map((r) => r.id))
          .catch((err: unknown) => logger.warn({ err, vendorId }, 'reminder not delivered'));
      }
      return { reminded: rows.length };
    },

    /**
     * Gives tasks to other raters: the old task is closed (reassigned, unless the vendor already
     * declined or expired it) and withdrawn at its vendor; the slot gets a new attempt with the
     * least-loaded qualified rater who has not had the item (any vendor of the batch). A task the
     * rater completed meanwhile is left alone. A retry returns the replacement made before.
     */
    async reassignTasks(input: {
      batchId: string;
      taskIds: string[];
      vendorIds: string[];
      reason: string;
    }): Promise<{ replacements: TaskRef[]; dropped: string[]; completedMeanwhile: string[] }> {
      const replacements: TaskRef[] = [];
      const dropped: string[] = [];
      const completedMeanwhile: string[] = [];
      const withdrawn: { id: string; vendorId: string }[] = [];
      for (const id of input.taskIds) {
        await db.transaction(async (tx) => {
          const [old] = await tx.select().from(tasks).where(eq(tasks.id, id)).for('update');
          if (old?.status === 'completed') completedMeanwhile.push(id);
          if (!old || old.status === 'completed' || old.status === 'cancelled') return;
          const nextId = taskId(old.batchId, old.itemId, old.slot, old.attempt + 1);
          const [made] = await tx.select().from(tasks).where(eq(tasks.id, nextId));
          if (made) {
            replacements.push({ id: made.id, itemId: made.itemId, raterId: made.raterId!, gold: made.isGold });
            return;
          }
          if (old.status === 'pending' || old.status === 'dispatched') {
            await tx.update(tasks).set({ status: 'reassigned' }).where(eq(tasks.id, id));
            withdrawn.push({ id, vendorId: old.vendorId });
          }
          const payload = old.payload as { criteria: string[]; qualification?: boolean };
          // A qualification task is its rater's own test: closed, never given to another rater.
          if (payload.qualification) return;
          const [item] = await tx
            .select({ locale: items.locale, textHash: items.textHash })
            .from(items)
            .where(eq(items.id, old.itemId));
          const had = new Set(
            (
              await tx
                .select({ raterId: tasks.raterId })
                .from(tasks)
                .where(and(eq(tasks.batchId, old.batchId), eq(tasks.itemId, old.itemId)))
            ).map((r) => r.raterId),
          );
          const before = await ratedInEarlierBatches(tx as unknown as Db, old.batchId, old.kind, [old.itemId]);
          for (const r of before.get(old.itemId) ?? []) had.add(r);
          const gate = await qualificationGate(tx as unknown as Db, old.programId, old.kind);
          const pool = (
            await eligibleRaters(
              tx as unknown as Db,
              old.batchId,
              input.vendorIds,
              old.kind,
              payload.criteria,
              item.locale,
            )
          )
            .filter((r) => !had.has(r.id) && gate.mayTakeOver(r.id, item.locale))
            .sort((a, b) => a.load - b.load || rank(nextId, a.id).localeCompare(rank(nextId, b.id)));
          const rater = pool[0];
          if (!rater || old.attempt + 1 >= MAX_ATTEMPTS_PER_SLOT) {
            dropped.push(id);
            return;
          }
          await tx.insert(tasks).values({
            ...old,
            id: nextId,
            attempt: old.attempt + 1,
            vendorId: rater.vendorId,
            raterId: rater.id,
            textHash: item.textHash,
            status: 'pending',
            remindedAt: null,
            dispatchedAt: null,
            dueAt: null,
            completedAt: null,
            costUsd: 0,
            createdAt: new Date(),
            payload: { ...(old.payload as Record<string, unknown>), reassignedFrom: id, reason: input.reason },
          });
          replacements.push({ id: nextId, itemId: old.itemId, raterId: rater.id, gold: old.isGold });
        });
      }
      await withdraw(withdrawn);
      return { replacements, dropped, completedMeanwhile };
    },

    /**
     * Rater QA (rater-qa.ts): pauses raters whose gold accuracy is surely below the bar, flags (and
     * by the spec's policy pauses) drifting ones, grades qualification batches and sends the work
     * held for raters who just passed theirs.
     */
    async evaluateRaters(input: {
      programId: string;
      batchId: string;
      minGoldAccuracy: number;
    }): Promise<RaterQaResult> {
      const result = await evaluateRaters(db, input);
      const held = await heldTaskIds(db, input.programId, result.qualified);
      if (held.length) await activities.dispatchTasks({ taskIds: held, ...(await releaseOf(db, input.programId)) });
      return result;
    },

    /**
     * Closes a batch: open tasks are expired (deadline) or cancelled (batch cancelled) and withdrawn
     * at their vendors; returns the counts from the database, the system of record.
     */
    async closeTaskBatch(input: {
      batchId: string;
      itemIds: string[];
      ratersPerItem: number;
      outcome: 'completed' | 'deadline' | 'cancelled';
    }): Promise<CloseBatchResult> {
      const closed = await db
        .update(tasks)
        .set({ status: input.outcome === 'cancelled' ? 'cancelled' : 'expired' })
        .where(and(eq(tasks.batchId, input.batchId), inArray(tasks.status, OPEN_STATUSES)))
        .returning({ id: tasks.id, vendorId: tasks.vendorId });
      await withdraw(closed);
      await db
        .update(taskBatches)
        .set({ status: input.outcome === 'cancelled' ? 'cancelled' : 'completed', closedAt: new Date() })
        .where(eq(taskBatches.id, input.batchId));
      const [counts] = await db
        .select({
          completed: sql<number>`count(*) filter (where ${tasks.status} = 'completed')::int`,
          reassigned: sql<number>`count(*) filter (where ${tasks.attempt} > 0)::int`,
          expired: sql<number>`count(*) filter (where ${tasks.status} = 'expired')::int`,
          cost: sql<number>`coalesce(sum(${tasks.costUsd}), 0)::float8`,
        })
        .from(tasks)
        .where(eq(tasks.batchId, input.batchId));
      const [labelCount] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(labels)
        .innerJoin(tasks, eq(tasks.id, labels.taskId))
        .where(eq(tasks.batchId, input.batchId));
      const done = await db
        .select({ itemId: tasks.itemId, slots: sql<number>`count(distinct ${tasks.slot})::int` })
        .from(tasks)
        .where(and(eq(tasks.batchId, input.batchId), eq(tasks.status, 'completed'), eq(tasks.isGold, false)))
        .groupBy(tasks.itemId);
      const itemsComplete = done.filter((d) => d.slots >= input.ratersPerItem).length;
      // Counted once per batch, when its outcome is final (the gateway counts completions as they arrive).
      metrics.humanTasks('completed', counts.completed);
      metrics.humanTasks(input.outcome === 'cancelled' ? 'cancelled' : 'expired', closed.length);
      const written = await db
        .select({ itemId: tasks.itemId, taskId: tasks.id, payload: tasks.payload })
        .from(tasks)
        .where(and(eq(tasks.batchId, input.batchId), eq(tasks.kind, 'write'), eq(tasks.status, 'completed')));
      return {
        tasksCompleted: counts.completed,
        tasksReassigned: counts.reassigned,
        tasksExpired: counts.expired,
        labelsRecorded: labelCount.n,
        itemsComplete,
        itemsIncomplete: input.itemIds.length - itemsComplete,
        costUsd: roundUsd(counts.cost),
        ...(written.length
          ? {
              revisions: written.map((w) => ({
                itemId: w.itemId,
                taskId: w.taskId,
                textHash: String((w.payload as { revisionHash?: string }).revisionHash),
              })),
            }
          : {}),
      };
    },

    /** What a program has spent, human tasks and LLM calls, from the usage ledger. */
    async programSpend(programId: string): Promise<Spend> {
      return programSpend(db, programId);
    },

    /** Per vendor: tasks, SLA hit rate, turnaround p50/p95 and cost (for reports and the CLI). */
    async vendorReport(programId: string) {
      return vendorReport(db, programId);
    },
  };
  return activities;

  async function withdraw(list: { id: string; vendorId: string }[]) {
    for (const [vendorId, ids] of groupBy(list, (t) => t.vendorId)) {
      // Withdrawal is best effort: the task is closed on our side, so a late answer is refused anyway.
      await (
        await adapterFor(vendorId)
      )
        .cancel(ids.map((t) => t.id))
        .catch((err: unknown) => logger.warn({ err, vendorId }, 'could not withdraw tasks at the vendor'));
    }
  }
}

function criteriaFor(input: OpenBatchInput, itemId: string): string[] {
  const only = input.itemContext?.[itemId]?.criteria;
  return Array.isArray(only) && only.length ? only.map(String) : input.criteria;
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of list) out.set(key(t), [...(out.get(key(t)) ?? []), t]);
  return out;
}
