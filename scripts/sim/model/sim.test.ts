/**
 * The simulated world's generator: deterministic per seed, every injected defect is exactly what
 * assessSynopsis detects (and clean text passes), revisions fix what they are asked to fix, pass
 * rates are realistic, and member behaviour follows latent quality only when the effect is on.
 */
import { showSchema, truthSchema, behaviorSchema, synopsisSchema } from '../../../schema/catalog';
import { assessSynopsis, TRUTH_CRITERIA, truthKey } from './assess';
import { CatalogOptionsError, generateCatalog, type CatalogShow } from './catalog';
import { reviseSynopsis } from './revise';
import { Rng, textHash } from './rng';
import { generateShow, writeCleanSynopsis, writeSynopsis } from './world';

const collect = (opts: Parameters<typeof generateCatalog>[0]) => [...generateCatalog(opts)];
const failing = (criteria: Record<string, number>) => TRUTH_CRITERIA.filter((c) => criteria[c] === 0).sort();

function correlation(xs: number[], ys: number[]) {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Correlation of quality and take fraction within shows (show means removed), as the validation analysis does. */
function withinShowCorrelation(catalog: CatalogShow[]) {
  const q: number[] = [];
  const take: number[] = [];
  for (const s of catalog) {
    if (s.truths.length < 2) continue;
    const mq = s.truths.reduce((a, t) => a + t.quality, 0) / s.truths.length;
    const mt = s.behaviors.reduce((a, b) => a + b.takeFraction, 0) / s.behaviors.length;
    s.truths.forEach((t, i) => {
      q.push(t.quality - mq);
      take.push(s.behaviors[i].takeFraction - mt);
    });
  }
  return correlation(q, take);
}

describe('synthetic catalog', () => {
  it('is deterministic per seed, and different seeds give different catalogs', () => {
    const a = collect({ shows: 50, seed: 42 });
    const b = collect({ shows: 50, seed: 42 });
    const c = collect({ shows: 50, seed: 43 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.map((s) => s.synopses.map((x) => x.text).join()).join()).not.toBe(
      c.map((s) => s.synopses.map((x) => x.text).join()).join(),
    );
  });

  it('writes records that match the catalog schemas, with 2–5 synopses a show and distinct ids', () => {
    const catalog = collect({ shows: 200, seed: 1 });
    const ids = new Set<string>();
    for (const { show, synopses, truths, behaviors } of catalog) {
      expect(showSchema.parse(show)).toEqual(show);
      expect(synopses.length).toBeGreaterThanOrEqual(2);
      expect(synopses.length).toBeLessThanOrEqual(5);
      expect(truths).toHaveLength(synopses.length);
      expect(behaviors).toHaveLength(synopses.length);
      for (const s of synopses) {
        synopsisSchema.parse(s);
        expect(ids.has(s.id)).toBe(false);
        ids.add(s.id);
      }
      truths.forEach((t) => truthSchema.parse(t));
      behaviors.forEach((b) => behaviorSchema.parse(b));
    }
  });

  it('truth equals assessSynopsis of each text, and the text hash matches the text', () => {
    for (const { show, synopses, truths } of collect({ shows: 300, seed: 9 })) {
      synopses.forEach((s, i) => {
        const a = assessSynopsis(show, s.text);
        expect(truths[i]).toEqual({
          synopsisId: s.id,
          showId: show.id,
          textHash: textHash(s.text),
          criteria: a.criteria,
          defects: a.defects,
          quality: a.quality,
        });
      });
    }
  });

  it('assessSynopsis detects exactly the criteria a defect was injected into, and clean text passes everything', () => {
    let checked = 0;
    const injectedCount: Record<string, number> = {};
    for (let i = 1; i <= 1500; i++) {
      const show = generateShow('inject', i);
      const rng = Rng.for('inject', i);
      const clean = writeCleanSynopsis(show, rng).join(' ');
      expect(failing(assessSynopsis(show, clean).criteria)).toEqual([]);
      // high rates so every kind of defect and most combinations occur
      const { text, injected } = writeSynopsis(show, rng, {
        tone: 0.5,
        clarity: 0.5,
        precision: 0.5,
        factuality_plot: 0.5,
        factuality_metadata: 0.5,
        factuality_talent: 0.5,
        factuality_awards: 0.5,
      });
      expect({ text, failing: failing(assessSynopsis(show, text).criteria) }).toEqual({
        text,
        failing: [...injected].sort(),
      });
      for (const c of injected) injectedCount[c] = (injectedCount[c] ?? 0) + 1;
      checked++;
    }
    expect(checked).toBe(1500);
    for (const c of TRUTH_CRITERIA) expect(injectedCount[c]).toBeGreaterThan(500);
  });

  it('with default rates each criterion passes 75–95% of the time and factuality (min of the agents) 60–80%', () => {
    const totals: Record<string, number> = {};
    let n = 0;
    for (const { truths } of collect({ shows: 1000, seed: 5 })) {
      for (const t of truths) {
        n++;
        for (const [c, v] of Object.entries(t.criteria)) totals[c] = (totals[c] ?? 0) + v;
      }
    }
    const rates = Object.fromEntries(Object.entries(totals).map(([c, v]) => [c, v / n]));
    console.log('pass rates over', n, 'synopses', rates);
    for (const c of TRUTH_CRITERIA) {
      expect(rates[c]).toBeGreaterThan(0.75);
      expect(rates[c]).toBeLessThan(0.95);
    }
    expect(rates.factuality).toBeGreaterThan(0.6);
    expect(rates.factuality).toBeLessThan(0.8);
  });

  it('member behaviour follows latent quality within shows when the effect is on, and not at all when it is 0', () => {
    const on = withinShowCorrelation(collect({ shows: 2000, seed: 11, behaviorEffect: 3 }));
    const off = withinShowCorrelation(collect({ shows: 2000, seed: 11, behaviorEffect: 0 }));
    console.log('within-show correlation of quality and take fraction', { effect3: on, effect0: off });
    expect(on).toBeGreaterThan(0.2);
    expect(Math.abs(off)).toBeLessThan(0.05);
  });

  it('rejects bad options with a message naming each one', () => {
    expect(() => collect({ shows: 0, seed: 1 })).toThrow(CatalogOptionsError);
    expect(() => collect({ shows: 5, seed: 1, synopsesPerShow: [3, 2] })).toThrow(/synopsesPerShow/);
    expect(() => collect({ shows: 5, seed: 1, defectRates: { tone: 1.5 } })).toThrow(/defect rate tone/);
    expect(() => collect({ shows: 5, seed: 1, behaviorEffect: Number.NaN })).toThrow(/behaviorEffect/);
  });
});

describe('reviseSynopsis (simulated writer)', () => {
  const sample = collect({ shows: 600, seed: 21 }).flatMap(({ show, synopses, truths }) =>
    synopses.map((s, i) => ({ show, text: s.text, truth: truths[i] })),
  );

  it('fixes exactly the criteria it is asked to fix and leaves the others as they were', () => {
    let fixes = 0;
    for (const { show, text, truth } of sample) {
      const bad = failing(truth.criteria);
      if (!bad.length) continue;
      const [first, ...others] = bad;
      const revised = assessSynopsis(show, reviseSynopsis(show, text, [first], 7));
      expect({ text, first, fixed: revised.criteria[first] }).toEqual({ text, first, fixed: 1 });
      for (const c of others) expect({ text, c, still: revised.criteria[c] }).toEqual({ text, c, still: 0 });
      const all = assessSynopsis(show, reviseSynopsis(show, text, bad, 7));
      expect(failing(all.criteria)).toEqual([]);
      fixes++;
    }
    expect(fixes).toBeGreaterThan(300);
  });

  it('understands the criterion names the fix loop uses, and leaves passing text alone', () => {
    const item = sample.find((s) => s.truth.criteria.factuality === 0 && s.truth.criteria.tone === 0)!;
    const revised = reviseSynopsis(item.show, item.text, ['factuality', 'tone'], 'w1');
    expect(assessSynopsis(item.show, revised).criteria).toMatchObject({ factuality: 1, tone: 1 });
    const clean = sample.find((s) => failing(s.truth.criteria).length === 0)!;
    expect(reviseSynopsis(clean.show, clean.text, ['tone', 'factuality.talent'], 3)).toBe(clean.text);
    expect(truthKey('factuality.talent')).toBe('factuality_talent');
    expect(truthKey('awards')).toBe('factuality_awards');
    expect(truthKey('nonsense')).toBeUndefined();
  });

  it('succeeds with the given probability, deterministically per seed', () => {
    const bad = sample.filter((s) => s.truth.criteria.tone === 0);
    const results = bad.map(
      (s) =>
        assessSynopsis(s.show, reviseSynopsis(s.show, s.text, ['tone'], `seed-${s.text.length}`, { successRate: 0.6 }))
          .criteria.tone,
    );
    const again = bad.map(
      (s) =>
        assessSynopsis(s.show, reviseSynopsis(s.show, s.text, ['tone'], `seed-${s.text.length}`, { successRate: 0.6 }))
          .criteria.tone,
    );
    const rate = results.reduce((a: number, b) => a + b, 0) / results.length;
    console.log(`writer fix success at successRate 0.6: ${rate.toFixed(3)} over ${results.length} revisions`);
    expect(again).toEqual(results);
    expect(rate).toBeGreaterThan(0.6 - 3 * Math.sqrt(0.24 / results.length));
    expect(rate).toBeLessThan(0.6 + 3 * Math.sqrt(0.24 / results.length));
  });
});
