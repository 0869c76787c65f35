/** Narrow interfaces the webhook service depends on; implemented in `shared/adapters` and `shared/local`. */
import type { Page, PageRequest } from '../domain/ports.js';
import type { Effect } from '../domain/types.js';
import type { AttemptMessage, DeliveryAttempt, DeliveryRecord, DeliveryStatus, WebhookRecord } from './types.js';

export interface WebhookStore {
  /** Every endpoint of the account (at most 10), oldest slot first. */
  listWebhooks(accountId: string, options?: { consistent?: boolean }): Promise<WebhookRecord[]>;
  /** Puts a new endpoint in its slot; throws `VersionConflictError` when the slot is taken. */
  createWebhook(record: WebhookRecord): Promise<void>;
  /**
   * Replaces the endpoint if its stored version is `expectedVersion`, else `VersionConflictError`;
   * `effects` are committed into the endpoint's outbox (`OutboxRef` kind `webhook`) in the same
   * conditional write, and effects still pending from earlier writes stay.
   */
  updateWebhook(record: WebhookRecord, expectedVersion: number, effects?: readonly Effect[]): Promise<void>;
  /**
   * Deletes the endpoint if its stored version is `expectedVersion`, else `VersionConflictError`.
   * Effects still pending in its outbox move to the account's outbox first: none is lost, none is
   * performed twice. While a dispatcher holds the endpoint's outbox (its lease runs until `busyUntil`,
   * compared with `now`) nothing is changed and `{busyUntil}` is returned; `null` when deleted.
   */
  deleteWebhook(record: WebhookRecord, expectedVersion: number, now: number): Promise<{ busyUntil: number } | null>;
  /** Idempotent: a delivery with the same id under the same endpoint is left as it is. */
  putDelivery(record: DeliveryRecord): Promise<void>;
  getDelivery(webhookId: string, deliveryId: string): Promise<DeliveryRecord | null>;
  /**
   * Appends an attempt and sets the outcome if the delivery still has `expectedAttempts` attempts
   * (a duplicate queue message that lost the race changes nothing); returns whether it did.
   */
  recordAttempt(
    webhookId: string,
    deliveryId: string,
    expectedAttempts: number,
    attempt: DeliveryAttempt,
    status: DeliveryStatus,
    nextAttemptAt: number | null,
  ): Promise<boolean>;
  /** Newest first. */
  listDeliveries(webhookId: string, page: PageRequest): Promise<Page<DeliveryRecord>>;
}

/**
 * Queues attempt `n` of a delivery for time `at`. Idempotent per (delivery, attempt). In AWS: SQS
 * with a delay for waits up to 15 min, an EventBridge Scheduler one-shot beyond; locally: the local
 * scheduler. Never a sleeping function.
 */
export interface AttemptQueue {
  enqueue(message: AttemptMessage, at: number): Promise<void>;
}
