/**
 * The simulated world's languages: each locale's word pools and sentence forms. A synopsis in any
 * of them carries the same defects, injected by the same rules and detected by assessSynopsis with
 * that locale's pools, so the hidden truth never depends on the language. Names, places, titles
 * and years are the same everywhere (they are what factuality checks against the show record).
 */
import {
  AWARDS,
  CLICKBAIT_SENTENCES,
  CLICKBAIT_WORDS,
  COMPLICATIONS,
  CONVOLUTED_MARKERS,
  CONVOLUTED_TAILS,
  GENRES,
  METADATA_TAILS,
  OCCUPATIONS,
  PLOT_ELEMENTS,
  PLOT_VERBS,
  VAGUE_PHRASES,
  VAGUE_SENTENCES,
} from './pools';
import type { Vocabulary } from './language';
import { SPANISH } from './vocabulary-es';
import { FRENCH } from './vocabulary-fr';

export const withArticle = (noun: string) => (/^(?:[aeio]|u(?!ni))/i.test(noun) ? `an ${noun}` : `a ${noun}`);
const capitalise = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}`;

const ENGLISH: Vocabulary = {
  locale: 'en-US',
  genres: GENRES,
  awards: AWARDS,
  occupations: OCCUPATIONS,
  plotElements: PLOT_ELEMENTS,
  plotVerbs: PLOT_VERBS,
  complications: COMPLICATIONS,
  metadataTails: METADATA_TAILS,
  clickbaitWords: CLICKBAIT_WORDS,
  clickbaitSentences: CLICKBAIT_SENTENCES,
  convolutedTails: CONVOLUTED_TAILS,
  convolutedMarkers: CONVOLUTED_MARKERS,
  vaguePhrases: VAGUE_PHRASES,
  vagueSentences: VAGUE_SENTENCES,
  stranger: 'stranger',
  someSecret: 'a secret',
  praise: 'wide praise',
  awardArticle: 'the',
  a: withArticle,
  plot: (place, who, verb, element) => `In ${place}, ${who} ${verb} ${element}.`,
  trail: (place) => `The trail leads to ${place}.`,
  openings: ({ who, place, verb, element, title }) => [
    place ? `In ${place}, ${who} ${verb} ${element}.` : `${capitalise(who)} ${verb} ${element}.`,
    `${title} follows ${who}${place ? ` in ${place}` : ''} who ${verb} ${element}.`,
    `When ${who}${place ? ` in ${place}` : ''} ${verb} ${element}, nothing stays simple.`,
  ],
  starsOpposite: (lead, other, occupation) => `${lead} stars as the ${occupation}, opposite ${other}.`,
  leadTogether: (lead, other) => `${lead} and ${other} lead the cast.`,
  stars: (lead, occupation) => `${lead} stars as the ${occupation}.`,
  credit: (role, name) => `${role === 'creator' ? 'Created' : 'Directed'} by ${name}.`,
  twoGenres: (first, second, year, tail) => `Part ${first}, part ${second}, this ${year} series ${tail}.`,
  thisYear: (year, genre, tail) => `This ${year} ${genre} ${tail}.`,
  firstReleased: (year, genre, tail) => `First released in ${year}, this ${genre} ${tail}.`,
  won: (award) => `The series won the ${award}.`,
  wentOnToWin: (award) => `It went on to win the ${award}.`,
  turnsOn: (element) => `It all turns on ${element}.`,
  alsoAppears: (name) => `${name} also appears in a key role.`,
  releasedIn: (year) => `First released in ${year}.`,
};

const VOCABULARIES: Record<string, Vocabulary> = { 'en-US': ENGLISH, 'es-ES': SPANISH, 'fr-FR': FRENCH };

/** The locales the simulated world writes synopses in. */
export const SIM_LOCALES = Object.keys(VOCABULARIES);

/** Words only one language's synopses use (lowercase, whole words). */
const MARKERS: Record<string, RegExp> = {
  'es-ES': /\b(?:el|los|las|del|una|al|con|por|y)\b/g,
  'fr-FR': /\b(?:une|des|du|et|au|avec|pour|dans)\b/g,
};
const OTHERS = [SPANISH, FRENCH];
/** Words a Spanish or French synopsis has (its openings all have one) and no English one does. */
const ROMANCE =
  /\b(?:de|en|un|una|une|la|le|el|les|los|las|des|del|du|et|y|al|au|con|por|avec|pour|dans|que|qui|sur|se)\b/;

/**
 * The vocabulary a synopsis is written in: its show's locale, or — where the show record does not
 * name one (a judge prompt's show context defaults to en-US) — the language its text is in: the
 * one whose occupations (every opening names one) and function words it uses most.
 */
export function vocabularyOf(locale: string | undefined, text?: string): Vocabulary {
  const named = locale && locale !== 'en-US' ? VOCABULARIES[locale] : undefined;
  // One scan that stops at the first hit: English text (most texts) has none of these words.
  if (named || text === undefined || !ROMANCE.test(text)) return named ?? ENGLISH;
  let best: [Vocabulary, number] = [ENGLISH, 0];
  for (const v of OTHERS) {
    const hits =
      (text.match(MARKERS[v.locale])?.length ?? 0) + 2 * v.occupations.filter((o) => text.includes(o)).length;
    if (hits > best[1]) best = [v, hits];
  }
  return best[0];
}

/** The vocabulary of a locale the simulated world writes, or an error naming the ones it has. */
export function vocabularyFor(locale: string): Vocabulary {
  const v = VOCABULARIES[locale];
  if (!v) throw new Error(`the simulated world has no locale "${locale}" (it has ${SIM_LOCALES.join(', ')})`);
  return v;
}
