/** DynamoDB storage of email confirmations: `pk = CONFIRM#<sha256 of token>`, `sk = CONFIRM`, TTL a day after expiry. */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConfirmationRecord, ConfirmationStore } from '../domain/recipients.js';
import { dynamoCall, isConditionFailure, resolveClient, type DocumentClientSource } from './dynamoCall.js';

const key = (digest: string) => ({ pk: `CONFIRM#${digest}`, sk: 'CONFIRM' });

export class DynamoConfirmationStore implements ConfirmationStore {
  constructor(private readonly opts: { client: DocumentClientSource; tableName: string }) {}

  private get client(): DynamoDBDocumentClient {
    return resolveClient(this.opts.client);
  }

  async putConfirmation(r: ConfirmationRecord): Promise<void> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new PutCommand({
            TableName: this.opts.tableName,
            Item: { ...key(r.digest), entity: 'confirmation', ...r, ttl: Math.floor(r.expiresAt / 1000) + 86_400 },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // the same notice sent again: already stored
    }
  }

  async getConfirmation(digest: string): Promise<ConfirmationRecord | null> {
    const out = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.opts.tableName, Key: key(digest), ConsistentRead: true })));
    const i = out.Item;
    if (!i) return null;
    return {
      digest, accountId: i.accountId as string, keyId: (i.keyId as string | null) ?? null, address: i.address as string,
      expiresAt: i.expiresAt as number, usedAt: (i.usedAt as number | null) ?? null,
    };
  }

  async markUsed(digest: string, at: number): Promise<boolean> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.opts.tableName,
            Key: key(digest),
            UpdateExpression: 'SET usedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(usedAt) OR usedAt = :null)',
            ExpressionAttributeValues: { ':at': at, ':null': null },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
