/**
 * The per-account daily email cap (SPEC §10: at most `maxEmailsPerAccountPerDay`, default 200).
 * Every email rekey sends on behalf of an account goes through `sendWithinCap`: it takes as many
 * recipients as the day's quota still allows (one email per recipient), sends to those, and skips
 * the rest, recording the skip in the audit trail and in the day's counter. A retried send takes
 * quota again: the cap errs on the side of sending less.
 */
import { SYSTEM_ACTOR, type AuditEvent } from './types.js';
import type { Clock, EmailMessage, Ids, KeyStore, Log, Mailer } from './ports.js';
import { effectId } from './ids.js';

/** Day counters of sent and skipped emails per account (UTC days). */
export interface EmailQuota {
  /** Reserves up to `wanted` of the day's `max`; returns how many were granted (0 when the cap is reached). */
  take(accountId: string, day: string, wanted: number, max: number): Promise<number>;
  /** Counts emails skipped because of the cap. */
  recordSkipped(accountId: string, day: string, count: number): Promise<void>;
}

/** `2026-03-01`: the UTC day of an instant. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface CapDeps {
  readonly mailer: Mailer;
  readonly quota?: EmailQuota | undefined;
  readonly maxPerDay: number;
  readonly store: Pick<KeyStore, 'putEvent'>;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly log: Log;
}

/** What the skip is recorded against: the key the email is about, or the account. */
export interface CapSubject {
  readonly accountId: string;
  readonly keyId: string | null;
  /** Short name of the email (template), for the audit trail. */
  readonly kind: string;
}

/** Sends `message` to as many of its recipients as today's cap allows; returns how many got it. */
export async function sendWithinCap(message: EmailMessage, subject: CapSubject, deps: CapDeps): Promise<number> {
  if (message.to.length === 0) return 0;
  if (!deps.quota) {
    await deps.mailer.send(message);
    return message.to.length;
  }
  const now = deps.clock.now();
  const day = utcDay(now);
  const granted = await deps.quota.take(subject.accountId, day, message.to.length, deps.maxPerDay);
  const skipped = message.to.length - granted;
  if (granted > 0) await deps.mailer.send({ ...message, to: message.to.slice(0, granted) });
  if (skipped > 0) {
    await deps.quota.recordSkipped(subject.accountId, day, skipped);
    const id = effectId(deps.ids.sortable(now), 0);
    const event: AuditEvent = {
      id, type: 'email.skipped', at: now, actorKeyId: null, actor: SYSTEM_ACTOR, accountId: subject.accountId, keyId: subject.keyId,
      data: { email: subject.kind, skippedRecipients: skipped, reason: 'daily_cap', maxEmailsPerAccountPerDay: deps.maxPerDay, day },
    };
    await deps.store.putEvent(event);
    deps.log.warn('emails skipped: daily cap reached', { accountId: subject.accountId, keyId: subject.keyId, email: subject.kind, skipped, day });
  }
  return granted;
}
