/**
 * Pure words for webhook endpoints and their deliveries (SPEC §10): why an endpoint is off, what an
 * event type means, how a delivery stands. No DOM access, so they are unit-testable in Node.
 */
import { PUBLISHED_EVENT_TYPES, type PublishedEventType } from '../../shared/domain/types.js';
import type { DeliveryView, WebhookView } from './types.js';

/** Every event type an endpoint can subscribe to, in the API's order. */
export const WEBHOOK_EVENT_TYPES: readonly PublishedEventType[] = PUBLISHED_EVENT_TYPES;

const EVENT_WORDS: Record<string, string> = {
  'api_key.created': 'a key is created',
  'api_key.rotated': 'a key is rotated',
  'api_key.rotation_updated': "a rotation's window is changed",
  'api_key.rotation_cancelled': 'a rotation is cancelled or restored',
  'api_key.rotation_reminder': 'an old secret stops working in 2 hours',
  'api_key.old_secret_expired': 'an old secret stops working',
  'api_key.expiring': 'a key is about to expire',
  'api_key.expired': 'a key expires',
  'api_key.revoked': 'a key is revoked',
  'api_key.reactivated': 'a key is reactivated',
  'api_key.updated': "a key's name, scopes or expiry change",
  'api_key.exposed': 'a secret is found leaked',
  'webhook.test': 'a test event sent from here',
};

/** "when a key is rotated" for an event type; the type itself when rekey has no words for it. */
export function eventTypeWords(type: string): string {
  return EVENT_WORDS[type] ?? type;
}

/** Whether an endpoint receives every event type (the default), so the UI can say "all events". */
export function receivesAll(hook: Pick<WebhookView, 'eventTypes'>): boolean {
  return WEBHOOK_EVENT_TYPES.every((t) => hook.eventTypes.includes(t));
}

/** Why an endpoint receives nothing, in words; `null` while it is enabled. */
export function disabledWords(hook: Pick<WebhookView, 'enabled' | 'disabledReason'>): string | null {
  if (hook.enabled) return null;
  switch (hook.disabledReason) {
    case 'gone':
      return 'Disabled by rekey: the endpoint answered 410 Gone. Fix the receiver, then enable it again.';
    case 'failing':
      return 'Disabled by rekey: every delivery failed for 3 days. Fix the receiver, then enable it again.';
    default:
      return 'Paused: no events are sent until it is enabled again.';
  }
}

/** The short badge text of an endpoint's state. */
export function endpointState(hook: Pick<WebhookView, 'enabled' | 'disabledReason'>): 'enabled' | 'paused' | 'disabled' {
  if (hook.enabled) return 'enabled';
  return hook.disabledReason === 'gone' || hook.disabledReason === 'failing' ? 'disabled' : 'paused';
}

/** One attempt in words: `200`, `500 Internal error`, `no answer: timed out after 15 s`. */
export function attemptWords(attempt: DeliveryView['attempts'][number]): string {
  if (attempt.statusCode !== null) return attempt.error ? `${attempt.statusCode} · ${attempt.error}` : String(attempt.statusCode);
  return `no answer${attempt.error ? `: ${attempt.error}` : ''}`;
}

/**
 * Where a delivery stands in one line: delivered on which attempt, waiting for which retry, or
 * given up after how many.
 */
export function deliverySummary(d: Pick<DeliveryView, 'status' | 'attempts' | 'nextAttemptAt'>): string {
  const n = d.attempts.length;
  const tries = `${n} attempt${n === 1 ? '' : 's'}`;
  if (d.status === 'delivered') return n <= 1 ? 'Delivered on the first attempt' : `Delivered after ${tries}`;
  if (d.status === 'failed') return `Failed after ${tries}; no more retries`;
  if (n === 0) return 'Queued; the first attempt is on its way';
  return `${tries} failed so far; retrying`;
}

/**
 * Validates the endpoint form before any request: a URL with `http(s)://` and a host, at least one
 * event type. Returns the first problem as a sentence naming the field, or `null`. The API checks
 * again (public hosts only in AWS, SSRF rules of SPEC §10); this only saves a round trip.
 */
export function endpointFormError(url: string, eventTypes: readonly string[]): string | null {
  const u = url.trim();
  if (u === '') return 'URL: enter the address that should receive the events.';
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    return `URL: "${u.slice(0, 80)}" is not a web address. It looks like https://hooks.example.com/rekey.`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'URL: must start with https:// (local mode also accepts http://127.0.0.1 and http://localhost).';
  if (eventTypes.length === 0) return 'Events: choose at least one event type.';
  return null;
}

/** Follow a delivery whose next attempt is due within this long… */
export const FOLLOW_AHEAD_MS = 60_000;
/** …and stop following one whose attempt is this overdue (the sender is down; a click still refreshes). */
export const FOLLOW_OVERDUE_MS = 120_000;

/**
 * Whether the open deliveries list should re-read itself for this delivery: it is pending and its
 * next attempt (or, before the first, its creation) is due within a minute and not long overdue.
 * Bounded both ways so an open list never polls for hours.
 */
export function shouldFollow(d: Pick<DeliveryView, 'status' | 'nextAttemptAt' | 'createdAt'>, now: number): boolean {
  if (d.status !== 'pending') return false;
  const due = Date.parse(d.nextAttemptAt ?? d.createdAt);
  return due - now < FOLLOW_AHEAD_MS && now - due < FOLLOW_OVERDUE_MS;
}

/**
 * A URL short enough for a heading or a sentence: up to `max` characters, else its start (scheme,
 * host, the path's beginning) and its end around an ellipsis. The full URL stays one click away.
 */
export function shortUrl(url: string, max = 80): string {
  if (url.length <= max) return url;
  const tail = Math.floor((max - 1) / 3);
  return `${url.slice(0, max - 1 - tail)}…${url.slice(-tail)}`;
}
