import { analyzeDisagreements, disagreementDigest } from '../stats/disagreement';
import { PLANTED, plantedRound } from '../stats/__fixtures__/planted-round';
import { revisionFromDisagreements } from './demo-revision';

test('the scripted PM’s revision names the round’s most split items and inconsistently cited codes', () => {
  const digest = disagreementDigest(analyzeDisagreements(plantedRound()));
  const { text, note } = revisionFromDisagreements(3, 2, ['tone'], digest);
  expect(note).toMatch(/^round 2 below target on tone; most split: item-contested \(tone: pass 3 · fail 3\), /);
  expect(note).toContain(`codes cited inconsistently: clarity × ${PLANTED.contestedCode}`);
  expect(note).toContain(`furthest from consensus: ${PLANTED.contrarian}`);
  expect(text.split('\n')).toEqual([
    'Guidelines v3: worked examples and taxonomy codes added for tone.',
    expect.stringMatching(/^Worked examples: item-contested \(tone\), /),
    expect.stringContaining(`When to cite: clarity × ${PLANTED.contestedCode}`),
  ]);
  // a round run before the digest existed: the revision still names the criteria below target
  expect(revisionFromDisagreements(2, 1, ['tone', 'clarity'], undefined)).toEqual({
    text: 'Guidelines v2: worked examples and taxonomy codes added for tone, clarity.',
    note: 'round 1 below target on tone, clarity',
  });
});
