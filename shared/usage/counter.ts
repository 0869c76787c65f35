/**
 * The authorizer's usage counter (SPEC §12): counts verified requests per secret per minute in
 * memory and persists them with at most one write per secret per minute per instance.
 *
 * - `note()` is the only call on the warm path: a `Map` lookup and a few field updates; no I/O, no
 *   allocation once a secret is known, no string work (the origin is sanitized at flush time).
 * - Writes start after the decision, never inside it: `note()` only arms a flush, which runs on a
 *   later turn of the event loop (`setImmediate`), so the answer is never held up by a write. In
 *   Lambda that turn may come on the next invocation (the process is frozen between invocations):
 *   the flush then happens "on the next request past the minute boundary".
 * - A minute is flushed once it is over (one `UpdateItem … ADD n` on its own item). The first use
 *   of a secret this instance has not seen is written at once, so the first request with a new
 *   secret shows up (and its caller's address) without waiting for the minute to end. Either way a
 *   secret gets at most one write per wall-clock minute from this instance.
 * - Long-running processes (local mode) also flush on a timer just after each minute boundary, so
 *   a quiet secret's last minute is not left waiting for the next request.
 */
import { cleanOrigin } from './origin.js';
import { MINUTE_MS, type UsageFlush, type UsageStore } from './types.js';

export interface UsageCounterOptions {
  readonly store: Pick<UsageStore, 'add'>;
  /** Current time (epoch ms). */
  readonly now: () => number;
  /** A failed write (counted by the caller; the counts of that flush are lost, see docs/usage.md). */
  readonly onError?: (err: unknown) => void;
  /** Flush on a timer after each minute boundary, as well as on the next request. @default true */
  readonly timer?: boolean;
  /** Delay after the minute boundary before the timer flush (ms). @default 1000 */
  readonly timerDelayMs?: number;
  /** Most secrets tracked; beyond it the least recently seen is flushed and dropped. @default 20000 */
  readonly maxSecrets?: number;
  /**
   * Least time between two writes of one secret, and how often pending counts go out. Production
   * uses the minute (one write per secret per minute). Shorter only in local mode for tests
   * (`USAGE_FLUSH_SECONDS`): counts of a minute still being counted then go out early, added to
   * the same minute item. @default 60000
   */
  readonly flushIntervalMs?: number;
}

/** Counts of one secret in the minute being counted. Mutated in place. */
interface Tally {
  readonly keyId: string;
  readonly sid: string;
  hint: string;
  /** Minute being counted (epoch ms). */
  minute: number;
  count: number;
  firstAt: number;
  lastAt: number;
  ip: string | null;
  userAgent: string | null;
  /** Write window (the minute, in production) of this instance's last write for the secret (-1: none yet). */
  wroteMinute: number;
  /** First use of this secret in this instance: write the count so far at once. */
  urgent: boolean;
}

/** A finished minute waiting for its write (origin still raw). */
interface Closed {
  readonly tally: Tally;
  readonly minute: number;
  readonly count: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly hint: string;
}

/** In-memory per-secret, per-minute counter with deferred, bounded writes. One per authorizer instance. */
export class UsageCounter {
  private readonly store: Pick<UsageStore, 'add'>;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private readonly useTimer: boolean;
  private readonly timerDelayMs: number;
  private readonly maxSecrets: number;
  private readonly windowMs: number;
  /** sid → tally, least recently first seen first. */
  private readonly tallies = new Map<string, Tally>();
  /** Finished minutes and first uses waiting for the next flush. */
  private queue: Closed[] = [];
  /** End of the earliest minute still being counted: the next request at or past it closes minutes. */
  private boundary = Number.POSITIVE_INFINITY;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<void>>();
  /** Writes started since construction (bench and tests read it). */
  writesStarted = 0;

  constructor(opts: UsageCounterOptions) {
    this.store = opts.store;
    this.now = opts.now;
    this.onError = opts.onError ?? (() => {});
    this.useTimer = opts.timer ?? true;
    this.timerDelayMs = opts.timerDelayMs ?? 1_000;
    this.maxSecrets = opts.maxSecrets ?? 20_000;
    // A divisor of the minute, so a write window never straddles two minutes' rule.
    const w = Math.min(MINUTE_MS, Math.max(1_000, opts.flushIntervalMs ?? MINUTE_MS));
    this.windowMs = MINUTE_MS % w === 0 ? w : MINUTE_MS;
    this.timerDelayMs = Math.min(this.timerDelayMs, this.windowMs / 4);
  }

  private windowOf(ms: number): number {
    return ms - (ms % this.windowMs);
  }

  /** Number of usage writes still in flight. */
  get pendingWrites(): number {
    return this.writes.size;
  }

  /**
   * Counts one verified request of secret `sid` at `now`. Warm path: constant time, no I/O.
   * `ip` and `userAgent` are kept raw and sanitized only when written.
   */
  note(keyId: string, sid: string, hint: string, now: number, ip: string | null, userAgent: string | null): void {
    const minute = now - (now % MINUTE_MS);
    let t = this.tallies.get(sid);
    if (t === undefined) {
      t = { keyId, sid, hint, minute, count: 0, firstAt: now, lastAt: now, ip, userAgent, wroteMinute: -1, urgent: true };
      this.tallies.set(sid, t);
      if (this.tallies.size > this.maxSecrets) this.evictOldest();
      this.schedule();
    } else if (t.minute !== minute) {
      if (t.count > 0) this.close(t);
      t.minute = minute;
    }
    if (t.count === 0) t.firstAt = now;
    t.count++;
    t.lastAt = now;
    t.ip = ip;
    t.userAgent = userAgent;
    t.hint = hint;
    const end = this.windowOf(now) + this.windowMs;
    if (end < this.boundary) this.boundary = end;
    if (now >= this.boundary) this.schedule();
    if (this.useTimer && this.timer === undefined) this.armTimer(now);
  }

  /** Closes finished minutes and starts the writes allowed at `now`. Returns how many started. */
  flushDue(now = this.now()): number {
    this.scheduled = false;
    const minute = this.windowOf(now);
    let boundary = Number.POSITIVE_INFINITY;
    for (const t of this.tallies.values()) {
      // A minute that is over (or, with a short test window, a window that is over) goes out.
      if (t.count > 0 && this.windowOf(t.lastAt) < minute) this.close(t);
      if (t.urgent && t.count > 0) {
        t.urgent = false;
        this.close(t);
      }
      if (t.count > 0) boundary = Math.min(boundary, this.windowOf(t.lastAt) + this.windowMs);
    }
    this.boundary = boundary;
    let started = 0;
    const waiting: Closed[] = [];
    for (const c of this.queue) {
      // At most one write per secret per wall-clock minute: a second one waits for the next minute.
      if (c.tally.wroteMinute >= minute) waiting.push(c);
      else {
        c.tally.wroteMinute = minute;
        this.write(c);
        started++;
      }
    }
    this.queue = waiting;
    if (waiting.length > 0 && this.useTimer && this.timer === undefined) this.armTimer(now);
    return started;
  }

  /** Writes every pending count now, regardless of the minute rule (shutdown, tests). */
  async flushAll(): Promise<void> {
    for (const t of this.tallies.values()) if (t.count > 0) this.close(t);
    for (const c of this.queue) this.write(c);
    this.queue = [];
    this.boundary = Number.POSITIVE_INFINITY;
    await this.settle(5_000);
  }

  /** Waits for writes in flight, at most `maxWaitMs`. */
  async settle(maxWaitMs: number): Promise<void> {
    if (this.writes.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    await Promise.race([Promise.all(this.writes), timeout]);
    clearTimeout(timer);
  }

  /** Stops the boundary timer (tests, shutdown). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Moves a tally's count into the write queue and resets it. Once a minute per secret at most (or a first use). */
  private close(t: Tally): void {
    this.queue.push({ tally: t, minute: t.minute, count: t.count, firstAt: t.firstAt, lastAt: t.lastAt, ip: t.ip, userAgent: t.userAgent, hint: t.hint });
    t.count = 0;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the decision: the write is issued on a later turn of the event loop, never inside verify().
    setImmediate(() => this.flushDue());
  }

  private armTimer(now: number): void {
    const wait = this.windowOf(now) + this.windowMs - now + this.timerDelayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushDue();
      if ((this.boundary !== Number.POSITIVE_INFINITY || this.queue.length > 0) && this.useTimer) this.armTimer(this.now());
    }, wait);
    this.timer.unref?.();
  }

  /** One `UpdateItem … ADD count` for a closed minute; failures are reported, never thrown. */
  private write(c: Closed): void {
    const flush: UsageFlush = {
      keyId: c.tally.keyId,
      sid: c.tally.sid,
      hint: c.hint,
      minute: c.minute,
      count: c.count,
      firstAt: c.firstAt,
      lastAt: c.lastAt,
      from: cleanOrigin({ ip: c.ip, userAgent: c.userAgent }),
    };
    this.writesStarted++;
    let write: Promise<void>;
    try {
      write = this.store.add(flush);
    } catch (err) {
      this.onError(err);
      return;
    }
    const tracked: Promise<void> = write.then(
      () => {
        this.writes.delete(tracked);
      },
      (err: unknown) => {
        this.writes.delete(tracked);
        this.onError(err);
      },
    );
    this.writes.add(tracked);
  }

  private evictOldest(): void {
    const oldest = this.tallies.values().next().value;
    if (oldest === undefined) return;
    // Its count goes out with the next flush rather than being lost.
    if (oldest.count > 0) this.close(oldest);
    this.tallies.delete(oldest.sid);
  }
}
