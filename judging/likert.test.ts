import { goldenVerdict, likertAccuracy } from './likert';

const scale = { points: 5, passAt: 4 };

test('a golden score passes at passAt; a binary label is its own verdict', () => {
  expect([1, 2, 3, 4, 5].map((l) => goldenVerdict(l, scale))).toEqual([0, 0, 0, 1, 1]);
  expect([0, 1].map((l) => goldenVerdict(l, undefined))).toEqual([0, 1]);
});

test('score agreement: exact, within one point and the mean distance; a judge error is a miss', () => {
  const pairs = [
    { gold: 5, score: 5 },
    { gold: 4, score: 5 },
    { gold: 2, score: 4 },
    { gold: 3, score: null },
  ];
  expect(likertAccuracy(scale, pairs)).toEqual({
    points: 5,
    passAt: 4,
    exact: 0.25,
    withinOne: 0.5,
    meanAbsoluteError: 1,
  });
  expect(likertAccuracy(scale, [])).toMatchObject({ exact: 0, withinOne: 0, meanAbsoluteError: null });
});
