/**
 * Local-mode counterpart of EventBridge Scheduler: timers persisted in `<dataDir>/timers.json` and
 * fired by a polling loop in the `npm start` process.
 */
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../domain/ports.js';
import type { Timer } from '../domain/types.js';

/** Writes a file by writing a temporary sibling and renaming it: readers see the old or the new file, never half. */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** What the local scheduler can hold: key timers, and webhook attempts (`shared/webhooks`). */
export interface ScheduledItem {
  readonly id: string;
  readonly keyId: string;
  readonly kind: string;
  readonly at: number;
}

interface Entry<T extends ScheduledItem> {
  readonly timer: T;
  /** Failed `onFire` attempts so far. */
  readonly attempts: number;
  /** Next time to fire: the due time, then later after each failure (backoff). */
  readonly nextAttemptAt: number;
  readonly lastError?: string;
}

interface FileState<T extends ScheduledItem> {
  readonly version: 1;
  readonly timers: Record<string, Entry<T>>;
}

export interface LocalSchedulerOptions {
  readonly dataDir: string;
  /** File under `dataDir`. @default timers.json */
  readonly fileName?: string;
  /** How often due timers are looked for. @default 250 */
  readonly pollMs?: number;
  /** First retry delay after a failed fire, doubled per failure. @default 1000 */
  readonly retryBaseMs?: number;
  /** Longest retry delay. @default 60000 */
  readonly retryMaxMs?: number;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Where one line per failure or recovery goes. @default console.error */
  readonly log?: (line: string) => void;
}

/** Same naming rule as the EventBridge adapter, so both modes treat "the same timer" alike. */
export function localTimerName(timer: ScheduledItem): string {
  return `${timer.keyId}-${timer.id}`;
}

const sameTimer = (a: ScheduledItem, b: ScheduledItem) => a.id === b.id && a.keyId === b.keyId && a.kind === b.kind && a.at === b.at;

/**
 * `TimerScheduler` for local mode (and the queue of webhook attempts, in a file of its own).
 *
 * - `schedule`/`cancel` are idempotent by name (`${keyId}-${id}`); scheduling an existing name
 *   replaces its due time.
 * - `start(onFire)` polls every `pollMs` and calls `onFire` for each due timer, overdue ones
 *   included (timers that came due while the process was down fire on start). A timer is removed
 *   only after `onFire` resolves; if it rejects, the timer stays and is retried with exponential
 *   backoff, the attempt count persisted.
 * - The file is the source of truth and is re-read on every operation, so a second process (the
 *   admin CLI) that schedules timers is seen by the running server; writes are atomic (temp file +
 *   rename). Operations within one process are serialised.
 */
export class LocalScheduler<T extends ScheduledItem = Timer> {
  readonly file: string;
  private readonly pollMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private loop: NodeJS.Timeout | null = null;
  private running = false;
  private onFire: ((timer: T) => Promise<void>) | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly opts: LocalSchedulerOptions) {
    this.file = join(opts.dataDir, opts.fileName ?? 'timers.json');
    this.pollMs = opts.pollMs ?? 250;
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.log = opts.log ?? ((line) => console.error(line));
  }

  async schedule(timer: T): Promise<void> {
    await this.mutate((timers) => {
      const name = localTimerName(timer);
      const existing = timers[name];
      // Re-scheduling the identical timer keeps its retry state (the outbox may repeat the effect).
      if (existing && sameTimer(existing.timer, timer)) return false;
      timers[name] = { timer: { ...timer }, attempts: 0, nextAttemptAt: timer.at };
      return true;
    });
    // Already due (a first webhook attempt): fire now rather than at the next poll.
    if (this.running && timer.at <= this.clock.now()) {
      this.tick().catch((err: unknown) => this.log(`[rekey] local scheduler: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  async cancel(timer: T): Promise<void> {
    await this.mutate((timers) => {
      const name = localTimerName(timer);
      if (!timers[name]) return false;
      delete timers[name];
      return true;
    });
  }

  /** Timers currently persisted (for tools and tests). */
  async list(): Promise<T[]> {
    const state = await this.serial(() => this.read());
    return Object.values(state.timers).map((e) => e.timer);
  }

  /** Starts firing due timers through `onFire` (the same logic as the timer Lambda). */
  start(onFire: (timer: T) => Promise<void>): void {
    if (this.running) throw new Error('LocalScheduler already started');
    this.running = true;
    this.onFire = onFire;
    const tick = () => {
      if (!this.running) return;
      this.tick()
        .catch((err: unknown) => this.log(`[rekey] local scheduler: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          if (this.running) this.loop = setTimeout(tick, this.pollMs);
        });
    };
    // First tick at once: overdue timers fire on start, not one poll later.
    tick();
  }

  /** Stops polling and waits for timers being fired to settle. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.loop) clearTimeout(this.loop);
    this.loop = null;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.queue.catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const state = await this.serial(() => this.read());
    const now = this.clock.now();
    for (const [name, entry] of Object.entries(state.timers)) {
      if (entry.nextAttemptAt > now || this.inFlight.has(name)) continue;
      const run = this.fire(name, entry).finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, run);
    }
  }

  private async fire(name: string, entry: Entry<T>): Promise<void> {
    const onFire = this.onFire;
    if (!onFire) return;
    try {
      await onFire(entry.timer);
    } catch (err) {
      const attempts = entry.attempts + 1;
      const delay = Math.min(this.retryBaseMs * 2 ** (attempts - 1), this.retryMaxMs);
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.log(`[rekey] timer ${name} (${entry.timer.kind}) failed, attempt ${attempts}, retrying in ${delay} ms: ${message}`);
      await this.mutate((timers) => {
        const current = timers[name];
        // Cancelled or replaced while firing: nothing to retry.
        if (!current || !sameTimer(current.timer, entry.timer)) return false;
        timers[name] = { ...current, attempts, nextAttemptAt: this.clock.now() + delay, lastError: message.slice(0, 500) };
        return true;
      });
      return;
    }
    await this.mutate((timers) => {
      const current = timers[name];
      if (!current || !sameTimer(current.timer, entry.timer)) return false;
      delete timers[name];
      return true;
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Read-modify-write under the in-process lock; `change` returns whether it changed anything. */
  private mutate(change: (timers: Record<string, Entry<T>>) => boolean): Promise<void> {
    return this.serial(async () => {
      const state = await this.read();
      const timers = { ...state.timers };
      if (!change(timers)) return;
      await mkdir(this.opts.dataDir, { recursive: true });
      const next: FileState<T> = { version: 1, timers };
      await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    });
  }

  private async read(): Promise<FileState<T>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, timers: {} };
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as FileState<T>;
      if (parsed && typeof parsed === 'object' && parsed.timers && typeof parsed.timers === 'object') return parsed;
      throw new Error('unexpected shape');
    } catch (err) {
      // Never silently drop timers: keep the unreadable file for inspection and start afresh.
      const aside = `${this.file}.corrupt-${Date.now()}`;
      await rename(this.file, aside).catch(() => undefined);
      this.log(`[rekey] local scheduler: ${this.file} was unreadable (${(err as Error).message}); moved to ${aside}`);
      return { version: 1, timers: {} };
    }
  }
}
