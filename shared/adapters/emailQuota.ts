/**
 * DynamoDB day counters of the email cap: one item per account and UTC day
 * (`pk = ACCT#<id>`, `sk = MAILDAY#<yyyy-mm-dd>`, `sent`, `skipped`, TTL after 3 days).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EmailQuota } from '../domain/emailCap.js';
import { dynamoCall, isConditionFailure, resolveClient, type DocumentClientSource } from './dynamoCall.js';

/** The table's TTL attribute (`infra/table.ts`). */
const TTL_ATTRIBUTE_NAME = 'ttl';
const key = (accountId: string, day: string) => ({ pk: `ACCT#${accountId}`, sk: `MAILDAY#${day}` });
/** Counters are kept a little past their day, then expire. */
const ttlOf = (day: string) => Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + 3 * 86_400;

export class DynamoEmailQuota implements EmailQuota {
  constructor(private readonly opts: { client: DocumentClientSource; tableName: string }) {}

  private get client(): DynamoDBDocumentClient {
    return resolveClient(this.opts.client);
  }

  async take(accountId: string, day: string, wanted: number, max: number): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const out = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.opts.tableName, Key: key(accountId, day), ConsistentRead: true })));
      const sent = (out.Item?.sent as number | undefined) ?? 0;
      const grant = Math.min(wanted, Math.max(0, max - sent));
      if (grant === 0) return 0;
      try {
        // Compare-and-add on the count read, so concurrent senders never exceed the cap together.
        await dynamoCall(() =>
          this.client.send(
            new UpdateCommand({
              TableName: this.opts.tableName,
              Key: key(accountId, day),
              UpdateExpression: 'SET sent = :next, #ttl = :ttl',
              ConditionExpression: sent === 0 ? 'attribute_not_exists(sent) OR sent = :zero' : 'sent = :sent',
              ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE_NAME },
              ExpressionAttributeValues: { ':next': sent + grant, ':ttl': ttlOf(day), ...(sent === 0 ? { ':zero': 0 } : { ':sent': sent }) },
            }),
          ),
        );
        return grant;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    return 0; // heavy contention: err on the side of not sending
  }

  async recordSkipped(accountId: string, day: string, count: number): Promise<void> {
    await dynamoCall(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: key(accountId, day),
          UpdateExpression: 'ADD skipped :n SET #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE_NAME },
          ExpressionAttributeValues: { ':n': count, ':ttl': ttlOf(day) },
        }),
      ),
    );
  }
}
