import { forEachInSlices, mapInSlices } from './event-loop';

test('maps in order and lets timers and I/O callbacks run between slices', async () => {
  const ran: string[] = [];
  const items = Array.from({ length: 120 }, (_, i) => i);
  // A callback queued before the loop starts runs after the first slice, not after the whole loop.
  setImmediate(() => ran.push('other task'));
  const doubled = await mapInSlices(
    items,
    (i) => {
      ran.push(`item ${i}`);
      return i * 2;
    },
    50,
  );
  expect(doubled).toEqual(items.map((i) => i * 2));
  expect(ran.indexOf('other task')).toBe(50);
});

test('an empty list and a slice larger than the list map without waiting', async () => {
  await expect(mapInSlices([], (x: number) => x)).resolves.toEqual([]);
  await expect(mapInSlices([1, 2], (x) => x + 1, 50)).resolves.toEqual([2, 3]);
});

test('forEachInSlices runs in order and yields between slices as mapInSlices does', async () => {
  const ran: string[] = [];
  setImmediate(() => ran.push('other task'));
  await forEachInSlices([0, 1, 2, 3, 4], (i) => ran.push(`item ${i}`), 2);
  expect(ran).toEqual(['item 0', 'item 1', 'other task', 'item 2', 'item 3', 'item 4']);
});
