import { SeenIds } from './seen-ids';

test('every repeated id is flagged, and few others are', () => {
  const seen = new SeenIds();
  const n = 300_000;
  for (let i = 0; i < n; i++) seen.add(`sim1-show-${String(i >> 2).padStart(6, '0')}-syn-${i % 4}`);
  // False positives only: none of these ids was repeated (about 1 in 10^5 expected at this size).
  expect(seen.maybeRepeated.size).toBeLessThan(20);
  const repeated = ['sim1-show-000007-syn-3', 'sim1-show-074999-syn-0', ''];
  for (const id of repeated) seen.add(id);
  seen.add('');
  expect(repeated.every((id) => seen.maybeRepeated.has(id))).toBe(true);
});
