/** Maps records to the API's objects (SPEC §3). The only place epoch ms become RFC 3339 strings. */
import type { AccountViewT, EventViewT, KeyViewT } from '../http/schemas.js';
import type { AccountRecord, AuditEvent, KeyContactsRecord, KeyRecord, RotationRecord, SecretRecord } from './types.js';
import { NO_USAGE, type KeyUsage } from '../usage/facts.js';
import { idleCutoverAt } from '../usage/idle.js';

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

/** Last use of `sid`: the usage items (SPEC §12), or the record's `lastUsed` written by older versions. */
function lastUse(sid: string, record: KeyRecord, usage: KeyUsage) {
  const recorded = usage.bySid.get(sid);
  const legacy = record.lastUsed[sid];
  const at = Math.max(recorded?.lastAt ?? -1, legacy ?? -1);
  return {
    lastUsedAt: at < 0 ? null : iso(at),
    lastUsedFrom: recorded ? { ip: recorded.from.ip, userAgent: recorded.from.userAgent } : null,
  };
}

function secretView(secret: SecretRecord, record: KeyRecord, usage: KeyUsage) {
  return {
    hint: secret.hint,
    createdAt: iso(secret.createdAt),
    expiresAt: isoOrNull(secret.expiresAt),
    ...lastUse(secret.sid, record, usage),
  };
}

/** `rotation.idleCutover`: the setting, and the cut-over instant once it is known (or happened). */
function idleCutoverView(r: RotationRecord, now: number, usage: KeyUsage) {
  const idle = r.idleSeconds ?? null;
  if (idle === null) return null;
  let at: number | null = r.idleCutoverAt ?? null;
  if (at === null && r.cancelledAt === null && now < r.oldKeyExpiresAt && usage.idle !== null) at = idleCutoverAt(r, usage.idle);
  return { expireWhenIdleSeconds: idle, at: isoOrNull(at) };
}

/** The key object's `contacts` and `pendingEmails` (SPEC §10): confirmed, and still-open pending addresses. */
export function contactsView(c: KeyContactsRecord | null, now: number): { contacts: string[]; pendingEmails: string[] } {
  return { contacts: [...(c?.contacts ?? [])], pendingEmails: (c?.pendingEmails ?? []).filter((p) => p.expiresAt > now).map((p) => p.address) };
}

/**
 * The key object (SPEC §3). `usage` is the recorded usage of its secrets (`shared/usage/facts.ts`);
 * without it the view shows what the record alone knows. `contacts` is the key's contacts item
 * (`null`: none).
 */
export function keyView(record: KeyRecord, now: number, usage: KeyUsage = NO_USAGE, contacts: KeyContactsRecord | null = null): KeyViewT {
  const uses = [...Object.values(record.lastUsed), ...[...usage.bySid.values()].map((u) => u.lastAt)];
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
    // An exposed key can never be reactivated, whatever its purge timer says.
    reactivatableUntil: record.status === 'revoked' && record.revokedReason === null ? isoOrNull(record.reactivatableUntil) : null,
    revokedReason: record.status === 'revoked' ? record.revokedReason : null,
    currentSecret: secretView(record.current, record, usage),
    // A purged previous secret is gone; a previous secret past its expiry is still shown (with its
    // expiry) while it can be restored, so the customer sees what a cancel would bring back.
    previousSecret: record.previous && record.previous.digest !== null ? secretView(record.previous, record, usage) : null,
    rotation: r
      ? {
          id: r.id,
          state: rotationState(r, now),
          startedAt: iso(r.startedAt),
          oldKeyExpiresAt: iso(r.oldKeyExpiresAt),
          oldKeyHint: r.oldKeyHint,
          oldKeyLastUsedAt: lastUse(r.oldSid, record, usage).lastUsedAt,
          oldKeyLastUsedFrom: lastUse(r.oldSid, record, usage).lastUsedFrom,
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
          idleCutover: idleCutoverView(r, now, usage),
        }
      : null,
    ...contactsView(contacts, now),
  };
}

export function accountView(a: AccountRecord, now: number = Date.now()): AccountViewT {
  return {
    id: a.id,
    name: a.name,
    status: a.status,
    alertEmails: [...a.alertEmails],
    allowedScopes: [...a.allowedScopes],
    leakResponse: a.leakResponse,
    // Only addresses whose confirmation link still works are waiting; expired ones are dropped.
    pendingEmails: a.pendingEmails.filter((p) => p.expiresAt > now).map((p) => p.address),
    createdAt: iso(a.createdAt),
  };
}

export function eventView(e: AuditEvent): EventViewT {
  return { id: e.id, type: e.type, at: iso(e.at), actorKeyId: e.actorKeyId, actor: { ...e.actor }, data: { ...e.data } };
}
