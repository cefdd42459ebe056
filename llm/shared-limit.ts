/**
 * One provider limit shared by every process that paces against the same pool (LLM_LIMIT_POOL) in
 * PostgreSQL, on any machine. The pool is one row: the time of its next free request slot (a GCRA
 * token bucket — slots 60/LLM_RPM_LIMIT s apart, at most one second of unused slots caught up after
 * an idle moment, as the in-memory pacer does). A process reserves consecutive slots for the
 * requests waiting with one INSERT … ON CONFLICT DO UPDATE … RETURNING and hands them out locally:
 * one round trip per batch, not per request. Nobody holds a share: whoever has requests waiting
 * reserves the next slots, so an idle or dead worker's capacity goes to the others at once (a dead
 * worker loses only the slots it had reserved: a grant, a tenth of a second of the limit or two
 * round trips to the database). A process reserves again only when its last slot is less than a
 * grant ahead, so a busy process cannot hoard the future: busy processes take turns and get equal
 * shares. A 429 moves the pool's next slot past the provider's retry time, for every process.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { llmRatePools } from '../schema/tables/operations';
import { onAbort } from './abort';
import { realClock, type Pacer, type PacerClock } from './limits';

/**
 * Most of the pool's limit one reservation takes (and the demand it is sized for), in ms of it, and
 * how far past now a process's slots may reach before it reserves more — both at least twice the
 * reservation's round trip, or a loaded database would cap a process at one grant per round trip.
 */
const GRANT_MS = 100;
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
  private lastWarning = 0;
  /** The reservation's round trip (ms), smoothed. */
  private roundTripMs = 0;
  private offset = { value: 0, roundTrip: Infinity, at: 0 };

  constructor(private readonly opts: SharedPacerOptions) {
    this.perMinute = opts.perMinute;
    this.clock = opts.clock ?? realClock;
  }

  limitTo(perMinute: number) {
    if (perMinute > 0 && perMinute < this.perMinute) this.perMinute = perMinute;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
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

  private get grantMs() {
    // at most the bucket's second: a stalled database must not hand one process seconds of the limit
    return Math.min(1000, Math.max(GRANT_MS, 2 * this.roundTripMs));
  }

  private get interval() {
    return 60_000 / this.perMinute;
  }

  /** The next reserved slot, or undefined. */
  private take(): number | undefined {
    // No slot starts inside a pause. Late slots are still used: the pool granted them, and dropping
    // those of a reply read late (a loaded worker) lost them to everyone — on a loaded machine the
    // pool then never caught up again, its every grant arriving already too old.
    const oldest = this.pausedUntil;
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
        stopListening?.();
        resolve(at);
      };
      const stopListening =
        signal &&
        onAbort(signal, () => {
          this.waiting.splice(this.waiting.indexOf(give), 1);
          resolve(undefined);
        });
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
   * Reserves slots for the requests waiting (a grant at most), once this process's last slot is
   * less than a grant past now. Never for requests that may come: a page's requests arrive in
   * bursts, and slots reserved for a burst that did not come were lost to every worker.
   */
  private refill() {
    if (this.reserving || this.refillScheduled || !this.waiting.length) return;
    const ahead = this.horizon - this.clock.now() - this.grantMs;
    if (ahead > 0) {
      this.refillScheduled = true;
      void this.clock.sleep(ahead).then(() => {
        this.refillScheduled = false;
        this.refill();
      });
      return;
    }
    const most = Math.max(1, Math.floor((this.perMinute / 60) * (this.grantMs / 1000)));
    const count = Math.min(most, this.waiting.length);
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
    const sentAt = this.clock.now();
    try {
      const [row] = await this.opts.db.execute<{ end_ms: number; db_now_ms: number }>(
        sql`insert into ${llmRatePools} as p (pool, next_at)
            values (${this.opts.pool}, clock_timestamp() + ${spanMs - catchUpMs} * interval '1 millisecond')
            on conflict (pool) do update
              set next_at = greatest(p.next_at, clock_timestamp() - ${catchUpMs} * interval '1 millisecond')
                + ${spanMs} * interval '1 millisecond'
            returning (extract(epoch from p.next_at) * 1000)::float8 as end_ms,
              (extract(epoch from clock_timestamp()) * 1000)::float8 as db_now_ms`,
      );
      const end = row.end_ms - this.clockOffset(sentAt, this.clock.now(), row.db_now_ms);
      this.batches.push({ at: end - spanMs, interval, left: count });
      this.horizon = Math.max(this.horizon, end);
      return true;
    } catch (err) {
      this.warn(err, 'could not reserve LLM request slots from the shared pool; requests wait');
      return false;
    }
  }

  /**
   * The database's clock minus this process's (the machines' clocks need not agree), from the
   * reservation with the shortest round trip in the last 30 s: a reply read late by a busy event
   * loop would otherwise place every slot of its batch later than the pool did, and those moments
   * would be lost to every worker.
   */
  private clockOffset(sentAt: number, receivedAt: number, dbNow: number): number {
    const roundTrip = receivedAt - sentAt;
    this.roundTripMs = this.roundTripMs ? 0.8 * this.roundTripMs + 0.2 * roundTrip : roundTrip;
    if (roundTrip <= this.offset.roundTrip || receivedAt - this.offset.at > 30_000)
      this.offset = { value: dbNow - (sentAt + receivedAt) / 2, roundTrip, at: receivedAt };
    return this.offset.value;
  }

  private warn(err: unknown, message: string) {
    const now = this.clock.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.opts.logger?.warn({ err, pool: this.opts.pool }, message);
  }
}
