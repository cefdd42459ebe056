/**
 * SIMULATED raters and writers of the simulated vendor. Each rater has a per-criterion
 * sensitivity (says pass when the hidden truth passes) and specificity (says fail when it fails);
 * both improve with the guideline version the rater has read (the packet they fetched). Some raters are careless (near
 * chance), some drift (worse with every task they do). Writers fix a failing criterion with a
 * configured probability. In a pool with locales, each rater is a native of one (every third also
 * rates the next locale, less accurately) and takes tasks only in theirs. All draws are
 * deterministic per seed and task.
 */
import { assessSynopsis, truthKey } from '../model/assess';
import { reviseSynopsis } from '../model/revise';
import { Rng, unitFor } from '../model/rng';
import { missedScore, trueLikertScore } from '../model/likert';
import type { LikertScale } from '../../../judging/prompts/judge';
import { showSchema, type Show } from '../../../schema/catalog';
import type { LabelInput, TaskDispatch } from '../../../schema/vendor-events';

export interface RaterPoolOptions {
  seed: number;
  raters: number;
  /** Share of raters answering near chance. */
  carelessShare: number;
  /** Share of raters whose accuracy falls with every task they do. */
  driftingShare: number;
  /** Accuracy gained per guideline version above 1 (capped). */
  guidelineGain: number;
  /** Probability that a writer's revision fixes each failing criterion. */
  fixProbability: number;
  /** The locales the raters rate in (unset: every rater takes every locale, with no locale effect). */
  locales?: string[];
  /** Accuracy added for the raters of a locale (e.g. `{ 'es-ES': -0.05 }`); a second locale costs FOREIGN_PENALTY more. */
  localeAccuracy?: Record<string, number>;
}

export interface SimRater {
  id: string;
  profile: 'careful' | 'careless' | 'drifting';
  sensitivity: number;
  specificity: number;
  tasksDone: number;
  /** Locale → accuracy added in it; unset: every locale, no effect. */
  locales?: Record<string, number>;
}

/** What a rater loses in the second locale they rate in, against their own. */
export const FOREIGN_PENALTY = 0.08;

export const DEFAULT_POOL: RaterPoolOptions = {
  seed: 1,
  raters: 12,
  carelessShare: 0.1,
  driftingShare: 0.1,
  guidelineGain: 0.05,
  fixProbability: 0.7,
};

export function buildPool(opts: RaterPoolOptions): SimRater[] {
  const rng = Rng.for('vendor-sim', opts.seed, 'pool');
  const careless = Math.round(opts.raters * opts.carelessShare);
  const drifting = Math.round(opts.raters * opts.driftingShare);
  return Array.from({ length: opts.raters }, (_, i) => {
    const profile = i < careless ? 'careless' : i < careless + drifting ? 'drifting' : 'careful';
    const base = profile === 'careless' ? 0.55 : 0.72 + rng.next() * 0.12;
    return {
      id: `sim-rater-${String(i + 1).padStart(2, '0')}`,
      profile,
      sensitivity: base + 0.05,
      specificity: base - 0.02,
      tasksDone: 0,
      ...(opts.locales?.length && { locales: raterLocales(opts.locales, i, opts.localeAccuracy ?? {}) }),
    };
  });
}

/** Rater i's locales: a native one in turn, and every third rater the next one too, at a penalty. */
function raterLocales(locales: string[], i: number, accuracy: Record<string, number>): Record<string, number> {
  const own = locales[i % locales.length];
  const out = { [own]: accuracy[own] ?? 0 };
  const second = locales[(i + 1) % locales.length];
  if (i % 3 === 2 && second !== own) out[second] = (accuracy[second] ?? 0) - FOREIGN_PENALTY;
  return out;
}

/** Whether a rater rates in this locale (a pool without locales: every rater, every locale). */
export const readsLocale = (rater: SimRater, locale: string) => !rater.locales || locale in rater.locales;

const clamp = (p: number) => Math.max(0.5, Math.min(0.98, p));

/** The show record a dispatch carries, in the catalog's shape (defaults for what is absent). */
export const showOf = (t: TaskDispatch): Show => showSchema.parse({ locale: t.item.locale, ...t.show });

/** One simulated rater's labels for a rate/review task, working from the guideline version they read (0: none). */
export function rateTask(
  rater: SimRater,
  task: TaskDispatch,
  opts: RaterPoolOptions,
  guidelineVersion: number,
  scales: Record<string, LikertScale> = {},
  taxonomy?: Record<string, string[]>,
): LabelInput[] {
  const truth = assessSynopsis(showOf(task), task.item.text);
  const gain =
    Math.max(0, guidelineVersion - 1) * (rater.profile === 'careless' ? opts.guidelineGain / 3 : opts.guidelineGain);
  const drift = rater.profile === 'drifting' ? Math.min(0.3, rater.tasksDone * 0.01) : 0;
  const locale = rater.locales?.[task.item.locale] ?? 0;
  rater.tasksDone++;
  return task.criteria.map((criterion) => {
    const key = truthKey(criterion);
    const actual = key ? truth.criteria[key] : 1;
    const u = unitFor(opts.seed, task.taskId, rater.id, criterion);
    const correct = u < clamp((actual ? rater.sensitivity : rater.specificity) + gain - drift + locale);
    const defects = truth.defects.filter(
      (d) => key && (d.criterion === key || (key === 'factuality' && d.criterion.startsWith('factuality_'))),
    );
    const defect = defects[0];
    // A Likert criterion: the hidden score, or a near miss of it (scripts/sim/model/likert.ts).
    const scale = scales[criterion];
    const truthScore = scale && trueLikertScore(scale, actual, defects.length, key ?? criterion, task.item.text);
    const value = scale
      ? correct
        ? truthScore!
        : missedScore(scale, truthScore!, unitFor(opts.seed, task.taskId, rater.id, criterion, 'miss'))
      : correct
        ? actual
        : 1 - actual;
    const passes = value >= (scale?.passAt ?? 1);
    return {
      criterion,
      value,
      explanation: passes
        ? `[simulated rater ${rater.id}] meets the ${criterion} rubric`
        : `[simulated rater ${rater.id}] ${defect?.detail ?? `does not meet the ${criterion} rubric`}`,
      errorCodes: passes || !defect ? [] : codeFor(defect.code, criterion, taxonomy),
    };
  });
}

/**
 * The code a rater gives a defect: the program's taxonomy code for the criterion that shares a word
 * with it (clickbait → TONE_CLICKBAIT), else the criterion's first; the defect's own name when the
 * program has no taxonomy or the rater has read no packet.
 */
export function codeFor(defect: string, criterion: string, taxonomy?: Record<string, string[]>): string[] {
  if (!taxonomy || !Object.values(taxonomy).some((codes) => codes.length)) return [defect];
  const codes = taxonomy[criterion] ?? [];
  const words = defect.toLowerCase().split('_');
  const match = codes.find((c) =>
    c
      .toLowerCase()
      .split('_')
      .some((w) => words.includes(w)),
  );
  return match ? [match] : codes.slice(0, 1);
}

/** A simulated writer's revision of a write task's text. */
export function writeTask(task: TaskDispatch, opts: RaterPoolOptions): string {
  return reviseSynopsis(showOf(task), task.item.text, task.criteria, `${opts.seed}/${task.taskId}`, {
    successRate: opts.fixProbability,
  });
}
