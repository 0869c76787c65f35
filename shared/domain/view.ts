/** Maps records to the API's objects (SPEC §3). The only place epoch ms become RFC 3339 strings. */
import type { AccountViewT, EventViewT, KeyViewT } from '../http/schemas.js';
import type { AccountRecord, AuditEvent, KeyRecord, RotationRecord, SecretRecord } from './types.js';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

/** A secret works when it has a digest and has not reached its expiry (expiry is exact to the ms). */
export function secretValid(secret: SecretRecord | null, now: number): boolean {
  return secret !== null && secret.digest !== null && (secret.expiresAt === null || now < secret.expiresAt);
}

export function keyExpired(record: KeyRecord, now: number): boolean {
  return record.current.expiresAt !== null && now >= record.current.expiresAt;
}

export function keyStatus(record: KeyRecord, now: number): 'active' | 'revoked' | 'expired' {
  if (record.status === 'revoked') return 'revoked';
  return keyExpired(record, now) ? 'expired' : 'active';
}

export function rotationState(rotation: RotationRecord, now: number): 'in_progress' | 'completed' | 'cancelled' {
  if (rotation.cancelledAt !== null) return 'cancelled';
  return now < rotation.oldKeyExpiresAt ? 'in_progress' : 'completed';
}

function secretView(secret: SecretRecord, lastUsed: KeyRecord['lastUsed']) {
  return {
    hint: secret.hint,
    createdAt: iso(secret.createdAt),
    expiresAt: isoOrNull(secret.expiresAt),
    lastUsedAt: isoOrNull(lastUsed[secret.sid]),
  };
}

export function keyView(record: KeyRecord, now: number): KeyViewT {
  const lu = record.lastUsed;
  const uses = Object.values(lu);
  const r = record.rotation;
  return {
    id: record.id,
    name: record.name,
    environment: record.environment,
    scopes: [...record.scopes],
    status: keyStatus(record, now),
    createdAt: iso(record.createdAt),
    expiresAt: isoOrNull(record.current.expiresAt),
    lastUsedAt: uses.length ? iso(Math.max(...uses)) : null,
    lastRotatedAt: isoOrNull(r?.startedAt),
    revokedAt: isoOrNull(record.revokedAt),
    reactivatableUntil: record.status === 'revoked' ? isoOrNull(record.reactivatableUntil) : null,
    currentSecret: secretView(record.current, lu),
    // A purged previous secret is gone; a previous secret past its expiry is still shown (with its
    // expiry) while it can be restored, so the customer sees what a cancel would bring back.
    previousSecret: record.previous && record.previous.digest !== null ? secretView(record.previous, lu) : null,
    rotation: r
      ? {
          id: r.id,
          state: rotationState(r, now),
          startedAt: iso(r.startedAt),
          oldKeyExpiresAt: iso(r.oldKeyExpiresAt),
          oldKeyHint: r.oldKeyHint,
          oldKeyLastUsedAt: isoOrNull(lu[r.oldSid]),
          reminderAt: r.cancelledAt === null ? isoOrNull(r.reminderAt) : null,
          restorableUntil:
            r.cancelledAt === null && record.previous?.sid === r.oldSid && record.previous.digest !== null
              ? isoOrNull(r.restorableUntil)
              : null,
          cancelledAt: isoOrNull(r.cancelledAt),
          // After a cancel the previous slot holds this rotation's new secret (kept so clients can
          // switch back); it blocks the next rotation until it ends, so say until when.
          newKeyExpiresAt:
            r.cancelledAt !== null && record.previous && record.previous.sid !== r.oldSid && secretValid(record.previous, now)
              ? isoOrNull(record.previous.expiresAt)
              : null,
        }
      : null,
  };
}

export function accountView(a: AccountRecord): AccountViewT {
  return { id: a.id, name: a.name, status: a.status, alertEmails: [...a.alertEmails], allowedScopes: [...a.allowedScopes], createdAt: iso(a.createdAt) };
}

export function eventView(e: AuditEvent): EventViewT {
  return { id: e.id, type: e.type, at: iso(e.at), actorKeyId: e.actorKeyId, data: { ...e.data } };
}
