/**
 * The authorizer's core: turns a presented secret into a decision with at most one store read.
 *
 * Warm path (cache hit): length guard → parse + CRC32 checksum → one HMAC → `Map` lookup →
 * constant-time compare → status and expiry compared with the clock. No I/O, no logging.
 *
 * The cache holds the *record*, never the decision, so expiry is exact on every call. A deny computed
 * from a cached record triggers one strongly consistent re-read (rate-limited per key) so whatever
 * grants access (a new secret, a restore, a reactivation) works on its very first request, while
 * whatever takes access away is seen within `authCacheTtlSeconds`.
 */
import { digestSecret, digestsEqual } from '../domain/digest.js';
import { MAX_SECRET_LENGTH, parseSecret } from '../domain/keyFormat.js';
import type { Clock, KeyStore } from '../domain/ports.js';
import type { Policies } from '../domain/policies.js';
import type { KeyRecord, SecretRecord, Slot } from '../domain/types.js';
import type { AuthMetrics } from './metrics.js';
import { NO_METRICS } from './metrics.js';

/** Why a secret was refused. Never shown to the caller (who always sees `Unauthorized`). */
export type DenyReason =
  | 'missing'
  | 'malformed'
  | 'unknown'
  | 'mismatch'
  | 'revoked'
  | 'expired'
  | 'store_error';

export type VerifyResult =
  | {
      readonly ok: true;
      readonly record: KeyRecord;
      readonly slot: Slot;
      /** Expiry of the secret that matched (epoch ms), `null` for never. */
      readonly secretExpiresAt: number | null;
    }
  | { readonly ok: false; readonly reason: DenyReason };

export interface VerifierOptions {
  readonly store: Pick<KeyStore, 'getKey' | 'recordUse'>;
  /** The HMAC pepper, already loaded (once per cold start). */
  readonly pepper: Buffer;
  readonly policies: Pick<Policies, 'keyPrefix' | 'authCacheTtlSeconds'>;
  readonly clock: Clock;
  readonly metrics?: AuthMetrics;
  /** Least time between two deny-triggered re-reads of one key (per deny class). @default 1000 */
  readonly recheckIntervalMs?: number;
  /** Least time between two last-use writes for one secret. @default 60000 */
  readonly useRecordIntervalMs?: number;
  /** After a failed last-use write, wait this long before trying that secret again. @default 5000 */
  readonly useRetryMs?: number;
  /** Most records kept; the oldest entry is dropped beyond it. @default 10000 */
  readonly maxEntries?: number;
}

interface CacheEntry {
  /** `null`: the key does not exist (negative entry). */
  readonly record: KeyRecord | null;
  /** Until when the entry may be used without a read (epoch ms). */
  readonly freshUntil: number;
  /** Last deny-triggered re-read because no slot matched (a new secret may exist). */
  recheckMismatchAt: number;
  /** Last deny-triggered re-read because a matching secret was revoked or expired (it may be back). */
  recheckInvalidAt: number;
}

type Decision = { ok: true; slot: Slot; secret: SecretRecord } | { ok: false; reason: 'mismatch' | 'revoked' | 'expired' };

const NEVER = Number.NEGATIVE_INFINITY;

/** Evaluates one presented digest against a record at `now`. Pure. */
export function evaluate(record: KeyRecord, digest: string, now: number): Decision {
  let slot: Slot;
  let secret: SecretRecord;
  if (digestsEqual(digest, record.current.digest)) {
    slot = 'current';
    secret = record.current;
  } else if (record.previous !== null && digestsEqual(digest, record.previous.digest)) {
    slot = 'previous';
    secret = record.previous;
  } else {
    return { ok: false, reason: 'mismatch' };
  }
  if (record.status !== 'active') return { ok: false, reason: 'revoked' };
  // A window ends at its instant: at `now === expiresAt` the secret no longer works.
  if (secret.expiresAt !== null && now >= secret.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, slot, secret };
}

/** Verifies secrets against a TTL cache of key records. One instance per process (per cold start). */
export class Verifier {
  private readonly store: VerifierOptions['store'];
  private readonly pepper: Buffer;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly metrics: AuthMetrics;
  private readonly recheckIntervalMs: number;
  private readonly useRecordIntervalMs: number;
  private readonly useRetryMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, CacheEntry>();
  /** Reads in flight, so concurrent misses of one key share one `GetItem`. */
  private readonly inflight = new Map<string, Promise<KeyRecord | null>>();
  /** sid → earliest time the next last-use write for it may start. */
  private readonly nextUseWrite = new Map<string, number>();
  private readonly pendingWrites = new Set<Promise<void>>();

  constructor(opts: VerifierOptions) {
    this.store = opts.store;
    this.pepper = opts.pepper;
    this.prefix = opts.policies.keyPrefix;
    this.ttlMs = opts.policies.authCacheTtlSeconds * 1000;
    this.clock = opts.clock;
    this.metrics = opts.metrics ?? NO_METRICS;
    this.recheckIntervalMs = opts.recheckIntervalMs ?? 1000;
    this.useRecordIntervalMs = opts.useRecordIntervalMs ?? 60_000;
    this.useRetryMs = opts.useRetryMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Number of last-use writes still in flight. */
  get pendingUseWrites(): number {
    return this.pendingWrites.size;
  }

  /**
   * Waits for in-flight last-use writes, at most `maxWaitMs`. Lambda freezes the process after the
   * handler returns, so the handler gives a started write a short chance to finish; a slower write
   * carries on in the background and can never delay or deny a request beyond this bound.
   */
  async settle(maxWaitMs: number): Promise<void> {
    if (this.pendingWrites.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    await Promise.race([Promise.all(this.pendingWrites), timeout]);
    clearTimeout(timer);
  }

  /** Decides whether `secret` is a valid secret of an active key right now. Never throws. */
  async verify(secret: string | undefined | null): Promise<VerifyResult> {
    if (typeof secret !== 'string' || secret.length === 0) return { ok: false, reason: 'missing' };
    // Before anything else: nothing long is ever parsed or hashed.
    if (secret.length > MAX_SECRET_LENGTH) return { ok: false, reason: 'malformed' };
    const parsed = parseSecret(this.prefix, secret);
    if (parsed === null) return { ok: false, reason: 'malformed' };
    const keyId = parsed.keyId;
    const digest = digestSecret(this.pepper, secret);
    const now = this.clock.now();

    let entry = this.cache.get(keyId);
    let fromCache = true;
    if (entry === undefined || now >= entry.freshUntil) {
      fromCache = false;
      try {
        entry = await this.load(keyId, now, entry);
      } catch (err) {
        this.metrics.storeFailure(err);
        return { ok: false, reason: 'store_error' };
      }
    }
    if (entry.record === null) return { ok: false, reason: 'unknown' };

    let decision = evaluate(entry.record, digest, now);
    if (!decision.ok && fromCache) {
      // The cached record may predate a grant (new secret, restore, reactivation): ask the store
      // once, strongly consistent. Rate-limited per key and per class of deny so repeated bad
      // secrets cost at most one read a second, and a client still sending an expired old secret
      // cannot use up the re-read the first request of a brand-new secret needs.
      const mismatch = decision.reason === 'mismatch';
      const last = mismatch ? entry.recheckMismatchAt : entry.recheckInvalidAt;
      if (now - last >= this.recheckIntervalMs) {
        if (mismatch) entry.recheckMismatchAt = now;
        else entry.recheckInvalidAt = now;
        try {
          entry = await this.load(keyId, now, entry);
        } catch (err) {
          this.metrics.storeFailure(err);
          return { ok: false, reason: 'store_error' };
        }
        if (entry.record === null) return { ok: false, reason: 'unknown' };
        decision = evaluate(entry.record, digest, now);
      }
    }
    if (!decision.ok) return { ok: false, reason: decision.reason };

    const record = entry.record;
    this.noteUse(record, decision.secret.sid, now);
    return { ok: true, record, slot: decision.slot, secretExpiresAt: decision.secret.expiresAt };
  }

  /** Reads the key (strongly consistent, so one read is always enough) and caches the result. */
  private async load(keyId: string, now: number, previous: CacheEntry | undefined): Promise<CacheEntry> {
    let read = this.inflight.get(keyId);
    if (read === undefined) {
      read = this.store.getKey(keyId, { consistent: true });
      this.inflight.set(keyId, read);
      // Clear on either outcome; the awaiting callers see the rejection themselves.
      read.then(
        () => this.inflight.delete(keyId),
        () => this.inflight.delete(keyId),
      );
    }
    const record = await read;
    const entry: CacheEntry = {
      record,
      freshUntil: now + this.ttlMs,
      // Re-read stamps survive a refill, so a refill cannot reset the rate limit.
      recheckMismatchAt: previous?.recheckMismatchAt ?? NEVER,
      recheckInvalidAt: previous?.recheckInvalidAt ?? NEVER,
    };
    // Delete first so the key moves to the end of the Map's insertion order (oldest first out).
    this.cache.delete(keyId);
    this.cache.set(keyId, entry);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return entry;
  }

  /** Records the use of `sid` at most once per interval per instance; failures are counted, never thrown. */
  private noteUse(record: KeyRecord, sid: string, now: number): void {
    const next = this.nextUseWrite.get(sid);
    if (next !== undefined && now < next) return;
    this.nextUseWrite.set(sid, now + this.useRecordIntervalMs);
    if (this.nextUseWrite.size > this.maxEntries * 2) this.pruneUseMap(now);
    let write: Promise<void>;
    try {
      write = this.store.recordUse(record.id, sid, now);
    } catch (err) {
      this.onUseWriteFailed(sid, err);
      return;
    }
    const tracked: Promise<void> = write.then(
      () => {
        this.pendingWrites.delete(tracked);
      },
      (err: unknown) => {
        this.pendingWrites.delete(tracked);
        this.onUseWriteFailed(sid, err);
      },
    );
    this.pendingWrites.add(tracked);
  }

  private onUseWriteFailed(sid: string, err: unknown): void {
    // Retry sooner than the full interval, so a brief outage does not hide the first use of a secret.
    this.nextUseWrite.set(sid, this.clock.now() + this.useRetryMs);
    this.metrics.useRecordFailure(err);
  }

  private pruneUseMap(now: number): void {
    for (const [sid, next] of this.nextUseWrite) if (next <= now) this.nextUseWrite.delete(sid);
  }
}
