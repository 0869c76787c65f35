/**
 * DynamoDB implementation of `WebhookStore`, in the same table as keys (see `tableSchema.ts`):
 *
 * | item     | pk              | sk                   |
 * |----------|-----------------|----------------------|
 * | endpoint | `ACCT#<acct>`   | `WH#<slot 00–09>`    |
 * | delivery | `WH#<webhook>`  | `DLV#<delivery id>`  |
 *
 * An endpoint's sort key is its slot, so "at most 10 per account" is a conditional put on a free
 * slot and holds under concurrent creates. Delivery ids are time-sortable, so a query is newest first.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import { VersionConflictError } from '../domain/errors.js';
import type { Page, PageRequest } from '../domain/ports.js';
import type { Effect } from '../domain/types.js';
import type { WebhookStore } from '../webhooks/ports.js';
import type { DeliveryAttempt, DeliveryRecord, DeliveryStatus, WebhookRecord } from '../webhooks/types.js';
import { dynamoCall, isConditionFailure, resolveClient, type DocumentClientSource } from './dynamoCall.js';
import { OUTBOX_SHARDS, shardOf } from './tableSchema.js';

/** DynamoDB's answer to `SET ob.<id> = …` on an item without an `ob` map (wrapped by `dynamoCall`). */
function isMissingMapPath(err: unknown): boolean {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error && cause.name === 'ValidationException' && /document path/i.test(cause.message);
}

const accountPk = (id: string) => `ACCT#${id}`;
const slotSk = (slot: number) => `WH#${String(slot).padStart(2, '0')}`;
/** The table key of the endpoint in `slot` of an account (also the key of its outbox, see `dynamoStore.ts`). */
export const endpointKey = (accountId: string, slot: number) => ({ pk: accountPk(accountId), sk: slotSk(slot) });
/** The slot an endpoint's sort key names, or `null` for another sort key. */
export function endpointSlotOf(sk: string): number | null {
  const m = /^WH#(\d{2})$/.exec(sk);
  return m ? Number(m[1]) : null;
}
const deliveryPk = (webhookId: string) => `WH#${webhookId}`;
const DELIVERY_POSITION = /^[0-9A-Za-z]{20,32}$/;


function toWebhook(item: Record<string, unknown>): WebhookRecord {
  return {
    id: item.id as string,
    accountId: item.accountId as string,
    slot: item.slot as number,
    url: item.url as string,
    description: (item.description as string) ?? '',
    environment: item.environment as WebhookRecord['environment'],
    eventTypes: (item.eventTypes as WebhookRecord['eventTypes']) ?? [],
    enabled: item.enabled as boolean,
    disabledReason: (item.disabledReason as WebhookRecord['disabledReason']) ?? null,
    secrets: (item.secrets as WebhookRecord['secrets']) ?? [],
    failingSince: (item.failingSince as number | null) ?? null,
    createdAt: item.createdAt as number,
    version: item.version as number,
  };
}

function toDelivery(item: Record<string, unknown>): DeliveryRecord {
  return {
    id: item.id as string,
    webhookId: item.webhookId as string,
    accountId: item.accountId as string,
    eventId: item.eventId as string,
    eventType: item.eventType as string,
    payload: item.payload as string,
    createdAt: item.createdAt as number,
    status: item.status as DeliveryStatus,
    attempts: (item.attempts as DeliveryAttempt[]) ?? [],
    nextAttemptAt: (item.nextAttemptAt as number | null) ?? null,
  };
}

// Created with an empty outbox map (`ob`), so a later write can add an effect to it by path.
const endpointItem = (record: WebhookRecord) => ({ pk: accountPk(record.accountId), sk: slotSk(record.slot), entity: 'webhook', ...record, ob: {} });
/** Endpoint fields a change writes (the keys, `accountId` and `slot` never change). */
const ENDPOINT_FIELDS = ['id', 'url', 'description', 'environment', 'eventTypes', 'enabled', 'disabledReason', 'secrets', 'failingSince', 'createdAt', 'version'] as const satisfies readonly (keyof WebhookRecord)[];
/** An item's outbox shard: the same function as the key store's (`dynamoStore.ts`). */
const outboxShard = (pk: string) => shardOf(pk, OUTBOX_SHARDS);
/** Same slot, same endpoint, unchanged since it was read. */
const unchangedEndpoint = (record: WebhookRecord, expectedVersion: number) => ({
  ConditionExpression: 'id = :id AND version = :v',
  ExpressionAttributeValues: { ':id': record.id, ':v': expectedVersion },
});

export class DynamoWebhookStore implements WebhookStore {
  private readonly clientSource: DocumentClientSource;
  private readonly tableName: string;

  /** `client` may be a function: the client is then built on first use (functions that never touch webhooks never build it). */
  constructor(opts: { client: DocumentClientSource; tableName: string }) {
    this.clientSource = opts.client;
    this.tableName = opts.tableName;
  }

  private get client(): DynamoDBDocumentClient {
    return resolveClient(this.clientSource);
  }

  async listWebhooks(accountId: string, options: { consistent?: boolean } = {}): Promise<WebhookRecord[]> {
    const out = await dynamoCall(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :wh)',
          ExpressionAttributeValues: { ':pk': accountPk(accountId), ':wh': 'WH#' },
          ConsistentRead: options.consistent ?? false,
        }),
      ),
    );
    return (out.Items ?? []).map(toWebhook);
  }

  async createWebhook(record: WebhookRecord): Promise<void> {
    await this.writeEndpoint(record.id, () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: endpointItem(record), ConditionExpression: 'attribute_not_exists(pk)' })),
    );
  }

  /**
   * `UPDATE … SET <fields>, ob.<effect> = …, obp = <shard> IF id AND version`: the change and its
   * outbox effects in one conditional write (an update, not a put, so pending effects of an earlier
   * change stay). An endpoint written before endpoints had an outbox has no `ob` map to add to:
   * DynamoDB refuses that path, and the write is made again setting the whole map.
   */
  async updateWebhook(record: WebhookRecord, expectedVersion: number, effects: readonly Effect[] = []): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':id': record.id, ':v': expectedVersion };
    const sets: string[] = [];
    ENDPOINT_FIELDS.forEach((field, i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = record[field] ?? null;
      sets.push(`#f${i} = :f${i}`);
    });
    const key = endpointKey(record.accountId, record.slot);
    const send = (outbox: 'by-path' | 'whole-map') => {
      const n = { ...names };
      const v = { ...values };
      const s = [...sets];
      if (effects.length) {
        if (outbox === 'by-path') {
          effects.forEach((e, i) => {
            n[`#e${i}`] = e.id;
            v[`:e${i}`] = e;
            s.push(`ob.#e${i} = :e${i}`);
          });
        } else {
          v[':ob'] = Object.fromEntries(effects.map((e) => [e.id, e]));
          s.push('ob = :ob');
        }
        v[':shard'] = outboxShard(key.pk);
        s.push('obp = :shard');
      }
      return this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${s.join(', ')}`,
          ConditionExpression: outbox === 'by-path' ? 'id = :id AND version = :v' : 'id = :id AND version = :v AND attribute_not_exists(ob)',
          ExpressionAttributeNames: n,
          ExpressionAttributeValues: v,
        }),
      );
    };
    try {
      await this.writeEndpoint(record.id, () => send('by-path'));
    } catch (err) {
      if (!(effects.length && isMissingMapPath(err))) throw err;
      await this.writeEndpoint(record.id, () => send('whole-map'));
    }
  }

  /**
   * Deletes the endpoint if unchanged. Effects still pending in its outbox (the notice of its
   * disabling, when the mailer was failing) move to the account's outbox first, so deleting an
   * endpoint never loses them: a crash in between leaves them in both places, and each is keyed by
   * its effect id (at least once, as every outbox effect).
   */
  async deleteWebhook(record: WebhookRecord, expectedVersion: number): Promise<void> {
    const key = endpointKey(record.accountId, record.slot);
    const current = await dynamoCall(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: 'ob, obp, version, id' })),
    );
    const pending = Object.values((current.Item?.ob as Record<string, Effect> | undefined) ?? {});
    if (current.Item && (current.Item.id !== record.id || current.Item.version !== expectedVersion)) throw new VersionConflictError(record.id);
    if (pending.length) {
      const accountKey = { pk: accountPk(record.accountId), sk: 'ACCT' };
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':shard': outboxShard(accountKey.pk) };
      const sets = pending.map((e, i) => {
        names[`#e${i}`] = e.id;
        values[`:e${i}`] = e;
        return `ob.#e${i} = :e${i}`;
      });
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: accountKey,
            UpdateExpression: `SET ${sets.join(', ')}, obp = :shard`,
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
    }
    await this.writeEndpoint(record.id, () =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key, ...unchangedEndpoint(record, expectedVersion) })),
    );
  }

  /** One conditional write of endpoint `id`: a failed condition means someone else got there first. */
  private async writeEndpoint(id: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await dynamoCall(send);
    } catch (err) {
      if (isConditionFailure(err)) throw new VersionConflictError(id);
      throw err;
    }
  }

  async putDelivery(record: DeliveryRecord): Promise<void> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: deliveryPk(record.webhookId), sk: `DLV#${record.id}`, entity: 'delivery', ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // already created by an earlier drain: idempotent
    }
  }

  async getDelivery(webhookId: string, deliveryId: string): Promise<DeliveryRecord | null> {
    const out = await dynamoCall(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: deliveryPk(webhookId), sk: `DLV#${deliveryId}` }, ConsistentRead: true })),
    );
    return out.Item ? toDelivery(out.Item) : null;
  }

  async recordAttempt(
    webhookId: string,
    deliveryId: string,
    expectedAttempts: number,
    attempt: DeliveryAttempt,
    status: DeliveryStatus,
    nextAttemptAt: number | null,
  ): Promise<boolean> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: deliveryPk(webhookId), sk: `DLV#${deliveryId}` },
            UpdateExpression: 'SET attempts = list_append(attempts, :a), #s = :s, nextAttemptAt = :n',
            ConditionExpression: 'size(attempts) = :len AND #s = :pending',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':a': [attempt], ':s': status, ':n': nextAttemptAt, ':len': expectedAttempts, ':pending': 'pending' },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async listDeliveries(webhookId: string, page: PageRequest): Promise<Page<DeliveryRecord>> {
    const pk = deliveryPk(webhookId);
    const start = page.cursor ? { pk, sk: `DLV#${decodeCursor(page.cursor, DELIVERY_POSITION)}` } : undefined;
    const out = await dynamoCall(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
          ExpressionAttributeValues: { ':pk': pk, ':d': 'DLV#' },
          ScanIndexForward: false,
          Limit: page.limit + 1,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const items = (out.Items ?? []).slice(0, page.limit);
    const more = (out.Items?.length ?? 0) > page.limit;
    return { items: items.map(toDelivery), nextCursor: more ? encodeCursor(items[items.length - 1]!.id as string) : null };
  }
}
