/**
 * The single-table layout, shared by the CDK table and local mode's `CreateTable`.
 *
 * | item    | pk              | sk                 | gsi1pk / gsi1sk                 | gsi2pk / gsi2sk (sparse)       |
 * |---------|-----------------|--------------------|---------------------------------|--------------------------------|
 * | key     | `KEY#<id>`      | `KEY`              | `ACCT#<acct>` / `<createdAt>#<id>` | `ACCT#<acct>#test` (test keys) |
 * | account | `ACCT#<id>`     | `ACCT`             | `ACCOUNTS` / `<createdAt>#<id>` | —                              |
 * | event   | `KEY#<id>` or `ACCT#<id>` | `EVT#<sortable event id>` | —                   | —                              |
 *
 * Items with a non-empty outbox carry `obp = 1` (sparse GSI `gsi3`, so the sweeper finds them
 * without a scan).
 */
export const TABLE_PARTITION_KEY = 'pk';
export const TABLE_SORT_KEY = 'sk';

/**
 * The GSIs. `projection` is what each index copies: the listing indexes return whole records; the
 * outbox index is read only for `pk` (the sweeper then claims each item on the table), so it keeps
 * keys only and costs no extra writes when an outbox changes.
 */
export const GSI = {
  byAccount: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' },
  testByAccount: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'ALL' },
  pendingOutbox: { name: 'gsi3', partitionKey: 'obp', sortKey: 'pk', projection: 'KEYS_ONLY' },
} as const;

/**
 * `CreateTable` input (on-demand) for local mode and tests. Local mode creates the table only when
 * it is missing, so a data directory made before an index's projection changed keeps its old one.
 */
export function createTableInput(tableName: string) {
  const index = (g: { name: string; partitionKey: string; sortKey: string; projection: 'ALL' | 'KEYS_ONLY' }) => ({
    IndexName: g.name,
    KeySchema: [
      { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: g.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: g.projection },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'S' as const },
      { AttributeName: 'gsi1pk', AttributeType: 'S' as const },
      { AttributeName: 'gsi1sk', AttributeType: 'S' as const },
      { AttributeName: 'gsi2pk', AttributeType: 'S' as const },
      { AttributeName: 'gsi2sk', AttributeType: 'S' as const },
      { AttributeName: 'obp', AttributeType: 'N' as const },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [index(GSI.byAccount), index(GSI.testByAccount), index(GSI.pendingOutbox)],
  };
}
