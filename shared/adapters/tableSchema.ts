/**
 * The single-table layout, shared by the CDK table and local mode's `CreateTable`.
 *
 * | item    | pk              | sk                 | gsi1pk / gsi1sk                      | gsi2pk / gsi2sk (sparse)       |
 * |---------|-----------------|--------------------|--------------------------------------|--------------------------------|
 * | key     | `KEY#<id>`      | `KEY`              | `ACCT#<acct>` / `<createdAt>#<id>`   | `ACCT#<acct>#test` (test keys) |
 * | account | `ACCT#<id>`     | `ACCT`             | `ACCOUNTS#<shard>` / `<createdAt>#<id>` | —                           |
 * | event   | `KEY#<id>` or `ACCT#<id>` | `EVT#<sortable event id>` | — (`ttl` with `auditRetentionDays`) | —                |
 * | counter | `RATE#<name>`   | `W#<window start>` | — (`ttl` after its window)           | —                              |
 * | contacts | `KCON#<keyId>` | `KCON`             | —                                    | — (a key's contacts, own outbox) |
 *
 * Sparse, sharded work indexes (numbers, so the shard is one small attribute):
 * - `obp = <outbox shard>` while an item's outbox is not empty (`gsi3`, the outbox sweeper);
 * - `tdp = <timer shard>`, `tdue = <epoch ms>` while a key has a planned, unfired timer (`gsi4`, the
 *   timer reconciliation), `tdue` the earliest of them.
 *
 * Every index is KEYS_ONLY: an index is written only when one of its key attributes changes, so a
 * transition (new `version`) or the authorizer's last-use write (`lastUsed`) writes no index at all.
 * The capacity arithmetic is in docs/design.md ("Capacity").
 */
export const TABLE_PARTITION_KEY = 'pk';
/** Attribute that DynamoDB TTL reads to purge items (epoch seconds): audit events (with a retention) and rate counters. */
export const TTL_ATTRIBUTE = 'ttl';
export const TABLE_SORT_KEY = 'sk';

/** Partitions of the outbox index: each index partition takes ≤ 1,000 writes/s, a change costs two (set, clear). */
export const OUTBOX_SHARDS = 16;
/** Partitions of the timer index. */
export const TIMER_SHARDS = 16;
/** Partitions the account list is spread over (written once per account: on creation). */
export const ACCOUNT_SHARDS = 16;

/**
 * The GSIs. All keep keys only: listings read the page's records with one `BatchGetItem`, the
 * sweeper and the reconciliation read only `pk`.
 */
export const GSI = {
  byAccount: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', partitionType: 'S', sortType: 'S', projection: 'KEYS_ONLY' },
  testByAccount: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', partitionType: 'S', sortType: 'S', projection: 'KEYS_ONLY' },
  pendingOutbox: { name: 'gsi3', partitionKey: 'obp', sortKey: 'pk', partitionType: 'N', sortType: 'S', projection: 'KEYS_ONLY' },
  dueTimers: { name: 'gsi4', partitionKey: 'tdp', sortKey: 'tdue', partitionType: 'N', sortType: 'N', projection: 'KEYS_ONLY' },
} as const;

export type GsiDef = (typeof GSI)[keyof typeof GSI];

/**
 * A stable shard in `[0, shards)` for a string (FNV-1a), so setting an item's shard attribute
 * twice writes the same value and a sweep of every shard finds it.
 */
export function shardOf(value: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/**
 * `CreateTable` input (on-demand) for local mode and tests. Local mode creates the table only when
 * it is missing, so a data directory made before an index's projection changed keeps its old one.
 */
export function createTableInput(tableName: string) {
  const gsis = Object.values(GSI) as GsiDef[];
  const attributes = new Map<string, 'S' | 'N'>([
    ['pk', 'S'],
    ['sk', 'S'],
  ]);
  for (const g of gsis) {
    attributes.set(g.partitionKey, g.partitionType);
    attributes.set(g.sortKey, g.sortType);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: gsis.map((g) => ({
      IndexName: g.name,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: g.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: g.projection },
    })),
  };
}
