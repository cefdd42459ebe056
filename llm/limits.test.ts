/**
 * The request pacer on a simulated clock (deterministic: no real timers): requests that arrive in
 * chunks with idle gaps between them still start at the limit's rate, no window ever exceeds the
 * limit plus the bucket, and a provider's pause holds everyone back.
 */
import { RequestPacer, type PacerClock } from './limits';

/** A discrete-event clock: sleeps wake in time order, each `lateMs` late (a busy event loop). */
class FakeClock implements PacerClock {
  t = 0;
  private timers: { at: number; wake: () => void }[] = [];
  constructor(private readonly lateMs = 0) {}
  now = () => this.t;
  sleep = (ms: number) => new Promise<void>((wake) => this.timers.push({ at: this.t + ms + this.lateMs, wake }));
  /** Runs until nothing is pending. */
  async drain() {
    for (;;) {
      await new Promise((r) => setImmediate(r)); // every microtask the last wake-up caused
      if (!this.timers.length) return;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift()!;
      this.t = Math.max(this.t, next.at);
      next.wake();
    }
  }
}

/**
 * `chunks` chunks of `size` requests: a chunk is handed to the pacer when the previous one has
 * all started plus `gapMs` (its slowest answer, its transaction). Returns the start times.
 */
async function chunkedRun(pacer: RequestPacer, clock: FakeClock, chunks: number, size: number, gapMs: number) {
  const starts: number[] = [];
  const run = async () => {
    for (let c = 0; c < chunks; c++) {
      await Promise.all(
        Array.from({ length: size }, async () => {
          await pacer.acquire();
          starts.push(clock.now());
        }),
      );
      await clock.sleep(gapMs);
    }
  };
  const done = run();
  await clock.drain();
  await done;
  return starts;
}

/** The most starts in any window of `windowMs`. */
function maxInWindow(starts: number[], windowMs: number) {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

test('requests in chunks with 200 ms gaps start within 2% of the limit (12,000 rpm, late timers)', async () => {
  const clock = new FakeClock(2);
  const rpm = 12_000; // 200 requests/s
  const starts = await chunkedRun(new RequestPacer(rpm, clock), clock, 40, 200, 200);
  expect(starts).toHaveLength(8000);
  const spanS = (Math.max(...starts) - Math.min(...starts)) / 1000;
  const achieved = starts.length / spanS / (rpm / 60);
  console.log(
    `achieved ${achieved.toFixed(3)} of the limit over ${starts.length} requests (${spanS.toFixed(1)} s simulated)`,
  );
  expect(achieved).toBeGreaterThan(0.98);
  // Never faster than the limit plus the one-second bucket, in any window.
  for (const windowMs of [1000, 10_000, 60_000])
    expect(maxInWindow(starts, windowMs)).toBeLessThanOrEqual((rpm / 60) * (windowMs / 1000) + rpm / 60);
});

test('a bucket of one (a limit under 60 rpm) spaces every start', async () => {
  const clock = new FakeClock();
  const starts = await chunkedRun(new RequestPacer(30, clock), clock, 2, 5, 0);
  starts.sort((a, b) => a - b);
  expect(starts.slice(1).map((s, i) => s - starts[i])).toEqual(Array(9).fill(2000));
});

test('a pause holds every later start until the provider’s reset, without a burst after it', async () => {
  const clock = new FakeClock();
  const pacer = new RequestPacer(6000, clock); // 100/s, 10 ms apart
  pacer.pause(5000);
  const starts = await chunkedRun(pacer, clock, 1, 50, 0);
  starts.sort((a, b) => a - b);
  expect(starts[0]).toBe(5000);
  expect(starts.at(-1)).toBe(5000 + 49 * 10);
});

test('limitTo lowers the pace and never raises it', async () => {
  const clock = new FakeClock();
  const pacer = new RequestPacer(60, clock); // bucket of one: 1 s apart
  pacer.limitTo(30);
  pacer.limitTo(120);
  const starts = await chunkedRun(pacer, clock, 1, 3, 0);
  expect(starts.sort((a, b) => a - b)).toEqual([0, 2000, 4000]);
});
