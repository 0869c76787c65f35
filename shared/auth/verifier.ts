/**
 * The authorizer's core: turns a presented secret into a decision with at most one store read.
 *
 * Warm path (cache hit): length guard → parse + CRC32 checksum → one HMAC → `Map` lookup →
 * constant-time compare → status and expiry compared with the clock. No I/O, no logging.
 *
 * Key ids are authenticated (a tag keyed from the pepper, see `keyFormat.ts`): any id that is not
 * in the record cache has its tag checked before the negative cache and before any read, so a forged
 * id costs one HMAC and no read. A cache hit skips the check: a cached id came from the store, so
 * this deployment minted it; that keeps the warm path at one HMAC.
 *
 * The cache holds the *record*, never the decision, so expiry is exact on every call. A deny computed
 * from a record read before the request arrived (cached, or a read another request started) triggers
 * one strongly consistent re-read issued after the request arrived, so whatever grants access (a new
 * secret, a restore, a reactivation) works on its very first request, while whatever takes access
 * away is seen within `authCacheTtlSeconds`. Re-reads are paced by a token bucket per key: a flood
 * of wrong secrets waits, it never makes a grant wait for the TTL (see `Verifier.recheck`).
 */
import { digestSecret, digestsEqual } from '../domain/digest.js';
import { deriveIdKey, keyIdAuthentic, parseSecret } from '../domain/keyFormat.js';
import type { Clock, KeyStore } from '../domain/ports.js';
import type { Policies } from '../domain/policies.js';
import type { KeyRecord, SecretRecord, Slot } from '../domain/types.js';
import { UsageCounter } from '../usage/counter.js';
import type { UsageStore } from '../usage/types.js';
import type { AuthMetrics } from './metrics.js';
import { NO_METRICS } from './metrics.js';

/** Why a secret was refused. Never shown to the caller (who always sees `Unauthorized`). */
export type DenyReason =
  | 'missing'
  | 'malformed'
  | 'forged'
  | 'unknown'
  | 'mismatch'
  | 'revoked'
  | 'suspended'
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

/** Where a request came from (REST `REQUEST` and HTTP API 2.0 events; `null` for `TOKEN`). Raw, sanitized when stored. */
export interface RequestOrigin {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface VerifierOptions {
  readonly store: Pick<KeyStore, 'getKey'>;
  /** Where usage minutes go (one write per secret per minute, see `shared/usage/counter.ts`). */
  readonly usage: Pick<UsageStore, 'add'>;
  /** The HMAC pepper, already loaded (once per cold start). */
  readonly pepper: Buffer;
  readonly policies: Pick<Policies, 'keyPrefix' | 'authCacheTtlSeconds'>;
  readonly clock: Clock;
  readonly metrics?: AuthMetrics;
  /** Deny-triggered re-reads one key may make at once (token bucket size). @default 5 */
  readonly recheckBurst?: number;
  /** Deny-triggered re-reads one key earns back per second (token bucket refill). @default 5 */
  readonly recheckPerSecond?: number;
  /** How a deny waits for the key's next re-read when its bucket is empty (tests inject a fake). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Flush usage minutes on a timer after each minute boundary too (long-running processes). @default true */
  readonly usageTimer?: boolean;
  /** Least time between two usage writes of one secret (`USAGE_FLUSH_SECONDS`; shorter only in local tests). @default 60000 */
  readonly usageFlushMs?: number;
  /** Most key records kept; the least recently loaded is dropped beyond it. @default 10000 */
  readonly maxEntries?: number;
  /** Most unknown key ids remembered (negative cache, kept apart from records). @default 1000 */
  readonly maxNegativeEntries?: number;
}

/** Per-key token bucket for deny-triggered re-reads. Survives cache refills of its key. */
interface RecheckBucket {
  tokens: number;
  /** When `tokens` was last brought up to date (clock ms). */
  at: number;
  /** The one re-read every deny waits for while the bucket is empty; shared, so a flood costs one read. */
  queued: Promise<CacheEntry | null> | undefined;
}

interface CacheEntry {
  readonly record: KeyRecord;
  /** Until when the entry may be used without a read (epoch ms). */
  readonly freshUntil: number;
  /** Order in which the read that produced it was issued; an older read never replaces a newer one. */
  readonly seq: number;
  readonly bucket: RecheckBucket;
}

type Decision = { ok: true; slot: Slot; secret: SecretRecord } | { ok: false; reason: 'mismatch' | 'revoked' | 'suspended' | 'expired' };

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
  // The account's standing rides on the key record (SPEC §9), so suspension costs no extra read.
  // A deny, so a resume is seen on the very next request through the deny re-read.
  if (record.accountStatus !== 'active') return { ok: false, reason: 'suspended' };
  // A window ends at its instant: at `now === expiresAt` the secret no longer works.
  if (secret.expiresAt !== null && now >= secret.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, slot, secret };
}

/** Verifies secrets against a TTL cache of key records. One instance per process (per cold start). */
export class Verifier {
  private readonly store: VerifierOptions['store'];
  private readonly pepper: Buffer;
  /** HKDF of the pepper: checks the tag of key ids (see `keyFormat.ts`). */
  private readonly idKey: Buffer;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly metrics: AuthMetrics;
  private readonly recheckBurst: number;
  private readonly recheckPerSecond: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxEntries: number;
  private readonly maxNegativeEntries: number;
  /** keyId → record, least recently loaded first (a `Map` keeps insertion order). */
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * keyId → until when it is known not to exist. Apart from `cache` and smaller, so forged ids (any
   * 16 characters with a valid CRC32) can only evict each other, never a live record.
   */
  private readonly unknown = new Map<string, number>();
  /** Cache-miss reads in flight, so concurrent misses of one key share one `GetItem`. */
  private readonly inflight = new Map<string, Promise<CacheEntry | null>>();
  private readSeq = 0;
  /** keyId → `readSeq` when it was forgotten: reads issued before that are not cached. */
  private readonly forgotten = new Map<string, number>();
  /** Verified requests per secret per minute, written at most once per secret per minute. */
  readonly usage: UsageCounter;

  constructor(opts: VerifierOptions) {
    this.store = opts.store;
    this.pepper = opts.pepper;
    this.idKey = deriveIdKey(opts.pepper);
    this.prefix = opts.policies.keyPrefix;
    this.ttlMs = opts.policies.authCacheTtlSeconds * 1000;
    this.clock = opts.clock;
    this.metrics = opts.metrics ?? NO_METRICS;
    this.recheckBurst = Math.max(1, opts.recheckBurst ?? 5);
    this.recheckPerSecond = Math.max(0.001, opts.recheckPerSecond ?? 5);
    this.sleep = opts.sleep ?? defaultSleep;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.maxNegativeEntries = opts.maxNegativeEntries ?? 1_000;
    this.usage = new UsageCounter({
      store: opts.usage,
      now: () => this.clock.now(),
      onError: (err) => this.metrics.useRecordFailure(err),
      timer: opts.usageTimer ?? true,
      flushIntervalMs: opts.usageFlushMs ?? 60_000,
      maxSecrets: this.maxEntries * 2,
    });
  }

  /** Number of usage writes still in flight. */
  get pendingUseWrites(): number {
    return this.usage.pendingWrites;
  }

  /** Waits for usage writes in flight, at most `maxWaitMs` (tests, shutdown; never on a request's path). */
  settle(maxWaitMs: number): Promise<void> {
    return this.usage.settle(maxWaitMs);
  }

  /** Decides whether `secret` is a valid secret of an active key right now. Never throws. */
  async verify(secret: string | undefined | null, origin?: RequestOrigin): Promise<VerifyResult> {
    if (typeof secret !== 'string' || secret.length === 0) return { ok: false, reason: 'missing' };
    // `parseSecret` first compares the exact length, so nothing long is ever scanned or hashed.
    const parsed = parseSecret(this.prefix, secret);
    if (parsed === null) return { ok: false, reason: 'malformed' };
    const keyId = parsed.keyId;
    let entry: CacheEntry | null | undefined = this.cache.get(keyId);
    // Not a cached id: it must carry this deployment's tag before it may cost a read (SPEC §4).
    if (entry === undefined && !keyIdAuthentic(this.idKey, keyId)) return { ok: false, reason: 'forged' };
    const digest = digestSecret(this.pepper, secret);
    const now = this.clock.now();

    // Whether the record was read before this request arrived, so it may predate a grant.
    let stale = true;
    if (entry === undefined || now >= entry.freshUntil) {
      if (entry === undefined) {
        const until = this.unknown.get(keyId);
        if (until !== undefined) {
          if (now < until) return { ok: false, reason: 'unknown' };
          this.unknown.delete(keyId);
        }
      }
      try {
        const shared = this.inflight.get(keyId);
        if (shared !== undefined) {
          entry = await shared; // issued before this request arrived: still `stale`
        } else {
          stale = false;
          entry = await this.miss(keyId, now);
        }
      } catch (err) {
        this.metrics.storeFailure(err);
        return { ok: false, reason: 'store_error' };
      }
      if (entry === null) return { ok: false, reason: 'unknown' };
    }

    let decision = evaluate(entry.record, digest, now);
    if (!decision.ok && stale) {
      // The record may predate a grant (new secret, restore, reactivation): decide again on a
      // strongly consistent read issued after this request arrived. See `recheck` for the bound.
      try {
        entry = await this.recheck(keyId, entry.bucket, now);
      } catch (err) {
        this.metrics.storeFailure(err);
        return { ok: false, reason: 'store_error' };
      }
      if (entry === null) return { ok: false, reason: 'unknown' };
      decision = evaluate(entry.record, digest, now);
    }
    if (!decision.ok) return { ok: false, reason: decision.reason };

    const record = entry.record;
    // Counted in memory only; any write happens on a later turn of the event loop (`UsageCounter`).
    this.usage.note(record.id, decision.secret.sid, decision.secret.hint, now, origin?.ip ?? null, origin?.userAgent ?? null);
    return { ok: true, record, slot: decision.slot, secretExpiresAt: decision.secret.expiresAt };
  }

  /**
   * Drops what this instance knows of a key, so its next request reads the record again. For a
   * process that also serves the management API (local mode): after a change through the API it
   * makes every request see that change at once. Reads already in flight are not cached.
   */
  forget(keyId: string): void {
    this.cache.delete(keyId);
    this.unknown.delete(keyId);
    this.inflight.delete(keyId);
    this.forgotten.delete(keyId);
    this.forgotten.set(keyId, ++this.readSeq);
    if (this.forgotten.size > this.maxNegativeEntries) this.dropOldest(this.forgotten);
  }

  /** A cache-miss read, shared with concurrent misses of the same key. */
  private miss(keyId: string, now: number): Promise<CacheEntry | null> {
    const read = this.read(keyId, now);
    this.inflight.set(keyId, read);
    // Clear on either outcome; the awaiting callers see the rejection themselves.
    const clear = (): void => {
      if (this.inflight.get(keyId) === read) this.inflight.delete(keyId);
    };
    read.then(clear, clear);
    return read;
  }

  /**
   * A deny-triggered re-read, limited per key by a token bucket (`recheckBurst`, refilled at
   * `recheckPerSecond`). With tokens left the read starts at once. With none, the deny waits for
   * the next token (at most `1000 / recheckPerSecond` ms) and shares that one read with every deny
   * of the key arriving meanwhile. Either way the read is issued after the request arrived, so a
   * grant made before it was sent is always seen: a grant is never refused, however many denies
   * came before it; a flood only waits. Store reads per key per instance stay at most
   * `recheckBurst + recheckPerSecond × seconds`.
   */
  private recheck(keyId: string, bucket: RecheckBucket, now: number): Promise<CacheEntry | null> {
    this.refill(bucket, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return this.read(keyId, now);
    }
    if (bucket.queued === undefined) {
      const waitMs = Math.ceil(((1 - bucket.tokens) * 1000) / this.recheckPerSecond);
      const queued = this.sleep(waitMs).then(() => {
        // Cleared before the read starts: a deny arriving during this read needs a later one.
        bucket.queued = undefined;
        const t = this.clock.now();
        this.refill(bucket, t);
        bucket.tokens = Math.max(0, bucket.tokens - 1);
        return this.read(keyId, t);
      });
      bucket.queued = queued;
    }
    return bucket.queued;
  }

  private refill(bucket: RecheckBucket, now: number): void {
    const elapsed = now - bucket.at;
    if (elapsed > 0) {
      bucket.tokens = Math.min(this.recheckBurst, bucket.tokens + (elapsed * this.recheckPerSecond) / 1000);
      bucket.at = now;
    }
  }

  /** One strongly consistent read (so one read is always enough), issued now; caches what it finds. */
  private async read(keyId: string, now: number): Promise<CacheEntry | null> {
    const seq = ++this.readSeq;
    const record = await this.store.getKey(keyId, { consistent: true });
    const cached = this.cache.get(keyId);
    // A read issued later already landed (reads can overtake each other): it is at least as fresh.
    if (cached !== undefined && cached.seq > seq) return cached;
    const forgottenAt = this.forgotten.get(keyId);
    if (forgottenAt !== undefined && forgottenAt > seq) {
      // Issued before a change was announced: good for the request that asked, not for the cache.
      return record === null ? null : { record, freshUntil: now, seq, bucket: cached?.bucket ?? { tokens: this.recheckBurst, at: now, queued: undefined } };
    }
    if (record === null) {
      this.cache.delete(keyId);
      this.unknown.delete(keyId);
      this.unknown.set(keyId, now + this.ttlMs);
      if (this.unknown.size > this.maxNegativeEntries) this.dropOldest(this.unknown);
      return null;
    }
    const entry: CacheEntry = {
      record,
      freshUntil: now + this.ttlMs,
      seq,
      // The bucket survives refills, so a refill cannot reset the rate limit.
      bucket: cached?.bucket ?? { tokens: this.recheckBurst, at: now, queued: undefined },
    };
    // Delete first so the key moves to the end of the Map's insertion order (oldest first out).
    this.cache.delete(keyId);
    this.cache.set(keyId, entry);
    if (this.cache.size > this.maxEntries) this.dropOldest(this.cache);
    return entry;
  }

  private dropOldest(map: Map<string, unknown>): void {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
