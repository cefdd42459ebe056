/**
 * One provider limit shared by every process that paces against the same pool (LLM_LIMIT_POOL) in
 * PostgreSQL, on any machine. The pool is one row: the time of its next free request slot (a GCRA
 * token bucket — slots 60/LLM_RPM_LIMIT s apart, at most one second of unused slots caught up after
 * an idle moment, as the in-memory pacer does). A process reserves a batch of consecutive slots with
 * one INSERT … ON CONFLICT DO UPDATE … RETURNING and hands them out locally, so a request costs no
 * round trip. Nobody holds a share: whoever has requests waiting reserves the next slots, so an
 * idle or dead worker's capacity goes to the others at once (a dead worker loses only the slots it
 * had reserved, about a tenth of a second of the limit). A process reserves no further ahead than
 * LOOKAHEAD_MS past its last slot, so a busy process cannot hoard the future: busy processes take
 * turns and get equal shares. A 429 moves the pool's next slot past the provider's retry time, for
 * every process.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { llmRatePools } from '../schema/tables/operations';
import { realClock, type Pacer, type PacerClock } from './limits';

/** Most of the pool's limit one reservation takes (and the demand it is sized for), in ms of it. */
const GRANT_MS = 100;
/** How far past now a process's reserved slots may reach before it reserves more. */
const LOOKAHEAD_MS = 100;
/** Wait before reserving again after the database failed to answer (requests wait meanwhile). */
const RETRY_MS = 1000;

export interface SharedPacerOptions {
  db: Db;
  /** Processes with the same pool name share `perMinute` (the provider endpoint by default). */
  pool: string;
  perMinute: number;
  clock?: PacerClock;
  logger?: Pick<Logger, 'warn'>;
}

/** `left` slots `interval` ms apart from `at` (local epoch ms). */
interface Batch {
  at: number;
  interval: number;
  left: number;
}

export class SharedPacer implements Pacer {
  private readonly batches: Batch[] = [];
  /** Requests with no slot yet, in arrival order. */
  private readonly waiting: ((at: number) => void)[] = [];
  private reserving = false;
  private refillScheduled = false;
  /** Local time just after the last slot reserved. */
  private horizon = 0;
  private pausedUntil = 0;
  private perMinute: number;
  private readonly clock: PacerClock;
  /** Request starts in the current and the previous second: the demand a reservation is sized for. */
  private second = 0;
  private startsNow = 0;
  private startsBefore = 0;
  private lastWarning = 0;

  constructor(private readonly opts: SharedPacerOptions) {
    this.perMinute = opts.perMinute;
    this.clock = opts.clock ?? realClock;
  }

  limitTo(perMinute: number) {
    if (perMinute > 0 && perMinute < this.perMinute) this.perMinute = perMinute;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    this.countStart();
    for (;;) {
      const at = (this.waiting.length ? undefined : this.take()) ?? (await this.slot(signal));
      if (at === undefined) return; // aborted
      this.refill();
      const wait = at - this.clock.now();
      if (wait > 0 && !signal?.aborted) await this.clock.sleep(wait, signal);
      // A 429 that came while this request slept took its slot away: it waits for one after the pause.
      if (at >= this.pausedUntil || signal?.aborted) return;
    }
  }

  pause(untilMs: number) {
    if (untilMs <= this.pausedUntil) return;
    this.pausedUntil = untilMs;
    const waitMs = untilMs - this.clock.now();
    this.opts.db
      .execute(
        sql`update ${llmRatePools} set next_at = greatest(next_at, clock_timestamp() + ${waitMs} * interval '1 millisecond')
            where pool = ${this.opts.pool}`,
      )
      .catch((err: unknown) => this.warn(err, 'the 429 pause did not reach the shared pool'));
  }

  private get interval() {
    return 60_000 / this.perMinute;
  }

  /** Unused slots older than this are gone (the bucket holds one second), and none start inside a pause. */
  private oldestUsable(now: number) {
    return Math.max(now - Math.max(0, 1000 - this.interval), this.pausedUntil);
  }

  private countStart() {
    const second = Math.floor(this.clock.now() / 1000);
    if (second !== this.second) {
      this.startsBefore = second === this.second + 1 ? this.startsNow : 0;
      this.startsNow = 0;
      this.second = second;
    }
    this.startsNow++;
  }

  private get remaining() {
    return this.batches.reduce((n, b) => n + b.left, 0);
  }

  /** The next reserved slot still usable, or undefined. */
  private take(): number | undefined {
    const oldest = this.oldestUsable(this.clock.now());
    while (this.batches.length) {
      const batch = this.batches[0];
      if (batch.at < oldest) {
        const gone = Math.min(batch.left, Math.ceil((oldest - batch.at) / batch.interval));
        batch.at += gone * batch.interval;
        batch.left -= gone;
      }
      if (batch.left <= 0) {
        this.batches.shift();
        continue;
      }
      const at = batch.at;
      batch.at += batch.interval;
      if (--batch.left === 0) this.batches.shift();
      return at;
    }
    return undefined;
  }

  /** Waits in line for a slot; undefined when `signal` aborts first. */
  private slot(signal?: AbortSignal): Promise<number | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const give = (at: number) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(at);
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(give), 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(give);
      this.refill();
    });
  }

  private dispatch() {
    while (this.waiting.length) {
      const at = this.take();
      if (at === undefined) return;
      this.waiting.shift()!(at);
    }
  }

  /**
   * Reserves more slots when requests wait for one, or when what is left would not last half a
   * grant at the current demand (so an unlimited worker never waits for the database) — but only
   * once its slots reach less than LOOKAHEAD_MS past now.
   */
  private refill() {
    if (this.reserving || this.refillScheduled) return;
    const demand = Math.max(this.startsNow, this.startsBefore) * (GRANT_MS / 1000);
    const remaining = this.remaining;
    if (!this.waiting.length && remaining >= demand / 2) return;
    const ahead = this.horizon - this.clock.now() - LOOKAHEAD_MS;
    if (ahead > 0) {
      this.refillScheduled = true;
      void this.clock.sleep(ahead).then(() => {
        this.refillScheduled = false;
        this.refill();
      });
      return;
    }
    const most = Math.max(1, Math.floor((this.perMinute / 60) * (GRANT_MS / 1000)));
    const count = Math.min(most, Math.max(1, Math.ceil(Math.max(this.waiting.length - remaining, demand))));
    this.reserving = true;
    void this.reserve(count).then(async (ok) => {
      if (!ok) await this.clock.sleep(RETRY_MS);
      this.reserving = false;
      this.dispatch();
      this.refill();
    });
  }

  /** Moves the pool's next slot `count` slots on; the slots passed over are this process's. */
  private async reserve(count: number): Promise<boolean> {
    const { interval } = this;
    const spanMs = count * interval;
    const catchUpMs = Math.max(0, 1000 - interval);
    try {
      const [row] = await this.opts.db.execute<{ end_in_ms: number }>(
        sql`insert into ${llmRatePools} as p (pool, next_at)
            values (${this.opts.pool}, clock_timestamp() + ${spanMs - catchUpMs} * interval '1 millisecond')
            on conflict (pool) do update
              set next_at = greatest(p.next_at, clock_timestamp() - ${catchUpMs} * interval '1 millisecond')
                + ${spanMs} * interval '1 millisecond'
            returning (extract(epoch from p.next_at - clock_timestamp()) * 1000)::float8 as end_in_ms`,
      );
      // The database's clock read as an offset: the machines' clocks need not agree.
      const end = this.clock.now() + row.end_in_ms;
      this.batches.push({ at: end - spanMs, interval, left: count });
      this.horizon = Math.max(this.horizon, end);
      return true;
    } catch (err) {
      this.warn(err, 'could not reserve LLM request slots from the shared pool; requests wait');
      return false;
    }
  }

  private warn(err: unknown, message: string) {
    const now = this.clock.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.opts.logger?.warn({ err, pool: this.opts.pool }, message);
  }
}
