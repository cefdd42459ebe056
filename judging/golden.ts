/** The golden set: raters' labels aggregated into one label per item and criterion, split dev/test, and judge accuracy against it. */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { LLM_REQUEST_KINDS } from './prompts/contract';
import { goldenAggregateMessages, showContext } from './prompts/judge';
import { goldenAggregateSchema, goldenScoreAggregateSchema } from './prompts/schemas';
import { likertScale } from '../schema/program-spec';
import { binaryClassificationMetrics, lowerMedian, type BinaryMetrics } from '../stats/index';
import type { Db } from '../platform/db';
import { goldenLabels, items, judgeEvaluations, usageLedger } from '../schema/tables';
import { structuredCall } from '../llm/call';
import { type ModelPrice } from '../llm/pricing';
import type { LlmClient } from '../llm/client';
import { writeLedger } from './ledger';
import { loadProgram, localeText, promptLocale } from './prompt-registry';
import { guidelineRevision } from '../program/guideline-revisions';
import { loadItems } from './judgments';
import type { JudgingEngine } from './engine';
import { goldenVerdict, likertAccuracy, type LikertAccuracy } from './likert';
import { activityContext, withHeartbeat } from '../activities/context';
import { splitOf, upsertGoldenLabels } from './golden-labels';
import { goldenRatings, type GoldenRating } from './golden-statistics';

export interface EvaluateJudgeInput {
  programId: string;
  criterion: string;
  promptHash: string;
  split: 'dev' | 'test';
  samples: number;
  model?: string;
}

export type JudgeMetrics = BinaryMetrics & {
  errors: number;
  split: 'dev' | 'test';
  promptHash: string;
  model: string;
  samples: number;
  llmRequests: number;
  /** A multilingual program's judge: the locale whose golden items it was measured on. */
  locale?: string;
  /** A Likert criterion's score agreement (accuracy above is pass/fail at its passAt). */
  likert?: LikertAccuracy;
};

export interface AggregateGoldenInput {
  programId: string;
  itemIds: string[];
  criterion: string;
}

export interface AggregateGoldenResult {
  labeled: number;
  needsReview: string[];
}

export interface GoldenSetDeps {
  db: Db;
  llm: LlmClient;
  prices: Record<string, ModelPrice>;
  engine: JudgingEngine;
  defaultModel: string;
}

/**
 * The golden dev/test items of a criterion with their labels, in a stable order. `locale`: only
 * that locale's items (a multilingual program's judge is measured on its own locale alone).
 */
export async function goldenItems(
  db: Db,
  programId: string,
  criterion: string,
  split: 'dev' | 'test',
  locale?: string,
) {
  return db
    .select({ itemId: goldenLabels.itemId, label: goldenLabels.label })
    .from(goldenLabels)
    .innerJoin(items, eq(items.id, goldenLabels.itemId))
    .where(
      and(
        eq(goldenLabels.programId, programId),
        eq(goldenLabels.criterion, criterion),
        eq(goldenLabels.split, split),
        locale ? eq(items.locale, locale) : undefined,
      ),
    )
    .orderBy(sql`md5(${goldenLabels.itemId})`);
}

/** Golden labels from raters' labels, and judges measured against them. */
export function createGoldenSet({ db, llm, prices, engine, defaultModel }: GoldenSetDeps) {
  /** Accuracy etc. of a judge prompt against the golden labels of one split; stored, comparable over versions. */
  async function evaluateJudge(input: EvaluateJudgeInput): Promise<JudgeMetrics> {
    const model = input.model ?? defaultModel;
    const locale = await promptLocale(db, input.promptHash);
    const gold = await goldenItems(db, input.programId, input.criterion, input.split, locale);
    if (!gold.length)
      throw ApplicationFailure.nonRetryable(
        `program ${input.programId} has no ${input.split} golden labels for ${input.criterion}${locale ? ` in ${locale}` : ''}`,
        'NoGoldenLabels',
      );
    const { verdicts, scores, scale, requests } = await engine.judgeGolden({
      programId: input.programId,
      criterion: input.criterion,
      promptHash: input.promptHash,
      itemIds: gold.map((g) => g.itemId),
      samples: input.samples,
      model,
      phase: 'judge-development',
    });
    // An error is scored as a fail: it is never a pass, and it costs accuracy when the truth is pass.
    const pred = gold.map((g) => verdicts.get(g.itemId) ?? 0);
    const errors = gold.filter((g) => (verdicts.get(g.itemId) ?? null) === null).length;
    const metrics: JudgeMetrics = {
      ...binaryClassificationMetrics(
        pred,
        gold.map((g) => goldenVerdict(g.label, scale)),
        { bootstrap: 500, seed: 1 },
      ),
      errors,
      split: input.split,
      promptHash: input.promptHash,
      model,
      samples: input.samples,
      llmRequests: requests,
      ...(locale ? { locale } : {}),
      ...(scale
        ? {
            likert: likertAccuracy(
              scale,
              gold.map((g) => ({ gold: g.label, score: scores.get(g.itemId) ?? null })),
            ),
          }
        : {}),
    };
    await db
      .insert(judgeEvaluations)
      .values({
        programId: input.programId,
        criterion: input.criterion,
        promptHash: input.promptHash,
        model,
        split: input.split,
        samples: input.samples,
        metrics: metrics as unknown as Record<string, unknown>,
      })
      .onConflictDoUpdate({
        target: [
          judgeEvaluations.programId,
          judgeEvaluations.criterion,
          judgeEvaluations.promptHash,
          judgeEvaluations.model,
          judgeEvaluations.split,
          judgeEvaluations.samples,
        ],
        set: { metrics: metrics as unknown as Record<string, unknown> },
      });
    return metrics;
  }

  /**
   * Raters' labels → one golden label per item: unanimous raters need no LLM call; otherwise the
   * LLM aggregates labels and explanations and says whether a human should review. Items keep
   * their dev/test split (by item hash); a reviewed label is never overwritten.
   *
   * Each label is stored as soon as it is known, in one transaction with its ledger row (keyed by
   * item, criterion and a hash of the ratings). A retried attempt (the worker died, the heartbeat
   * timed out) finds those rows and requests only the items still missing; the activity
   * heartbeats every few seconds while its requests (up to 100 in parallel) are out.
   */
  async function aggregateGolden(input: AggregateGoldenInput): Promise<AggregateGoldenResult> {
    const program = await loadProgram(db, input.programId);
    const criterion = program.spec.criteria.find((c) => c.id === input.criterion);
    if (!criterion)
      throw ApplicationFailure.nonRetryable(
        `program ${input.programId} has no criterion ${input.criterion}`,
        'UnknownCriterion',
      );
    const byItem = await goldenRatings(db, input.programId, input.criterion, input.itemIds);
    const scale = likertScale(criterion);
    // The spec's model aggregates, as it judges (JUDGE_MODEL when the spec names none).
    const model = program.spec.judges?.model ?? defaultModel;
    const needsReview: string[] = [];
    const unanimous: (typeof goldenLabels.$inferInsert)[] = [];
    const split: {
      itemId: string;
      ratings: GoldenRating[];
      requestKey: string;
      base: ReturnType<typeof labelBase>;
    }[] = [];
    function labelBase(itemId: string) {
      return {
        programId: input.programId,
        itemId,
        criterion: input.criterion,
        split: splitOf(input.programId, itemId, program.spec.rounds.testShare),
        method: 'llm',
      };
    }
    for (const [itemId, ratings] of byItem) {
      if (ratings.every((r) => r.label === ratings[0].label)) {
        const explanation = ratings.map((r) => r.explanation).find((e) => e) ?? `all ${ratings.length} raters agree`;
        unanimous.push({
          ...labelBase(itemId),
          label: ratings[0].label,
          explanation,
          source: 'unanimous',
          confidence: 1,
          ratings: ratings.length,
          needsReview: false,
        });
      } else {
        const labelsKey = createHash('sha256').update(JSON.stringify(ratings)).digest('hex').slice(0, 16);
        split.push({
          itemId,
          ratings,
          requestKey: `aggregate:${input.programId}:${itemId}:${input.criterion}:${labelsKey}`,
          base: labelBase(itemId),
        });
      }
    }
    await upsertGoldenLabels(db, unanimous);

    // What an earlier attempt already paid for and stored: the same ratings' aggregate (ledger row) and its label.
    const paid = split.length
      ? await db
          .select({ key: usageLedger.requestKey })
          .from(usageLedger)
          .where(
            inArray(
              usageLedger.requestKey,
              split.map((s) => s.requestKey),
            ),
          )
      : [];
    const paidKeys = new Set(paid.map((p) => p.key));
    const stored = paid.length
      ? await db
          .select({ itemId: goldenLabels.itemId, needsReview: goldenLabels.needsReview })
          .from(goldenLabels)
          .where(
            and(
              eq(goldenLabels.programId, input.programId),
              eq(goldenLabels.criterion, input.criterion),
              inArray(
                goldenLabels.itemId,
                split.filter((s) => paidKeys.has(s.requestKey)).map((s) => s.itemId),
              ),
            ),
          )
      : [];
    const storedByItem = new Map(stored.map((s) => [s.itemId, s]));
    const missing = split.filter((s) => {
      const done = paidKeys.has(s.requestKey) ? storedByItem.get(s.itemId) : undefined;
      if (done?.needsReview) needsReview.push(s.itemId);
      return !done;
    });

    const itemMap = await loadItems(
      db,
      missing.map((s) => s.itemId),
    );
    // A multilingual program's item is aggregated under its locale's rubric and guidelines, as its raters rated it.
    const localeOf = new Map(
      program.spec.locales && missing.length
        ? (
            await db
              .select({ id: items.id, locale: items.locale })
              .from(items)
              .where(
                inArray(
                  items.id,
                  missing.map((s) => s.itemId),
                ),
              )
          ).map((i) => [i.id, i.locale])
        : [],
    );
    // Each locale's newest revision (its own, else the program's); the spec's before any is published.
    const revisions = new Map<string | undefined, { text: string; version: number; own?: boolean }>();
    for (const locale of new Set([undefined, ...localeOf.values()]))
      revisions.set(
        locale,
        (await guidelineRevision(db, input.programId, 'latest', locale)) ?? program.spec.guidelines,
      );
    // A cancelled activity abandons its requests in flight (the heartbeat is how it learns of the cancel).
    const cancelled = activityContext()?.cancellationSignal;
    let finished = 0;
    await withHeartbeat(
      () => ({ criterion: input.criterion, stored: split.length - missing.length + finished, of: split.length }),
      () =>
        Promise.all(
          missing.map(async ({ itemId, ratings, requestKey, base }) => {
            const item = itemMap.get(itemId)!;
            const { rubrics, guidelines } = localeText(
              program.spec,
              program.spec.criteria,
              localeOf.get(itemId),
              revisions.get(localeOf.get(itemId))!,
            );
            const out = await structuredCall(
              llm,
              {
                kind: LLM_REQUEST_KINDS.goldenAggregate,
                schema: scale ? goldenScoreAggregateSchema(scale.points) : goldenAggregateSchema,
                messages: goldenAggregateMessages({
                  criterion: { ...criterion, rubric: rubrics[criterion.id] },
                  guidelineText: guidelines.text,
                  show: showContext(item.show),
                  synopsis: item.text,
                  ratings,
                  scale,
                }),
                model,
                temperature: 0,
              },
              cancelled,
            );
            let value: typeof goldenLabels.$inferInsert;
            // The model gives no probability: its label's confidence is the share of raters who gave it.
            const share = (label: number) => ratings.filter((r) => r.label === label).length / ratings.length;
            if (out.ok)
              value = {
                ...base,
                label: out.value.label,
                explanation: out.value.explanation,
                source: 'llm_aggregate',
                confidence: share(out.value.label),
                ratings: ratings.length,
                needsReview: out.value.needs_review,
              };
            else {
              // No usable aggregate: the majority (a tie fails) — for a Likert criterion the lower median
              // score (stats/ordinal.ts) — stands in, and a human must look.
              const passes = ratings.filter((r) => r.label === 1).length;
              const label = scale ? lowerMedian(ratings.map((r) => r.label)) : passes * 2 > ratings.length ? 1 : 0;
              value = {
                ...base,
                label,
                confidence: share(label),
                ratings: ratings.length,
                explanation: `LLM aggregation failed (${out.error}); majority label pending review`,
                source: 'llm_aggregate',
                needsReview: true,
              };
            }
            if (value.needsReview) needsReview.push(itemId);
            // The label and what it cost in one transaction: a retry finds both or neither.
            await db.transaction(async (tx) => {
              await upsertGoldenLabels(tx as unknown as Db, [value]);
              if (out.requests > 0)
                await writeLedger(tx as unknown as Db, prices, [
                  {
                    requestKey,
                    programId: input.programId,
                    phase: 'golden-set',
                    kind: 'aggregate',
                    model,
                    mode: 'sync',
                    usage: out.usage,
                  },
                ]);
            });
            finished++;
          }),
        ),
    );
    return { labeled: unanimous.length + split.length, needsReview: needsReview.sort() };
  }

  return { evaluateJudge, aggregateGolden };
}
