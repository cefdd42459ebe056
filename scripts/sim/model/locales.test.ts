/**
 * The simulated world in more than one language: a catalog in es-ES or fr-FR is written in that
 * language, carries the same defects by the same rules, its truth is what assessSynopsis finds
 * (with or without the show's locale), writers fix it in its language, and en-US is unchanged.
 */
import { createHash } from 'node:crypto';
import { assessSynopsis, TRUTH_CRITERIA } from './assess';
import { CatalogOptionsError, generateCatalog, type CatalogShow } from './catalog';
import { reviseSynopsis } from './revise';
import { Rng, textHash } from './rng';
import { vocabularyOf } from './vocabulary';
import { generateShow, writeCleanSynopsis, writeSynopsis } from './world';

const failing = (criteria: Record<string, number>) => TRUTH_CRITERIA.filter((c) => criteria[c] === 0).sort();
const HALF = Object.fromEntries(TRUTH_CRITERIA.map((c) => [c, 0.5]));
/** The words of a catalog's synopses, without its show titles (a title keeps its original English). */
const words = (catalog: CatalogShow[]) =>
  new Set(
    catalog
      .flatMap((s) => s.synopses.map((x) => x.text.split(s.show.title).join(' ')))
      .join(' ')
      .toLowerCase()
      .match(/[\p{L}']+/gu),
  );

describe('simulated locales', () => {
  it('writes an es-ES catalog in Spanish with its truth recorded, and ids apart from en-US', () => {
    const catalog = [...generateCatalog({ shows: 40, seed: 7, locale: 'es-ES' })];
    const english = [...generateCatalog({ shows: 40, seed: 7 })];
    const all = words(catalog);
    for (const w of ['el', 'la', 'de', 'serie', 'una', 'por', 'reparto']) expect(all.has(w)).toBe(true);
    for (const w of ['the', 'and', 'series', 'stars']) expect(all.has(w)).toBe(false);
    for (const { show, synopses, truths } of catalog) {
      expect(show.locale).toBe('es-ES');
      expect(show.id).toMatch(/^sim7-es-es-show-\d{6}$/);
      const first = synopses[0].text;
      expect(/^(?:En|Cuando|Una?) /.test(first) || first.startsWith(`${show.title} sigue a `)).toBe(true);
      synopses.forEach((s, i) => {
        expect(s.locale).toBe('es-ES');
        expect(truths[i].textHash).toBe(textHash(s.text));
        expect(truths[i].criteria).toEqual(assessSynopsis(show, s.text).criteria);
      });
    }
    const ids = new Set(english.map((s) => s.show.id));
    expect(catalog.some((s) => ids.has(s.show.id))).toBe(false);
    // the same defects at the same rates: the pass rates match the English catalog's
    const passes = (c: typeof catalog) =>
      TRUTH_CRITERIA.map((k) => c.flatMap((s) => s.truths).filter((t) => t.criteria[k]).length);
    expect(passes(catalog)).toEqual(passes(english));
    expect(catalog.flatMap((s) => s.truths).some((t) => t.defects.some((d) => d.detail.includes('impactante')))).toBe(
      true,
    );
  });

  it.each(['es-ES', 'fr-FR'])(
    'in %s detects exactly the injected defects, also when the show names no locale',
    (locale) => {
      for (let i = 1; i <= 300; i++) {
        const show = generateShow('inject', i, locale);
        expect(failing(assessSynopsis(show, writeCleanSynopsis(show, Rng.for('clean', i)).join(' ')).criteria)).toEqual(
          [],
        );
        const { text, injected } = writeSynopsis(show, Rng.for('w', i), HALF as never);
        expect({ text, failing: failing(assessSynopsis(show, text).criteria) }).toEqual({
          text,
          failing: [...injected].sort(),
        });
        // a judge prompt's show context has no locale: the text's language decides
        expect(assessSynopsis({ ...show, locale: 'en-US' }, text).criteria).toEqual(
          assessSynopsis(show, text).criteria,
        );
        expect(vocabularyOf(undefined, text).locale).toBe(locale);
        const revised = reviseSynopsis(show, text, ['tone', 'clarity', 'precision', 'factuality'], i);
        expect({ revised, failing: failing(assessSynopsis(show, revised).criteria) }).toEqual({ revised, failing: [] });
        expect(vocabularyOf(undefined, revised).locale).toBe(locale);
      }
    },
  );

  it('writes French in fr-FR', () => {
    const all = words([...generateCatalog({ shows: 40, seed: 7, locale: 'fr-FR' })]);
    for (const w of ['le', 'la', 'une', 'série', 'et', 'distribution']) expect(all.has(w)).toBe(true);
    for (const w of ['the', 'el', 'serie', 'una']) expect(all.has(w)).toBe(false);
  });

  it('refuses a locale it does not write, and keeps en-US exactly as it was', () => {
    expect(() => [...generateCatalog({ shows: 1, seed: 1, locale: 'xx-XX' })]).toThrow(CatalogOptionsError);
    expect(() => [...generateCatalog({ shows: 1, seed: 1, locale: 'xx-XX' })]).toThrow(
      /en-US, es-ES, fr-FR \(got xx-XX\)/,
    );
    // the test programs' catalog (test/program-fixture.ts): the demo and its asserted numbers depend on it
    const hash = createHash('sha256');
    for (const s of generateCatalog({ shows: 70, seed: 11 })) hash.update(JSON.stringify(s));
    expect(hash.digest('hex')).toBe('799ae81629d20e4d3afcb404c4b6f71dacfcd88763f269644b41580dff588404');
  });
});
