import type { DynamoDBBatchResponse, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { drainOutbox, sweepOutbox } from '../shared/domain/outbox.js';
import { outboxRefOf } from '../shared/adapters/dynamoStore.js';
import { runtime } from '../shared/runtime.js';

/**
 * The guaranteed path for outbox effects a handler could not perform (it died after its write, an
 * effect failed, or another dispatcher held the outbox). Two triggers:
 * - the DynamoDB stream, filtered to images with a pending outbox (`obp`: a key, a key's contacts,
 *   an account, or a webhook endpoint — which shares its account's `pk`, so items are told apart by
 *   both keys): drains each item and
 *   reports the ones whose effects failed, so Lambda retries them. An item another dispatcher holds
 *   (`busy`) is NOT reported: Lambda retries stream batches at once, without backoff, so ten retries
 *   take a second or two, while the holder (usually the handler that just committed the change,
 *   draining before it answers) keeps its claim for up to the 30 s lease. Reporting it would send a
 *   healthy item to the dead-letter queue and fire its alarm. The holder performs the effects; if
 *   it dies, its lease runs out and the sweep below takes the item over (it stays in `gsi3`);
 * - an EventBridge schedule (every minute): sweeps every item still pending (sparse index `gsi3`),
 *   which also recovers items whose dispatcher died holding the lease. An item whose drain throws
 *   does not stop the sweep; the invocation fails at the end (the function's Errors alarm).
 */
export const handler = async (event: DynamoDBStreamEvent | ScheduledEvent): Promise<DynamoDBBatchResponse | { swept: number }> => {
  const rt = runtime();
  if (!('Records' in event)) {
    const result = await sweepOutbox(rt);
    if (result.items) rt.log.info('outbox sweep', result);
    // Every other item was drained; failing the invocation still raises the function's Errors alarm.
    if (result.errors) throw new Error(`outbox sweep: ${result.errors} of ${result.items} items could not be drained`);
    return { swept: result.items };
  }
  const failures: { itemIdentifier: string }[] = [];
  const seen = new Set<string>();
  for (const record of event.Records) {
    const pk = record.dynamodb?.Keys?.pk?.S;
    const sk = record.dynamodb?.Keys?.sk?.S;
    // An account and its webhook endpoints share a partition: the item is the pair of keys.
    const item = `${pk}\n${sk}`;
    const ref = outboxRefOf(pk, sk);
    if (!ref || seen.has(item)) continue;
    seen.add(item);
    try {
      const result = await drainOutbox(ref, rt);
      if (result.failed && record.dynamodb?.SequenceNumber) failures.push({ itemIdentifier: record.dynamodb.SequenceNumber });
    } catch (err) {
      rt.log.error('outbox drain failed', { item: `${pk} ${sk}`, error: err instanceof Error ? err.name : String(err) });
      if (record.dynamodb?.SequenceNumber) failures.push({ itemIdentifier: record.dynamodb.SequenceNumber });
    }
  }
  return { batchItemFailures: failures };
};

