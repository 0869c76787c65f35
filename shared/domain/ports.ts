/** Narrow interfaces the domain depends on. Adapters in `shared/adapters` and `shared/local` implement them. */
import type { AccountRecord, AuditEvent, Effect, Environment, KeyAccountStatus, KeyContactsRecord, KeyRecord, OutboxRef, Timer } from './types.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Ids {
  /** The random part of a new key id (16 base62 characters); the domain appends its tag. */
  keyId(): string;
  accountId(): string;
  secretId(): string;
  rotationId(): string;
  /** Time-sortable unique id for events and outbox entries. */
  sortable(now: number, order?: number): string;
}

export interface PepperSource {
  /** The HMAC pepper; implementations fetch once and cache. */
  get(): Promise<Buffer>;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque cursor for the next page, or `null` at the end. */
  readonly nextCursor: string | null;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Index hints a key write carries beside the record. */
export interface KeyWriteOptions {
  /**
   * Due time of the key's earliest planned, unfired timer (the timer reconciliation finds overdue
   * ones by it); `null` when none; `undefined` leaves what is stored.
   */
  readonly nextTimerAt?: number | null | undefined;
}

/**
 * Persistence of keys, accounts and the audit trail. Every mutation is a single conditional write;
 * effects passed alongside are committed into the item's outbox in that same write.
 */
export interface KeyStore {
  getKey(id: string, options?: { consistent?: boolean }): Promise<KeyRecord | null>;
  /** Put a new key (condition: it does not exist), with its outbox. */
  createKey(record: KeyRecord, effects: readonly Effect[], options?: KeyWriteOptions): Promise<void>;
  /**
   * Replace the key's state (not `lastUsed`) if its stored version is `expectedVersion`;
   * `record.version` must be `expectedVersion + 1`. Throws `VersionConflictError` otherwise.
   * `lastUsed` entries for sids no longer referenced are removed.
   */
  updateKey(record: KeyRecord, expectedVersion: number, effects: readonly Effect[], options?: KeyWriteOptions): Promise<void>;
  /** Newest first. `environment` restricts to that environment (a test caller sees only test keys). */
  listKeys(accountId: string, page: PageRequest, environment?: Environment): Promise<Page<KeyRecord>>;
  /**
   * Copies the account's status onto a key (SPEC §9 suspension), unless the key already holds the
   * status of a newer account version. No `version` bump: key transitions never write these fields,
   * so neither can lose the other's change. Returns `false` when the key does not exist.
   */
  setKeyAccountStatus(keyId: string, status: KeyAccountStatus, accountVersion: number): Promise<boolean>;

  getAccount(id: string, options?: { consistent?: boolean }): Promise<AccountRecord | null>;
  createAccount(account: AccountRecord, effects: readonly Effect[]): Promise<void>;
  updateAccount(account: AccountRecord, expectedVersion: number, effects: readonly Effect[]): Promise<void>;
  /** Newest first, deleted accounts left out. */
  listAccounts(page: PageRequest): Promise<Page<AccountRecord>>;

  /** A key's contacts item (SPEC §10), or `null` when the key never had contacts. */
  getKeyContacts(keyId: string, options?: { consistent?: boolean }): Promise<KeyContactsRecord | null>;
  /**
   * Writes a key's contacts item with its outbox if its stored version is `expectedVersion` (0: the
   * item must not exist); `record.version` is `expectedVersion + 1`. Throws `VersionConflictError` otherwise.
   */
  putKeyContacts(record: KeyContactsRecord, expectedVersion: number, effects: readonly Effect[]): Promise<void>;

  /** Newest first. */
  listEvents(ref: OutboxRef, page: PageRequest): Promise<Page<AuditEvent>>;
  /** Idempotent: writing the same event id twice leaves one event. */
  putEvent(event: AuditEvent): Promise<void>;

  /**
   * Claims the item's outbox until `now + leaseMs` unless another dispatcher holds an unexpired claim.
   * Returns the claim's token and the pending effects in commit order, `'busy'` when another
   * dispatcher holds an unexpired claim, or `null` when nothing is pending.
   */
  claimOutbox(ref: OutboxRef, now: number, leaseMs: number): Promise<{ token: string; effects: Effect[] } | 'busy' | null>;
  /** Removes the performed (or dropped) effects and releases the claim if `token` still holds it. */
  releaseOutbox(ref: OutboxRef, token: string, doneIds: readonly string[]): Promise<void>;
  /** Items whose outbox is not empty (for the sweeper). */
  itemsWithPendingEffects(): Promise<OutboxRef[]>;
  /** Ids of keys whose earliest planned, unfired timer was due at or before `before` (epoch ms). */
  keysWithTimersDue(before: number): Promise<string[]>;

  /**
   * Counts one hit on `counter` in the window that starts at `windowStart` (epoch ms), unless the
   * window already holds `limit` hits. One conditional atomic increment, so every process (every
   * Lambda instance) shares the same count. Returns whether the hit was allowed. The counter item
   * expires (DynamoDB TTL) at `expiresAt` (epoch ms).
   */
  hitCounter(counter: string, windowStart: number, limit: number, expiresAt: number): Promise<boolean>;
}

/** EventBridge in AWS, `events.jsonl` in local mode. Receives only published event types. */
export interface EventPublisher {
  publish(event: AuditEvent): Promise<void>;
}

/** EventBridge Scheduler in AWS, the persisted local scheduler in local mode. Both calls idempotent. */
export interface TimerScheduler {
  /**
   * Creates the timer's schedule. `idempotencyKey` (the outbox effect id) is the same on every
   * retry of one effect and different for a later effect that schedules the same timer again (e.g.
   * after a revoke and a reactivation), so a retry is recognised and a re-creation is not taken for one.
   */
  schedule(timer: Timer, idempotencyKey?: string): Promise<void>;
  cancel(timer: Timer): Promise<void>;
}

export interface EmailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Outbox effect id; lets a mailer de-duplicate a retried send. */
  readonly idempotencyKey: string;
}

/** A recipient a mail could not be sent to, and why (an SES error name and message, or a rekey reason). */
export interface EmailRejection {
  readonly recipient: string;
  readonly reason: string;
}

/**
 * SES in AWS, `.eml` files in local mode. Throws when a retry may still succeed (after trying every
 * recipient); recipients that no retry can serve (SES rejected them) are returned, not thrown.
 */
export interface Mailer {
  send(message: EmailMessage): Promise<{ readonly rejected: readonly EmailRejection[] } | void>;
}

/**
 * Counts operational events as metrics (CloudWatch EMF in AWS). Never throws. For rare events: each
 * call may write a line.
 */
export interface Metrics {
  count(metric: string, dimensions?: Readonly<Record<string, string>>, value?: number): void;
}

/** Structured logging, narrowed. Never pass a secret in `meta`. */
export interface Log {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Everything the outbox dispatcher needs to perform effects. */
export interface EffectPerformers {
  readonly publisher: EventPublisher;
  readonly scheduler: TimerScheduler;
  readonly mailer: Mailer;
  readonly renderEmail: (
    req: import('./types.js').EmailRequest,
    ctx: { accountName: string; apiUrl?: string; dashboardUrl?: string; transition?: { maxTransitionSeconds: number; defaultTransitionSeconds: number } },
  ) => RenderedEmail;
  readonly apiUrl?: string | undefined;
  readonly dashboardUrl?: string | undefined;
  /** The deployment's window policies, so email commands ask only for windows it accepts. */
  readonly transition?: { readonly maxTransitionSeconds: number; readonly defaultTransitionSeconds: number } | undefined;
  /** Confirmation links of verified recipients (SPEC §10): the pepper derives each token, the store keeps its digest. */
  readonly confirmations?: { readonly pepper: PepperSource; readonly store: import('./recipients.js').ConfirmationStore } | undefined;
  /** Day counters of the per-account email cap; without it emails are not capped (tests of other things). */
  readonly emailQuota?: import('./emailCap.js').EmailQuota | undefined;
  /** The cap (`maxEmailsPerAccountPerDay`). @default 200 */
  readonly maxEmailsPerAccountPerDay?: number | undefined;
  /** Runs after a published event went out: the webhook fan-out (`shared/webhooks`). Idempotent. */
  readonly afterPublish?: ((event: AuditEvent) => Promise<void>) | undefined;
}
