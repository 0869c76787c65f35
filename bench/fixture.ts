/**
 * What every measurement needs: dynalite on 127.0.0.1 with the rekey table, the real `DynamoKeyStore`,
 * a fixed pepper and one key created through the domain's own transition (real secret, real digest).
 */
import { createDocumentClient, DynamoKeyStore } from '../shared/adapters/dynamoStore.js';
import { DynamoUsageStore } from '../shared/adapters/dynamoUsage.js';
import { ensureTable } from '../shared/adapters/tableAdmin.js';
import { startDynalite, type LocalDynamo } from '../shared/local/dynalite.js';
import { createKeyRecord } from '../shared/domain/keys.js';
import { DEFAULT_POLICIES } from '../shared/domain/policies.js';
import { randomIds } from '../shared/domain/ids.js';
import type { KeyStore } from '../shared/domain/ports.js';
import type { KeyRecord } from '../shared/domain/types.js';
import type { UsageStore } from '../shared/usage/types.js';

export const BENCH_TABLE = 'rekey-bench';

export interface BenchFixture {
  readonly dynamo: LocalDynamo;
  readonly store: DynamoKeyStore;
  readonly usage: DynamoUsageStore;
  readonly pepper: Buffer;
  readonly record: KeyRecord;
  readonly secret: string;
  close(): Promise<void>;
}

export async function startFixture(): Promise<BenchFixture> {
  const dynamo = await startDynalite();
  await ensureTable(dynamo.endpoint, BENCH_TABLE);
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  const store = new DynamoKeyStore({ client, tableName: BENCH_TABLE });
  const usage = new DynamoUsageStore({ client, tableName: BENCH_TABLE });
  const pepper = Buffer.from('bench-pepper-0123456789abcdef-0123456789');
  const { record, secret } = createKeyRecord(
    randomIds.accountId(),
    { name: 'bench', scopes: ['keys:read', 'keys:write', 'orders:read'], expiresAt: Date.now() + 30 * 86_400_000 },
    { environment: 'live' },
    { now: Date.now(), policies: DEFAULT_POLICIES, ids: randomIds, pepper },
  );
  await store.createKey(record, []);
  return { dynamo, store, usage, pepper, record, secret, close: () => dynamo.close() };
}

/** The stores as the authorizer sees them, counting reads and usage writes. */
export function countingStore(inner: Pick<KeyStore, 'getKey'>, innerUsage: Pick<UsageStore, 'add'>) {
  const counts = { reads: 0, uses: 0 };
  const store: Pick<KeyStore, 'getKey'> = {
    getKey: (id, o) => {
      counts.reads++;
      return inner.getKey(id, o);
    },
  };
  const usage: Pick<UsageStore, 'add'> = {
    add: (flush) => {
      counts.uses++;
      return innerUsage.add(flush);
    },
  };
  return { store, usage, counts };
}

/** A REST API `REQUEST` authorizer event as API Gateway sends it (trimmed to what matters). */
export function restRequestEvent(secret: string) {
  return {
    type: 'REQUEST' as const,
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:benchapi01/v1/GET/v1/keys',
    resource: '/v1/keys',
    path: '/v1/keys',
    httpMethod: 'GET',
    headers: { Accept: '*/*', Authorization: `Bearer ${secret}`, Host: 'benchapi01.execute-api.us-east-1.amazonaws.com', 'User-Agent': 'bench/1' },
    multiValueHeaders: null,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { accountId: '123456789012', apiId: 'benchapi01', httpMethod: 'GET', stage: 'v1', requestId: 'bench' },
  };
}

/** An HTTP API payload 2.0 authorizer event. */
export function httpV2Event(secret: string) {
  return {
    version: '2.0' as const,
    type: 'REQUEST' as const,
    routeArn: 'arn:aws:execute-api:us-east-1:123456789012:benchhttp1/$default/GET/orders',
    identitySource: [`Bearer ${secret}`],
    routeKey: 'GET /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { accept: '*/*', authorization: `Bearer ${secret}`, host: 'benchhttp1.execute-api.us-east-1.amazonaws.com' },
    requestContext: { accountId: '123456789012', apiId: 'benchhttp1', stage: '$default', requestId: 'bench' },
  };
}
