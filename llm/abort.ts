/**
 * Waiting on a page's AbortSignal without one listener per request. A page's signal goes into each
 * of its requests (hundreds in flight), and EventTarget's addEventListener and removeEventListener
 * walk every listener already there: one listener per request made each add and remove O(n), ~10%
 * of the worker's CPU at 1,000 requests/s (BENCHMARKS.md, issue 18). Here a signal has one listener,
 * which calls the callbacks registered with `onAbort`; registering and removing one is O(1).
 */
const callbacks = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `fn` once when `signal` aborts; the returned function unregisters it. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = callbacks.get(signal);
  if (!set) {
    const registered = new Set<() => void>();
    callbacks.set(signal, registered);
    signal.addEventListener(
      'abort',
      () => {
        callbacks.delete(signal);
        for (const f of registered) f();
      },
      { once: true },
    );
    set = registered;
  }
  set.add(fn);
  const own = set;
  return () => own.delete(fn);
}
