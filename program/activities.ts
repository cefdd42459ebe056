/**
 * The program's own records: its plan, state, decisions, guideline versions, item draws, round
 * agreement and golden-set reviews. Every write is keyed by what it is, so retries are no-ops.
 */
import { and, eq, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { agreementIntervals, agreementReport } from '../stats/index';
import { programItemsWhere } from '../catalog/item-set';
import { type ProgramEstimate } from './estimate';
import { criterionAgreementOptions } from './criterion-agreement';
import { goldenItemsByLocale } from './golden-locales';
import { criterionSamples, durationMs, goldenSettings, type ProgramSpec } from '../schema/program-spec';
import {
  agreementReports,
  decisionLog,
  goldenLabels,
  guidelineVersions,
  items,
  judgePrompts,
  labels,
  programItems,
  programs,
  tasks,
} from '../schema/tables';
import type { Db } from '../platform/db';
import type { CriterionAgreement, GoldenSetSummary } from '../workflows/messages';
import type { ActivityDeps } from '../activities/deps';
import type { NotificationRoute } from '../notifications/events';
import type { ProgramAccess } from '../workflows/program-access';
import { recordAudit } from '../governance/audit';
import { auditSteeringDecision } from '../governance/steering-audit';

/** The small, workflow-sized view of a spec that the program workflow runs on. */
export interface ProgramPlan {
  programId: string;
  criteria: string[];
  guidelineVersion: number;
  rounds: ProgramSpec['rounds'];
  raters: ProgramSpec['raters'];
  targets: ProgramSpec['targets'];
  /**
   * `samples` is the program-wide default; `criterionSamples` what each criterion runs (its
   * `judge.samples`, else the default) — optional only because plans recorded in workflow histories
   * before it existed lack it (they run `samples` for every criterion). `model`: the spec's, else JUDGE_MODEL.
   */
  judges: {
    samples: number;
    criterionSamples?: Record<string, number>;
    optimize: boolean;
    maxOptimizerCalls: number;
    model: string;
  };
  sla: { remindAfterMs: number; reassignAfterMs: number; deadlineMs: number };
  gatePolicy: 'manual' | 'auto';
  /** Whether workflows may set custom search attributes (JUDGEFLOW_SEARCH_ATTRIBUTES). */
  searchAttributes: boolean;
  autoGateAfterMs: number;
  budgetUsd: number;
  vendorsFor: { rate: string[]; review: string[]; write: string[] };
  production: ProgramSpec['production'];
  /** The golden set's aggregation and redundancy; optional only because plans recorded in histories before it lack it (they ran LLM aggregation, fixed redundancy). */
  golden?: ProgramSpec['golden'];
  estimate: { expectedDays: number; totalUsd: number } | null;
  /** The spec's notification receivers and the events each wants (absent: none, or a plan from before them). */
  notifications?: NotificationRoute[];
  /** Who may steer (the spec's owners and viewers); absent: anyone, as for a plan from before them. */
  access?: ProgramAccess;
  /** A multilingual program's locale codes (the spec's `locales:`); absent for a single-locale program. */
  locales?: string[];
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
      const vendorsFor = (role: 'rate' | 'review' | 'write') =>
        spec.vendors.filter((v) => v.roles?.includes(role)).map((v) => v.id);
      const estimate = program.estimate as unknown as ProgramEstimate | null;
      return {
        programId,
        criteria: spec.criteria.map((c) => c.id),
        guidelineVersion: latest?.version ?? spec.guidelines.version,
        rounds: spec.rounds,
        raters: spec.raters,
        targets: spec.targets,
        judges: {
          ...spec.judges,
          criterionSamples: criterionSamples(spec),
          model: spec.judges.model ?? config.llm.model,
        },
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
        golden: goldenSettings(spec),
        estimate: estimate ? { expectedDays: estimate.days.expected, totalUsd: estimate.costUsd.total } : null,
        ...(spec.notifications?.length
          ? { notifications: spec.notifications.map((n) => ({ id: n.id, events: n.events })) }
          : {}),
        ...(spec.owners?.length ? { access: { owners: spec.owners, viewers: spec.viewers ?? [] } } : {}),
        ...(spec.locales ? { locales: spec.locales.map((l) => l.code) } : {}),
      };
    },

    async setProgramState(input: {
      programId: string;
      status: string;
      phase: string;
      budgetUsd?: number;
      /** Who changed the budget, by which request: the new budget and its audit row commit together. */
      budgetChange?: { requestId: string; actor: string; note?: string };
    }): Promise<void> {
      const change = input.budgetUsd ? input.budgetChange : undefined;
      await db.transaction(async (tx) => {
        const [before] = change
          ? await tx
              .select({ budgetUsd: programs.budgetUsd })
              .from(programs)
              .where(eq(programs.id, input.programId))
              .for('update')
          : [];
        await tx
          .update(programs)
          .set({
            status: input.status,
            phase: input.phase,
            updatedAt: new Date(),
            ...(input.budgetUsd ? { budgetUsd: input.budgetUsd } : {}),
          })
          .where(eq(programs.id, input.programId));
        if (change && before)
          await recordAudit(tx, {
            actor: change.actor,
            action: 'budget_changed',
            entity: 'program',
            entityId: input.programId,
            programId: input.programId,
            requestId: change.requestId,
            before: { budgetUsd: before.budgetUsd },
            after: { budgetUsd: input.budgetUsd },
            data: { phase: input.phase, ...(change.note ? { note: change.note } : {}) },
          });
      });
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
      await db.transaction(async (tx) => {
        const [recorded] = await tx
          .insert(decisionLog)
          .values({ ...input, note: input.note ?? '', data: input.data ?? {} })
          .onConflictDoNothing()
          .returning({ id: decisionLog.id });
        if (recorded) await auditSteeringDecision(tx, input);
      });
    },

    async publishGuidelineVersion(input: {
      programId: string;
      version: number;
      text: string;
      note: string;
      actor: string;
      /** The publishing update's id (absent from a publish scheduled before audit rows existed). */
      requestId?: string;
      /** The locale whose guidelines this revises; absent: the program's. */
      locale?: string;
    }): Promise<void> {
      const program = await getProgram(db, input.programId);
      const spec = program.spec as unknown as ProgramSpec;
      await db.transaction(async (tx) => {
        const [previous] = await tx
          .select({ version: sql<number | null>`max(${guidelineVersions.version})` })
          .from(guidelineVersions)
          .where(eq(guidelineVersions.programId, input.programId));
        const [published] = await tx
          .insert(guidelineVersions)
          .values({
            programId: input.programId,
            version: input.version,
            text: input.text,
            criteria: spec.criteria,
            note: input.note,
            author: input.actor,
            locale: input.locale ?? null,
          })
          .onConflictDoNothing()
          .returning({ version: guidelineVersions.version });
        if (published)
          await recordAudit(tx, {
            actor: input.actor,
            action: 'guideline_published',
            entity: 'guidelines',
            entityId: input.programId,
            programId: input.programId,
            requestId: input.requestId,
            before: { version: previous?.version ?? null },
            after: { version: input.version, ...(input.locale ? { locale: input.locale } : {}) },
            data: { note: input.note },
          });
      });
    },

    /**
     * Draws `count` fresh items of the program's item set for a purpose (items never drawn by this
     * program and not gold), in a stable pseudo-random order. A retried draw returns the items the
     * first one recorded.
     */
    async drawItems(input: { programId: string; purpose: string; count: number; locale?: string }): Promise<string[]> {
      const existing = await drawnFor(db, input.programId, input.purpose);
      if (existing.length) return existing;
      await db.execute(sql`
        insert into program_items (program_id, item_id, purpose)
        select ${input.programId}, ${items.id}, ${input.purpose}
        from ${items}
        where ${programItemsWhere(input.programId, { locale: input.locale })}
          and not exists (select 1 from program_items p where p.program_id = ${input.programId} and p.item_id = ${items.id})
          and not exists (select 1 from gold_answers g where g.program_id = ${input.programId} and g.item_id = ${items.id})
        order by md5(${input.programId} || ${items.id})
        limit ${input.count}
        on conflict do nothing`);
      const drawn = await drawnFor(db, input.programId, input.purpose);
      if (drawn.length < input.count) {
        throw ApplicationFailure.nonRetryable(
          `Only ${drawn.length} fresh${input.locale ? ` ${input.locale}` : ''} items left for ${input.purpose} of program ${input.programId} (needed ${input.count}); import more catalog items into it (catalog import --program ${input.programId}).`,
          'NotEnoughItems',
        );
      }
      return drawn;
    },

    /**
     * Agreement per criterion over the round's non-gold labels, stored in agreement_reports: at the
     * criterion's level (nominal for binary, ordinal or interval for Likert) and with its metric
     * (the criterion's agreementMetric, else the round's). A multilingual program's (`locales`) is
     * also measured per locale (`byLocale`, in the report's metrics too), and a criterion meets the
     * target only when every locale does: a locale's raters do not agree through another's.
     */
    async computeAgreement(input: {
      programId: string;
      phase: 'pilot' | 'calibration';
      round: number;
      criteria: string[];
      guidelineVersion: number;
      target: number;
      metric: ProgramSpec['targets']['agreementMetric'];
      locales?: string[];
    }): Promise<Record<string, CriterionAgreement>> {
      const rows = await db
        .select({
          item: labels.itemId,
          rater: labels.raterId,
          label: labels.value,
          criterion: labels.criterion,
          locale: items.locale,
        })
        .from(labels)
        .innerJoin(tasks, eq(tasks.id, labels.taskId))
        .innerJoin(items, eq(items.id, labels.itemId))
        .where(
          and(
            eq(labels.programId, input.programId),
            eq(labels.phase, input.phase),
            input.phase === 'calibration' ? eq(labels.round, input.round) : sql`true`,
            eq(tasks.isGold, false),
          ),
        );
      const { criteria } = (await getProgram(db, input.programId)).spec as unknown as ProgramSpec;
      const specs = new Map(criteria.map((c) => [c.id, c]));
      const result: Record<string, CriterionAgreement> = {};
      for (const criterion of input.criteria) {
        const ratings = rows.filter((r) => r.criterion === criterion);
        const seed = input.round + 1;
        const spec = specs.get(criterion);
        const options = spec ? criterionAgreementOptions(spec) : { level: 'nominal' as const };
        const metric = spec?.agreementMetric ?? input.metric;
        const measure = (of: typeof ratings) => {
          const report = agreementReport(of, { ...options, bootstrap: 500, seed });
          const value = report[metric] as number | null;
          // Bootstrap intervals of every metric (the report draws them as bands).
          const intervals = of.length ? agreementIntervals(of, { ...options, bootstrap: 500, seed }).ci95 : null;
          const ci95 = intervals?.[metric] ?? null;
          return { report, intervals, value, ci95, meetsTarget: value !== null && value >= input.target };
        };
        const { report, intervals, value, ci95, ...all } = measure(ratings);
        const byLocale = input.locales?.length
          ? Object.fromEntries(
              input.locales.map((code) => {
                const m = measure(ratings.filter((r) => r.locale === code));
                const counts = { items: m.report.items, raters: m.report.raters, ratings: m.report.ratings };
                return [code, { value: m.value, ci95: m.ci95, meetsTarget: m.meetsTarget, ...counts }];
              }),
            )
          : undefined;
        const meetsTarget = all.meetsTarget && Object.values(byLocale ?? {}).every((l) => l.meetsTarget);
        result[criterion] = { value, ci95, meetsTarget, ...(byLocale && { byLocale }) };
        const metrics: Record<string, unknown> = {
          ...report,
          ci95: intervals,
          level: options.level,
          metric,
          ...(byLocale && { byLocale }),
        };
        const counts = { items: report.items, raters: report.raters, ratings: report.ratings };
        await db
          .insert(agreementReports)
          .values({
            programId: input.programId,
            phase: input.phase,
            round: input.round,
            criterion,
            guidelineVersion: input.guidelineVersion,
            ...counts,
            metrics,
            meetsTarget,
          })
          .onConflictDoUpdate({
            target: [
              agreementReports.programId,
              agreementReports.phase,
              agreementReports.round,
              agreementReports.criterion,
            ],
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
        .select({
          itemId: labels.itemId,
          criterion: labels.criterion,
          value: labels.value,
          explanation: labels.explanation,
        })
        .from(labels)
        .innerJoin(tasks, eq(tasks.id, labels.taskId))
        .where(and(eq(tasks.batchId, input.batchId), eq(tasks.kind, 'review')));
      for (const r of reviewLabels) {
        await db
          .update(goldenLabels)
          .set({
            label: r.value,
            explanation: r.explanation || 'adjudicated by reviewer',
            source: 'adjudicated',
            reviewed: true,
            needsReview: false,
          })
          .where(
            and(
              eq(goldenLabels.programId, input.programId),
              eq(goldenLabels.itemId, r.itemId),
              eq(goldenLabels.criterion, r.criterion),
            ),
          );
      }
      return { reviewed: new Set(reviewLabels.map((r) => r.itemId)).size };
    },

    /** The chosen prompt becomes the criterion's active judge; earlier active ones are retired. */
    async activateJudgePrompt(input: { programId: string; criterion: string; promptHash: string }): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(judgePrompts)
          .set({ status: 'retired' })
          .where(
            and(
              eq(judgePrompts.programId, input.programId),
              eq(judgePrompts.criterion, input.criterion),
              eq(judgePrompts.status, 'active'),
              // A multilingual program has an active judge per locale: activating one retires only its locale's.
              sql`${judgePrompts.settings}->>'locale' is not distinct from (select settings->>'locale' from judge_prompts where hash = ${input.promptHash})`,
            ),
          );
        await tx.update(judgePrompts).set({ status: 'active' }).where(eq(judgePrompts.hash, input.promptHash));
      });
    },

    async goldenSetSummary(programId: string): Promise<GoldenSetSummary> {
      const [row] = await db
        .select({
          items: sql<number>`count(distinct ${goldenLabels.itemId})::int`,
          dev: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.split} = 'dev')::int`,
          test: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.split} = 'test')::int`,
          reviewed: sql<number>`count(distinct ${goldenLabels.itemId}) filter (where ${goldenLabels.reviewed})::int`,
          // One method per program (the spec's); a mix would show as the first in name order.
          method: sql<string | null>`min(${goldenLabels.method})`,
          meanConfidence: sql<number | null>`avg(${goldenLabels.confidence})::float8`,
          ratingsPerLabel: sql<number | null>`avg(${goldenLabels.ratings})::float8`,
        })
        .from(goldenLabels)
        .where(eq(goldenLabels.programId, programId));
      // A multilingual set is also counted per locale.
      const locales = await goldenItemsByLocale(db, programId);
      const summary = row ?? {
        items: 0,
        dev: 0,
        test: 0,
        reviewed: 0,
        method: null,
        meanConfidence: null,
        ratingsPerLabel: null,
      };
      return locales.length > 1
        ? { ...summary, byLocale: Object.fromEntries(locales.map(({ locale, ...counts }) => [locale, counts])) }
        : summary;
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
