import { PLANTED, plantedRound } from './__fixtures__/planted-round';
import { analyzeDisagreements, digestMarkdown, disagreementDigest, formatVotes } from './disagreement';

test('a seeded round with planted disagreements: the contested item first, the contrarian furthest from consensus', () => {
  const labels = plantedRound();
  const a = analyzeDisagreements(labels, { top: 10 });
  expect(a.raterIds).toEqual([...PLANTED.raters].sort());
  expect(a.raters.map((r) => r.rater).sort()).toEqual(a.raterIds);
  expect(a.labels).toBe(labels.length);

  expect(a.splitItems).toHaveLength(10);
  expect(a.splitItems[0]).toMatchObject({
    item: PLANTED.contestedItem,
    criterion: PLANTED.contestedCriterion,
    entropy: 1,
    ratings: 6,
  });
  expect(a.splitItems[0].votes.map((v) => v.explanation)).toEqual(
    expect.arrayContaining(['dry humour fits the show', 'too flippant for a drama']),
  );
  for (let i = 1; i < a.splitItems.length; i++)
    expect(a.splitItems[i].entropy).toBeLessThanOrEqual(a.splitItems[i - 1].entropy);

  expect(a.raters[0].rater).toBe(PLANTED.contrarian);
  expect(a.raters[0].agreement).toBeLessThan(0.4);
  for (const r of a.raters.slice(1)) expect(r.agreement).toBeGreaterThan(0.75);

  // every pair with the contrarian agrees less than every pair without
  const withContrarian = a.pairs.filter((p) => [p.raterA, p.raterB].includes(PLANTED.contrarian));
  expect(withContrarian).toHaveLength(5);
  expect(a.pairs.slice(0, 5)).toEqual(withContrarian);
  expect(a.pairs).toHaveLength(15);

  const codeRows = a.codes.filter((c) => c.code !== null);
  expect(codeRows[0]).toMatchObject({ criterion: 'clarity', code: PLANTED.contestedCode });
  expect(
    a.codes
      .filter((c) => c.code === null)
      .map((c) => c.criterion)
      .sort(),
  ).toEqual(['clarity', 'tone']);

  const digest = disagreementDigest(a);
  expect(digest.topItems[0]).toEqual({
    criterion: 'tone',
    item: PLANTED.contestedItem,
    entropy: 1,
    votes: 'pass 3 · fail 3',
  });
  expect(digest.furthestRaters[0].rater).toBe(PLANTED.contrarian);
  expect(digest.contestedCodes[0].code).toBe(PLANTED.contestedCode);
  expect(digest.worstPairs).toHaveLength(3);
  // small enough for a gate's details and a history event
  expect(JSON.stringify(digest).length).toBeLessThan(1500);
  const md = digestMarkdown(digest);
  expect(md).toContain(`${PLANTED.contestedItem} (tone: pass 3 · fail 3)`);
  expect(md).toContain(`${PLANTED.contrarian} `);
});

test('an answer sent twice counts once (the latest); a unanimous round has nothing split; no labels says so', () => {
  const labels = [
    { item: 'a', rater: 'x', criterion: 'tone', label: 0 },
    { item: 'a', rater: 'x', criterion: 'tone', label: 1 },
    { item: 'a', rater: 'y', criterion: 'tone', label: 1 },
    { item: 'b', rater: 'x', criterion: 'tone', label: 1 },
    { item: 'b', rater: 'y', criterion: 'tone', label: 1 },
  ];
  const a = analyzeDisagreements(labels);
  expect(a.labels).toBe(4);
  expect(a.splitItems).toEqual([]);
  expect(a.pairs).toEqual([{ raterA: 'x', raterB: 'y', items: 2, percent_agreement: 1, cohen_kappa: null }]);
  expect(disagreementDigest(a).topItems).toEqual([]);
  expect(digestMarkdown(disagreementDigest(a))).toContain('none, every item unanimous');

  const none = analyzeDisagreements([]);
  expect(none).toMatchObject({ labels: 0, items: 0, raterIds: [], splitItems: [], pairs: [], codes: [], raters: [] });
  expect(digestMarkdown(disagreementDigest(none))).toBe('No labels in this round.');
});

test('votes read pass/fail on binary criteria and as scale points otherwise', () => {
  const counts = [
    { label: 0, count: 1 },
    { label: 1, count: 2 },
  ];
  expect(formatVotes(counts, true)).toBe('pass 2 · fail 1');
  expect(
    formatVotes(
      [
        { label: 4, count: 2 },
        { label: 2, count: 3 },
      ],
      false,
    ),
  ).toBe('2: 3 · 4: 2');
});
