/**
 * The synthetic catalog as a lazy stream: one show at a time with its 2–5 synopsis variants, their
 * hidden truth and member-behaviour metrics. Each show is derived from (seed, index) alone, so
 * memory stays constant and any slice of the catalog can be regenerated.
 */
import type { Behavior, Show, Synopsis, Truth } from '../../../schema/catalog';
import { assessSynopsis } from './assess';
import { Rng, textHash } from './rng';
import { SIM_LOCALES } from './vocabulary';
import { DEFAULT_DEFECT_RATES, generateShow, writeSynopsis, type DefectRates } from './world';

export interface CatalogOptions {
  shows: number;
  seed: number | string;
  /** Inclusive range of synopsis variants per show (default 2–5). */
  synopsesPerShow?: [number, number];
  defectRates?: Partial<DefectRates>;
  /**
   * Member-behaviour effect of latent quality, in logit units of take fraction between a synopsis
   * that fails everything and one that passes everything (abandonment moves the opposite way by
   * half as much). 0 = behaviour does not depend on quality at all. Default 1.5.
   */
  behaviorEffect?: number;
  /** The language of the synopses (SIM_LOCALES; default en-US). */
  locale?: string;
}

export interface CatalogShow {
  show: Show;
  synopses: Synopsis[];
  truths: Truth[];
  behaviors: Behavior[];
}

export class CatalogOptionsError extends Error {
  readonly exitCode = 2;
}

export function validateCatalogOptions(
  opts: CatalogOptions,
): Required<Omit<CatalogOptions, 'defectRates' | 'locale'>> & { defectRates: DefectRates; locale: string } {
  const problems: string[] = [];
  if (!Number.isInteger(opts.shows) || opts.shows < 1)
    problems.push(`shows must be a positive integer (got ${opts.shows})`);
  const [lo, hi] = opts.synopsesPerShow ?? [2, 5];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo)
    problems.push(`synopsesPerShow must be [min, max] with 1 ≤ min ≤ max (got [${lo}, ${hi}])`);
  const defectRates = { ...DEFAULT_DEFECT_RATES, ...opts.defectRates };
  for (const [k, v] of Object.entries(defectRates)) {
    if (!(Number(v) >= 0 && Number(v) <= 1)) problems.push(`defect rate ${k} must be between 0 and 1 (got ${v})`);
  }
  const behaviorEffect = opts.behaviorEffect ?? 1.5;
  if (!Number.isFinite(behaviorEffect)) problems.push(`behaviorEffect must be a number (got ${opts.behaviorEffect})`);
  const locale = opts.locale ?? 'en-US';
  if (!SIM_LOCALES.includes(locale))
    problems.push(`locale must be one the simulated world writes: ${SIM_LOCALES.join(', ')} (got ${locale})`);
  if (problems.length) throw new CatalogOptionsError(problems.join('; '));
  return {
    shows: opts.shows,
    seed: opts.seed,
    synopsesPerShow: [lo, hi],
    defectRates,
    behaviorEffect,
    locale,
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Binomial draw by normal approximation (impressions are in the hundreds or more). */
const binomial = (rng: Rng, n: number, p: number) =>
  Math.round(Math.min(n, Math.max(0, n * p + Math.sqrt(n * p * (1 - p)) * rng.normal())));

export function* generateCatalog(options: CatalogOptions): Generator<CatalogShow> {
  const opts = validateCatalogOptions(options);
  for (let index = 1; index <= opts.shows; index++) {
    const show = generateShow(opts.seed, index, opts.locale);
    const rng = Rng.for(opts.seed, 'synopses', index);
    const behaviorRng = Rng.for(opts.seed, 'behavior', index);
    // a show's appeal moves all its synopses together (what within-show analysis must remove)
    const showTake = -2 + 0.6 * behaviorRng.normal();
    const showAbandon = -1.2 + 0.4 * behaviorRng.normal();
    const showReach = Math.log(5000) + 0.8 * behaviorRng.normal();
    const count = rng.int(opts.synopsesPerShow[0], opts.synopsesPerShow[1]);
    const out: CatalogShow = { show, synopses: [], truths: [], behaviors: [] };
    for (let k = 1; k <= count; k++) {
      const id = `${show.id}-syn-${k}`;
      const { text } = writeSynopsis(show, rng, opts.defectRates);
      const truth = assessSynopsis(show, text);
      out.synopses.push({ id, showId: show.id, locale: show.locale, text });
      out.truths.push({
        synopsisId: id,
        showId: show.id,
        textHash: textHash(text),
        criteria: truth.criteria,
        defects: truth.defects,
        quality: truth.quality,
      });
      const lift = opts.behaviorEffect * (truth.quality - 0.5);
      const impressions = Math.max(50, Math.round(Math.exp(showReach + 0.3 * behaviorRng.normal())));
      const takes = binomial(behaviorRng, impressions, sigmoid(showTake + lift + 0.25 * behaviorRng.normal()));
      const abandons = binomial(behaviorRng, takes, sigmoid(showAbandon - lift / 2 + 0.25 * behaviorRng.normal()));
      out.behaviors.push({
        synopsisId: id,
        showId: show.id,
        impressions,
        takeFraction: clamp01(takes / impressions),
        abandonmentRate: takes ? clamp01(abandons / takes) : 0,
      });
    }
    yield out;
  }
}
