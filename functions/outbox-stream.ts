import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { drainOutbox } from '../shared/domain/outbox.js';
import type { OutboxRef } from '../shared/domain/types.js';
import { runtime } from '../shared/runtime.js';

/**
 * DynamoDB Streams consumer: the guaranteed path for outbox effects a handler could not perform
 * (it died after its write, or an effect failed). The event source mapping filters to images with
 * a pending outbox (`obp`). A failed drain reports the record so Lambda retries it.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const rt = runtime();
  const failures: { itemIdentifier: string }[] = [];
  const seen = new Set<string>();
  for (const record of event.Records) {
    const pk = record.dynamodb?.Keys?.pk?.S;
    const ref = refOf(pk);
    if (!ref || seen.has(pk!)) continue;
    seen.add(pk!);
    try {
      const result = await drainOutbox(ref, rt);
      if (result.failed && record.dynamodb?.SequenceNumber) failures.push({ itemIdentifier: record.dynamodb.SequenceNumber });
    } catch (err) {
      rt.log.error('outbox drain failed', { item: pk, error: err instanceof Error ? err.name : String(err) });
      if (record.dynamodb?.SequenceNumber) failures.push({ itemIdentifier: record.dynamodb.SequenceNumber });
    }
  }
  return { batchItemFailures: failures };
};

function refOf(pk: string | undefined): OutboxRef | null {
  if (!pk) return null;
  if (pk.startsWith('KEY#')) return { kind: 'key', id: pk.slice(4) };
  if (pk.startsWith('ACCT#')) return { kind: 'account', id: pk.slice(5) };
  return null;
}
