/**
 * Page and shard sizes: a page is about 1,000 judge calls, never under 250 items (what four criteria
 * always had) nor over 1,000; a shard is four pages at most, and four shards per slot on a small run.
 */
import { defaultPageSize, defaultShardSize } from './production';

test('a page holds about 1,000 judge calls: 1,000 items for one criterion, 250 for four or more calls an item', () => {
  expect(defaultPageSize(['tone'], 1)).toBe(1000);
  expect(defaultPageSize(['tone', 'clarity'], 1)).toBe(500);
  expect(defaultPageSize(['tone', 'clarity', 'precision', 'factuality'], 1)).toBe(250);
  expect(defaultPageSize(['tone'], 5)).toBe(250);
  // samples per criterion count criterion by criterion
  expect(defaultPageSize(['tone', 'clarity'], { tone: 2, clarity: 1 })).toBe(333);
});

test('a shard is at most four pages, and about four per slot on a small run', () => {
  expect(defaultShardSize(1_000_000, 8, 1000)).toBe(4000);
  expect(defaultShardSize(1_000_000, 8, 250)).toBe(1000);
  expect(defaultShardSize(10_000, 8, 1000)).toBe(313);
  expect(defaultShardSize(300, 8, 250)).toBe(25);
});
