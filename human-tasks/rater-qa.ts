/**
 * Rater QA on gold answers: gold accuracy with its Wilson interval (a pause only after enough gold
 * answers and when the interval's upper bound is below the bar), drift in recent gold accuracy
 * (flagged, and paused where the spec says so), the grading of qualification batches, and pauses
 * and reinstatements by hand (`judgeflow rater`). Every action is logged in rater_actions with who
 * and why; a reinstated rater is judged only on gold answers given after the reinstatement.
 */
import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import type { ProgramSpec } from '../schema/program-spec';
import {
  goldAnswers,
  items,
  labels,
  programs,
  raterActions,
  raterQualifications,
  raters,
  tasks,
} from '../schema/tables';
import { detectDrift, goldAccuracyDecision, wilsonInterval } from '../stats/index';
import { OPEN_STATUSES } from './batch';
import { recordAudit } from '../governance/audit';

export type RaterRules = Pick<ProgramSpec['raters'], 'minGoldAnswers' | 'onDrift' | 'qualification'>;

/** The spec's rater rules; a spec stored before they existed gets their defaults. */
export async function raterRules(db: Db, programId: string): Promise<RaterRules> {
  const [row] = await db.select({ spec: programs.spec }).from(programs).where(eq(programs.id, programId));
  const given = ((row?.spec as Partial<ProgramSpec> | undefined)?.raters ?? {}) as Partial<RaterRules>;
  return {
    minGoldAnswers: given.minGoldAnswers ?? 10,
    onDrift: given.onDrift ?? 'flag',
    qualification: given.qualification,
  };
}

/** Joins a label to the gold answer of its item and criterion. */
const answersGold = and(
  eq(goldAnswers.programId, labels.programId),
  eq(goldAnswers.itemId, labels.itemId),
  eq(goldAnswers.criterion, labels.criterion),
);

/** Each gold answer of these raters in the program since their reinstatement, oldest first. */
async function goldHistory(db: Db, programId: string, raterIds: string[]) {
  return db
    .select({
      raterId: labels.raterId,
      id: labels.id,
      taskId: labels.taskId,
      correct: sql<boolean>`${labels.value} = ${goldAnswers.label}`,
    })
    .from(labels)
    .innerJoin(goldAnswers, answersGold)
    .innerJoin(raters, eq(raters.id, labels.raterId))
    .where(
      and(
        eq(labels.programId, programId),
        inArray(labels.raterId, raterIds),
        or(isNull(raters.reinstatedAt), sql`${labels.createdAt} > ${raters.reinstatedAt}`),
      ),
    )
    .orderBy(asc(labels.id));
}

/** Who pauses or reinstates a rater and why; `requestId`: the CLI request's id. */
export interface RaterActionBy {
  actor: string;
  reason: string;
  requestId?: string;
}

/** Pauses an active rater and logs it (rater_actions and the audit log); false when the rater was not active. */
export async function pauseRater(
  db: Db,
  raterId: string,
  by: RaterActionBy & { programId?: string; data?: Record<string, unknown> },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(raters)
      .set({ status: 'paused', pausedReason: by.reason, pausedBy: by.actor, pausedAt: new Date() })
      .where(and(eq(raters.id, raterId), eq(raters.status, 'active')))
      .returning({ id: raters.id });
    if (row) {
      await tx.insert(raterActions).values({
        raterId,
        programId: by.programId ?? null,
        action: 'paused',
        actor: by.actor,
        reason: by.reason,
        data: by.data ?? {},
      });
      await recordAudit(tx, {
        actor: by.actor,
        action: 'rater_paused',
        entity: 'rater',
        entityId: raterId,
        programId: by.programId,
        requestId: by.requestId,
        before: { status: 'active' },
        after: { status: 'paused', reason: by.reason },
        data: by.data,
      });
    }
    return Boolean(row);
  });
}

/**
 * Makes a paused rater active again, clears the drift flag and logs who and why; QA then counts
 * only gold answers given from now on. False when the rater was not paused.
 */
export async function reinstateRater(db: Db, raterId: string, by: RaterActionBy): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [paused] = await tx
      .select({ reason: raters.pausedReason, by: raters.pausedBy })
      .from(raters)
      .where(eq(raters.id, raterId))
      .for('update');
    const [row] = await tx
      .update(raters)
      .set({
        status: 'active',
        pausedReason: null,
        pausedBy: null,
        pausedAt: null,
        reinstatedAt: new Date(),
        driftFlaggedAt: null,
        driftReason: null,
      })
      .where(and(eq(raters.id, raterId), eq(raters.status, 'paused')))
      .returning({ id: raters.id });
    if (row) {
      await tx.insert(raterActions).values({ raterId, action: 'reinstated', actor: by.actor, reason: by.reason });
      await recordAudit(tx, {
        actor: by.actor,
        action: 'rater_reinstated',
        entity: 'rater',
        entityId: raterId,
        requestId: by.requestId,
        before: { status: 'paused', reason: paused?.reason ?? null, pausedBy: paused?.by ?? null },
        after: { status: 'active' },
        data: { reason: by.reason },
      });
    }
    return Boolean(row);
  });
}

export interface RaterQaResult {
  /** Raters of the batch now paused (by QA now, or earlier by hand): their open tasks go elsewhere. */
  paused: string[];
  /**
   * Open work of the batch held for a rater who failed the qualification batch of its item's locale:
   * it goes elsewhere, while their work in the locales they passed stays theirs.
   */
  unqualifiedTasks: string[];
  /** Gold accuracy per rater of the batch (since their reinstatement). */
  accuracy: Record<string, number>;
  driftFlagged: string[];
  /** Raters who passed their qualification batch now: their held work can be sent. */
  qualified: string[];
}

/** QA over the gold answers of a batch's raters in its program (the batch workflow calls it as gold answers arrive). */
export async function evaluateRaters(
  db: Db,
  input: { programId: string; batchId: string; minGoldAccuracy: number },
): Promise<RaterQaResult> {
  const rules = await raterRules(db, input.programId);
  const ofBatch = (
    await db
      .selectDistinct({ id: sql<string>`${tasks.raterId}` })
      .from(tasks)
      .where(eq(tasks.batchId, input.batchId))
  ).map((r) => r.id);
  const result: RaterQaResult = { paused: [], unqualifiedTasks: [], accuracy: {}, driftFlagged: [], qualified: [] };
  if (!ofBatch.length) return result;
  const history = await goldHistory(db, input.programId, ofBatch);
  const qa = { actor: 'qa', programId: input.programId };

  const byRater = new Map<string, boolean[]>();
  for (const h of history) byRater.set(h.raterId, [...(byRater.get(h.raterId) ?? []), h.correct]);
  for (const [raterId, answers] of byRater) {
    const correct = answers.filter(Boolean).length;
    const decision = goldAccuracyDecision(correct, answers.length, {
      minAnswers: rules.minGoldAnswers,
      minAccuracy: input.minGoldAccuracy,
    });
    result.accuracy[raterId] = decision.accuracy!;
    if (!decision.below) continue;
    const reason = `${decision.reason} (program ${input.programId}, batch ${input.batchId})`;
    if (await pauseRater(db, raterId, { ...qa, reason, data: { ci95: decision.ci95, n: decision.n } }))
      result.paused.push(raterId);
  }

  const drift = detectDrift(history.map((h) => ({ rater: h.raterId, at: h.id, correct: h.correct })));
  for (const d of drift.filter((e) => e.flagged)) {
    const [flag] = await db
      .update(raters)
      .set({ driftFlaggedAt: new Date(), driftReason: d.reason })
      .where(and(eq(raters.id, d.rater), isNull(raters.driftFlaggedAt)))
      .returning({ id: raters.id });
    if (!flag) continue;
    result.driftFlagged.push(d.rater);
    const data = { baseline: d.baseline, recent: d.recent, pValue: d.pValue };
    await db.insert(raterActions).values({ raterId: d.rater, ...qa, action: 'drift_flagged', reason: d.reason, data });
    if (rules.onDrift === 'pause' && (await pauseRater(db, d.rater, { ...qa, reason: `drift: ${d.reason}`, data })))
      result.paused.push(d.rater);
  }

  if (rules.qualification) {
    result.qualified = await gradeQualifications(db, input.programId, ofBatch, rules.qualification);
    result.unqualifiedTasks = await unqualifiedTasks(db, input.programId, input.batchId);
  }
  // Raters paused meanwhile by hand still hold open tasks here: the workflow gives them to others.
  const stillHolding = await db
    .selectDistinct({ id: sql<string>`${tasks.raterId}` })
    .from(tasks)
    .innerJoin(raters, eq(raters.id, tasks.raterId))
    .where(
      and(eq(tasks.batchId, input.batchId), inArray(tasks.status, OPEN_STATUSES), sql`${raters.status} <> 'active'`),
    );
  result.paused = [...new Set([...result.paused, ...stillHolding.map((r) => r.id)])];
  return result;
}

/**
 * The batch's open work (not qualification tasks) whose rater failed the qualification batch of the
 * item's locale, now or in an earlier batch: qualification is per locale, so only that locale's work goes.
 */
async function unqualifiedTasks(db: Db, programId: string, batchId: string): Promise<string[]> {
  const rows = await db
    .select({ id: tasks.id })
    .from(tasks)
    .innerJoin(items, eq(items.id, tasks.itemId))
    .innerJoin(
      raterQualifications,
      and(
        eq(raterQualifications.programId, programId),
        eq(raterQualifications.raterId, tasks.raterId),
        eq(raterQualifications.locale, items.locale),
      ),
    )
    .where(
      and(
        eq(tasks.batchId, batchId),
        inArray(tasks.status, OPEN_STATUSES),
        eq(raterQualifications.status, 'failed'),
        sql`coalesce(${tasks.payload} ->> 'qualification', '') <> 'true'`,
      ),
    )
    .orderBy(asc(tasks.id));
  return rows.map((r) => r.id);
}

/**
 * Grades the pending qualification batches of these raters, each locale's once all its
 * qualification tasks (on gold items in that locale) are answered: passed at `minAccuracy` or
 * better over their labels, else failed (no program work in that locale). Returns who passed one.
 */
async function gradeQualifications(
  db: Db,
  programId: string,
  raterIds: string[],
  rule: NonNullable<RaterRules['qualification']>,
): Promise<string[]> {
  const rows = await db
    .select({
      raterId: raterQualifications.raterId,
      locale: raterQualifications.locale,
      open: sql<number>`(select count(*)::int from ${tasks} join ${items} on ${items.id} = ${tasks.itemId} where ${tasks.programId} = ${programId} and ${tasks.raterId} = ${raterQualifications.raterId} and ${items.locale} = ${raterQualifications.locale} and ${tasks.payload} ->> 'qualification' = 'true' and ${tasks.status} in ('pending', 'dispatched'))`,
      answers: sql<number>`count(${labels.id})::int`,
      correct: sql<number>`count(${labels.id}) filter (where ${labels.value} = ${goldAnswers.label})::int`,
    })
    .from(raterQualifications)
    .leftJoin(
      tasks,
      and(
        eq(tasks.programId, raterQualifications.programId),
        eq(tasks.raterId, raterQualifications.raterId),
        sql`${tasks.payload} ->> 'qualification' = 'true'`,
        sql`(select ${items.locale} from ${items} where ${items.id} = ${tasks.itemId}) = ${raterQualifications.locale}`,
      ),
    )
    .leftJoin(labels, eq(labels.taskId, tasks.id))
    .leftJoin(goldAnswers, answersGold)
    .where(
      and(
        eq(raterQualifications.programId, programId),
        inArray(raterQualifications.raterId, raterIds),
        eq(raterQualifications.status, 'pending'),
      ),
    )
    .groupBy(raterQualifications.raterId, raterQualifications.locale);
  const passed: string[] = [];
  for (const r of rows) {
    if (r.open > 0 || r.answers === 0) continue;
    const accuracy = r.correct / r.answers;
    const pass = accuracy >= rule.minAccuracy;
    const [decided] = await db
      .update(raterQualifications)
      .set({ status: pass ? 'passed' : 'failed', goldAnswers: r.answers, correct: r.correct, decidedAt: new Date() })
      .where(
        and(
          eq(raterQualifications.programId, programId),
          eq(raterQualifications.raterId, r.raterId),
          eq(raterQualifications.locale, r.locale),
          eq(raterQualifications.status, 'pending'),
        ),
      )
      .returning({ id: raterQualifications.raterId });
    if (!decided) continue;
    const reason = `${r.locale} qualification: ${r.correct} of ${r.answers} gold answers right (${(accuracy * 100).toFixed(1)}%, needs ${(rule.minAccuracy * 100).toFixed(0)}%)`;
    await db.insert(raterActions).values({
      raterId: r.raterId,
      programId,
      action: pass ? 'qualified' : 'failed_qualification',
      actor: 'qa',
      reason,
      data: { answers: r.answers, correct: r.correct, locale: r.locale },
    });
    if (pass) passed.push(r.raterId);
  }
  return [...new Set(passed)];
}

export interface RaterListing {
  raterId: string;
  vendorId: string;
  status: string;
  pausedReason: string | null;
  pausedBy: string | null;
  /** Gold answers QA counts (since the last reinstatement), of one program or of all. */
  goldAnswers: number;
  correct: number;
  accuracy: number | null;
  ci95: [number, number] | null;
  driftReason: string | null;
  /**
   * The program's qualification batch: pending, passed, failed; per locale (`en-US passed, es-ES
   * pending`) when the rater took more than one; null when none was asked of the rater.
   */
  qualification: string | null;
}

/** Every rater (of a vendor, if given) with their gold accuracy and its Wilson interval, for `judgeflow rater list`. */
export async function listRaters(
  db: Db,
  opts: { programId?: string; vendorId?: string } = {},
): Promise<RaterListing[]> {
  const program = opts.programId;
  const rows = await db
    .select({
      raterId: raters.id,
      vendorId: raters.vendorId,
      status: raters.status,
      pausedReason: raters.pausedReason,
      pausedBy: raters.pausedBy,
      driftReason: raters.driftReason,
      goldAnswers: sql<number>`count(${goldAnswers.label})::int`,
      correct: sql<number>`count(${goldAnswers.label}) filter (where ${labels.value} = ${goldAnswers.label})::int`,
      qualification: program
        ? sql<
            string | null
          >`(select case when count(*) = 1 then max(q.status) else string_agg(q.locale || ' ' || q.status, ', ' order by q.locale) end from ${raterQualifications} q where q.program_id = ${program} and q.rater_id = ${raters.id})`
        : sql<null>`null`,
    })
    .from(raters)
    .leftJoin(
      labels,
      and(
        eq(labels.raterId, raters.id),
        program ? eq(labels.programId, program) : undefined,
        or(isNull(raters.reinstatedAt), sql`${labels.createdAt} > ${raters.reinstatedAt}`),
      ),
    )
    .leftJoin(goldAnswers, answersGold)
    .where(opts.vendorId ? eq(raters.vendorId, opts.vendorId) : undefined)
    .groupBy(raters.id)
    .orderBy(raters.vendorId, raters.id);
  return rows.map((r) => ({
    ...r,
    accuracy: r.goldAnswers ? r.correct / r.goldAnswers : null,
    ci95: wilsonInterval(r.correct, r.goldAnswers),
  }));
}
