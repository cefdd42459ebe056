/**
 * The judging engine: what a judge request is and how its answers become verdicts (N samples per
 * criterion, rounded-mean consensus, panels with the min rule). Production pages build on it in
 * judge-items.ts; golden evaluation and prompt optimization use judgeGolden.
 */
import { lowerMedian, roundedMeanConsensus } from '../stats/index';
import type { Db } from '../platform/db';
import type { judgments } from '../schema/tables';
import { structuredCall } from '../llm/call';
import { type ModelPrice } from '../llm/pricing';
import type { LlmClient } from '../llm/client';
import { isAbort } from '../llm/errors';
import { PageControl } from '../llm/page-control';
import { activityContext, withHeartbeat } from '../activities/context';
import type { LedgerEntry } from './ledger';
import { resolvePlans, type CriterionPlan } from './prompt-registry';
import { maxSamples, samplesFor, type JudgeSamples } from './samples';
import {
  answerVerdict,
  judgeRequest,
  judgmentKey,
  judgmentRow,
  loadItems,
  sampleKey,
  storedSamples,
  storeJudgments,
  type ItemRow,
  type JudgeAnswer,
} from './judgments';

interface UnitOutcome {
  agent: string;
  verdict: 0 | 1 | null;
  /** A Likert criterion's consensus score (null for binary criteria and errors). */
  score: number | null;
  summary: string;
}

export interface CriterionOutcome {
  verdict: 0 | 1 | null;
  score: number | null;
  samples: number;
  summary: string;
  units: UnitOutcome[];
}

/** Items judged between checkpoints (heartbeat details, verdict writes) of golden evaluation. */
export const CHUNK = 25;

/** A production checkpoint holds at least this many requests … */
const CHECKPOINT_REQUESTS = 50;
/** … and at most this many items. */
const MAX_CHUNK = 50;

/**
 * Items per production checkpoint: CHUNK, or more when an item is fewer than two requests, so that a
 * checkpoint's transaction and heartbeat are shared by as many requests at one criterion and one
 * sample as at two (at 1 request an item, 50 items cut PostgreSQL's CPU per request by ~14%: BENCHMARKS.md).
 */
export function productionChunk(plans: CriterionPlan[], samples: JudgeSamples): number {
  const requestsPerItem = plans.reduce((n, p) => n + p.units.length * samplesFor(samples, p.criterion), 0);
  return Math.min(MAX_CHUNK, Math.max(CHUNK, Math.ceil(CHECKPOINT_REQUESTS / Math.max(1, requestsPerItem))));
}

function combine(
  plan: CriterionPlan,
  perUnit: Map<
    string,
    { verdicts: (0 | 1 | null)[]; scores: (number | null)[]; summaries: string[]; errors: string[] }
  >,
): CriterionOutcome {
  const units: UnitOutcome[] = plan.units.map((u) => {
    const s = perUnit.get(u.hash)!;
    if (s.verdicts.some((v) => v === null))
      return { agent: u.agent, verdict: null, score: null, summary: `error: ${s.errors[0] ?? 'no answer'}` };
    // Likert: the median score of the samples, which passes at the scale's passAt.
    const scale = u.settings.scale;
    if (scale) {
      const score = lowerMedian(s.scores as number[]);
      const agreeing = s.scores.findIndex((v) => v === score);
      return { agent: u.agent, verdict: score >= scale.passAt ? 1 : 0, score, summary: s.summaries[agreeing] ?? '' };
    }
    const { verdict } = roundedMeanConsensus(s.verdicts as (0 | 1)[], 'fail');
    const agreeing = s.verdicts.findIndex((v) => v === verdict);
    return { agent: u.agent, verdict, score: null, summary: s.summaries[agreeing] ?? '' };
  });
  // The min rule: any failed agent fails the criterion; otherwise any error leaves it undecided.
  const verdict = units.some((u) => u.verdict === 0) ? 0 : units.some((u) => u.verdict === null) ? null : 1;
  const samples = perUnit.get(plan.units[0].hash)?.verdicts.length ?? 0;
  // A Likert criterion is never a panel (the spec refuses it): its one unit's score is the criterion's.
  return { verdict, score: units[0].score, samples, units, summary: plan.panel ? '' : units[0].summary };
}

export interface JudgingEngineDeps {
  db: Db;
  llm: LlmClient;
  prices: Record<string, ModelPrice>;
}

/** The judging engine over its dependencies: judges chunks of items and stores their judgments and ledger rows. */
export function createJudgingEngine({ db, llm, prices }: JudgingEngineDeps) {
  /**
   * The control of one activity's page: stopped by Temporal's cancellation (learnt through the
   * heartbeats of withHeartbeat), by a fatal provider error, or by the error breaker.
   */
  const pageControl = () => {
    const ctx = activityContext();
    return new PageControl(llm.errorBreaker, ctx?.cancellationSignal, ctx?.info.attempt);
  };

  /**
   * Judges `input.items` with `plans`: requests only samples not stored as ok, and returns the
   * consensus per item and criterion with the judgments and ledger rows the caller stores.
   * When `control` stops (cancelled, a fatal provider error, the breaker) every request in flight
   * is abandoned; the answers already paid for are stored as ok judgments with their ledger rows,
   * no error judgment is stored, and the stop's reason is thrown.
   */
  async function judgeChunk(
    input: {
      programId: string;
      phase: string;
      items: ItemRow[];
      plans: CriterionPlan[];
      samples: JudgeSamples;
      model: string;
    },
    control = pageControl(),
  ) {
    const { programId, model, samples } = input;
    const units = input.plans.flatMap((p) => p.units);
    const stored = await storedSamples(
      db,
      input.items,
      units,
      maxSamples(
        samples,
        input.plans.map((p) => p.criterion),
      ),
      model,
    );
    type Sample = { verdict: 0 | 1 | null; score: number | null; summary: string; error: string | null };
    const results = new Map<string, Sample>();
    const rows: (typeof judgments.$inferInsert)[] = [];
    const ledger: LedgerEntry[] = [];
    let requests = 0;
    const pending: Promise<void>[] = [];
    for (const item of input.items) {
      for (const u of units) {
        for (let s = 0; s < samplesFor(samples, u.criterion); s++) {
          const key = sampleKey(item.id, item.textHash, u.hash, s);
          const prior = stored.get(key);
          if (prior?.status === 'ok') {
            results.set(key, {
              verdict: prior.verdict as 0 | 1,
              score: prior.score,
              summary: prior.summary,
              error: null,
            });
            continue;
          }
          pending.push(
            (async () => {
              if (control.stopped) return;
              let out: JudgeAnswer;
              try {
                out = await structuredCall(llm, judgeRequest(u, item, s, model), control.signal);
              } catch (err) {
                // Aborted because the page stopped, or the fatal error that stops it: no judgment.
                if (!isAbort(err)) control.stop(err);
                return;
              }
              control.record(out.ok ? null : out.error);
              requests += out.requests;
              const { verdict, score } = out.ok ? answerVerdict(u, out.value) : { verdict: null, score: null };
              results.set(key, {
                verdict,
                score,
                summary: out.ok ? out.value.summary : '',
                error: out.ok ? null : out.error,
              });
              rows.push(judgmentRow(programId, item, u, model, s, 'sync', out));
              if (out.requests > 0)
                ledger.push({
                  requestKey: judgmentKey(item.id, item.textHash, u.criterion, u.agent, u.hash, model, s),
                  programId,
                  phase: input.phase,
                  kind: 'judge',
                  model,
                  mode: 'sync',
                  usage: out.usage,
                });
            })(),
          );
        }
      }
    }
    await Promise.all(pending);
    if (control.stopped) {
      await storeJudgments(
        db,
        prices,
        rows.filter((r) => r.status === 'ok'),
        ledger,
        llm.metrics,
      );
      throw control.reason;
    }
    const outcomes = new Map<string, Map<string, CriterionOutcome>>();
    for (const item of input.items) {
      const perCriterion = new Map<string, CriterionOutcome>();
      for (const plan of input.plans) {
        const perUnit = new Map(
          plan.units.map((u) => {
            const samplesOf = Array.from({ length: samplesFor(samples, plan.criterion) }, (_, s) =>
              results.get(sampleKey(item.id, item.textHash, u.hash, s))!,
            );
            return [
              u.hash,
              {
                verdicts: samplesOf.map((x) => x.verdict),
                scores: samplesOf.map((x) => x.score),
                summaries: samplesOf.map((x) => x.summary),
                errors: samplesOf.flatMap((x) => (x.error ? [x.error] : [])),
              },
            ];
          }),
        );
        perCriterion.set(plan.criterion, combine(plan, perUnit));
      }
      outcomes.set(item.id, perCriterion);
    }
    return { outcomes, requests, rows, ledger };
  }

  /**
   * Judges golden items of one split in chunks (heartbeating), returning the verdict per item
   * (null = error) and, for a Likert criterion, the consensus score.
   */
  async function judgeGolden(input: {
    programId: string;
    criterion: string;
    promptHash: string;
    itemIds: string[];
    samples: number;
    model: string;
    phase: string;
  }) {
    const plans = await resolvePlans(db, input.programId, [input.criterion], { [input.criterion]: input.promptHash });
    const verdicts = new Map<string, 0 | 1 | null>();
    const scores = new Map<string, number | null>();
    const control = pageControl();
    let requests = 0;
    let i = 0;
    await withHeartbeat(
      () => ({ judged: i }),
      async () => {
        for (; i < input.itemIds.length; i += CHUNK) {
          const itemMap = await loadItems(db, input.itemIds.slice(i, i + CHUNK));
          const out = await judgeChunk(
            {
              programId: input.programId,
              phase: input.phase,
              items: [...itemMap.values()],
              plans,
              samples: input.samples,
              model: input.model,
            },
            control,
          );
          await storeJudgments(db, prices, out.rows, out.ledger, llm.metrics);
          requests += out.requests;
          for (const [itemId, m] of out.outcomes) {
            verdicts.set(itemId, m.get(input.criterion)!.verdict);
            scores.set(itemId, m.get(input.criterion)!.score);
          }
        }
      },
    );
    // A Likert criterion's judge carries its scale (its golden labels are scores; a score ≥ passAt passes).
    return { verdicts, scores, scale: plans[0].units[0].settings.scale, requests };
  }

  return { pageControl, judgeChunk, judgeGolden };
}

export type JudgingEngine = ReturnType<typeof createJudgingEngine>;
