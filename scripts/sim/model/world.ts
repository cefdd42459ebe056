/**
 * Shows and their synopses: correct text composed from the show record, then realistic defects
 * injected at configurable rates. The injected defects are exactly what assessSynopsis detects
 * (the tests check the two agree), so the truth never depends on remembering what was injected.
 */
import type { Show } from '../../../schema/catalog';
import { plotElementOf, type TruthCriterion } from './assess';
import type { Vocabulary } from './language';
import { FIRST_NAMES, LAST_NAMES, LOCATIONS, TITLE_ADJECTIVES, TITLE_NOUNS } from './pools';
import { Rng } from './rng';
import { vocabularyFor, vocabularyOf } from './vocabulary';

/** Probability that a synopsis carries a defect of each kind (independently). */
export type DefectRates = Record<TruthCriterion, number>;

/** Defaults chosen so each criterion passes 75–90% of the time and factuality (min of four) ~70%. */
export const DEFAULT_DEFECT_RATES: DefectRates = {
  tone: 0.22,
  clarity: 0.2,
  precision: 0.18,
  factuality_plot: 0.08,
  factuality_metadata: 0.1,
  factuality_talent: 0.09,
  factuality_awards: 0.06,
};

/** A show's id; a locale other than en-US is part of it, so one catalog holds every language. */
export const showId = (seed: number | string, index: number, locale = 'en-US') =>
  `sim${seed}-${locale === 'en-US' ? '' : `${locale.toLowerCase()}-`}show-${String(index).padStart(6, '0')}`;

/** A show of the simulated world, its plot in the locale's language (names, places and years are the same in all). */
export function generateShow(seed: number | string, index: number, locale = 'en-US'): Show {
  const v = vocabularyFor(locale);
  const rng = Rng.for(seed, 'show', index);
  const names = new Set<string>();
  while (names.size < rng.int(3, 6)) names.add(`${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`);
  const roles = ['lead', 'co-lead', 'supporting', 'supporting', 'director', 'creator'];
  const talent = [...names].map((name, i) => ({ name, role: i === names.size - 1 && i >= 3 ? 'creator' : roles[i] }));
  const locations = rng.sample(LOCATIONS, rng.int(1, 3));
  const plot = [
    v.plot(locations[0], v.a(rng.pick(v.occupations)), rng.pick(v.plotVerbs), rng.pick(v.plotElements)),
    rng.pick(v.complications),
    ...(locations[1] ? [v.trail(locations[1])] : []),
  ].join(' ');
  return {
    id: showId(seed, index, locale),
    title: `${rng.chance(0.4) ? 'The ' : ''}${rng.pick(TITLE_ADJECTIVES)} ${rng.pick(TITLE_NOUNS)}`,
    locale,
    genres: rng.sample(v.genres, rng.chance(0.3) ? 2 : 1),
    year: rng.int(1995, 2024),
    locations,
    talent,
    awards: rng.chance(0.35) ? rng.sample(v.awards, rng.int(1, 2)) : [],
    plot,
  };
}

const occupationOf = (show: Show, v: Vocabulary) => v.occupations.find((o) => show.plot.includes(o)) ?? v.stranger;
const verbOf = (show: Show, v: Vocabulary) =>
  v.plotVerbs.find((verb) => show.plot.includes(` ${verb} `)) ?? v.plotVerbs[0];
/** The language a show's synopses are written in. */
const languageOf = (show: Show) => vocabularyOf(show.locale, show.plot);
const actors = (show: Show) =>
  show.talent.filter((t) => t.role !== 'director' && t.role !== 'creator').map((t) => t.name);

/** The opening sentence: who, where, and what the story turns on. */
export function openingSentence(show: Show, rng: Rng): string {
  const v = languageOf(show);
  const who = v.a(occupationOf(show, v));
  const element = plotElementOf(show, v) ?? v.someSecret;
  return rng.pick(v.openings({ who, place: show.locations[0], verb: verbOf(show, v), element, title: show.title }));
}

/** A correct synopsis of the show (no defects). */
export function writeCleanSynopsis(show: Show, rng: Rng): string[] {
  const v = languageOf(show);
  const cast = actors(show);
  const crew = show.talent.find((t) => t.role === 'creator' || t.role === 'director');
  const occupation = occupationOf(show, v);
  const who = v.a(occupation);
  const rest: string[] = [];
  if (rng.chance(0.6)) rest.push(rng.pick(v.complications));
  if (cast.length && rng.chance(0.8)) {
    rest.push(
      cast.length > 1 && rng.chance(0.6)
        ? rng.pick([v.starsOpposite(cast[0], cast[1], occupation, who), v.leadTogether(cast[0], cast[1])])
        : v.stars(cast[0], occupation, who),
    );
  }
  if (crew && rng.chance(0.3)) rest.push(v.credit(crew.role === 'creator' ? 'creator' : 'director', crew.name));
  if (show.genres.length && show.year !== undefined && rng.chance(0.75)) {
    const tail = rng.pick(v.metadataTails);
    rest.push(
      show.genres.length > 1 && rng.chance(0.5)
        ? v.twoGenres(show.genres[0], show.genres[1], show.year, tail)
        : rng.chance(0.5)
          ? v.thisYear(show.year, show.genres[0], tail)
          : v.firstReleased(show.year, show.genres[0], tail),
    );
  }
  if (show.awards.length && rng.chance(0.7))
    rest.push(rng.pick([v.won(show.awards[0]), v.wentOnToWin(show.awards[0])]));
  return [openingSentence(show, rng), ...rng.sample(rest, rest.length)];
}

const pickOther = <T>(rng: Rng, pool: readonly T[], exclude: (item: T) => boolean): T => {
  const options = pool.filter((x) => !exclude(x));
  return rng.pick(options);
};

/** Replaces the first sentence containing `find` (true when something was replaced). */
function replaceIn(sentences: string[], find: string, replacement: string): boolean {
  const i = sentences.findIndex((s) => s.includes(find));
  if (i < 0) return false;
  sentences[i] = sentences[i].replace(find, replacement);
  return true;
}

type Injector = (show: Show, sentences: string[], rng: Rng, v: Vocabulary) => void;

/** Injectors in the order they are applied: later ones never undo earlier ones. */
const INJECTORS: Array<[TruthCriterion, Injector]> = [
  [
    'precision',
    (show, s, rng, v) => {
      const element = plotElementOf(show, v);
      if (element && rng.chance(0.6) && replaceIn(s, element, rng.pick(v.vaguePhrases))) return;
      s.splice(rng.int(1, s.length), 0, `${rng.pick(v.vagueSentences)}.`);
    },
  ],
  [
    'factuality_plot',
    (show, s, rng, v) => {
      const wrong = pickOther(rng, v.plotElements, (e) => show.plot.toLowerCase().includes(e));
      const element = plotElementOf(show, v);
      if (element && replaceIn(s, element, wrong)) return;
      s.push(v.turnsOn(wrong));
    },
  ],
  [
    'factuality_talent',
    (show, s, rng, v) => {
      const cast = new Set(show.talent.map((t) => t.name));
      let wrong = '';
      while (!wrong || cast.has(wrong)) wrong = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
      const present = show.talent.find((t) => s.some((x) => x.includes(t.name)));
      if (present && replaceIn(s, present.name, wrong)) return;
      s.push(v.alsoAppears(wrong));
    },
  ],
  [
    'factuality_metadata',
    (show, s, rng, v) => {
      const kinds = ['year', 'genre', 'location'] as const;
      const kind = rng.pick(kinds);
      if (
        kind === 'genre' &&
        show.genres[0] &&
        replaceIn(
          s,
          show.genres[0],
          pickOther(rng, v.genres, (g) => show.genres.includes(g)),
        )
      )
        return;
      if (
        kind === 'location' &&
        show.locations[0] &&
        replaceIn(
          s,
          show.locations[0],
          pickOther(rng, LOCATIONS, (l) => show.locations.includes(l)),
        )
      )
        return;
      const year = show.year ?? 2010;
      const wrong = String(year + (rng.chance(0.5) ? 1 : -1) * rng.int(1, 6));
      if (show.year !== undefined && replaceIn(s, String(show.year), wrong)) return;
      s.push(v.releasedIn(wrong));
    },
  ],
  [
    'factuality_awards',
    (show, s, rng, v) => {
      const wrong = pickOther(rng, v.awards, (a) => show.awards.includes(a));
      if (show.awards[0] && replaceIn(s, show.awards[0], wrong)) return;
      s.push(v.won(wrong));
    },
  ],
  [
    'clarity',
    (_show, s, rng, v) => {
      const i = rng.int(0, s.length - 1);
      s[i] = s[i].replace(/[.!?]$/, '') + rng.pick(v.convolutedTails);
    },
  ],
  [
    'tone',
    (_show, s, rng, v) => {
      const style = rng.int(0, 2);
      if (style !== 1) s.push(rng.pick(v.clickbaitSentences));
      if (style !== 0) {
        const i = rng.int(0, s.length - 1);
        s[i] = s[i].replace(/[.?]$/, '!');
      }
    },
  ],
];

export interface WrittenSynopsis {
  text: string;
  /** The criteria a defect was injected into (what the tests compare with assessSynopsis). */
  injected: TruthCriterion[];
}

/** One synopsis variant of a show: clean text, then each defect kind with its rate. */
export function writeSynopsis(show: Show, rng: Rng, rates: DefectRates = DEFAULT_DEFECT_RATES): WrittenSynopsis {
  const v = languageOf(show);
  const sentences = writeCleanSynopsis(show, rng);
  const injected: TruthCriterion[] = [];
  for (const [criterion, inject] of INJECTORS) {
    if (rng.chance(rates[criterion])) {
      inject(show, sentences, rng, v);
      injected.push(criterion);
    }
  }
  return { text: sentences.join(' '), injected };
}
