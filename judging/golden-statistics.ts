/**
 * The golden set's statistics: labels by Dawid–Skene or majority vote (no model in the loop), and
 * adaptive redundancy's question — which items need another rating. Dawid–Skene is fitted on every
 * golden rating of the criterion, since a rater's confusion matrix is learnt from all their labels.
 */
import { and, eq, inArray, like, or } from 'drizzle-orm';
import type { Db } from '../platform/db';
import { goldenSettings, type ProgramSpec } from '../schema/program-spec';
import { labels, programItems } from '../schema/tables';
import { aggregateLabels, needsAnotherRating, type AggregatedItem, type RedundancyRule } from '../stats/index';
import { loadProgram } from './prompt-registry';
import { splitOf, upsertGoldenLabels } from './golden-labels';

export interface GoldenRating {
  rater: string;
  label: number;
  explanation: string;
}

/** Each rater's latest golden-set label of a criterion, by item: of `itemIds`, or of every item rated. */
export async function goldenRatings(
  db: Db,
  programId: string,
  criterion: string,
  itemIds?: string[],
): Promise<Map<string, GoldenRating[]>> {
  if (itemIds && !itemIds.length) return new Map();
  const rows = await db
    .select({ itemId: labels.itemId, rater: labels.raterId, label: labels.value, explanation: labels.explanation })
    .from(labels)
    .where(
      and(
        eq(labels.programId, programId),
        eq(labels.criterion, criterion),
        eq(labels.phase, 'golden-set'),
        itemIds ? inArray(labels.itemId, itemIds) : undefined,
      ),
    )
    .orderBy(labels.id);
  const byItem = new Map<string, Map<string, GoldenRating>>();
  for (const { itemId, ...r } of rows) {
    const m = byItem.get(itemId) ?? new Map<string, GoldenRating>();
    m.set(r.rater, r); // a rater's latest label counts
    byItem.set(itemId, m);
  }
  return new Map([...byItem].map(([itemId, m]) => [itemId, [...m.values()]]));
}

/**
 * The aggregate of each item of `itemIds` (absent: every item rated) by the program's method;
 * `llm` reads as majority vote, as the model only comes in once the ratings are in.
 */
async function aggregateCriterion(
  db: Db,
  programId: string,
  criterion: string,
  aggregation: ProgramSpec['golden']['aggregation'],
  itemIds?: string[],
): Promise<{ ratings: Map<string, GoldenRating[]>; aggregates: Map<string, AggregatedItem> }> {
  const dawidSkene = aggregation === 'dawid-skene';
  const ratings = await goldenRatings(db, programId, criterion, dawidSkene ? undefined : itemIds);
  const flat = [...ratings].flatMap(([item, rs]) => rs.map((r) => ({ item, rater: r.rater, label: r.label })));
  const aggregates = aggregateLabels(flat, dawidSkene ? 'dawid-skene' : 'majority');
  return { ratings, aggregates: new Map(aggregates.map((a) => [a.item, a])) };
}

export function createGoldenStatistics({ db }: { db: Db }) {
  return {
    /**
     * Golden labels of every item drawn for the golden set by Dawid–Skene or majority vote, with the
     * label's confidence; a label less sure than `golden.minConfidence` goes to a reviewer.
     */
    async aggregateGoldenByStatistics(input: {
      programId: string;
      criterion: string;
    }): Promise<{ labeled: number; needsReview: string[] }> {
      const { spec } = await loadProgram(db, input.programId);
      const golden = goldenSettings(spec);
      const method = golden.aggregation === 'dawid-skene' ? 'dawid-skene' : 'majority';
      const drawn = await db
        .select({ itemId: programItems.itemId })
        .from(programItems)
        .where(
          and(
            eq(programItems.programId, input.programId),
            // a multilingual program draws its golden set per locale: `golden-set/<locale>`
            or(eq(programItems.purpose, 'golden-set'), like(programItems.purpose, 'golden-set/%')),
          ),
        );
      const { ratings, aggregates } = await aggregateCriterion(
        db,
        input.programId,
        input.criterion,
        method,
        drawn.map((d) => d.itemId),
      );
      const rows = drawn.flatMap(({ itemId }) => {
        const a = aggregates.get(itemId);
        if (!a || a.label === null) return [];
        const given = ratings.get(itemId) ?? [];
        const why = given.find((r) => r.label === a.label && r.explanation)?.explanation;
        return [
          {
            programId: input.programId,
            itemId,
            criterion: input.criterion,
            split: splitOf(input.programId, itemId, spec.rounds.testShare),
            label: Number(a.label),
            explanation: `${method === 'dawid-skene' ? 'Dawid–Skene posterior' : 'majority share'} ${a.confidence.toFixed(2)} over ${a.ratings} ratings${why ? `: ${why}` : ''}`,
            source: method === 'dawid-skene' ? 'dawid_skene' : 'majority',
            method,
            confidence: a.confidence,
            ratings: a.ratings,
            needsReview: a.confidence < golden.minConfidence,
          },
        ];
      });
      for (let i = 0; i < rows.length; i += 1000) await upsertGoldenLabels(db, rows.slice(i, i + 1000));
      return { labeled: rows.length, needsReview: rows.filter((r) => r.needsReview).map((r) => r.itemId) };
    },

    /**
     * Adaptive redundancy: the items of `itemIds` that get another rating (stats/aggregation.ts
     * needsAnotherRating) under the spec's `golden.maxRatingsPerItem` and `golden.minConfidence`.
     */
    async goldenItemsToRate(input: { programId: string; itemIds: string[] }): Promise<string[]> {
      const { spec } = await loadProgram(db, input.programId);
      const golden = goldenSettings(spec);
      const rule: RedundancyRule = { maxRatings: golden.maxRatingsPerItem, minConfidence: golden.minConfidence };
      const perItem = new Map(input.itemIds.map((id) => [id, [] as { confidence: number; ratings: number }[]]));
      for (const criterion of spec.criteria) {
        const { aggregates } = await aggregateCriterion(
          db,
          input.programId,
          criterion.id,
          golden.aggregation,
          input.itemIds,
        );
        for (const [itemId, list] of perItem) {
          const a = aggregates.get(itemId);
          list.push(a ? { confidence: a.confidence, ratings: a.ratings } : { confidence: 0, ratings: 0 });
        }
      }
      return input.itemIds.filter((id) => needsAnotherRating(perItem.get(id)!, rule));
    },
  };
}
