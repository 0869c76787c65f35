/**
 * The audit trail in words: one sentence per event, with key names instead of ids. Pure (no DOM),
 * so it is unit-tested in Node.
 *
 * Adding an event type is one entry in `SENTENCES` (a type without one still reads as its title);
 * who did it comes from `actorOf`, which understands `actorKeyId` and the richer `actor`
 * (`{type: "key" | "operator" | "system", id}`) that events may carry.
 */
import { formatDateTime, formatDuration } from './format.js';

/** The parts of an event the sentences read; extra fields are ignored. */
export interface AuditEventLike {
  readonly type: string;
  readonly actorKeyId: string | null;
  readonly actor?: { readonly type: string; readonly id?: string | null } | null | undefined;
  readonly data: Readonly<Record<string, unknown>>;
}

/** What a sentence may look up: key names by id, and the key the trail belongs to. */
export interface SentenceContext {
  /** The name of a key the dashboard knows, or `undefined`. */
  readonly keyName: (id: string) => string | undefined;
  /** The key whose trail this is. */
  readonly subjectKeyId: string;
}

type Data = Readonly<Record<string, unknown>>;
type Builder = (d: Data, actor: string, ctx: SentenceContext) => string;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const when = (v: unknown): string | null => {
  const s = str(v);
  return s && !Number.isNaN(Date.parse(s)) ? formatDateTime(s) : null;
};
const hint = (v: unknown, fallback = 'a secret'): string => str(v) ?? fallback;
/** `rotation_reminder` → `rotation reminder`: an email template's name in words. */
const templateWords = (v: unknown): string => (str(v) ?? 'notice').replace(/[._]+/g, ' ');

/** `api_key.rotation_updated` → `Rotation updated`: the fallback for types without a sentence. */
export function eventTitle(type: string): string {
  const words = type.replace(/^(api_key|key)\./, '').replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A key's name in quotes, or "key 1a2b3c…" when the dashboard does not know it (another environment, deleted). */
export function keyLabel(id: string, ctx: SentenceContext): string {
  const name = ctx.keyName(id);
  return name !== undefined ? `“${name}”` : `key ${id.slice(0, 6)}…`;
}

/** Who did it, as the subject of a sentence. */
export function actorOf(e: AuditEventLike, ctx: SentenceContext): string {
  const a = e.actor;
  // The operator's IAM principal (or `local-operator`) says which backend or person acted (SPEC §9).
  if (a?.type === 'operator') return str(a.id) ? `The operator (${str(a.id)})` : 'The operator';
  if (a?.type === 'system') return 'rekey';
  const id = (a?.type === 'key' ? str(a.id) : null) ?? e.actorKeyId;
  if (id === null) return 'rekey';
  if (id === ctx.subjectKeyId) return 'This key itself';
  const name = ctx.keyName(id);
  return name !== undefined ? `The key “${name}”` : `Key ${id.slice(0, 6)}…`;
}

const SENTENCES: Record<string, Builder> = {
  'api_key.created': (d, actor) => {
    const scopes = Array.isArray(d.scopes) && d.scopes.length ? ` with scopes ${d.scopes.join(', ')}` : ' with no scopes';
    const expiry = when(d.expiresAt);
    const env = str(d.environment);
    return `${actor} created this ${env ? `${env} ` : ''}key${scopes}; its secret is ${hint(d.hint)}${expiry ? ` and expires ${expiry}` : ''}.`;
  },
  'api_key.rotated': (d, actor) => {
    const until = when(d.oldKeyExpiresAt);
    return `${actor} rotated the key: ${hint(d.newKeyHint, 'a new secret')} is the current secret, and the old secret ${hint(d.oldKeyHint)} ${
      until ? `keeps working until ${until}` : 'stopped working at once'
    }.`;
  },
  'api_key.rotation_updated': (d, actor) => {
    const until = when(d.expiresAt);
    const before = when(d.previousExpiresAt);
    return `${actor} changed how long ${hint(d.hint, 'the previous secret')} keeps working: until ${until ?? 'now'}${before ? ` (was ${before})` : ''}.`;
  },
  'api_key.rotation_cancelled': (d, actor) => {
    const restored = hint(d.restoredHint, 'the old secret');
    const until = when(d.newKeyExpiresAt);
    const how = d.restoredAfterExpiry === true ? `restored ${restored} after it had expired` : `cancelled the rotation: ${restored} is the current secret again`;
    return `${actor} ${how}; the new secret ${hint(d.newKeyHint)} ${until ? `works until ${until}` : 'stopped working'}.`;
  },
  'api_key.rotation_reminder': (d) =>
    `rekey emailed the alert addresses: the old secret ${hint(d.oldKeyHint)} stops working ${when(d.oldKeyExpiresAt) ?? 'soon'}.`,
  'api_key.old_secret_expired': (d) => {
    const restorable = when(d.restorableUntil);
    const at = when(d.oldKeyExpiresAt);
    return `The old secret ${hint(d.oldKeyHint)} stopped working${at ? ` ${at}` : ''}${restorable ? `; it can be restored until ${restorable}` : ''}.`;
  },
  'api_key.expiring': (d) => {
    const left = typeof d.secondsLeft === 'number' ? ` (in ${formatDuration(d.secondsLeft)})` : '';
    return `rekey warned the alert addresses that this key expires ${when(d.expiresAt) ?? 'soon'}${left}.`;
  },
  'api_key.expired': (d) => {
    const at = when(d.expiresAt);
    return `This key expired${at ? ` ${at}` : ''}: its secret ${hint(d.hint)} is refused.`;
  },
  'api_key.revoked': (d, actor) => {
    const until = when(d.reactivatableUntil);
    return `${actor} revoked the key: every secret is refused${until ? `; it can be reactivated until ${until}` : ''}.`;
  },
  'api_key.reactivated': (_d, actor) => `${actor} reactivated the key: its secrets work again.`,
  'api_key.updated': (d, actor) => {
    const c = (d.changes ?? {}) as Data;
    const parts: string[] = [];
    if (str(c.name)) parts.push(`renamed it “${c.name as string}”`);
    if (Array.isArray(c.scopes)) parts.push(c.scopes.length ? `set its scopes to ${c.scopes.join(', ')}` : 'removed all its scopes');
    if ('expiresAt' in c) parts.push(c.expiresAt === null ? 'removed its expiry' : `set its expiry to ${when(c.expiresAt) ?? String(c.expiresAt)}`);
    return parts.length ? `${actor} ${parts.join(' and ')}.` : `${actor} updated the key.`;
  },
  // Counts only: the audit trail never lists addresses (SPEC §10 key contacts).
  'api_key.contacts_updated': (d, actor) => {
    const n = (v: unknown) => (typeof v === 'number' ? v : 0);
    const sent = n(d.confirmationsSent);
    const removed = n(d.removed);
    return `${actor} set the key's contacts: ${n(d.count)} confirmed, ${n(d.pending)} waiting for confirmation${sent ? ` (${sent} confirmation link${sent === 1 ? '' : 's'} sent)` : ''}${removed ? `; ${removed} removed and told so` : ''}.`;
  },
  'api_key.contact_confirmed': (d) => `A contact confirmed its address: the key now has ${typeof d.count === 'number' ? d.count : 'its'} confirmed contact${d.count === 1 ? '' : 's'}.`,
  // Emails about the key that did not (all) go out (SPEC §10 daily cap, no recipient, given up).
  'email.skipped': (d) => {
    const n = typeof d.skippedRecipients === 'number' ? d.skippedRecipients : 0;
    const max = typeof d.maxEmailsPerAccountPerDay === 'number' ? ` of ${d.maxEmailsPerAccountPerDay}` : '';
    return `rekey skipped the ${templateWords(d.email)} email to ${n} recipient${n === 1 ? '' : 's'}: the account reached its daily limit${max} emails${str(d.day) ? ` on ${str(d.day)}` : ''}.`;
  },
  'email.not_sent': (d) => {
    const reason = str(d.reason) ?? '';
    const why = reason.startsWith('no_recipients')
      ? 'there was no confirmed address to send it to (add alert emails or contacts)'
      : reason.startsWith('given_up')
        ? 'sending kept failing for 3 days'
        : reason === 'account_missing'
          ? 'the account no longer exists'
          : `it was refused (${reason || 'no reason given'})`;
    return `rekey could not send the ${templateWords(d.template)} email${str(d.recipient) ? ` to ${str(d.recipient)}` : ''}: ${why}.`;
  },
  'email.confirmation_not_applied': (d) =>
    d.reason === 'list_full'
      ? `A confirmation link could not add its address: the key already has ${typeof d.limit === 'number' ? d.limit : 'the most'} contacts. The link works again once there is room.`
      : "A confirmation link was followed after its address had been removed from the key's contacts; nothing changed.",
  'api_key.secrets_purged': (d) =>
    d.slot === 'all' ? 'rekey erased the digests of every secret of this key: it can no longer be reactivated.' : `rekey erased the digest of ${hint(d.hint, 'the previous secret')}: it can no longer be restored.`,
  'api_key.exposed': (d) => {
    const where = str(d.url) ?? str(d.sourceUrl);
    // What rekey did about it (SPEC §11), from the event's `action`.
    const did: Record<string, string> = {
      revoked: 'rekey revoked the key for good',
      previous_expired: 'rekey made that rotated-out secret stop working at once',
      notified: 'rekey told the alert addresses and changed nothing (leak response "notify")',
    };
    const action = str(d.action);
    return `The secret ${hint(d.hint)} was reported as exposed${where ? ` at ${where}` : ''}${action && did[action] ? `; ${did[action]}` : ''}.`;
  },
};

/** The sentence for one event. Unknown types still read as words: their title and who acted. */
export function describeEvent(e: AuditEventLike, ctx: SentenceContext): string {
  const actor = actorOf(e, ctx);
  const build = SENTENCES[e.type];
  if (build) return build(e.data, actor, ctx);
  return `${eventTitle(e.type)} (by ${actor === 'rekey' ? 'rekey' : actor.charAt(0).toLowerCase() + actor.slice(1)}).`;
}

/** Whether `describeEvent` has a sentence of its own for this type. */
export function hasSentence(type: string): boolean {
  return type in SENTENCES;
}
