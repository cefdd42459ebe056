/**
 * A worker's activities share one event loop with its workflow tasks, queries and heartbeats, so a
 * long synchronous loop holds them all: building or reading a batch file of 1,000 requests in one go
 * held `judge status` for up to 0.6 s. A loop over many items hands the event loop back between slices.
 */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Items of a batch file handled between two yields: a few milliseconds of work. */
export const EVENT_LOOP_SLICE = 50;

/** `fn` on each of `items` in order, handing the event loop back after every `slice` of them. */
export async function forEachInSlices<T>(items: readonly T[], fn: (item: T) => void, slice = EVENT_LOOP_SLICE) {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % slice === 0) await yieldToEventLoop();
    fn(items[i]);
  }
}

/** `fn` over `items` in order, handing the event loop back after every `slice` of them. */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T) => R, slice = EVENT_LOOP_SLICE) {
  const out: R[] = [];
  await forEachInSlices(items, (item) => out.push(fn(item)), slice);
  return out;
}
