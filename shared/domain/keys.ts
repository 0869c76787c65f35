/**
 * The key state machine: pure functions from (record, input, now) to a decision. No I/O.
 *
 * Invariants every transition keeps:
 * - at most one current and one previous secret;
 * - a rotation starts only when no previous secret is still valid;
 * - `version` grows by exactly one per committed change (the store's write condition).
 */
import { ConflictError, CONFLICT_MESSAGES, ValidationError, type ConflictCode } from './errors.js';
import { digestSecret } from './digest.js';
import { authenticKeyId, deriveIdKey, generateSecret, hintOf } from './keyFormat.js';
import type { Policies } from './policies.js';
import type { Ids } from './ports.js';
import type { Caller, EmailRequest, Environment, EventType, KeyRecord, PreviousSecretRecord, SecretRecord } from './types.js';
import { iso, isoOrNull, keyExpired, secretValid } from './view.js';
import { timerId } from './timers.js';
import { MIN_IDLE_SECONDS } from '../usage/idle.js';

/** An event a transition wants recorded (audit) and, for published types, sent to the bus. */
export interface EventDraft {
  readonly type: EventType;
  readonly data: Readonly<Record<string, unknown>>;
}

type ExpiryEmail = Omit<EmailRequest, 'accountId' | 'keyId' | 'keyName'>;

export type Decision =
  | {
      readonly kind: 'conflict';
      readonly code: ConflictCode;
      /** Says more than the code's standing message: which secret blocks, until when, how to end it. */
      readonly message?: string;
    }
  | { readonly kind: 'unchanged' }
  | {
      readonly kind: 'change';
      readonly next: KeyRecord;
      readonly events: readonly EventDraft[];
      readonly emails?: readonly Omit<EmailRequest, 'accountId' | 'keyId' | 'keyName'>[];
      /** The new secret, for create and rotate only. Shown once, never stored. */
      readonly secret?: string;
    };

export interface TransitionContext {
  readonly now: number;
  readonly policies: Policies;
  readonly ids: Ids;
  readonly pepper: Buffer;
}

const conflict = (code: ConflictCode): Decision => ({ kind: 'conflict', code });

export function conflictError(code: ConflictCode, message?: string): ConflictError {
  return new ConflictError(code, message ?? CONFLICT_MESSAGES[code]);
}

/**
 * Why a rotate is refused while the previous slot holds a valid secret, in words a user can act on:
 * which secret (by hint), until when, and the call that ends it. After a cancel the previous slot
 * holds the cancelled rotation's new secret, kept so clients can revert (SPEC §2): the state says
 * `cancelled`, so the message must say what still blocks.
 */
export function rotationBlockedMessage(record: KeyRecord): string {
  const prev = record.previous!;
  const until = prev.expiresAt === null ? 'without expiry' : `until ${iso(prev.expiresAt)}`;
  const end = `End it now with PATCH /v1/keys/${record.id}/rotation {"oldKeyExpiresInSeconds": 0}, or wait until it expires, then rotate again.`;
  const r = record.rotation;
  if (r && r.cancelledAt !== null && r.oldSid !== prev.sid) {
    return `The rotation of this key was cancelled, but the new secret it issued (${prev.hint}) stays valid ${until} so clients can switch back; a key holds at most two secrets. ${end}`;
  }
  return `A rotation is already in progress for this key: its previous secret (${prev.hint}) is still valid ${until}. ${end} Or cancel the rotation with DELETE /v1/keys/${record.id}/rotation.`;
}

/** The furthest `expiresAt` accepted when the deployment sets no maximum lifetime. */
export const MAX_EXPIRY_HORIZON_MS = 100 * 365 * 86_400_000;

// ---- input checks that depend on policies or the clock (run before any read: 400 precedes 404) ----

/** Resolves an `expiresAt` input (`undefined` = not given) to epoch ms or null, or throws a ValidationError. */
export function resolveExpiresAt(input: string | null | undefined, now: number, policies: Policies, field = 'expiresAt'): number | null | undefined {
  if (input === undefined) return undefined;
  const max = policies.maxKeyLifetimeSeconds;
  if (input === null) {
    if (max !== null) throw new ValidationError([{ field, message: `must not be null: keys of this deployment expire within ${max} seconds` }]);
    return null;
  }
  const at = Date.parse(input);
  if (!Number.isFinite(at)) throw new ValidationError([{ field, message: 'must be an RFC 3339 timestamp' }]);
  if (at <= now) throw new ValidationError([{ field, message: 'must be in the future' }]);
  // Beyond this, timestamps stop being RFC 3339 (year 10000) and schedules cannot express them.
  if (at > now + MAX_EXPIRY_HORIZON_MS) throw new ValidationError([{ field, message: 'must be within 100 years from now' }]);
  if (max !== null && at > now + max * 1000) {
    throw new ValidationError([{ field, message: `must be within ${max} seconds (the maximum key lifetime) from now` }]);
  }
  return at;
}

export function checkWindow(seconds: number, policies: Policies, field: string): void {
  if (seconds > policies.maxTransitionSeconds) {
    throw new ValidationError([{ field, message: `must be at most ${policies.maxTransitionSeconds} (the maximum transition window)` }]);
  }
}

// ---- helpers ------------------------------------------------------------------------------------

function issueSecret(ctx: TransitionContext, environment: Environment, keyId: string, expiresAt: number | null) {
  const secret = generateSecret(ctx.policies.keyPrefix, environment, keyId);
  const record: SecretRecord = {
    sid: ctx.ids.secretId(),
    digest: digestSecret(ctx.pepper, secret),
    hint: hintOf(ctx.policies.keyPrefix, environment, secret),
    createdAt: ctx.now,
    expiresAt,
  };
  return { secret, record };
}

/** A secret that held the current slot never outlives its own expiry by moving to the previous slot. */
const capAt = (at: number, own: number | null) => (own === null ? at : Math.min(at, own));

/** The latest expiry a secret created at `createdAt` may have (`maxKeyLifetimeSeconds`), or `null` for no bound. */
export function lifetimeBound(createdAt: number, policies: Policies): number | null {
  return policies.maxKeyLifetimeSeconds === null ? null : createdAt + policies.maxKeyLifetimeSeconds * 1000;
}

function defaultExpiry(now: number, policies: Policies): number | null {
  return lifetimeBound(now, policies);
}

function bump(record: KeyRecord, changes: Partial<KeyRecord>): KeyRecord {
  return { ...record, ...changes, version: record.version + 1 };
}

function previousValid(record: KeyRecord, now: number): boolean {
  return secretValid(record.previous, now);
}

/** Whether a secret or key mutation is allowed at all: revoked and expired keys are frozen. */
function frozen(record: KeyRecord, now: number): ConflictCode | null {
  if (record.status === 'revoked') return 'key_revoked';
  if (keyExpired(record, now)) return 'key_expired';
  return null;
}

// ---- transitions --------------------------------------------------------------------------------

export interface CreateKeyInput {
  readonly name: string;
  readonly environment?: Environment | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly expiresAt?: number | null | undefined;
}

export function createKeyRecord(accountId: string, input: CreateKeyInput, caller: Pick<Caller, 'environment'>, ctx: TransitionContext) {
  const environment = input.environment ?? caller.environment;
  // The id carries a tag keyed from the pepper, so the authorizer rejects forged ids without a read.
  const id = authenticKeyId(deriveIdKey(ctx.pepper), ctx.ids.keyId());
  const expiresAt = input.expiresAt === undefined ? defaultExpiry(ctx.now, ctx.policies) : input.expiresAt;
  const { secret, record: current } = issueSecret(ctx, environment, id, expiresAt);
  const record: KeyRecord = {
    id,
    accountId,
    name: input.name,
    environment,
    scopes: [...new Set(input.scopes ?? [])],
    status: 'active',
    createdAt: ctx.now,
    version: 1,
    current,
    previous: null,
    rotation: null,
    revokedAt: null,
    reactivatableUntil: null,
    lastUsed: {},
    fired: [],
    revokedReason: null,
    exposures: [],
    // The service copies the account's standing in before the record is written.
    accountStatus: 'active',
    accountVersion: 0,
  };
  const events: EventDraft[] = [
    { type: 'api_key.created', data: { name: record.name, environment, scopes: record.scopes, hint: current.hint, expiresAt: isoOrNull(expiresAt) } },
  ];
  return { record, secret, events };
}

export interface UpdateKeyInput {
  readonly name?: string | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly expiresAt?: number | null | undefined;
}

export function updateKey(record: KeyRecord, input: UpdateKeyInput, ctx: TransitionContext): Decision {
  const blocked = frozen(record, ctx.now);
  if (blocked) return conflict(blocked);
  const changes: Record<string, unknown> = {};
  let next: Partial<KeyRecord> = {};
  if (input.name !== undefined && input.name !== record.name) {
    next = { ...next, name: input.name };
    changes.name = input.name;
  }
  if (input.scopes !== undefined) {
    const scopes = [...new Set(input.scopes)];
    if (scopes.join(' ') !== record.scopes.join(' ')) {
      next = { ...next, scopes };
      changes.scopes = scopes;
    }
  }
  if (input.expiresAt !== undefined && input.expiresAt !== record.current.expiresAt) {
    // SPEC §2 Key expiry: counted from the secret's own creation, so PATCH can extend up to that
    // bound and never past it, however often it is called.
    const bound = lifetimeBound(record.current.createdAt, ctx.policies);
    if (bound !== null && (input.expiresAt === null || input.expiresAt > bound)) {
      throw new ValidationError([
        {
          field: 'expiresAt',
          message: `must be at or before ${iso(bound)}: secrets of this deployment expire within ${ctx.policies.maxKeyLifetimeSeconds} seconds of their creation`,
        },
      ]);
    }
    next = { ...next, current: { ...record.current, expiresAt: input.expiresAt } };
    changes.expiresAt = isoOrNull(input.expiresAt);
  }
  if (Object.keys(changes).length === 0) return { kind: 'unchanged' };
  return { kind: 'change', next: bump(record, next), events: [{ type: 'api_key.updated', data: { changes } }] };
}

export interface RotateInput {
  readonly oldKeyExpiresInSeconds?: number | undefined;
  /** Idle cut-over (SPEC §12), already checked against the window by `checkIdle`. */
  readonly expireWhenIdleSeconds?: number | undefined;
  /** Resolved with `resolveExpiresAt`. */
  readonly expiresAt?: number | null | undefined;
}

export function rotateKey(record: KeyRecord, input: RotateInput, ctx: TransitionContext): Decision {
  const { now, policies } = ctx;
  const blocked = frozen(record, now);
  if (blocked) return conflict(blocked);
  if (previousValid(record, now)) return { kind: 'conflict', code: 'rotation_in_progress', message: rotationBlockedMessage(record) };

  const seconds = input.oldKeyExpiresInSeconds ?? policies.defaultTransitionSeconds;
  const old = record.current;
  const oldKeyExpiresAt = capAt(now + seconds * 1000, old.expiresAt);
  // The new secret inherits the old one's lifetime, counted from now, unless the body names one;
  // under a maximum lifetime an inherited one is capped at the new secret's own bound, and a secret
  // that never expired (made before a maximum applied) gets that bound (SPEC §2 Key expiry).
  const bound = defaultExpiry(now, policies);
  const inherited = old.expiresAt === null ? bound : now + (old.expiresAt - old.createdAt);
  const expiresAt = input.expiresAt !== undefined ? input.expiresAt : bound === null || inherited === null ? inherited : Math.min(inherited, bound);
  const { secret, record: current } = issueSecret(ctx, record.environment, record.id, expiresAt);
  const previous: PreviousSecretRecord = { ...old, expiresAt: oldKeyExpiresAt, ownExpiresAt: old.expiresAt };
  const rotation = {
    id: ctx.ids.rotationId(),
    startedAt: now,
    oldSid: old.sid,
    oldKeyHint: old.hint,
    oldKeyExpiresAt,
    ...rotationTimes(now, oldKeyExpiresAt, policies),
    cancelledAt: null,
    ...idleFields(now, oldKeyExpiresAt, input.expireWhenIdleSeconds),
  };
  const events: EventDraft[] = [
    {
      type: 'api_key.rotated',
      data: {
        rotationId: rotation.id, oldKeyHint: old.hint, newKeyHint: current.hint,
        oldKeyExpiresAt: iso(oldKeyExpiresAt), expiresAt: isoOrNull(expiresAt), reminderAt: isoOrNull(rotation.reminderAt),
      },
    },
  ];
  let fired = record.fired;
  const emails: ExpiryEmail[] = [];
  if (oldKeyExpiresAt <= now) {
    // Announced here, at once: mark the expiry timer as fired so it does not announce it again.
    events.push({ type: 'api_key.old_secret_expired', data: { rotationId: rotation.id, oldKeyHint: old.hint, oldKeyExpiresAt: iso(oldKeyExpiresAt) } });
    emails.push({ template: 'old_secret_expired', hint: old.hint, expiresAt: oldKeyExpiresAt });
    fired = [...fired, timerId('old_secret_expired', old.sid, oldKeyExpiresAt)];
  }
  return { kind: 'change', next: bump(record, { current, previous, rotation, fired }), events, emails, secret };
}

/**
 * Idle cut-over fields of a new rotation. The first check comes `idle` seconds after the start: the
 * old secret cannot have been quiet that long (after the new one's first use) any earlier.
 */
function idleFields(now: number, oldKeyExpiresAt: number, idleSeconds: number | undefined) {
  if (idleSeconds === undefined) return { idleSeconds: null, idleCheckAt: null, idleCutoverAt: null };
  const first = now + idleSeconds * 1000;
  return { idleSeconds, idleCheckAt: first < oldKeyExpiresAt ? first : null, idleCutoverAt: null };
}

/**
 * `expireWhenIdleSeconds` must be an integer from 600 up to the rotation's window (the old secret
 * expires at the window's end anyway). Throws `validation_error` naming the field.
 */
export function checkIdle(idleSeconds: number | undefined, windowSeconds: number): void {
  if (idleSeconds === undefined) return;
  if (!Number.isInteger(idleSeconds) || idleSeconds < MIN_IDLE_SECONDS || idleSeconds > windowSeconds) {
    throw new ValidationError([
      { field: 'expireWhenIdleSeconds', message: `must be an integer from ${MIN_IDLE_SECONDS} to the rotation window (${windowSeconds} s)` },
    ]);
  }
}

/** No reminder when the window is shorter than the lead (SPEC §2); restore window counted from expiry. */
function rotationTimes(now: number, oldKeyExpiresAt: number, policies: Policies) {
  const lead = policies.reminderLeadSeconds * 1000;
  return {
    reminderAt: oldKeyExpiresAt > now && oldKeyExpiresAt - now >= lead ? oldKeyExpiresAt - lead : null,
    restorableUntil: policies.restoreWindowSeconds > 0 ? oldKeyExpiresAt + policies.restoreWindowSeconds * 1000 : null,
  };
}

export function changeRotationWindow(record: KeyRecord, seconds: number, ctx: TransitionContext): Decision {
  const { now, policies } = ctx;
  const blocked = frozen(record, now);
  if (blocked) return conflict(blocked);
  const prev = record.previous;
  if (!prev || !secretValid(prev, now)) return conflict('no_rotation_in_progress');
  const expiresAt = capAt(now + seconds * 1000, prev.ownExpiresAt);
  const r = record.rotation;
  const ofRotation = r !== null && r.cancelledAt === null && r.oldSid === prev.sid;
  const rotation = ofRotation ? { ...r, oldKeyExpiresAt: expiresAt, ...rotationTimes(now, expiresAt, policies) } : r;
  const events: EventDraft[] = [
    { type: 'api_key.rotation_updated', data: { rotationId: r?.id ?? null, hint: prev.hint, previousExpiresAt: isoOrNull(prev.expiresAt), expiresAt: iso(expiresAt) } },
  ];
  let fired = record.fired;
  const emails: ExpiryEmail[] = [];
  if (expiresAt <= now && ofRotation) {
    events.push({ type: 'api_key.old_secret_expired', data: { rotationId: r.id, oldKeyHint: prev.hint, oldKeyExpiresAt: iso(expiresAt) } });
    emails.push({ template: 'old_secret_expired', hint: prev.hint, expiresAt });
    fired = [...fired, timerId('old_secret_expired', prev.sid, expiresAt)];
  }
  return { kind: 'change', next: bump(record, { previous: { ...prev, expiresAt }, rotation, fired }), events, emails };
}

/**
 * Cancels the latest rotation. In progress: the old secret is current again and the new one keeps
 * working for `seconds` (default 0: discarded). After the old secret expired, within the restore
 * window: the old secret is restored and the new one keeps working for `seconds` (default 86400).
 */
export function cancelRotation(record: KeyRecord, seconds: number | undefined, ctx: TransitionContext): Decision {
  const { now, policies } = ctx;
  const blocked = frozen(record, now);
  if (blocked) return conflict(blocked);
  const r = record.rotation;
  const prev = record.previous;
  if (!r || r.cancelledAt !== null || !prev || prev.sid !== r.oldSid || prev.digest === null) return conflict('nothing_to_cancel');
  const inProgress = secretValid(prev, now);
  if (!inProgress && (r.restorableUntil === null || now >= r.restorableUntil)) return conflict('nothing_to_cancel');
  // A restore must bring back a working secret: not one whose own lifetime has ended meanwhile.
  if (prev.ownExpiresAt !== null && now >= prev.ownExpiresAt) return conflict('nothing_to_cancel');

  const keepFor = seconds ?? (inProgress ? 0 : Math.min(86_400, policies.maxTransitionSeconds));
  const restored: SecretRecord = { sid: prev.sid, digest: prev.digest, hint: prev.hint, createdAt: prev.createdAt, expiresAt: prev.ownExpiresAt };
  const demoted: PreviousSecretRecord | null =
    keepFor === 0 ? null : { ...record.current, expiresAt: capAt(now + keepFor * 1000, record.current.expiresAt), ownExpiresAt: record.current.expiresAt };
  const events: EventDraft[] = [
    {
      type: 'api_key.rotation_cancelled',
      data: { rotationId: r.id, restoredAfterExpiry: !inProgress, restoredHint: prev.hint, newKeyHint: record.current.hint, newKeyExpiresAt: iso(demoted?.expiresAt ?? now) },
    },
  ];
  return {
    kind: 'change',
    next: bump(record, { current: restored, previous: demoted, rotation: { ...r, cancelledAt: now } }),
    events,
  };
}

export function revokeKey(record: KeyRecord, ctx: TransitionContext): Decision {
  if (record.status === 'revoked') return { kind: 'unchanged' };
  const reactivatableUntil = ctx.now + ctx.policies.reactivationWindowSeconds * 1000;
  return {
    kind: 'change',
    next: bump(record, { status: 'revoked', revokedAt: ctx.now, reactivatableUntil }),
    events: [{ type: 'api_key.revoked', data: { reactivatableUntil: iso(reactivatableUntil) } }],
  };
}

export function reactivateKey(record: KeyRecord, ctx: TransitionContext): Decision {
  if (record.status !== 'revoked') return conflict('key_not_revoked');
  // A leaked secret stays leaked: an exposed key never comes back (SPEC §11).
  if (record.revokedReason === 'exposed') return conflict('key_exposed');
  if (record.reactivatableUntil === null || ctx.now >= record.reactivatableUntil || record.current.digest === null) {
    return conflict('reactivation_window_passed');
  }
  return {
    kind: 'change',
    next: bump(record, { status: 'active', revokedAt: null, reactivatableUntil: null }),
    events: [{ type: 'api_key.reactivated', data: { revokedAt: isoOrNull(record.revokedAt) } }],
  };
}
