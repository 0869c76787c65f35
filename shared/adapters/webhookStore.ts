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
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import { OUTBOX_LEASE_MS } from '../domain/outbox.js';
import { VersionConflictError } from '../domain/errors.js';
import type { Page, PageRequest } from '../domain/ports.js';
import type { Effect } from '../domain/types.js';
import type { WebhookStore } from '../webhooks/ports.js';
import type { DeliveryAttempt, DeliveryRecord, DeliveryStatus, WebhookRecord } from '../webhooks/types.js';
import { dynamoCall, isConditionFailure, resolveClient, type DocumentClientSource } from './dynamoCall.js';
import { OUTBOX_SHARDS, shardOf } from './tableSchema.js';
import { ACCOUNT_PK_PREFIX, ENDPOINT_FIELDS } from '../webhooks/items.js';

/** DynamoDB's answer to `SET ob.<id> = …` on an item without an `ob` map (wrapped by `dynamoCall`). */
function isMissingMapPath(err: unknown): boolean {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error && cause.name === 'ValidationException' && /document path/i.test(cause.message);
}

const accountPk = (id: string) => `${ACCOUNT_PK_PREFIX}${id}`;
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
/** An item's outbox shard: the same function as the key store's (`dynamoStore.ts`). */
const outboxShard = (pk: string) => shardOf(pk, OUTBOX_SHARDS);

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
   * Deletes the endpoint if unchanged (`id`, `expectedVersion`), never losing an effect still
   * pending in its outbox (the notice of its disabling, when the mailer was failing) and never
   * racing a dispatcher that is performing one:
   * - nothing pending (the usual case): one conditional `DeleteItem`;
   * - effects pending: the delete claims the endpoint's outbox as a dispatcher would (the lease,
   *   so no dispatcher starts on it meanwhile), reads what is pending under its claim, adds those
   *   effects to the account's outbox (same effect ids) and deletes the endpoint only while its
   *   claim holds. If the endpoint changed in between (a PATCH), the moved effects are removed from
   *   it with the claim: they live in the account's outbox only, and the caller decides again;
   * - a live claim of a dispatcher (it is sending the notice right now): nothing is changed and the
   *   answer is `{busyUntil}`, the end of that lease.
   * A crash in the middle leaves the effects in both outboxes (at least once, as every effect).
   * Reads are consistent `Query`s of the one endpoint (the routes' only read of the table).
   */
  async deleteWebhook(record: WebhookRecord, expectedVersion: number, now: number): Promise<{ busyUntil: number } | null> {
    const key = endpointKey(record.accountId, record.slot);
    const same = { ':id': record.id, ':v': expectedVersion };
    const conditional = async (send: () => Promise<unknown>): Promise<boolean> => {
      try {
        await dynamoCall(send);
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    };
    const deleted = await conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'id = :id AND version = :v AND (attribute_not_exists(ob) OR size(ob) = :zero)',
          ExpressionAttributeValues: { ...same, ':zero': 0 },
        }),
      ),
    );
    if (deleted) return null;
    // Changed since it was read, or effects pending: claim the endpoint's outbox for the move.
    const token = randomUUID();
    const claimed = await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET obl = :until, obt = :token',
          ConditionExpression: 'id = :id AND version = :v AND (attribute_not_exists(obl) OR obl < :now)',
          ExpressionAttributeValues: { ...same, ':until': now + OUTBOX_LEASE_MS, ':token': token, ':now': now },
        }),
      ),
    );
    if (!claimed) {
      const current = await this.endpointOutbox(key);
      if (current && current.id === record.id && current.version === expectedVersion && typeof current.obl === 'number' && current.obl >= now) return { busyUntil: current.obl };
      throw new VersionConflictError(record.id);
    }
    // Under the claim no dispatcher performs (or removes) these effects.
    const pending = Object.values((await this.endpointOutbox(key))?.ob ?? {});
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
    const gone = await conditional(() =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key, ConditionExpression: 'id = :id AND version = :v AND obt = :token', ExpressionAttributeValues: { ...same, ':token': token } })),
    );
    if (gone) return null;
    // Changed under the claim (a PATCH): the moved effects now live in the account's outbox only.
    const names: Record<string, string> = {};
    const removes = pending.map((e, i) => {
      names[`#d${i}`] = e.id;
      return `ob.#d${i}`;
    });
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `REMOVE ${[...removes, 'obl', 'obt'].join(', ')}`,
          ConditionExpression: 'obt = :token',
          ...(removes.length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ':token': token },
        }),
      ),
    );
    throw new VersionConflictError(record.id);
  }

  /** The version and outbox of one endpoint item (a consistent `Query` of its key), or `null`. */
  private async endpointOutbox(key: { pk: string; sk: string }): Promise<{ id: string; version: number; obl?: number; ob?: Record<string, Effect> } | null> {
    const out = await dynamoCall(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk = :sk',
          ExpressionAttributeValues: { ':pk': key.pk, ':sk': key.sk },
          ProjectionExpression: 'id, version, ob, obl',
          ConsistentRead: true,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? (item as { id: string; version: number; obl?: number; ob?: Record<string, Effect> }) : null;
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
