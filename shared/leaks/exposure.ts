/**
 * What rekey does with a valid leaked secret (SPEC §11), as a pure transition of the key record:
 * `(record, match, leakResponse, now) → decision + outcome`, no I/O, like `shared/domain/keys.ts`.
 *
 * - a leaked *current* secret revokes the key with `revokedReason: "exposed"` (never reactivated);
 * - a leaked *previous* secret expires at once and can no longer be restored by a cancel;
 * - an account whose operator chose `leakResponse: "notify"` is only told;
 * - every case appends `api_key.exposed` (and emails), and remembers the secret in `exposures`, so
 *   the same secret reported again changes nothing more and answers what was done the first time.
 */
import { digestsEqual } from '../domain/digest.js';
import { SECRET_LIKE } from '../domain/keyFormat.js';
import type { Decision, EventDraft } from '../domain/keys.js';
import { timerId } from '../domain/timers.js';
import type { EmailRequest, ExposureAction, ExposureRecord, KeyRecord, LeakResponse, Slot } from '../domain/types.js';
import { iso, keyExpired, secretValid } from '../domain/view.js';

/** What a report of one secret came to. `unknown`: not a secret of this deployment that still works. */
export type LeakOutcome = ExposureAction | 'unknown';

/** Where a report came from: GitHub's secret scanning, or anyone through `POST /v1/leaks`. */
export type LeakSource = 'github_secret_scanning' | 'leak_report';

/** Exposures kept per key: enough for a key rotated and leaked several times, small enough for the record. */
export const MAX_EXPOSURES = 5;

/** Which secret of the record a reported digest is, if any. */
export type SecretMatch =
  | { readonly kind: 'current' }
  | { readonly kind: 'previous' }
  | { readonly kind: 'already_exposed'; readonly exposure: ExposureRecord }
  | null;

/**
 * Compares the reported secret's digest with every digest the record holds, in constant time each,
 * as the authorizer does. An exposure already recorded wins: it is the same secret reported again.
 */
export function matchSecret(record: KeyRecord, digest: string): SecretMatch {
  for (const e of record.exposures) if (digestsEqual(digest, e.digest)) return { kind: 'already_exposed', exposure: e };
  if (digestsEqual(digest, record.current.digest)) return { kind: 'current' };
  if (record.previous && digestsEqual(digest, record.previous.digest)) return { kind: 'previous' };
  return null;
}

export interface ExposeInput {
  readonly leakResponse: LeakResponse;
  readonly source: LeakSource;
  /** Where the secret was found (GitHub's URL); `null` for a direct report. */
  readonly url: string | null;
}

export interface ExposeResult {
  readonly decision: Decision;
  readonly outcome: LeakOutcome;
}

const unchanged = (outcome: LeakOutcome): ExposeResult => ({ decision: { kind: 'unchanged' }, outcome });

/** A revoked key whose secrets can still come back (a reactivation within its window). */
function reactivatable(record: KeyRecord, now: number): boolean {
  return record.status === 'revoked' && record.revokedReason === null && record.reactivatableUntil !== null && now < record.reactivatableUntil;
}

/** The rotated-out secret can still be brought back by a cancel (SPEC §2 restore window). */
function restorable(record: KeyRecord, now: number): boolean {
  const r = record.rotation;
  const prev = record.previous;
  return !!(r && prev && r.cancelledAt === null && r.oldSid === prev.sid && prev.digest !== null && r.restorableUntil !== null && now < r.restorableUntil);
}

/**
 * Decides what a report of the secret `match` does to `record`. A secret counts as valid when it
 * authenticates now or can still be brought back (a reactivation or a restore): either way a
 * stranger holding it is a risk, and rekey acts.
 */
export function exposeSecret(record: KeyRecord, match: SecretMatch, input: ExposeInput, ctx: { readonly now: number }): ExposeResult {
  const { now } = ctx;
  if (match === null) return unchanged('unknown');
  if (match.kind === 'already_exposed') return unchanged(match.exposure.action);

  const usable = record.status === 'active' ? !keyExpired(record, now) : reactivatable(record, now);
  if (!usable) return unchanged('unknown');

  const slot: Slot = match.kind;
  const secret = slot === 'current' ? record.current : record.previous!;
  if (slot === 'previous' && !secretValid(secret, now) && !restorable(record, now)) return unchanged('unknown');

  const notify = input.leakResponse === 'notify';
  const action: ExposureAction = notify ? 'notified' : slot === 'current' ? 'revoked' : 'previous_expired';
  const exposure: ExposureRecord = { sid: secret.sid, digest: secret.digest!, hint: secret.hint, at: now, action };
  const exposures = [...record.exposures, exposure].slice(-MAX_EXPOSURES);
  const events: EventDraft[] = [
    { type: 'api_key.exposed', data: { slot, hint: secret.hint, action, source: input.source, url: input.url, reportedAt: iso(now) } },
  ];
  const emails: Omit<EmailRequest, 'accountId' | 'keyId' | 'keyName'>[] = [
    { template: 'key_exposed', hint: secret.hint, expiresAt: now, exposure: { slot, action, url: input.url } },
  ];
  let changes: Partial<KeyRecord> = { exposures };

  if (action === 'revoked') {
    const wasRevoked = record.status === 'revoked';
    // Never reactivated, so nothing to wait for: the purge of its digests is due at once.
    changes = { ...changes, status: 'revoked', revokedReason: 'exposed', revokedAt: record.revokedAt ?? now, reactivatableUntil: now };
    if (!wasRevoked) events.push({ type: 'api_key.revoked', data: { reason: 'exposed', reactivatableUntil: null } });
  } else if (action === 'previous_expired') {
    const prev = record.previous!;
    const r = record.rotation;
    const ofRotation = r !== null && r.cancelledAt === null && r.oldSid === prev.sid;
    const stillValid = secretValid(prev, now);
    // Expire it now and make it unrestorable: a cancel must never bring a leaked secret back.
    changes = {
      ...changes,
      previous: { ...prev, expiresAt: stillValid ? now : prev.expiresAt },
      rotation: ofRotation ? { ...r, oldKeyExpiresAt: stillValid ? now : r.oldKeyExpiresAt, reminderAt: null, restorableUntil: null } : r,
    };
    if (ofRotation && stillValid) {
      // Announced here, like a window changed to 0: the expiry timer must not announce it again.
      events.push({ type: 'api_key.old_secret_expired', data: { rotationId: r.id, oldKeyHint: prev.hint, oldKeyExpiresAt: iso(now) } });
      changes = { ...changes, fired: [...record.fired, timerId('old_secret_expired', prev.sid, now)] };
    }
  }
  const next: KeyRecord = { ...record, ...changes, version: record.version + 1 };
  return { decision: { kind: 'change', next, events, emails }, outcome: action };
}

/**
 * The source URL as kept in the event and the emails: an http(s) URL of at most 2,048 characters
 * with no control characters and nothing shaped like a secret; anything else becomes `null`.
 */
export function sourceUrl(url: string | null | undefined): string | null {
  if (!url || url.length > 2048 || /[\p{Cc}\s]/u.test(url) || SECRET_LIKE.test(url)) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** `rekey_live_…9fQa` for a parsed secret; for anything else only its last four characters. */
export function reportedHint(token: string, parsedHint: string | null): string {
  return parsedHint ?? `…${token.slice(-4)}`;
}

