import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { attemptDelivery } from '../../shared/webhooks/service.js';
import type { AttemptMessage } from '../../shared/webhooks/types.js';
import { runtime } from '../../shared/runtime.js';

/**
 * The delivery function: one webhook attempt per SQS message (the queue's delay, or a Scheduler
 * one-shot that sends to the queue, provides every wait). A message that fails is reported so SQS
 * redelivers it; a duplicate is a no-op in `attemptDelivery`.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const rt = runtime();
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    let message: AttemptMessage;
    try {
      message = parseMessage(record.body);
    } catch {
      rt.log.error('webhook delivery: malformed message dropped', { messageId: record.messageId });
      continue;
    }
    try {
      const outcome = await attemptDelivery(message, rt.webhooks);
      rt.log.info('webhook attempt', { webhookId: message.webhookId, deliveryId: message.deliveryId, attempt: message.attempt, outcome });
    } catch (err) {
      rt.log.error('webhook attempt failed; SQS will redeliver', { deliveryId: message.deliveryId, error: err instanceof Error ? err.name : String(err) });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
};

/** Validates a queue message's shape (ids are checked by the store's lookups). */
export function parseMessage(body: string): AttemptMessage {
  const m = JSON.parse(body) as Partial<AttemptMessage>;
  if (typeof m.webhookId !== 'string' || typeof m.deliveryId !== 'string' || typeof m.accountId !== 'string' || !Number.isInteger(m.attempt)) {
    throw new Error('malformed attempt message');
  }
  return { webhookId: m.webhookId, deliveryId: m.deliveryId, accountId: m.accountId, attempt: m.attempt! };
}
