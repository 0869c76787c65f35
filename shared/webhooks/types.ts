/**
 * Webhook endpoints and their deliveries (SPEC §10). Pure data and policy constants: no I/O.
 * Times are epoch milliseconds; the HTTP edge turns them into RFC 3339 (`view.ts`).
 */
import { PUBLISHED_EVENT_TYPES, type Environment, type PublishedEventType } from '../domain/types.js';

/** Most endpoints one account may have, both environments together. */
export const MAX_WEBHOOKS_PER_ACCOUNT = 10;
/** A `2xx` within this many ms is delivered. */
export const DELIVERY_TIMEOUT_MS = 15_000;
/** At most this much of a response is read (then the connection is dropped). */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Waits before each retry, after the first attempt: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
/** An endpoint whose deliveries have all failed for this long is disabled. */
export const FAILING_DISABLE_MS = 3 * 86_400_000;
/** The event type of `POST /v1/webhooks/{id}/test`. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** What an endpoint can subscribe to: every published `api_key.*` type (SPEC §2, §11). */
export const WEBHOOK_EVENT_TYPES: readonly PublishedEventType[] = PUBLISHED_EVENT_TYPES;

export type DisabledReason = 'gone' | 'failing' | 'user';

/** One signing secret, encrypted at rest (AES-256-GCM, see `secretBox.ts`). */
export interface SigningSecretRecord {
  /** Random id; also the AAD of its ciphertext together with the webhook id. */
  readonly id: string;
  /** base64url of `iv ‖ ciphertext ‖ tag`. */
  readonly enc: string;
  /** `whsec_…abcd`. */
  readonly hint: string;
  readonly createdAt: number;
  /** `null` for the current secret; the end of the overlap for the previous one. */
  readonly expiresAt: number | null;
}

export interface WebhookRecord {
  readonly id: string;
  readonly accountId: string;
  /** Position 0–9 within the account: the item's sort key, so the limit holds under concurrency. */
  readonly slot: number;
  readonly url: string;
  readonly description: string;
  readonly environment: Environment;
  readonly eventTypes: readonly PublishedEventType[];
  readonly enabled: boolean;
  readonly disabledReason: DisabledReason | null;
  /** Newest first; the first is current. */
  readonly secrets: readonly SigningSecretRecord[];
  /** Start of the current run of failed deliveries; `null` after a success. */
  readonly failingSince: number | null;
  readonly createdAt: number;
  readonly version: number;
}

export interface DeliveryAttempt {
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  /** Also the `webhook-id` header (`msg_<id>`), the same on every try. */
  readonly id: string;
  readonly webhookId: string;
  readonly accountId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** The exact body sent on every attempt (signed as is). */
  readonly payload: string;
  /** Unix seconds of the message, fixed at creation like the id. */
  readonly createdAt: number;
  readonly status: DeliveryStatus;
  readonly attempts: readonly DeliveryAttempt[];
  readonly nextAttemptAt: number | null;
}

/** A queued attempt: attempt number `attempt` (0-based) of one delivery. */
export interface AttemptMessage {
  readonly webhookId: string;
  readonly deliveryId: string;
  readonly accountId: string;
  readonly attempt: number;
}

/** Whether a secret still signs at `now`. */
export const secretActive = (s: SigningSecretRecord, now: number): boolean => s.expiresAt === null || now < s.expiresAt;
