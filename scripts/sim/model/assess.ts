/**
 * The hidden truth of a synopsis: a pure function of the show record and the text. The generator,
 * the LLM simulator and the simulated raters all call this, so a revised text a writer produced in
 * the fix loop has a truth too. Every rule looks for a defect the generator knows how to inject.
 */
import type { Show } from '../../../schema/catalog';
import type { Vocabulary } from './language';
import { FIRST_NAMES, LAST_NAMES, LOCATIONS, MAX_SENTENCE_WORDS } from './pools';
import { vocabularyOf } from './vocabulary';

/** The criteria a synopsis is judged on; factuality split into its four agents. */
export const TRUTH_CRITERIA = [
  'tone',
  'clarity',
  'precision',
  'factuality_plot',
  'factuality_metadata',
  'factuality_talent',
  'factuality_awards',
] as const;
export type TruthCriterion = (typeof TRUTH_CRITERIA)[number];
/** Plus `factuality` = min over the four agents. */
export type TruthKey = TruthCriterion | 'factuality';

export interface Defect {
  criterion: TruthCriterion;
  code: string;
  detail: string;
}

export interface Assessment {
  criteria: Record<TruthKey, 0 | 1>;
  defects: Defect[];
  /** Latent quality in [0,1] (drives member behaviour): a weighted share of criteria passed. */
  quality: number;
}

/**
 * Maps the names criteria go by elsewhere (`factuality.talent` in prompts, `talent` as an agent,
 * `factuality_talent` here) to a truth key; undefined when the name is unknown.
 */
export function truthKey(name: string): TruthKey | undefined {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/[.\s-]/g, '_');
  if (n === 'tone' || n === 'clarity' || n === 'precision' || n === 'factuality') return n;
  const agent = n.startsWith('factuality_') ? n.slice('factuality_'.length) : n;
  return (['plot', 'metadata', 'talent', 'awards'] as const).includes(agent as never)
    ? (`factuality_${agent}` as TruthKey)
    : undefined;
}

// Module-level copies: in the CommonJS build every access to an imported binding is a property
// lookup, and these run for every synopsis of a 500k catalog.
const NAME_RE = /\b([A-Z][a-z]+) ([A-Z][a-z]+)\b/g;
const FIRST = new Set<string>(FIRST_NAMES);
const LAST = new Set<string>(LAST_NAMES);
const YEAR_RE = /\b(?:1[89]\d\d|20\d\d)\b/g;
const CAPITALISED_RE = /\b[A-Z][a-z]+\b/g;
const PLACES = new Set<string>(LOCATIONS);
const MAX_WORDS = MAX_SENTENCE_WORDS;

/** A language's pools as the rules read them, built once per language. */
interface Rules {
  genreRe: RegExp;
  awards: readonly string[];
  clickbait: readonly string[];
  markers: readonly string[];
  vague: readonly string[];
  filler: readonly string[];
  elements: readonly string[];
}
const RULES = new Map<Vocabulary, Rules>();
function rulesOf(v: Vocabulary): Rules {
  let rules = RULES.get(v);
  if (!rules) {
    rules = {
      genreRe: new RegExp(`\\b(?:${v.genres.join('|')})\\b`, 'g'),
      awards: [...v.awards],
      clickbait: [...v.clickbaitWords],
      markers: [...v.convolutedMarkers],
      vague: [...v.vaguePhrases],
      filler: [...v.vagueSentences],
      elements: [...v.plotElements],
    };
    RULES.set(v, rules);
  }
  return rules;
}

export const splitSentences = (text: string) => text.split(/(?<=[.!?])\s+/).filter((s) => s.trim().length > 0);
const unique = (items: Iterable<string>) => [...new Set(items)];

/** Sentences longer than the limit, with their word counts (one pass, no splitting). */
function overlongSentences(text: string): Array<{ sentence: string; words: number }> {
  const out: Array<{ sentence: string; words: number }> = [];
  let start = 0;
  let words = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 && text.charCodeAt(i - 1) !== 32) words++;
    if ((c === 46 || c === 33 || c === 63) && (i + 1 === text.length || text.charCodeAt(i + 1) === 32)) {
      if (words > MAX_WORDS) out.push({ sentence: text.slice(start, i + 1).trim(), words });
      start = i + 1;
      words = 0;
    }
  }
  return out;
}

/** The plot element a show's plot turns on (the first pool element its plot names). */
export const plotElementOf = (
  show: Pick<Show, 'plot' | 'locale'>,
  v: Vocabulary = vocabularyOf(show.locale, show.plot),
) => rulesOf(v).elements.find((e) => show.plot.toLowerCase().includes(e));

/** The hidden truth of a text; its pools are the show's language, or the text's where the record names none. */
export function assessSynopsis(show: Show, text: string): Assessment {
  const { genreRe, awards, clickbait, markers, vague, filler, elements } = rulesOf(vocabularyOf(show.locale, text));
  const defects: Defect[] = [];
  const lower = text.toLowerCase();
  const add = (criterion: TruthCriterion, code: string, detail: string) => defects.push({ criterion, code, detail });

  // tone: hype and exclamation marks are off-brand
  if (text.includes('!')) add('tone', 'exclamation', 'uses exclamation marks, which are off-brand');
  for (const w of clickbait) if (lower.includes(w)) add('tone', 'clickbait', `uses clickbait wording ("${w}")`);

  // clarity: convoluted constructions, or sentences too long to follow
  for (const m of markers)
    if (lower.includes(m)) add('clarity', 'convoluted_sentence', `convoluted construction ("${m}")`);
  for (const { sentence, words } of overlongSentences(text))
    add('clarity', 'overlong_sentence', `a ${words}-word sentence ("${sentence.slice(0, 40)}…")`);

  // precision: vague filler instead of concrete story
  for (const p of vague)
    if (lower.includes(p)) add('precision', 'vague_phrase', `vague wording ("${p}") where a concrete detail belongs`);
  for (const s of filler)
    if (text.includes(s)) add('precision', 'vague_filler', `filler sentence that says nothing ("${s}.")`);

  // factuality.plot: a story element the plot summary does not contain
  const plotLower = show.plot.toLowerCase();
  for (const e of elements) {
    if (lower.includes(e) && !plotLower.includes(e))
      add('factuality_plot', 'contradicts_plot', `mentions ${e}, which is not in the plot`);
  }

  // factuality.metadata: year, genre and places must match the record
  for (const y of unique(text.match(YEAR_RE) ?? [])) {
    if (show.year === undefined || Number(y) !== show.year) {
      add(
        'factuality_metadata',
        'wrong_year',
        show.year === undefined
          ? `states the year ${y}, which the record does not support`
          : `states the year ${y}, but the show is from ${show.year}`,
      );
    }
  }
  const genres = new Set(show.genres.map((g) => g.toLowerCase()));
  for (const g of unique(lower.match(genreRe) ?? [])) {
    if (!genres.has(g))
      add(
        'factuality_metadata',
        'wrong_genre',
        `calls the show a ${g}, but its genres are ${show.genres.join(', ') || 'not listed'}`,
      );
  }
  const places = new Set(show.locations);
  for (const l of unique((text.match(CAPITALISED_RE) ?? []).filter((w) => PLACES.has(w)))) {
    if (!places.has(l))
      add('factuality_metadata', 'wrong_location', `places the story in ${l}, which is not one of its locations`);
  }

  // factuality.talent: every named person must be in the show's talent
  const cast = new Set(show.talent.map((t) => t.name));
  const names: string[] = [];
  for (const m of text.matchAll(NAME_RE)) if (FIRST.has(m[1]) && LAST.has(m[2])) names.push(m[0]);
  for (const name of unique(names)) {
    if (!cast.has(name)) add('factuality_talent', 'wrong_talent', `names ${name}, who is not in the cast or crew`);
  }

  // factuality.awards: no award the show did not win
  for (const a of awards)
    if (text.includes(a) && !show.awards.includes(a))
      add('factuality_awards', 'invented_award', `claims the ${a}, which the show did not win`);

  const failed = new Set(defects.map((d) => d.criterion));
  const pass = (c: TruthCriterion): 0 | 1 => (failed.has(c) ? 0 : 1);
  const criteria = {
    tone: pass('tone'),
    clarity: pass('clarity'),
    precision: pass('precision'),
    factuality_plot: pass('factuality_plot'),
    factuality_metadata: pass('factuality_metadata'),
    factuality_talent: pass('factuality_talent'),
    factuality_awards: pass('factuality_awards'),
  } as Record<TruthKey, 0 | 1>;
  criteria.factuality = Math.min(
    criteria.factuality_plot,
    criteria.factuality_metadata,
    criteria.factuality_talent,
    criteria.factuality_awards,
  ) as 0 | 1;
  const quality =
    0.2 * (criteria.tone + criteria.clarity + criteria.precision) +
    0.1 *
      (criteria.factuality_plot +
        criteria.factuality_metadata +
        criteria.factuality_talent +
        criteria.factuality_awards);
  return { criteria, defects, quality: Math.round(quality * 1000) / 1000 };
}
