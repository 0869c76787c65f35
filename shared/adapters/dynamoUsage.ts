/**
 * DynamoDB storage of usage minutes (SPEC §12), in the key table but in items of their own so the
 * key record stays small and the authorizer's write touches no key, no index and no outbox:
 *
 * | item         | pk               | sk                  | attributes                                          |
 * |--------------|------------------|---------------------|-----------------------------------------------------|
 * | usage minute | `USAGE#<keyId>`  | `<sid>#<minute ms>` | `n` (ADD), `m`, `sid`, `hint`, `fa`, `la`, `ip`, `ua`, `ttl` |
 *
 * No index key is ever set on these items, so a flush costs exactly one write unit-sized
 * `UpdateItem` and nothing else. `ttl` (epoch seconds) lets DynamoDB delete a minute 8 days after it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { usagePk } from '../usage/items.js';
import { USAGE_RETENTION_SECONDS, type UsageFlush, type UsageMinute, type UsageStore } from '../usage/types.js';
import { dynamoCall } from './dynamoCall.js';

/** Zero-padded so string order is time order within a secret. */
const usageSk = (sid: string, minute: number): string => `${sid}#${minute.toString().padStart(13, '0')}`;

/** Most minute items one usage query returns (7 days × 1440 minutes × a few secrets fits). */
const MAX_RANGE_ITEMS = 50_000;

function toMinute(item: Record<string, unknown>): UsageMinute {
  return {
    sid: item.sid as string,
    hint: (item.hint as string) ?? '',
    minute: item.m as number,
    count: (item.n as number) ?? 0,
    firstAt: (item.fa as number) ?? (item.m as number),
    lastAt: (item.la as number) ?? (item.m as number),
    from: { ip: (item.ip as string | null) ?? null, userAgent: (item.ua as string | null) ?? null },
  };
}

export class DynamoUsageStore implements UsageStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(opts: { client: DynamoDBDocumentClient; tableName: string }) {
    this.client = opts.client;
    this.tableName = opts.tableName;
  }

  async add(f: UsageFlush): Promise<void> {
    // `fa` keeps the earliest first use of the minute; `la`/`ip`/`ua` are the writing instance's last
    // use (instances flush a minute within about a minute of each other; see docs/usage.md).
    await dynamoCall(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: usagePk(f.keyId), sk: usageSk(f.sid, f.minute) },
          UpdateExpression: 'ADD n :n SET m = :m, sid = :sid, hint = :hint, fa = if_not_exists(fa, :fa), la = :la, ip = :ip, ua = :ua, #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':n': f.count, ':m': f.minute, ':sid': f.sid, ':hint': f.hint, ':fa': f.firstAt, ':la': f.lastAt,
            ':ip': f.from.ip, ':ua': f.from.userAgent, ':ttl': Math.floor(f.minute / 1000) + USAGE_RETENTION_SECONDS,
          },
        }),
      ),
    );
  }

  private async one(keyId: string, sid: string, forward: boolean, since?: number): Promise<UsageMinute | null> {
    const out = await dynamoCall(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: since === undefined ? 'pk = :pk AND begins_with(sk, :sid)' : 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues:
            since === undefined
              ? { ':pk': usagePk(keyId), ':sid': `${sid}#` }
              : { ':pk': usagePk(keyId), ':lo': usageSk(sid, since - (since % 60_000)), ':hi': `${sid}#9999999999999` },
          ScanIndexForward: forward,
          Limit: 1,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? toMinute(item) : null;
  }

  latest(keyId: string, sid: string): Promise<UsageMinute | null> {
    return this.one(keyId, sid, false);
  }

  first(keyId: string, sid: string, since: number): Promise<UsageMinute | null> {
    return this.one(keyId, sid, true, since);
  }

  async range(keyId: string, from: number, to: number): Promise<UsageMinute[]> {
    // The sort key leads with the secret, so one query reads the key's partition and keeps the
    // minutes in range. The partition holds at most the retention (8 days) of minutes.
    const out: UsageMinute[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamoCall(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'm BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': usagePk(keyId), ':from': from - (from % 60_000), ':to': to },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) out.push(toMinute(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < MAX_RANGE_ITEMS);
    return out;
  }
}
