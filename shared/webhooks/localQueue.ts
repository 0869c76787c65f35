/** Local mode's queue of webhook attempts: entries of the local scheduler, in a file of their own. */
import type { AttemptMessage } from './types.js';

export const LOCAL_ATTEMPTS_FILE = 'webhook-attempts.json';

/** One queued attempt, shaped for the local scheduler (`keyId` is its naming field: the webhook id). */
export interface LocalAttempt {
  readonly id: string;
  readonly keyId: string;
  readonly kind: 'webhook_attempt';
  readonly at: number;
  readonly accountId: string;
  readonly deliveryId: string;
  readonly attempt: number;
}

export function toLocalAttempt(m: AttemptMessage, at: number): LocalAttempt {
  return { id: `${m.deliveryId}-${m.attempt}`, keyId: m.webhookId, kind: 'webhook_attempt', at, accountId: m.accountId, deliveryId: m.deliveryId, attempt: m.attempt };
}

export function fromLocalAttempt(a: LocalAttempt): AttemptMessage {
  return { webhookId: a.keyId, deliveryId: a.deliveryId, accountId: a.accountId, attempt: a.attempt };
}
