/**
 * The shape of a published domain event, shared by the EventBridge publisher and the local
 * `events.jsonl` publisher so both modes emit the same detail. Pure: no I/O.
 */
import { SECRET_LIKE } from './keyFormat.js';
import { PUBLISHED_EVENT_TYPES, type AuditEvent, type PublishedEventType } from './types.js';

/** The `detail` of a rekey domain event. Ids and times only; never a secret or a digest. */
export interface EventDetail {
  readonly id: string;
  readonly type: PublishedEventType;
  /** RFC 3339 UTC. */
  readonly at: string;
  readonly accountId: string;
  readonly keyId: string | null;
  readonly actorKeyId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The EventBridge `source` of every rekey event. */
export const EVENT_SOURCE = 'rekey';

const PUBLISHED = new Set<string>(PUBLISHED_EVENT_TYPES);

/** Whether this audit event type is also a published domain event (audit-only types are not). */
export function isPublished(event: AuditEvent): event is AuditEvent & { type: PublishedEventType } {
  return PUBLISHED.has(event.type);
}

/** Builds the detail of a published event. */
export function eventDetail(event: AuditEvent & { type: PublishedEventType }): EventDetail {
  return {
    id: event.id,
    type: event.type,
    at: new Date(event.at).toISOString(),
    accountId: event.accountId,
    keyId: event.keyId,
    actorKeyId: event.actorKeyId,
    data: event.data,
  };
}

/** Property names that must never appear in an event, whatever their value. */
const FORBIDDEN_KEYS = new Set(['secret', 'digest', 'pepper']);

/** Thrown when an event about to be published carries something that looks like a secret. */
export class SecretInEventError extends Error {
  constructor(
    readonly eventId: string,
    reason: string,
  ) {
    // The message names the event and the reason, never the offending value.
    super(`refusing to publish event ${eventId}: ${reason}`);
    this.name = 'SecretInEventError';
  }
}

/**
 * Defence in depth: the domain never puts secrets in events, and this check makes sure a bug there
 * cannot leak one to subscribers. Returns the serialized detail when it is clean.
 */
export function serializeDetail(detail: EventDetail): string {
  const json = JSON.stringify(detail, (key, value: unknown) => {
    if (FORBIDDEN_KEYS.has(key.toLowerCase())) throw new SecretInEventError(detail.id, `field "${key}" is not allowed in an event`);
    return value;
  });
  if (SECRET_LIKE.test(json)) throw new SecretInEventError(detail.id, 'the detail contains a value shaped like a secret');
  return json;
}
