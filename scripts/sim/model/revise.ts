/**
 * What a simulated writer does in the fix loop: rewrites the parts of a synopsis that fail the
 * given criteria, leaving the rest as it was. Each criterion's fix succeeds with `successRate`
 * (the caller's choice); the outcome is deterministic for a given seed.
 */
import type { Show } from '../../../schema/catalog';
import { assessSynopsis, plotElementOf, splitSentences, truthKey, type TruthCriterion } from './assess';
import type { Vocabulary } from './language';
import { MAX_SENTENCE_WORDS } from './pools';
import { Rng } from './rng';
import { vocabularyOf } from './vocabulary';
import { openingSentence } from './world';

export interface ReviseOptions {
  /** Probability that the writer fixes each requested criterion (default 1). */
  successRate?: number;
}

/** Expands criterion names as the fix loop sends them (`factuality` means all four agents). */
function criteriaFrom(names: string[]): Set<TruthCriterion> {
  const out = new Set<TruthCriterion>();
  for (const name of names) {
    const key = truthKey(name);
    if (key === 'factuality')
      for (const a of ['plot', 'metadata', 'talent', 'awards'] as const) out.add(`factuality_${a}`);
    else if (key) out.add(key);
  }
  return out;
}

/** Replaces every `from` with `to`, or drops the sentences holding `from` when there is no `to`. */
function fix(sentences: string[], from: string, to: string | undefined): string[] {
  return to === undefined ? sentences.filter((s) => !s.includes(from)) : sentences.map((s) => s.split(from).join(to));
}

/** Shortens an over-long sentence at its last comma that keeps it under the limit. */
function shorten(sentence: string): string {
  const words = sentence.split(/\s+/);
  if (words.length <= MAX_SENTENCE_WORDS) return sentence;
  const head = words.slice(0, MAX_SENTENCE_WORDS).join(' ');
  const cut = head.lastIndexOf(',');
  return `${(cut > 0 ? head.slice(0, cut) : head).replace(/[,;:]$/, '')}.`;
}

type Fixer = (show: Show, sentences: string[], rng: Rng, text: string, v: Vocabulary) => string[];

const FIXERS: Record<TruthCriterion, Fixer> = {
  tone: (_show, s, _rng, _text, v) =>
    s.filter((x) => !v.clickbaitWords.some((w) => x.toLowerCase().includes(w))).map((x) => x.replace(/!+/g, '.')),
  clarity: (_show, s, _rng, _text, v) =>
    s
      // the tail's own full stop may have become '!' since: keep whatever ends the sentence
      .map((x) => v.convolutedTails.reduce((acc, tail) => acc.split(tail.slice(0, -1)).join(''), x))
      .filter((x) => !v.convolutedMarkers.some((m) => x.toLowerCase().includes(m)))
      .map(shorten),
  precision: (show, s, _rng, _text, v) => {
    const element = plotElementOf(show, v);
    // filler becomes the concrete point (edited in place, so other defects of the sentence stay)
    let out = s;
    for (const f of v.vagueSentences) out = fix(out, f, element && v.turnsOn(element).slice(0, -1));
    for (const p of v.vaguePhrases) out = fix(out, p, element);
    return out;
  },
  factuality_plot: (show, s, _rng, text, v) =>
    defectsIn(show, text, 'factuality_plot').reduce(
      (acc, d) => fix(acc, d.detail.replace(/^mentions (.*), which is not in the plot$/, '$1'), plotElementOf(show, v)),
      s,
    ),
  factuality_metadata: (show, s, _rng, text) =>
    defectsIn(show, text, 'factuality_metadata').reduce((acc, d) => {
      const [, value] = /^(?:states the year|calls the show a|places the story in) ([^,]+)/.exec(d.detail) ?? [];
      if (!value) return acc;
      const right =
        d.code === 'wrong_year' ? show.year?.toString() : d.code === 'wrong_genre' ? show.genres[0] : show.locations[0];
      return fix(acc, value, right);
    }, s),
  factuality_talent: (show, s, rng, text) =>
    defectsIn(show, text, 'factuality_talent').reduce((acc, d) => {
      const wrong = /^names (.*), who/.exec(d.detail)?.[1] ?? '';
      const unused = show.talent.filter((t) => !text.includes(t.name));
      const right = unused.length ? rng.pick(unused).name : show.talent[0]?.name;
      return fix(acc, wrong, right);
    }, s),
  factuality_awards: (show, s, _rng, text, v) =>
    defectsIn(show, text, 'factuality_awards').reduce((acc, d) => {
      const award = /^claims the (.*), which/.exec(d.detail)?.[1] ?? '';
      // a show without awards gets a claim it can carry instead of losing the sentence
      return show.awards[0]
        ? fix(acc, award, show.awards[0])
        : fix(fix(acc, `${v.awardArticle} ${award}`, v.praise), award, v.praise);
    }, s),
};

const defectsIn = (show: Show, text: string, criterion: TruthCriterion) =>
  assessSynopsis(show, text).defects.filter((d) => d.criterion === criterion);

export function reviseSynopsis(
  show: Show,
  text: string,
  criteriaToFix: string[],
  rng: Rng | number | string,
  opts: ReviseOptions = {},
): string {
  const random = rng instanceof Rng ? rng : Rng.for('revise', rng, text);
  const successRate = opts.successRate ?? 1;
  const v = vocabularyOf(show.locale, text);
  let sentences = splitSentences(text);
  for (const criterion of Object.keys(FIXERS) as TruthCriterion[]) {
    if (!criteriaFrom(criteriaToFix).has(criterion)) continue;
    if (!random.chance(successRate)) continue;
    sentences = FIXERS[criterion](show, sentences, random, sentences.join(' '), v);
  }
  // a writer never hands back an empty synopsis
  if (sentences.length === 0) sentences = [openingSentence(show, random)];
  return sentences.join(' ');
}
