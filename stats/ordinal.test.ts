import { lowerMedian } from './ordinal';
import { StatsInputError } from './data';

test('the lower median: a point of the scale, unmoved by one outlier, an even split takes the lower score', () => {
  expect(lowerMedian([4])).toBe(4);
  expect(lowerMedian([5, 1, 4])).toBe(4);
  expect(lowerMedian([4, 4, 4, 4, 1])).toBe(4);
  expect(lowerMedian([3, 4])).toBe(3);
  expect(lowerMedian([5, 2, 4, 3])).toBe(3);
  expect(() => lowerMedian([])).toThrow(StatsInputError);
});
