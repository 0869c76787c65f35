/**
 * The rekey domain model. Pure data: no AWS imports, no I/O.
 *
 * Times are epoch milliseconds in records (cheap to compare on the authorizer's warm path) and
 * RFC 3339 strings only at the HTTP edge (see `view.ts`).
 */

export const ENVIRONMENTS = ['live', 'test'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const SCOPE_READ = 'keys:read';
export const SCOPE_WRITE = 'keys:write';

/** Which secret of a key authenticated a request. */
export type Slot = 'current' | 'previous';

/** One secret of a key, stored only as a keyed digest. */
export interface SecretRecord {
  /** Short random id of this secret; keys `lastUsed` and timer names. Never derived from the secret. */
  readonly sid: string;
  /** base64url HMAC-SHA256(pepper, secret); `null` once purged. */
  readonly digest: string | null;
  /** `rekey_live_…9fQa`: prefix, environment and the last four characters. */
  readonly hint: string;
  readonly createdAt: number;
  /** When this secret stops working; `null` for never. */
  readonly expiresAt: number | null;
}

/** The secret in the previous slot remembers the expiry it had while current, for a cancel/restore. */
export interface PreviousSecretRecord extends SecretRecord {
  readonly ownExpiresAt: number | null;
}

/** The latest rotation of a key. Its `state` is derived from the clock (see `rotationState`). */
export interface RotationRecord {
  readonly id: string;
  readonly startedAt: number;
  /** sid of the secret that was rotated out. */
  readonly oldSid: string;
  readonly oldKeyHint: string;
  readonly oldKeyExpiresAt: number;
  readonly reminderAt: number | null;
  /** Until when a cancel can restore the old secret after it expired; `null` when not restorable. */
  readonly restorableUntil: number | null;
  readonly cancelledAt: number | null;
  /** Idle cut-over (SPEC §12): expire the old secret once it has gone unused this long; `null`/absent when off. */
  readonly idleSeconds?: number | null;
  /** When the `idle_check` timer next looks at the recorded usage; `null` when no check is planned. */
  readonly idleCheckAt?: number | null;
  /** When the old secret was expired by idle cut-over (equals `oldKeyExpiresAt` then); `null` otherwise. */
  readonly idleCutoverAt?: number | null;
}

export type KeyStatus = 'active' | 'revoked';

/** Why a key was revoked: `null` by its owner or the operator, `exposed` by a leak report (SPEC §11). */
export type RevokedReason = 'exposed';

/** What rekey did about a leaked secret (SPEC §11). */
export type ExposureAction = 'revoked' | 'previous_expired' | 'notified';

/**
 * A secret of this key that was reported leaked. Kept (with its digest) after the secret itself is
 * purged so that a second report of the same secret is recognised and changes nothing more.
 */
export interface ExposureRecord {
  readonly sid: string;
  /** Keyed digest of the leaked secret, as in `SecretRecord`; never the secret. */
  readonly digest: string;
  readonly hint: string;
  readonly at: number;
  readonly action: ExposureAction;
}

/** An account's status (SPEC §1): a suspended account's keys are refused by the authorizer. */
export const ACCOUNT_STATUSES = ['active', 'suspended'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
/**
 * The account's standing as copied onto each of its keys (SPEC §9), so the authorizer's single read
 * of the key decides: `deleted` also refuses the key for good.
 */
export type KeyAccountStatus = AccountStatus | 'deleted';


/** The single small DynamoDB record per key. Every change is one conditional write on `version`. */
export interface KeyRecord {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly environment: Environment;
  readonly scopes: readonly string[];
  readonly status: KeyStatus;
  readonly createdAt: number;
  readonly version: number;
  readonly current: SecretRecord;
  readonly previous: PreviousSecretRecord | null;
  readonly rotation: RotationRecord | null;
  readonly revokedAt: number | null;
  readonly reactivatableUntil: number | null;
  /** sid → last use (epoch ms). Written by the authorizer without touching `version`. */
  readonly lastUsed: Readonly<Record<string, number>>;
  /** Ids of timers already acted on (pruned to the timers still planned). Makes timers idempotent. */
  readonly fired: readonly string[];
  /** `exposed` once a leak report revoked the key: it can never be reactivated. */
  readonly revokedReason: RevokedReason | null;
  /** Secrets of this key reported leaked, newest last (at most `MAX_EXPOSURES`). */
  readonly exposures: readonly ExposureRecord[];
  /**
   * The account's status, copied here by the account's fan-out (see `shared/admin/accounts.ts`) so
   * the authorizer's one `GetItem` also decides suspension. Written apart from `version`: a key
   * transition never overwrites it and a status copy never loses a transition.
   */
  readonly accountStatus: KeyAccountStatus;
  /** The account `version` whose status `accountStatus` holds; an older copy never replaces a newer one. */
  readonly accountVersion: number;
}

/** How rekey answers a valid leaked secret of an account (SPEC §11). */
export const LEAK_RESPONSES = ['revoke', 'notify'] as const;
export type LeakResponse = (typeof LEAK_RESPONSES)[number];

export interface AccountRecord {
  readonly id: string;
  readonly name: string;
  /** @default 'active' (records written before the field existed read as active) */
  readonly status: AccountStatus;
  readonly alertEmails: readonly string[];
  /**
   * The consumer scopes the account's keys may be given beyond those the giving key holds (SPEC §1),
   * set by the operator: the customer's entitlement. Literal strings. @default []
   */
  readonly allowedScopes: readonly string[];
  /** `revoke` (default): a leaked secret stops working; `notify`: the account is only told. */
  readonly leakResponse: LeakResponse;
  /**
   * Addresses added through the API that have not confirmed yet (SPEC §10): each got one
   * confirmation email and receives nothing else until it confirms. @default []
   */
  readonly pendingEmails: readonly PendingEmail[];
  readonly createdAt: number;
  readonly version: number;
  /** Set once by the operator's delete: the account answers 404 from then on; its id is never reused. */
  readonly deletedAt: number | null;
}

/** Who is calling, as the authorizer established it. */
export interface Caller {
  readonly keyId: string;
  readonly accountId: string;
  readonly environment: Environment;
  readonly scopes: readonly string[];
  readonly slot: Slot;
}

/** Audit and domain event types. Audit-only types are not published to EventBridge. */
export const PUBLISHED_EVENT_TYPES = [
  'api_key.created',
  'api_key.rotated',
  'api_key.rotation_updated',
  'api_key.rotation_cancelled',
  'api_key.rotation_reminder',
  'api_key.old_secret_expired',
  'api_key.expiring',
  'api_key.expired',
  'api_key.revoked',
  'api_key.reactivated',
  'api_key.updated',
  'api_key.exposed',
] as const;
export const AUDIT_ONLY_EVENT_TYPES = [
  'api_key.secrets_purged',
  'account.created',
  'account.alert_emails_updated',
  'account.updated',
  'account.suspended',
  'account.resumed',
  'account.deleted',
  'webhook.disabled',
  'email.skipped',
  'email.not_sent',
  'account.email_confirmed',
  'api_key.contacts_updated',
  'api_key.contact_confirmed',
  'email.confirmation_not_applied',
] as const;
export type PublishedEventType = (typeof PUBLISHED_EVENT_TYPES)[number];
export type EventType = PublishedEventType | (typeof AUDIT_ONLY_EVENT_TYPES)[number];

/**
 * Who made a change (SPEC §9): a key (its id), the operator (the IAM principal ARN that signed the
 * admin request, or `local-operator`), or rekey itself (timers; `id` null).
 */
export type Actor =
  | { readonly type: 'key'; readonly id: string }
  | { readonly type: 'operator'; readonly id: string }
  | { readonly type: 'system'; readonly id: null };

export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system', id: null });

/** One entry of the audit trail, and the body of the matching domain event. Never holds a secret or digest. */
export interface AuditEvent {
  readonly id: string;
  readonly type: EventType;
  readonly at: number;
  /** The acting key's id; `null` for the operator and the system (kept as it was before `actor`). */
  readonly actorKeyId: string | null;
  readonly actor: Actor;
  readonly accountId: string;
  /** Key id, or `null` for account events. */
  readonly keyId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

export const TIMER_KINDS = [
  'rotation_reminder',
  'old_secret_expired',
  'purge_previous',
  'expiry_notice',
  'key_expired',
  'purge_revoked',
  'idle_check',
] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

/** A one-shot timer. `id` is unique within a key and deterministic for a given record state. */
export interface Timer {
  readonly id: string;
  readonly keyId: string;
  readonly kind: TimerKind;
  /** Due time, epoch ms, whole seconds. */
  readonly at: number;
}

export type EmailTemplate = 'rotation_reminder' | 'old_secret_expired' | 'key_expiring' | 'key_expired' | 'key_exposed';

/** A notice to every address of the account's alert list, rendered at dispatch time. */
export interface EmailRequest {
  readonly template: EmailTemplate;
  readonly accountId: string;
  readonly keyId: string;
  readonly keyName: string;
  readonly hint: string;
  /** The instant the notice is about (old secret expiry, key expiry; for `key_exposed`, the report). */
  readonly expiresAt: number;
  /** `key_exposed` only: what was found where, and what rekey did. */
  readonly exposure?: {
    readonly slot: Slot;
    readonly action: ExposureAction;
    /** Where the secret was found (GitHub's URL), `null` for a direct report. */
    readonly url: string | null;
  };
}

/**
 * Side effects committed in the same conditional write as the state change (the outbox), then
 * performed idempotently by the dispatcher. `id`s sort in commit order.
 */
export type Effect =
  | { readonly id: string; readonly kind: 'event'; readonly event: AuditEvent }
  | { readonly id: string; readonly kind: 'schedule'; readonly timer: Timer }
  | { readonly id: string; readonly kind: 'unschedule'; readonly timer: Timer }
  | { readonly id: string; readonly kind: 'email'; readonly email: EmailRequest }
  | { readonly id: string; readonly kind: 'notice'; readonly notice: NoticeRequest }
  | { readonly id: string; readonly kind: 'account_keys'; readonly fanOut: AccountFanOut }
  | { readonly id: string; readonly kind: 'webhook_disabled'; readonly notice: WebhookDisabledNotice };

/**
 * The alert emails' notice that rekey disabled a webhook endpoint (SPEC §10), committed in the
 * endpoint's outbox by the write that disables it. Carries the URL's origin only: the path or query
 * of a customer's URL may hold a token, and nothing here is ever a signing secret.
 */
export interface WebhookDisabledNotice {
  readonly accountId: string;
  readonly webhookId: string;
  /** `https://hooks.example.com`, or `null` when the stored URL does not parse. */
  readonly origin: string | null;
  /** `gone`: it answered 410; `failing`: every delivery failed for 3 days. */
  readonly reason: 'gone' | 'failing';
}

/** An address waiting for its confirmation (SPEC §10). */
export interface PendingEmail {
  readonly address: string;
  /** When its confirmation link stops working (7 days after it was sent). */
  readonly expiresAt: number;
}

/** Emails to one address about the address itself: its confirmation link, or that it was removed. */
export interface NoticeRequest {
  readonly template: 'email_confirmation' | 'email_removed';
  readonly accountId: string;
  readonly keyId: string | null;
  readonly address: string;
  /** A key contact's notice: the key's name and current secret hint when the change was made (shown in the body). */
  readonly keyName?: string | undefined;
  readonly hint?: string | undefined;
}

/**
 * Copies an account's status onto every key of it (and, for a delete, revokes each key). Carried by
 * the account's outbox, so a crash mid-way resumes; each step is idempotent.
 */
export interface AccountFanOut {
  readonly accountId: string;
  readonly status: KeyAccountStatus;
  /** The account version that set `status`. */
  readonly accountVersion: number;
  readonly revoke: boolean;
  readonly actor: Actor;
}

/**
 * Addresses an item that carries an outbox (`contacts`: a key's contacts item, `id` is the key id;
 * `webhook`: a webhook endpoint, `id` is its account and `slot` its place among the account's endpoints).
 */
export type OutboxRef =
  | { readonly kind: 'key'; readonly id: string }
  | { readonly kind: 'account'; readonly id: string }
  | { readonly kind: 'contacts'; readonly id: string }
  | { readonly kind: 'webhook'; readonly id: string; readonly slot: number };

/**
 * A key's contacts (SPEC §10): confirmed addresses that receive the key's reminders and notices
 * besides the account's alert list, and addresses still waiting for their confirmation. An item of
 * its own, not part of the key record: the authorizer reads the key record on every cache miss, and
 * five addresses of up to 254 characters would take it past 1 KB (docs/design.md).
 */
export interface KeyContactsRecord {
  readonly keyId: string;
  readonly accountId: string;
  readonly contacts: readonly string[];
  readonly pendingEmails: readonly PendingEmail[];
  /** 0 for a key that never had contacts (no item). */
  readonly version: number;
}

/** Most contacts a key may have. */
export const MAX_KEY_CONTACTS = 5;
