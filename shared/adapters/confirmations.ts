/** DynamoDB storage of email confirmations: `pk = CONFIRM#<sha256 of token>`, `sk = CONFIRM`, TTL a day after expiry. */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConfirmationNotApplied, ConfirmationOutcome, ConfirmationRecord, ConfirmationStore } from '../domain/recipients.js';
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
      outcome: (i.outcome as ConfirmationOutcome | null) ?? null, notApplied: (i.notApplied as ConfirmationNotApplied | null) ?? null,
    };
  }

  async markUsed(digest: string, at: number, outcome: ConfirmationOutcome, notApplied?: ConfirmationNotApplied): Promise<boolean> {
    return this.conditionalSet(
      digest,
      `SET usedAt = :at, #o = :o${notApplied ? ', #n = :n' : ''}`,
      'attribute_exists(pk) AND (attribute_not_exists(usedAt) OR usedAt = :null)',
      { '#o': 'outcome', ...(notApplied ? { '#n': 'notApplied' } : {}) },
      { ':at': at, ':o': outcome, ':null': null, ...(notApplied ? { ':n': notApplied } : {}) },
    );
  }

  async markNotApplied(digest: string, notApplied: ConfirmationNotApplied): Promise<boolean> {
    return this.conditionalSet(
      digest,
      'SET #n = :n',
      'attribute_exists(pk) AND (attribute_not_exists(usedAt) OR usedAt = :null) AND (attribute_not_exists(#n) OR #n = :null OR #n.#r <> :r)',
      { '#n': 'notApplied', '#r': 'reason' },
      { ':n': notApplied, ':null': null, ':r': notApplied.reason },
    );
  }

  /** One conditional update of a confirmation: `false` when the condition did not hold. */
  private async conditionalSet(digest: string, update: string, condition: string, names: Record<string, string>, values: Record<string, unknown>): Promise<boolean> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.opts.tableName,
            Key: key(digest),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
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
