/**
 * The program's own records: its plan, state, decisions, guideline versions, item draws, round
 * agreement and golden-set reviews. Every write is keyed by what it is, so retries are no-ops.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { agreementIntervals, agreementReport } from '../stats/index';
import { estimateProgram, type ProgramEstimate } from './estimate';
import { durationMs, type ProgramSpec } from '../schema/program-spec';
import {
  agreementReports,
  decisionLog,
  goldAnswers,
  goldenLabels,
  guidelineVersions,
  items,
  judgePrompts,
  labels,
  programItems,
  programs,
  tasks,
  vendors,
} from '../schema/tables';
import type { Db } from '../platform/db';
import type { CriterionAgreement } from '../workflows/messages';
import type { ActivityDeps } from '../activities/deps';
import { programWorkflowId } from '../workflows/ids';

/** The small, workflow-sized view of a spec that the program workflow runs on. */
export interface ProgramPlan {
  programId: string;
  criteria: string[];
  guidelineVersion: number;
  rounds: ProgramSpec['rounds'];
  raters: ProgramSpec['raters'];
  targets: ProgramSpec['targets'];
  judges: { samples: number; optimize: boolean; maxOptimizerCalls: number; model: string };
  sla: { remindAfterMs: number; reassignAfterMs: number; deadlineMs: number };
  gatePolicy: 'manual' | 'auto';
  /** Whether workflows may set custom search attributes (JUDGEFLOW_SEARCH_ATTRIBUTES). */
  searchAttributes: boolean;
  autoGateAfterMs: number;
  budgetUsd: number;
  vendorsFor: { rate: string[]; review: string[]; write: string[] };
  production: ProgramSpec['production'];
  estimate: { expectedDays: number; totalUsd: number } | null;
}

export function createProgramActivities({ db, config }: ActivityDeps) {
  return {
    async loadProgramPlan(programId: string): Promise<ProgramPlan> {
      const program = await getProgram(db, programId);
      const spec = program.spec as unknown as ProgramSpec;
      const [latest] = await db
        .select({ version: sql<number>`max(${guidelineVersions.version})` })
        .from(guidelineVersions)
        .where(eq(guidelineVersions.programId, programId));
      const vendorsFor = (role: 'rate' | 'review' | 'write') => spec.vendors.filter((v) => v.roles.includes(role)).map((v) => v.id);
      const estimate = program.estimate as unknown as ProgramEstimate | null;
      return {
        programId,
        criteria: spec.criteria.map((c) => c.id),
        guidelineVersion: latest?.version ?? spec.guidelines.version,
        rounds: spec.rounds,
        raters: spec.raters,
        targets: spec.targets,
        judges: { ...spec.judges, model: spec.judges.model ?? config.llm.model },
        sla: {
          remindAfterMs: durationMs(spec.sla.remindAfter),
          reassignAfterMs: durationMs(spec.sla.reassignAfter),
          deadlineMs: durationMs(spec.sla.deadline),
        },
        gatePolicy: spec.gates.policy,
        searchAttributes: config.temporal.searchAttributes,
        autoGateAfterMs: durationMs(spec.gates.autoAfter),
        budgetUsd: program.budgetUsd,
        vendorsFor: { rate: vendorsFor('rate'), review: vendorsFor('review'), write: vendorsFor('write') },
        production: spec.production,
        estimate: estimate ? { expectedDays: estimate.days.expected, totalUsd: estimate.costUsd.total } : null,
      };
    },

    async setProgramState(input: { programId: string; status: string; phase: string; budgetUsd?: number }): Promise<void> {
      await db
        .update(programs)
        .set({ status: input.status, phase: input.phase, updatedAt: new Date(), ...(input.budgetUsd ? { budgetUsd: input.budgetUsd } : {}) })
        .where(eq(programs.id, input.programId));
    },

    async recordDecision(input: {
      programId: string;
      requestId: string;
      kind: string;
      phase: string;
      actor: string;
      note?: string;
      data?: Record<string, unknown>;
    }): Promise<void> {
      await db
        .insert(decisionLog)
        .values({ ...input, note: input.note ?? '', data: input.data ?? {} })
        .onConflictDoNothing();
    },

    async publishGuidelineVersion(input: { programId: string; version: number; text: string; note: string; actor: string }): Promise<void> {
      const program = await getProgram(db, input.programId);
      const spec = program.spec as unknown as ProgramSpec;
      await db
        .insert(guidelineVersions)
        .values({ programId: input.programId, version: input.version, text: input.text, criteria: spec.criteria, note: input.note, author: input.actor })
        .onConflictDoNothing();
    },

    /**
     * Draws `count` fresh items for a purpose (items never drawn by this program and not gold),
     * in a stable pseudo-random order. A retried draw returns the items the first one recorded.
     */
    async drawItems(input: { programId: string; purpose: string; count: number }): Promise<string[]> {
      const existing = await drawnFor(db, input.programId, input.purpose);
      if (existing.length) return existing;
      await db.execute(sql`
        insert into program_items (program_id, item_id, purpose)
        select ${input.programId}, i.id, ${input.purpose}
        from items i
        where not exists (select 1 from program_items p where p.program_id = ${input.programId} and p.item_id = i.id)
          and not exists (select 1 from gold_answers g where g.program_id = ${input.programId} and g.item_id = i.id)
        order by md5(${input.programId} || i.id)
        limit ${input.count}
        on conflict do nothing`);
      const drawn = await drawnFor(db, input.programId, input.purpose);
      if (drawn.length < input.count) {
        throw ApplicationFailure.nonRetryable(
          `Only ${drawn.length} fresh items left for ${input.purpose} of program ${input.programId} (needed ${input.count}); import more catalog items.`,
          'NotEnoughItems',
        );
      }
      return drawn;
    },

    /** Agreement per criterion over the round's non-gold labels, stored in agreement_reports. */
    async computeAgreement(input: {
      programId: string;
      phase: 'pilot' | 'calibration';
      round: number;
      criteria: string[];
      guidelineVersion: number;
      target: number;
      metric: ProgramSpec['targets']['agreementMetric'];
    }): Promise<Record<string, CriterionAgreement>> {
      const rows = await db
        .select({ item: labels.itemId, rater: labels.raterId, label: labels.value, criterion: labels.criterion })
        .from(labels)
        .innerJoin(tasks, eq(tasks.id, labels.taskId))
        .where(
          and(
            eq(labels.programId, input.programId),
            eq(labels.phase, input.phase),
            input.phase === 'calibration' ? eq(labels.round, input.round) : sql`true`,
            eq(tasks.isGold, false),
          ),
        );
      const result: Record<string, CriterionAgreement> = {};
      for (const criterion of input.criteria) {
        const ratings = rows.filter((r) => r.criterion === criterion);
        const seed = input.round + 1;
        const report = agreementReport(ratings, { level: 'nominal', bootstrap: 500, seed });
        const value = report[input.metric] as number | null;
        // Bootstrap intervals of every metric (the report draws them as bands).
        const intervals = ratings.length ? agreementIntervals(ratings, { level: 'nominal', bootstrap: 500, seed }).ci95 : null;
        const ci95 = intervals?.[input.metric] ?? null;
        const meetsTarget = value !== null && value >= input.target;
        result[criterion] = { value, ci95, meetsTarget };
        const metrics = { ...report, ci95: intervals } as unknown as Record<string, unknown>;
        const counts = { items: report.items, raters: report.raters, ratings: report.ratings };
        await db
          .insert(agreementReports)
          .values({ programId: input.programId, phase: input.phase, round: input.round, criterion, guidelineVersion: input.guidelineVersion, ...counts, metrics, meetsTarget })
          .onConflictDoUpdate({
            target: [agreementReports.programId, agreementReports.phase, agreementReports.round, agreementReports.criterion],
            set: { metrics, meetsTarget, ...counts },
          });
      }
      return result;
    },

    /**
     * Review tasks of the golden set carry the reviewer's final label per criterion; it replaces
     * the aggregated label and is marked reviewed/adjudicated.
     */
    async applyGoldenReviews(input: { programId: string; batchId: string }): Promise<{ reviewed: number }> {
      const reviewLabels = await db
        .select({ itemId: labels.itemId, criterion: labels.criterion, value: labels.value, explanation: labels.explanation })
        .from(labels)
        .innerJoin(tasks, eq(tasks.id, labels.taskId))
        .where(and(eq(tasks.batchId, input.batchId), eq(tasks.kind, 'review')));
      for (const r of reviewLabels) {
        await db
          .update(goldenLabels)
          .set({ label: r.value, explanation: r.explanation || 'adjudicated by reviewer', source: 'adjudicated', reviewed: true, needsReview: false })
          .where(and(eq(goldenLabels.programId, input.programId), eq(goldenLabels.itemId, r.itemId), eq(goldenLabels.criterion, r.criterion)));
      }
      return { reviewed: new Set(reviewLabels.map((r) => r.itemId)).size };
    },

    /** The chosen prompt becomes the criterion's active judge; earlier active ones are retired. */
    async activateJudgePrompt(input: { programId: string; criterion: string; promptHash: string }): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(judgePrompts)
          .set({ status: 'retired' })
          .where(and(eq(judgePrompts.programId, input.programId), eq(judgePrompts.criterion, input.criterion), eq(judgePrompts.status, 'active')));
        await tx.update(judgePrompts).set({ status: 'active' }).where(eq(judgePrompts.hash, input.promptHash));
      });
    },

    async goldenSetSummary(programId: string): Promise<{ items: number; dev: number; test: number; reviewed: number }> {
      const [row] = await db
        .select({
          items: sql<number>`count(distinct ${goldenLabels.itemId})::int`,
          dev: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.split} = 'dev')::int`,
          test: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.split} = 'test')::int`,
          reviewed: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.reviewed})::int`,
        })
        .from(goldenLabels)
        .where(eq(goldenLabels.programId, programId));
      return row ?? { items: 0, dev: 0, test: 0, reviewed: 0 };
    },
  };
}

async function drawnFor(db: Db, programId: string, purpose: string): Promise<string[]> {
  const rows = await db
    .select({ itemId: programItems.itemId })
    .from(programItems)
    .where(and(eq(programItems.programId, programId), eq(programItems.purpose, purpose)))
    .orderBy(sql`md5(${programId} || ${programItems.itemId})`);
  return rows.map((r) => r.itemId);
}

async function getProgram(db: Db, programId: string) {
  const [program] = await db.select().from(programs).where(eq(programs.id, programId));
  if (!program) throw ApplicationFailure.nonRetryable(`Unknown program ${programId}`, 'UnknownProgram');
  return program;
}

export class ProgramRegistrationError extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`The program spec cannot start:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/**
 * Checks what a spec refers to outside itself (secrets in the environment, gold items in the
 * catalog) and computes the estimate. Changes nothing.
 */
export async function checkProgramPrerequisites(
  db: Db,
  spec: ProgramSpec,
  env: Record<string, string | undefined>,
  opts: { rpmLimit: number; model: string },
): Promise<{ estimate: ProgramEstimate; secrets: Record<string, string[]> }> {
  const problems: { path: string; message: string }[] = [];
  const secrets: Record<string, string[]> = {};
  spec.vendors.forEach((v, i) => {
    const raw = v.secret ?? (v.secretEnv ? env[v.secretEnv] : undefined);
    if (!raw) problems.push({ path: `vendors.${i}.secretEnv`, message: `environment variable ${v.secretEnv} is not set` });
    else secrets[v.id] = raw.split(',').map((s) => s.trim()).filter(Boolean);
  });
  const goldIds = spec.goldExamples.map((g) => g.itemId);
  if (goldIds.length) {
    const found = new Set((await db.select({ id: items.id }).from(items).where(inArray(items.id, goldIds))).map((r) => r.id));
    spec.goldExamples.forEach((g, i) => {
      if (!found.has(g.itemId)) problems.push({ path: `goldExamples.${i}.itemId`, message: `unknown item "${g.itemId}" (import the catalog first)` });
    });
  }
  const [{ count }] = await db.select({ count: sql<number>`count(*)::int` }).from(items);
  const needed = spec.rounds.pilotSize + spec.rounds.calibrationSize * spec.rounds.maxCalibrationRounds + spec.rounds.goldenSetSize;
  if (count < needed)
    problems.push({ path: 'items', message: `the catalog has ${count} items; pilot + ${spec.rounds.maxCalibrationRounds} calibration rounds + golden set need ${needed}` });
  const [existing] = await db.select({ id: programs.id }).from(programs).where(eq(programs.id, spec.id));
  if (existing) problems.push({ path: 'id', message: `program "${spec.id}" already exists` });
  if (problems.length) throw new ProgramRegistrationError(problems);
  return { estimate: estimateProgram(spec, { catalogItems: count, ...opts }), secrets };
}

/** Writes the program, guideline v1, vendors and gold answers in one transaction. */
export async function registerProgram(db: Db, spec: ProgramSpec, estimate: ProgramEstimate, secrets: Record<string, string[]>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(programs).values({
      id: spec.id,
      name: spec.name,
      spec: spec as unknown as Record<string, unknown>,
      budgetUsd: spec.budget.usd,
      estimate: estimate as unknown as Record<string, unknown>,
      workflowId: programWorkflowId(spec.id),
    });
    await tx.insert(guidelineVersions).values({
      programId: spec.id,
      version: spec.guidelines.version,
      text: spec.guidelines.text,
      criteria: spec.criteria,
      note: 'initial guidelines from the program spec',
      author: 'spec',
    });
    for (const v of spec.vendors) {
      const row = { name: v.name, kind: v.kind, endpoint: v.endpoint, secrets: secrets[v.id], rateCard: v.rateCard, config: v.config };
      await tx.insert(vendors).values({ id: v.id, ...row }).onConflictDoUpdate({ target: vendors.id, set: row });
    }
    const gold = spec.goldExamples.flatMap((g) =>
      Object.entries(g.labels).map(([criterion, label]) => ({ programId: spec.id, itemId: g.itemId, criterion, label, explanation: g.explanation })),
    );
    if (gold.length) await tx.insert(goldAnswers).values(gold).onConflictDoNothing();
  });
}
