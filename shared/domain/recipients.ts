/**
 * Verified recipients (SPEC §10). An address added through the API first gets one confirmation
 * email and nothing else until it confirms; an address removed from a list gets one notice.
 *
 * The confirmation token is `HMAC(HKDF(pepper, label), effect id)`: 256 bits, derived when the
 * notice is sent, so it is never stored: the table keeps only its SHA-256 (the confirmation item),
 * and a retried send yields the same link. A token works for 7 days; using it again answers 200
 * again; an unknown or expired token is a 404.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { idTime } from './ids.js';
import { displayName, escapeHtml, singleLine } from './emails.js';
import type { PendingEmail } from './types.js';

/** How long a confirmation link works. */
export const CONFIRMATION_TTL_MS = 7 * 86_400_000;
/** base64url of 32 bytes. */
export const CONFIRMATION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const LABEL = 'rekey email confirmation tokens v1';

/** The token of the confirmation sent by notice effect `effectId`. */
export function confirmationToken(pepper: Buffer, effectId: string): string {
  const key = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), LABEL, 32));
  return createHmac('sha256', key).update(effectId).digest('base64url');
}

/** What the table stores of a token. */
export const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The expiry of the link a notice effect sends (7 days after the change that asked for it). */
export function confirmationExpiry(effectId: string, fallbackNow: number): number {
  return (idTime(effectId) ?? fallbackNow) + CONFIRMATION_TTL_MS;
}

/** What a used confirmation link did: its address joined (or was already on) its list, or was no longer asked for. */
export type ConfirmationOutcome = 'confirmed' | 'withdrawn';

/**
 * The one audit event (`email.confirmation_not_applied`) of a link that could not add its address,
 * recorded on the confirmation so that using the link again records nothing new.
 */
export interface ConfirmationNotApplied {
  readonly reason: 'list_full' | 'withdrawn';
  readonly eventId: string;
  readonly at: number;
}

/** A stored confirmation: which address of which list it confirms, and what using it did. */
export interface ConfirmationRecord {
  readonly digest: string;
  readonly accountId: string;
  readonly keyId: string | null;
  readonly address: string;
  readonly expiresAt: number;
  readonly usedAt: number | null;
  /**
   * Set with `usedAt`: a used link answers from it alone (never from the list as it is now).
   * `null` on a link used before outcomes were recorded (it then answers `confirmed`).
   */
  readonly outcome?: ConfirmationOutcome | null | undefined;
  /** Set the first time the link could not add its address (list full, or withdrawn). */
  readonly notApplied?: ConfirmationNotApplied | null | undefined;
}

/** Storage of confirmations (`CONFIRM#<digest>` items). */
export interface ConfirmationStore {
  /** Idempotent. */
  putConfirmation(record: ConfirmationRecord): Promise<void>;
  getConfirmation(digest: string): Promise<ConfirmationRecord | null>;
  /**
   * Uses the link up: sets `usedAt`, its `outcome` and (withdrawn) its `notApplied` once; returns
   * false when it was already used (another request won).
   */
  markUsed(digest: string, at: number, outcome: ConfirmationOutcome, notApplied?: ConfirmationNotApplied): Promise<boolean>;
  /**
   * Records the not-applied audit event of a link that stays usable (list full), if the link has
   * recorded none for this reason and is not used; returns whether this call recorded it.
   */
  markNotApplied(digest: string, notApplied: ConfirmationNotApplied): Promise<boolean>;
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The new state of one list when a customer replaces it with `wanted`: addresses already confirmed
 * stay, new ones become pending (and get a confirmation), confirmed ones left out are removed (and
 * get a notice). A pending address asked for again keeps its pending entry (no second email while
 * its link still works).
 */
export function planListChange(
  confirmed: readonly string[],
  pending: readonly PendingEmail[],
  wanted: readonly string[],
  now: number,
): { confirmed: string[]; pending: PendingEmail[]; toConfirm: string[]; removed: string[] } {
  const nextConfirmed = wanted.filter((w) => confirmed.some((c) => same(c, w)));
  const toConfirm: string[] = [];
  const nextPending: PendingEmail[] = [];
  for (const w of wanted) {
    if (nextConfirmed.some((c) => same(c, w))) continue;
    const open = pending.find((p) => same(p.address, w) && p.expiresAt > now);
    if (open) nextPending.push(open);
    else {
      toConfirm.push(w);
      nextPending.push({ address: w, expiresAt: now + CONFIRMATION_TTL_MS });
    }
  }
  const removed = confirmed.filter((c) => !wanted.some((w) => same(c, w)));
  return { confirmed: nextConfirmed, pending: nextPending, toConfirm, removed };
}

/** Pending entries whose link still works. */
export const openPending = (pending: readonly PendingEmail[], now: number): PendingEmail[] => pending.filter((p) => p.expiresAt > now);

/** The key a contact's notice is about (rendered in the body, never in the subject). */
export interface NoticeKey {
  readonly id: string;
  /** User input: rendered through `displayName`. */
  readonly name: string;
  /** The current secret's hint (`rekey_live_…9fQa`), when known. */
  readonly hint?: string | undefined;
}

/**
 * The confirmation email and the removal notice. Pure. Names are user input: the account's and
 * the key's are made one bounded line without control or format characters (`displayName`),
 * escaped in HTML, and only the account's reaches the subject, so a key name can neither add a
 * header nor write a subject line. A key contact's confirmation (`ctx.key`) names the key by its
 * name only: the address has not agreed to anything yet, and may not be the key holder's, so it is
 * told neither the key's id nor its secret's hint. A removal notice goes to an address that was a
 * confirmed contact (it received that key's notices, with both) and names the key, its id and its
 * hint. An alert address's email is about the whole account.
 */
export function renderRecipientNotice(
  template: 'email_confirmation' | 'email_removed',
  ctx: { accountName: string; address: string; link?: string | undefined; expiresAt?: number | undefined; key?: NoticeKey | undefined },
): { subject: string; text: string; html: string } {
  const account = displayName(ctx.accountName, 64);
  let key: string | undefined;
  if (ctx.key) {
    const keyName = displayName(ctx.key.name, 128);
    const hint = ctx.key.hint ? `, secret ${displayName(ctx.key.hint, 64)}` : '';
    if (template === 'email_confirmation') key = keyName ? `the API key "${keyName}"` : 'an API key';
    else key = `the API key ${keyName ? `"${keyName}" ` : ''}(id ${displayName(ctx.key.id, 64)}${hint})`;
  }
  const lines =
    template === 'email_confirmation'
      ? [
          key
            ? `Someone asked rekey to send the reminders and notices of ${key} of the account "${account}" to ${ctx.address}.`
            : `Someone asked rekey to send key reminders and notices of the account "${account}" to ${ctx.address}.`,
          'Nothing will be sent to this address unless you confirm it by opening this link:',
          ctx.link ?? '(link unavailable)',
          `The link works until ${new Date(ctx.expiresAt ?? 0).toISOString()}. If you did not expect this, ignore this email: nothing else will be sent.`,
        ]
      : key
        ? [
            `${ctx.address} was removed from the contacts of ${key} of the rekey account "${account}".`,
            'This is the last email it receives about this key. If this is a mistake, ask the account owner to add it again.',
          ]
        : [
            `${ctx.address} was removed from the addresses that receive key reminders and notices of the rekey account "${account}".`,
            'This is the last email it receives about this account. If this is a mistake, ask the account owner to add it again.',
          ];
  const subject = singleLine(template === 'email_confirmation' ? `[rekey] Confirm your address for "${account}"` : `[rekey] Removed from "${account}" notices`);
  const html = lines.map((l) => (l === ctx.link ? `<p><a href="${escapeHtml(l)}">${escapeHtml(l)}</a></p>` : `<p>${escapeHtml(l)}</p>`)).join('\n');
  return { subject, text: `Hello,\n\n${lines.join('\n\n')}\n\n— rekey\n`, html: `<!doctype html>\n<html><body><p>Hello,</p>\n${html}\n<p>— rekey</p></body></html>\n` };
}
