/**
 * Who may take a task: a rater's own qualification (kinds, criteria, locales from the vendor's
 * rater list), read by assignment and by the gateway when a vendor routes a task to another rater;
 * and the program's qualification batch — gold items a rater answers before their work is sent.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { durationMs, type ProgramSpec } from '../schema/program-spec';
import { goldAnswers, guidelineVersions, items, programs, raterQualifications, tasks } from '../schema/tables';
import { taskId } from './ids';
import { raterRules } from './rater-qa';

export interface Qualification {
  kinds?: string[];
  criteria?: string[];
  locales?: string[];
}

export const qualifies = (q: Qualification, kind: string, criteria: string[], locale: string) =>
  (!q.kinds || q.kinds.includes(kind)) &&
  (!q.criteria || criteria.every((c) => q.criteria!.includes(c))) &&
  (!q.locales || q.locales.includes(locale));

/**
 * A program's qualification batch (spec `raters.qualification`) as assignment sees it, per locale:
 * a rater who failed a locale's gets no work in it; new work goes to raters who passed or are taking
 * it (theirs is held until they pass); a rater with none yet in the locale gets one with their first
 * work there.
 */
export interface QualificationGate {
  required: boolean;
  statusOf(raterId: string, locale: string): string | undefined;
  /** May get work in a new batch (held until they pass). */
  mayAssign(raterId: string, locale: string): boolean;
  /** May take over another rater's task (only raters who passed or are taking the batch). */
  mayTakeOver(raterId: string, locale: string): boolean;
}

const key = (raterId: string, locale: string) => `${raterId}\0${locale}`;

export async function qualificationGate(db: Db, programId: string, kind: string): Promise<QualificationGate> {
  const rules = await raterRules(db, programId);
  // Writers are not raters: the fix loop's write tasks never wait for a qualification.
  const required = Boolean(rules.qualification) && kind !== 'write';
  const status = new Map(
    required
      ? (
          await db
            .select({
              raterId: raterQualifications.raterId,
              locale: raterQualifications.locale,
              status: raterQualifications.status,
            })
            .from(raterQualifications)
            .where(eq(raterQualifications.programId, programId))
        ).map((r) => [key(r.raterId, r.locale), r.status])
      : [],
  );
  const statusOf = (id: string, locale: string) => status.get(key(id, locale));
  return {
    required,
    statusOf,
    mayAssign: (id, locale) => !required || statusOf(id, locale) !== 'failed',
    mayTakeOver: (id, locale) => !required || ['passed', 'pending'].includes(statusOf(id, locale) ?? ''),
  };
}

type TaskRow = typeof tasks.$inferInsert;

/**
 * The qualification tasks of a new batch: each assigned rater without a qualification batch in the
 * locale of work they were given gets `items` gold items in that locale (other than their own in the
 * batch), on slots after the batch's k, marked `qualification` (also in the context the vendor
 * sees). Recorded as pending in rater_qualifications, so a rater takes it once per program and
 * locale: qualified in en-US, they take an es-ES batch before their first es-ES work.
 */
export async function qualificationTasks(
  tx: Db,
  input: { batchId: string; programId: string; kind: string; guidelineVersion: number; criteria: string[] },
  assigned: TaskRow[],
  gate: QualificationGate,
  rank: (...parts: string[]) => string,
): Promise<TaskRow[]> {
  if (!gate.required || !assigned.length) return [];
  const localeOf = new Map(
    (
      await tx
        .select({ id: items.id, locale: items.locale })
        .from(items)
        .where(inArray(items.id, [...new Set(assigned.map((t) => t.itemId))]))
    ).map((i) => [i.id, i.locale]),
  );
  const newcomers = new Map<string, { raterId: string; locale: string }>();
  for (const t of assigned) {
    const locale = localeOf.get(t.itemId)!;
    if (gate.statusOf(t.raterId!, locale) === undefined)
      newcomers.set(key(t.raterId!, locale), { raterId: t.raterId!, locale });
  }
  if (!newcomers.size) return [];
  const { qualification } = await raterRules(tx, input.programId);
  const gold = await tx
    .selectDistinct({ id: items.id, textHash: items.textHash, locale: items.locale })
    .from(goldAnswers)
    .innerJoin(items, eq(items.id, goldAnswers.itemId))
    .where(eq(goldAnswers.programId, input.programId));
  const nextSlot = new Map<string, number>();
  for (const t of assigned) nextSlot.set(t.itemId, Math.max(nextSlot.get(t.itemId) ?? 0, t.slot + 1));
  const rows: TaskRow[] = [];
  for (const { raterId, locale } of newcomers.values()) {
    const own = new Set(assigned.filter((t) => t.raterId === raterId).map((t) => t.itemId));
    const picked = gold
      .filter((g) => !own.has(g.id) && g.locale === locale)
      .sort((a, b) => rank(raterId, a.id).localeCompare(rank(raterId, b.id)))
      .slice(0, qualification!.items);
    for (const g of picked) {
      const slot = nextSlot.get(g.id) ?? 0;
      nextSlot.set(g.id, slot + 1);
      rows.push({
        id: taskId(input.batchId, g.id, slot, 0),
        batchId: input.batchId,
        programId: input.programId,
        itemId: g.id,
        textHash: g.textHash,
        slot,
        vendorId: assigned.find((t) => t.raterId === raterId)!.vendorId,
        raterId,
        kind: input.kind,
        isGold: true,
        guidelineVersion: input.guidelineVersion,
        payload: { criteria: input.criteria, context: { qualification: true }, qualification: true },
      });
    }
    await tx.insert(raterQualifications).values({ programId: input.programId, raterId, locale }).onConflictDoNothing();
  }
  return rows;
}

/**
 * The tasks of these that may be sent now: a pending task of a program with a qualification batch
 * waits while its rater has not passed the batch of its item's locale (their qualification tasks go first).
 */
export async function sendable<
  T extends {
    task: Pick<typeof tasks.$inferSelect, 'programId' | 'raterId' | 'status' | 'kind' | 'payload'>;
    locale: string;
  },
>(db: Db, rows: T[]): Promise<T[]> {
  const gates = new Map<string, QualificationGate>();
  const out: T[] = [];
  for (const r of rows) {
    const { task } = r;
    if (task.status !== 'pending' || (task.payload as { qualification?: boolean }).qualification) {
      out.push(r);
      continue;
    }
    const program = `${task.programId}\0${task.kind}`;
    if (!gates.has(program)) gates.set(program, await qualificationGate(db, task.programId, task.kind));
    const gate = gates.get(program)!;
    if (!gate.required || gate.statusOf(task.raterId!, r.locale) === 'passed') out.push(r);
  }
  return out;
}

/**
 * Work held for these raters in the program until their qualification (pending, not qualification
 * tasks); dispatch sends only the tasks in a locale the rater has passed.
 */
export async function heldTaskIds(db: Db, programId: string, raterIds: string[]): Promise<string[]> {
  if (!raterIds.length) return [];
  const rows = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(
      and(
        eq(tasks.programId, programId),
        inArray(tasks.raterId, raterIds),
        eq(tasks.status, 'pending'),
        sql`coalesce(${tasks.payload} ->> 'qualification', '') <> 'true'`,
      ),
    );
  return rows.map((r) => r.id);
}

/** How work held for a qualification is sent once its rater passes: the current guidelines, the spec's SLA. */
export async function releaseOf(db: Db, programId: string): Promise<{ guidelineVersion: number; dueInMs: number }> {
  const [row] = await db
    .select({
      spec: programs.spec,
      latest: sql<
        number | null
      >`(select max(${guidelineVersions.version}) from ${guidelineVersions} where ${guidelineVersions.programId} = ${programId})`,
    })
    .from(programs)
    .where(eq(programs.id, programId));
  const spec = (row?.spec ?? {}) as Partial<ProgramSpec>;
  return {
    guidelineVersion: row?.latest ?? spec.guidelines?.version ?? 1,
    dueInMs: durationMs(spec.sla?.reassignAfter ?? '3d'),
  };
}
