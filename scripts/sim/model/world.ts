/**
 * Shows and their synopses: correct text composed from the show record, then realistic defects
 * injected at configurable rates. The injected defects are exactly what assessSynopsis detects
 * (the tests check the two agree), so the truth never depends on remembering what was injected.
 */
import type { Show } from '../../../schema/catalog';
import { plotElementOf, type TruthCriterion } from './assess';
import {
  AWARDS,
  CLICKBAIT_SENTENCES,
  COMPLICATIONS,
  CONVOLUTED_TAILS,
  FIRST_NAMES,
  GENRES,
  LAST_NAMES,
  LOCATIONS,
  METADATA_TAILS,
  OCCUPATIONS,
  PLOT_ELEMENTS,
  PLOT_VERBS,
  TITLE_ADJECTIVES,
  TITLE_NOUNS,
  VAGUE_PHRASES,
  VAGUE_SENTENCES,
} from './pools';
import { Rng } from './rng';

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

export const withArticle = (noun: string) => (/^(?:[aeio]|u(?!ni))/i.test(noun) ? `an ${noun}` : `a ${noun}`);
export const showId = (seed: number | string, index: number) => `sim${seed}-show-${String(index).padStart(6, '0')}`;

export function generateShow(seed: number | string, index: number): Show {
  const rng = Rng.for(seed, 'show', index);
  const names = new Set<string>();
  while (names.size < rng.int(3, 6)) names.add(`${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`);
  const roles = ['lead', 'co-lead', 'supporting', 'supporting', 'director', 'creator'];
  const talent = [...names].map((name, i) => ({ name, role: i === names.size - 1 && i >= 3 ? 'creator' : roles[i] }));
  const locations = rng.sample(LOCATIONS, rng.int(1, 3));
  const plot = [
    `In ${locations[0]}, ${withArticle(rng.pick(OCCUPATIONS))} ${rng.pick(PLOT_VERBS)} ${rng.pick(PLOT_ELEMENTS)}.`,
    rng.pick(COMPLICATIONS),
    ...(locations[1] ? [`The trail leads to ${locations[1]}.`] : []),
  ].join(' ');
  return {
    id: showId(seed, index),
    title: `${rng.chance(0.4) ? 'The ' : ''}${rng.pick(TITLE_ADJECTIVES)} ${rng.pick(TITLE_NOUNS)}`,
    locale: 'en-US',
    genres: rng.sample(GENRES, rng.chance(0.3) ? 2 : 1),
    year: rng.int(1995, 2024),
    locations,
    talent,
    awards: rng.chance(0.35) ? rng.sample(AWARDS, rng.int(1, 2)) : [],
    plot,
  };
}

const occupationOf = (show: Show) => OCCUPATIONS.find((o) => show.plot.includes(o)) ?? 'stranger';
const verbOf = (show: Show) => PLOT_VERBS.find((v) => show.plot.includes(` ${v} `)) ?? 'uncovers';
const actors = (show: Show) =>
  show.talent.filter((t) => t.role !== 'director' && t.role !== 'creator').map((t) => t.name);

/** The opening sentence: who, where, and what the story turns on. */
export function openingSentence(show: Show, rng: Rng): string {
  const occupation = withArticle(occupationOf(show));
  const element = plotElementOf(show) ?? 'a secret';
  const place = show.locations[0];
  const verb = verbOf(show);
  const forms = [
    place
      ? `In ${place}, ${occupation} ${verb} ${element}.`
      : `${occupation[0].toUpperCase()}${occupation.slice(1)} ${verb} ${element}.`,
    `${show.title} follows ${occupation}${place ? ` in ${place}` : ''} who ${verb} ${element}.`,
    `When ${occupation}${place ? ` in ${place}` : ''} ${verb} ${element}, nothing stays simple.`,
  ];
  return rng.pick(forms);
}

/** A correct synopsis of the show (no defects). */
export function writeCleanSynopsis(show: Show, rng: Rng): string[] {
  const cast = actors(show);
  const crew = show.talent.find((t) => t.role === 'creator' || t.role === 'director');
  const occupation = occupationOf(show);
  const rest: string[] = [];
  if (rng.chance(0.6)) rest.push(rng.pick(COMPLICATIONS));
  if (cast.length && rng.chance(0.8)) {
    rest.push(
      cast.length > 1 && rng.chance(0.6)
        ? rng.pick([
            `${cast[0]} stars as the ${occupation}, opposite ${cast[1]}.`,
            `${cast[0]} and ${cast[1]} lead the cast.`,
          ])
        : `${cast[0]} stars as the ${occupation}.`,
    );
  }
  if (crew && rng.chance(0.3)) rest.push(`${crew.role === 'creator' ? 'Created' : 'Directed'} by ${crew.name}.`);
  if (show.genres.length && show.year !== undefined && rng.chance(0.75)) {
    const tail = rng.pick(METADATA_TAILS);
    rest.push(
      show.genres.length > 1 && rng.chance(0.5)
        ? `Part ${show.genres[0]}, part ${show.genres[1]}, this ${show.year} series ${tail}.`
        : rng.chance(0.5)
          ? `This ${show.year} ${show.genres[0]} ${tail}.`
          : `First released in ${show.year}, this ${show.genres[0]} ${tail}.`,
    );
  }
  if (show.awards.length && rng.chance(0.7))
    rest.push(rng.pick([`The series won the ${show.awards[0]}.`, `It went on to win the ${show.awards[0]}.`]));
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

type Injector = (show: Show, sentences: string[], rng: Rng) => void;

/** Injectors in the order they are applied: later ones never undo earlier ones. */
const INJECTORS: Array<[TruthCriterion, Injector]> = [
  [
    'precision',
    (show, s, rng) => {
      const element = plotElementOf(show);
      if (element && rng.chance(0.6) && replaceIn(s, element, rng.pick(VAGUE_PHRASES))) return;
      s.splice(rng.int(1, s.length), 0, `${rng.pick(VAGUE_SENTENCES)}.`);
    },
  ],
  [
    'factuality_plot',
    (show, s, rng) => {
      const wrong = pickOther(rng, PLOT_ELEMENTS, (e) => show.plot.toLowerCase().includes(e));
      const element = plotElementOf(show);
      if (element && replaceIn(s, element, wrong)) return;
      s.push(`It all turns on ${wrong}.`);
    },
  ],
  [
    'factuality_talent',
    (show, s, rng) => {
      const cast = new Set(show.talent.map((t) => t.name));
      let wrong = '';
      while (!wrong || cast.has(wrong)) wrong = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
      const present = show.talent.find((t) => s.some((x) => x.includes(t.name)));
      if (present && replaceIn(s, present.name, wrong)) return;
      s.push(`${wrong} also appears in a key role.`);
    },
  ],
  [
    'factuality_metadata',
    (show, s, rng) => {
      const kinds = ['year', 'genre', 'location'] as const;
      const kind = rng.pick(kinds);
      if (
        kind === 'genre' &&
        show.genres[0] &&
        replaceIn(
          s,
          show.genres[0],
          pickOther(rng, GENRES, (g) => show.genres.includes(g)),
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
      s.push(`First released in ${wrong}.`);
    },
  ],
  [
    'factuality_awards',
    (show, s, rng) => {
      const wrong = pickOther(rng, AWARDS, (a) => show.awards.includes(a));
      if (show.awards[0] && replaceIn(s, show.awards[0], wrong)) return;
      s.push(`The series won the ${wrong}.`);
    },
  ],
  [
    'clarity',
    (_show, s, rng) => {
      const i = rng.int(0, s.length - 1);
      s[i] = s[i].replace(/[.!?]$/, '') + rng.pick(CONVOLUTED_TAILS);
    },
  ],
  [
    'tone',
    (_show, s, rng) => {
      const style = rng.int(0, 2);
      if (style !== 1) s.push(rng.pick(CLICKBAIT_SENTENCES));
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
  const sentences = writeCleanSynopsis(show, rng);
  const injected: TruthCriterion[] = [];
  for (const [criterion, inject] of INJECTORS) {
    if (rng.chance(rates[criterion])) {
      inject(show, sentences, rng);
      injected.push(criterion);
    }
  }
  return { text: sentences.join(' '), injected };
}
