/**
 * DynamoDB implementation of `KeyStore` (single table, see `tableSchema.ts`). The only module that
 * knows item layout. Every state change is one conditional write; outbox effects ride in the same
 * write (`ob` map, `obp` flag for the sparse sweeper index), because DynamoDB-compatible local
 * engines have no transactions and a second write could be lost.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import { commitOrderKey } from '../domain/ids.js';
import { StoreUnavailableError, VersionConflictError } from '../domain/errors.js';
import type { KeyStore, KeyWriteOptions, Page, PageRequest } from '../domain/ports.js';
import type { AccountRecord, Actor, AuditEvent, Effect, Environment, KeyAccountStatus, KeyContactsRecord, KeyRecord, OutboxRef } from '../domain/types.js';
import { dynamoCall, isConditionFailure } from './dynamoCall.js';
import { ACCOUNT_SHARDS, GSI, OUTBOX_SHARDS, shardOf, TIMER_SHARDS, TTL_ATTRIBUTE } from './tableSchema.js';
import { endpointKey, endpointSlotOf } from './webhookStore.js';

/** An access key for a local store: local mode's store key, or dummy values for an unguarded test dynalite. */
export interface LocalStoreCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** Unguarded in-process dynalite (tests, bench) checks no signature: fixed dummy credentials, never real ones. */
export const DUMMY_LOCAL_CREDENTIALS: LocalStoreCredentials = Object.freeze({ accessKeyId: 'local', secretAccessKey: 'local', region: 'us-east-1' });

/**
 * Builds a document client; `endpoint` points it at dynalite in local mode and tests, signing with
 * `local` (local mode: the store key of the data directory, which the store's guard requires).
 */
export function createDocumentClient(
  opts: { endpoint?: string | undefined; region?: string | undefined; local?: LocalStoreCredentials | undefined } = {},
): DynamoDBDocumentClient {
  const local = opts.local ?? DUMMY_LOCAL_CREDENTIALS;
  const client = new DynamoDBClient({
    ...(opts.endpoint ? { endpoint: opts.endpoint, credentials: { accessKeyId: local.accessKeyId, secretAccessKey: local.secretAccessKey } } : {}),
    region: opts.endpoint ? local.region : (opts.region ?? process.env.AWS_REGION ?? 'us-east-1'),
    maxAttempts: 3,
    // A hung connection must fail fast, not hold a Lambda (or the authorizer) until its timeout.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const keyPk = (id: string) => `KEY#${id}`;
const accountPk = (id: string) => `ACCT#${id}`;
/** A key's contacts item: its own partition, so the key record the authorizer reads stays small. */
const contactsPk = (keyId: string) => `KCON#${keyId}`;
function refKey(ref: OutboxRef): { pk: string; sk: string } {
  switch (ref.kind) {
    case 'key':
      return { pk: keyPk(ref.id), sk: 'KEY' };
    case 'contacts':
      return { pk: contactsPk(ref.id), sk: 'KCON' };
    case 'account':
      return { pk: accountPk(ref.id), sk: 'ACCT' };
    case 'webhook':
      return endpointKey(ref.id, ref.slot);
  }
}
/**
 * The outbox item a table key names (the sweeper's index and the stream give both keys). A webhook
 * endpoint shares its account's partition (`ACCT#<acct>` / `WH#<slot>`), so the sort key tells
 * the two apart; any other item of an `ACCT#` partition carries no outbox.
 */
export function outboxRefOf(pk: string | undefined, sk: string | undefined): OutboxRef | null {
  if (!pk) return null;
  if (pk.startsWith('KEY#')) return { kind: 'key', id: pk.slice(4) };
  if (pk.startsWith('KCON#')) return { kind: 'contacts', id: pk.slice(5) };
  if (pk.startsWith('ACCT#')) {
    if (sk === undefined || sk === 'ACCT') return { kind: 'account', id: pk.slice(5) };
    const slot = endpointSlotOf(sk);
    return slot === null ? null : { kind: 'webhook', id: pk.slice(5), slot };
  }
  return null;
}
const outboxShard = (pk: string) => shardOf(pk, OUTBOX_SHARDS);
const timerShard = (keyId: string) => shardOf(keyId, TIMER_SHARDS);
const accountsPartition = (accountId: string) => `ACCOUNTS#${shardOf(accountId, ACCOUNT_SHARDS)}`;
/** Account items written before the account list was sharded (local data directories) stay listed. */
const LEGACY_ACCOUNTS_PARTITION = 'ACCOUNTS';
/** Zero-padded epoch ms, so string order is time order. */
const sortTime = (ms: number) => ms.toString().padStart(13, '0');

/** Most items one sweep visits; the next sweep continues with the rest. */
const MAX_SWEEP_ITEMS = 5_000;

/** Outbox entries in commit order (see `commitOrderKey`). */
function byCommitOrder(a: string, b: string): number {
  const ka = commitOrderKey(a);
  const kb = commitOrderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

const LIST_POSITION = /^\d{13}#[0-9A-Za-z]{22}$/;
/** Account ids are 16 characters (key ids 22: they carry their tag). */
const ACCOUNT_POSITION = /^\d{13}#[0-9A-Za-z]{16}$/;
const EVENT_POSITION = /^[0-9A-Za-z]{19,24}$/;

/** Fields a transition replaces. Immutable ones and `lastUsed` (the authorizer's) are never overwritten. */
const MUTABLE_KEY_FIELDS = ['name', 'scopes', 'status', 'version', 'current', 'previous', 'rotation', 'revokedAt', 'reactivatableUntil', 'fired', 'revokedReason', 'exposures'] as const;

function outboxMap(effects: readonly Effect[]): Record<string, Effect> {
  return Object.fromEntries(effects.map((e) => [e.id, e]));
}

function toKeyRecord(item: Record<string, unknown>): KeyRecord {
  return {
    id: item.id as string,
    accountId: item.accountId as string,
    name: item.name as string,
    environment: item.environment as Environment,
    scopes: (item.scopes as string[]) ?? [],
    status: item.status as KeyRecord['status'],
    createdAt: item.createdAt as number,
    version: item.version as number,
    current: item.current as KeyRecord['current'],
    previous: (item.previous as KeyRecord['previous']) ?? null,
    rotation: (item.rotation as KeyRecord['rotation']) ?? null,
    revokedAt: (item.revokedAt as number | null) ?? null,
    reactivatableUntil: (item.reactivatableUntil as number | null) ?? null,
    lastUsed: (item.lastUsed as Record<string, number>) ?? {},
    fired: (item.fired as string[]) ?? [],
    revokedReason: (item.revokedReason as KeyRecord['revokedReason']) ?? null,
    exposures: (item.exposures as KeyRecord['exposures']) ?? [],
    // Records written before accounts had a status belong to active accounts.
    accountStatus: (item.accountStatus as KeyAccountStatus | undefined) ?? 'active',
    accountVersion: (item.accountVersion as number | undefined) ?? 0,
  };
}

function toAccountRecord(item: Record<string, unknown>): AccountRecord {
  return {
    id: item.id as string,
    name: item.name as string,
    status: (item.status as AccountRecord['status'] | undefined) ?? 'active',
    alertEmails: (item.alertEmails as string[]) ?? [],
    allowedScopes: (item.allowedScopes as string[] | undefined) ?? [],
    // Accounts created before leakResponse existed get the default.
    leakResponse: item.leakResponse === 'notify' ? 'notify' : 'revoke',
    pendingEmails: (item.pendingEmails as AccountRecord['pendingEmails'] | undefined) ?? [],
    createdAt: item.createdAt as number,
    version: item.version as number,
    deletedAt: (item.deletedAt as number | null | undefined) ?? null,
  };
}

function toEvent(item: Record<string, unknown>): AuditEvent {
  return {
    id: item.id as string,
    type: item.type as AuditEvent['type'],
    at: item.at as number,
    actorKeyId: (item.actorKeyId as string | null) ?? null,
    // Events recorded before `actor` existed: a key id means that key, none the system.
    actor: (item.actor as Actor | undefined) ?? (item.actorKeyId ? { type: 'key', id: item.actorKeyId as string } : { type: 'system', id: null }),
    accountId: item.accountId as string,
    keyId: (item.keyId as string | null) ?? null,
    data: (item.data as Record<string, unknown>) ?? {},
  };
}

export interface DynamoKeyStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /**
   * Audit events get a `ttl` this many days after they happened, so DynamoDB's TTL deletes them
   * (`AUDIT_RETENTION_DAYS`). `0` or unset keeps them forever.
   */
  readonly auditRetentionDays?: number | undefined;
}

/** Most keys one `BatchGetItem` may name (a page is at most 100 items). */
const BATCH_GET_MAX = 100;

export class DynamoKeyStore implements KeyStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly auditRetentionSeconds: number;

  constructor(opts: DynamoKeyStoreOptions) {
    this.client = opts.client;
    this.tableName = opts.tableName;
    this.auditRetentionSeconds = Math.max(0, opts.auditRetentionDays ?? 0) * 86_400;
  }

  async getKey(id: string, options: { consistent?: boolean } = {}): Promise<KeyRecord | null> {
    const out = await dynamoCall(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: keyPk(id), sk: 'KEY' }, ConsistentRead: options.consistent ?? false })),
    );
    return out.Item ? toKeyRecord(out.Item) : null;
  }

  async createKey(record: KeyRecord, effects: readonly Effect[], options: KeyWriteOptions = {}): Promise<void> {
    const created = sortTime(record.createdAt) + '#' + record.id;
    await this.putNew(record.id, {
      pk: keyPk(record.id),
      sk: 'KEY',
      entity: 'key',
      gsi1pk: accountPk(record.accountId),
      gsi1sk: created,
      ...(record.environment === 'test' ? { gsi2pk: `${accountPk(record.accountId)}#test`, gsi2sk: created } : {}),
      ...(options.nextTimerAt != null ? { tdp: timerShard(record.id), tdue: options.nextTimerAt } : {}),
      ...record,
    }, effects);
  }

  /** Puts a new item with its initial outbox; an existing item is a conflict. */
  private async putNew(id: string, item: Record<string, unknown>, effects: readonly Effect[]): Promise<void> {
    const full = { ...item, ob: outboxMap(effects), ...(effects.length ? { obp: outboxShard(item.pk as string) } : {}) };
    try {
      await dynamoCall(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: full, ConditionExpression: 'attribute_not_exists(pk)' })));
    } catch (err) {
      if (isConditionFailure(err)) throw new VersionConflictError(id);
      throw err;
    }
  }

  /**
   * `UPDATE … SET <fields>, ob.<effect> = … [REMOVE …] IF version = :expected`: the state change and
   * its outbox in one conditional write.
   */
  private async updateVersioned(
    id: string,
    key: { pk: string; sk: string },
    fields: Record<string, unknown>,
    removes: readonly string[],
    removeNames: Record<string, string>,
    expectedVersion: number,
    effects: readonly Effect[],
  ): Promise<void> {
    const names: Record<string, string> = { ...removeNames, '#ver': 'version' };
    const values: Record<string, unknown> = { ':expected': expectedVersion };
    const sets: string[] = [];
    Object.entries(fields).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = value ?? null;
      sets.push(`#f${i} = :f${i}`);
    });
    effects.forEach((e, i) => {
      names[`#e${i}`] = e.id;
      values[`:e${i}`] = e;
      sets.push(`ob.#e${i} = :e${i}`);
    });
    if (effects.length) {
      // The same shard every time for one item: re-setting it writes the index nothing new.
      values[':shard'] = outboxShard(key.pk);
      sets.push('obp = :shard');
    }
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: '#ver = :expected',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new VersionConflictError(id);
      throw err;
    }
  }

  async updateKey(record: KeyRecord, expectedVersion: number, effects: readonly Effect[], options: KeyWriteOptions = {}): Promise<void> {
    if (record.version !== expectedVersion + 1) throw new Error('updateKey: version must grow by exactly one');
    const fields: Record<string, unknown> = Object.fromEntries(MUTABLE_KEY_FIELDS.map((f) => [f, record[f]]));
    // Forget last-use entries of secrets the record no longer mentions.
    const referenced = new Set([record.current.sid, record.previous?.sid, record.rotation?.oldSid].filter(Boolean));
    const names: Record<string, string> = {};
    const removes = Object.keys(record.lastUsed)
      .filter((sid) => !referenced.has(sid))
      .map((sid, i) => {
        names[`#u${i}`] = sid;
        return `lastUsed.#u${i}`;
      });
    // The timer index entry moves only when the earliest pending timer does (the caller knows).
    if (options.nextTimerAt === null) removes.push('tdp', 'tdue');
    else if (options.nextTimerAt !== undefined) Object.assign(fields, { tdp: timerShard(record.id), tdue: options.nextTimerAt });
    await this.updateVersioned(record.id, { pk: keyPk(record.id), sk: 'KEY' }, fields, removes, names, expectedVersion, effects);
  }

  async listKeys(accountId: string, page: PageRequest, environment?: Environment): Promise<Page<KeyRecord>> {
    const index = environment === 'test' ? GSI.testByAccount : GSI.byAccount;
    const pk = environment === 'test' ? `${accountPk(accountId)}#test` : accountPk(accountId);
    const exclusive = page.cursor
      ? (() => {
          const position = decodeCursor(page.cursor, LIST_POSITION);
          return { pk: keyPk(position.slice(14)), sk: 'KEY', [index.partitionKey]: pk, [index.sortKey]: position };
        })()
      : undefined;
    // Ask for one more than the page so `nextCursor` is null exactly at the end.
    const out = await dynamoCall(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': index.partitionKey },
          ExpressionAttributeValues: { ':p': pk },
          ScanIndexForward: false,
          Limit: page.limit + 1,
          ExclusiveStartKey: exclusive,
        }),
      ),
    );
    const items = out.Items ?? [];
    const pageItems = items.slice(0, page.limit);
    // DynamoDB may also stop early (1 MB per query): then there is more even with fewer items.
    const more = items.length > page.limit || (out.LastEvaluatedKey !== undefined && pageItems.length > 0);
    const records = await this.batchGet(pageItems.map((i) => ({ pk: i.pk as string, sk: 'KEY' })));
    return {
      items: records.map(toKeyRecord),
      nextCursor: more ? encodeCursor(pageItems[pageItems.length - 1]![index.sortKey] as string) : null,
    };
  }

  /**
   * The items at `keys`, in that order (missing ones left out): the listing indexes keep keys only,
   * so a page costs one `Query` of keys and one `BatchGetItem` of the records.
   */
  private async batchGet(keys: readonly { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
    if (keys.length === 0) return [];
    if (keys.length > BATCH_GET_MAX) throw new Error(`batchGet: at most ${BATCH_GET_MAX} keys`);
    const found = new Map<string, Record<string, unknown>>();
    let pending: Record<string, unknown>[] = keys.map((k) => ({ pk: k.pk, sk: k.sk }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)));
      if (attempt >= 8) throw new StoreUnavailableError('DynamoDB BatchGetItem left keys unprocessed');
      const request = pending;
      const out = await dynamoCall(() => this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: request } } })));
      for (const item of out.Responses?.[this.tableName] ?? []) found.set(`${item.pk as string}\n${item.sk as string}`, item);
      pending = (out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
    return keys.map((k) => found.get(`${k.pk}\n${k.sk}`)).filter((i): i is Record<string, unknown> => i !== undefined);
  }

  private async queryPage<T>(
    input: Omit<QueryCommandInput, 'TableName'>,
    page: PageRequest,
    positionPattern: RegExp,
    startKey: (position: string) => Record<string, unknown>,
    positionOf: (item: Record<string, unknown>) => string,
    map: (item: Record<string, unknown>) => T,
  ): Promise<Page<T>> {
    const exclusive = page.cursor ? startKey(decodeCursor(page.cursor, positionPattern)) : undefined;
    // Ask for one more than the page so `nextCursor` is null exactly at the end.
    const out = await dynamoCall(() =>
      this.client.send(
        new QueryCommand({ TableName: this.tableName, ...input, ScanIndexForward: false, Limit: page.limit + 1, ExclusiveStartKey: exclusive }),
      ),
    );
    const items = out.Items ?? [];
    const pageItems = items.slice(0, page.limit);
    // DynamoDB may also stop early (1 MB per query): then there is more even with fewer items.
    const more = items.length > page.limit || (out.LastEvaluatedKey !== undefined && pageItems.length > 0);
    return { items: pageItems.map(map), nextCursor: more ? encodeCursor(positionOf(pageItems[pageItems.length - 1]!)) : null };
  }

  async setKeyAccountStatus(keyId: string, status: KeyAccountStatus, accountVersion: number): Promise<boolean> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: keyPk(keyId), sk: 'KEY' },
            UpdateExpression: 'SET accountStatus = :s, accountVersion = :v',
            // An equal version rewrites the same value (idempotent); an older one never wins.
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(accountVersion) OR accountVersion <= :v)',
            ExpressionAttributeValues: { ':s': status, ':v': accountVersion },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  async hitCounter(counter: string, windowStart: number, limit: number, expiresAt: number): Promise<boolean> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: `RATE#${counter}`, sk: `W#${windowStart}` },
            UpdateExpression: 'ADD #n :one SET #ttl = :ttl',
            // The check and the increment are one atomic operation: concurrent callers on any number
            // of instances can never push the count past the limit.
            ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
            ExpressionAttributeNames: { '#n': 'hits', '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': Math.ceil(expiresAt / 1000) },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getAccount(id: string, options: { consistent?: boolean } = {}): Promise<AccountRecord | null> {
    const out = await dynamoCall(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: accountPk(id), sk: 'ACCT' }, ConsistentRead: options.consistent ?? false })),
    );
    return out.Item ? toAccountRecord(out.Item) : null;
  }

  async createAccount(account: AccountRecord, effects: readonly Effect[]): Promise<void> {
    await this.putNew(account.id, {
      pk: accountPk(account.id),
      sk: 'ACCT',
      entity: 'account',
      gsi1pk: accountsPartition(account.id),
      gsi1sk: `${sortTime(account.createdAt)}#${account.id}`,
      ...account,
    }, effects);
  }

  async updateAccount(account: AccountRecord, expectedVersion: number, effects: readonly Effect[]): Promise<void> {
    const fields = {
      name: account.name,
      status: account.status,
      alertEmails: account.alertEmails,
      allowedScopes: account.allowedScopes,
      leakResponse: account.leakResponse,
      pendingEmails: account.pendingEmails,
      deletedAt: account.deletedAt,
      version: account.version,
    };
    // A deleted account leaves the listing index (its item stays, so the id is never reused).
    const removes = account.deletedAt !== null ? ['gsi1pk', 'gsi1sk'] : [];
    await this.updateVersioned(account.id, { pk: accountPk(account.id), sk: 'ACCT' }, fields, removes, {}, expectedVersion, effects);
  }

  /**
   * Newest first across the account partitions: each is queried from the cursor on for one more
   * than the page, and the union is merged by position (`<createdAt>#<id>`, unique), so the page is
   * exact. Rare (operators' listings), so its cost of one small query per partition is fine.
   */
  async listAccounts(page: PageRequest): Promise<Page<AccountRecord>> {
    const position = page.cursor ? decodeCursor(page.cursor, ACCOUNT_POSITION) : undefined;
    const partitions = [...Array.from({ length: ACCOUNT_SHARDS }, (_, i) => `ACCOUNTS#${i}`), LEGACY_ACCOUNTS_PARTITION];
    const perPartition = await Promise.all(
      partitions.map(async (p) => {
        const out = await dynamoCall(() =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: GSI.byAccount.name,
              KeyConditionExpression: position ? 'gsi1pk = :p AND gsi1sk < :pos' : 'gsi1pk = :p',
              ExpressionAttributeValues: { ':p': p, ...(position ? { ':pos': position } : {}) },
              ScanIndexForward: false,
              Limit: page.limit + 1,
            }),
          ),
        );
        return out.Items ?? [];
      }),
    );
    const merged = perPartition.flat().sort((a, b) => ((a.gsi1sk as string) < (b.gsi1sk as string) ? 1 : -1));
    const pageItems = merged.slice(0, page.limit);
    const records = await this.batchGet(pageItems.map((i) => ({ pk: i.pk as string, sk: 'ACCT' })));
    return {
      items: records.map(toAccountRecord),
      nextCursor: merged.length > page.limit ? encodeCursor(pageItems[pageItems.length - 1]!.gsi1sk as string) : null,
    };
  }

  async getKeyContacts(keyId: string, options: { consistent?: boolean } = {}): Promise<KeyContactsRecord | null> {
    const out = await dynamoCall(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: contactsPk(keyId), sk: 'KCON' }, ConsistentRead: options.consistent ?? false })),
    );
    const i = out.Item;
    if (!i) return null;
    return {
      keyId,
      accountId: i.accountId as string,
      contacts: (i.contacts as string[] | undefined) ?? [],
      pendingEmails: (i.pendingEmails as KeyContactsRecord['pendingEmails'] | undefined) ?? [],
      version: i.version as number,
    };
  }

  async putKeyContacts(record: KeyContactsRecord, expectedVersion: number, effects: readonly Effect[]): Promise<void> {
    if (record.version !== expectedVersion + 1) throw new Error('putKeyContacts: version must grow by exactly one');
    const key = { pk: contactsPk(record.keyId), sk: 'KCON' };
    if (expectedVersion === 0) {
      await this.putNew(record.keyId, { ...key, entity: 'contacts', ...record }, effects);
      return;
    }
    const fields = { contacts: record.contacts, pendingEmails: record.pendingEmails, version: record.version };
    await this.updateVersioned(record.keyId, key, fields, [], {}, expectedVersion, effects);
  }

  async listEvents(ref: OutboxRef, page: PageRequest): Promise<Page<AuditEvent>> {
    const { pk } = refKey(ref);
    return this.queryPage(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': pk, ':evt': 'EVT#' },
      },
      page,
      EVENT_POSITION,
      (position) => ({ pk, sk: `EVT#${position}` }),
      (item) => item.id as string,
      toEvent,
    );
  }

  async putEvent(event: AuditEvent): Promise<void> {
    const pk = event.keyId ? keyPk(event.keyId) : accountPk(event.accountId);
    try {
      await dynamoCall(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk,
              sk: `EVT#${event.id}`,
              entity: 'event',
              ...event,
              // DynamoDB's TTL deletes the event (typically within days of this instant).
              ...(this.auditRetentionSeconds > 0 ? { ttl: Math.floor(event.at / 1000) + this.auditRetentionSeconds } : {}),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // already recorded: idempotent
    }
  }

  async claimOutbox(ref: OutboxRef, now: number, leaseMs: number): Promise<{ token: string; effects: Effect[] } | 'busy' | null> {
    const token = randomUUID();
    try {
      const out = await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: refKey(ref),
            UpdateExpression: 'SET obl = :until, obt = :token',
            ConditionExpression: 'attribute_exists(obp) AND (attribute_not_exists(obl) OR obl < :now)',
            ExpressionAttributeValues: { ':until': now + leaseMs, ':now': now, ':token': token },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      const ob = (out.Attributes?.ob as Record<string, Effect> | undefined) ?? {};
      return { token, effects: Object.keys(ob).sort(byCommitOrder).map((k) => ob[k]!) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Nothing pending, or someone else's claim: one small read tells which (only on contention).
      const cur = await dynamoCall(() =>
        this.client.send(new GetCommand({ TableName: this.tableName, Key: refKey(ref), ConsistentRead: true, ProjectionExpression: 'obp, obl' })),
      );
      return cur.Item?.obp !== undefined ? 'busy' : null;
    }
  }

  async releaseOutbox(ref: OutboxRef, token: string, doneIds: readonly string[]): Promise<void> {
    const names: Record<string, string> = {};
    const removes = doneIds.map((id, i) => {
      names[`#d${i}`] = id;
      return `ob.#d${i}`;
    });
    // Performed effects go whatever happened to the lease (removing them twice is harmless). The
    // item may be gone (a webhook endpoint deleted after its outbox was claimed): nothing is left.
    if (removes.length && !(await this.removeIf(ref, removes.join(', '), 'attribute_exists(pk)', { names }))) return;
    // The lease, and the sweeper flag once nothing is left, only if this claim still holds it: a
    // dispatcher that outlived its lease must not release the one that took over.
    if (await this.removeIf(ref, 'obl, obt', 'obt = :token', { values: { ':token': token } })) {
      // Only if no effect was appended meanwhile and nobody claimed it since.
      await this.removeIf(ref, 'obp', 'size(ob) = :zero AND attribute_not_exists(obl)', { values: { ':zero': 0 } });
    }
  }

  /** `REMOVE paths` from an outbox item when `condition` holds; `false` when it did not. */
  private async removeIf(
    ref: OutboxRef,
    paths: string,
    condition: string,
    expr: { names?: Record<string, string>; values?: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await dynamoCall(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: refKey(ref),
            UpdateExpression: `REMOVE ${paths}`,
            ConditionExpression: condition,
            ...(expr.names ? { ExpressionAttributeNames: expr.names } : {}),
            ...(expr.values ? { ExpressionAttributeValues: expr.values } : {}),
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  async itemsWithPendingEffects(): Promise<OutboxRef[]> {
    const keys = await this.queryShards(GSI.pendingOutbox, OUTBOX_SHARDS, undefined);
    return keys.map((k) => outboxRefOf(k.pk, k.sk)).filter((r): r is OutboxRef => r !== null);
  }

  async keysWithTimersDue(before: number): Promise<string[]> {
    const keys = await this.queryShards(GSI.dueTimers, TIMER_SHARDS, before);
    return [...new Set(keys.map((k) => k.pk).filter((pk) => pk.startsWith('KEY#')).map((pk) => pk.slice(4)))];
  }

  /**
   * Table keys of every item in each shard of a sparse work index (all shards queried at once), at most
   * `MAX_SWEEP_ITEMS` in all; the next sweep continues with the rest. With `sortBelow`, only
   * entries whose (numeric) sort key is at most it.
   */
  private async queryShards(index: { name: string; partitionKey: string; sortKey: string }, shards: number, sortBelow: number | undefined): Promise<{ pk: string; sk: string }[]> {
    const perShard = Math.ceil(MAX_SWEEP_ITEMS / shards);
    const results = await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const keys: { pk: string; sk: string }[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const out = await dynamoCall(() =>
            this.client.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: index.name,
                KeyConditionExpression: sortBelow === undefined ? '#p = :p' : '#p = :p AND #s <= :s',
                ExpressionAttributeNames: { '#p': index.partitionKey, ...(sortBelow === undefined ? {} : { '#s': index.sortKey }) },
                ExpressionAttributeValues: { ':p': shard, ...(sortBelow === undefined ? {} : { ':s': sortBelow }) },
                ExclusiveStartKey: start,
              }),
            ),
          );
          // Every index projects the table's keys (KEYS_ONLY), so `sk` is there too.
          for (const item of out.Items ?? []) keys.push({ pk: item.pk as string, sk: item.sk as string });
          start = out.LastEvaluatedKey;
        } while (start && keys.length < perShard);
        return keys;
      }),
    );
    const unique = new Map<string, { pk: string; sk: string }>();
    for (const k of results.flat()) unique.set(`${k.pk}\n${k.sk}`, k);
    return [...unique.values()];
  }
}
