import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { createAuthorizerHandler, type AuthorizerHandler } from '../../shared/auth/handler.js';
import { CountingMetrics } from '../../shared/auth/metrics.js';
import { createDocumentClient, DynamoKeyStore } from '../../shared/adapters/dynamoStore.js';
import { DynamoUsageStore } from '../../shared/adapters/dynamoUsage.js';
import { ensureTable } from '../../shared/adapters/tableAdmin.js';
import { startDynalite, type LocalDynamo } from '../../shared/local/dynalite.js';
import { authenticKeyId, deriveIdKey, generateSecret, randomBase62 } from '../../shared/domain/keyFormat.js';
import { cancelRotation, changeRotationWindow, createKeyRecord, reactivateKey, revokeKey, rotateKey, type Decision, type TransitionContext } from '../../shared/domain/keys.js';
import { DEFAULT_POLICIES, type Policies } from '../../shared/domain/policies.js';
import { randomIds } from '../../shared/domain/ids.js';
import type { KeyStore } from '../../shared/domain/ports.js';
import type { KeyRecord } from '../../shared/domain/types.js';

const TABLE = 'rekey-authorizer-it';
const PEPPER = Buffer.alloc(32, 42);
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:mgmtapi01/v1/POST/v1/keys/abc/rotate';

let dynamo: LocalDynamo;
let store: DynamoKeyStore;
let usage: DynamoUsageStore;

beforeAll(async () => {
  dynamo = await startDynalite();
  await ensureTable(dynamo.endpoint, TABLE);
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  store = new DynamoKeyStore({ client, tableName: TABLE });
  usage = new DynamoUsageStore({ client, tableName: TABLE });
});

afterAll(async () => {
  await dynamo?.close();
});

/** Wraps the real store and counts what the authorizer asks of it. */
function counting(inner: KeyStore) {
  const reads: boolean[] = [];
  const wrapped: Pick<KeyStore, 'getKey'> = {
    getKey: (id, o) => {
      reads.push(o?.consistent === true);
      return inner.getKey(id, o);
    },
  };
  return { wrapped, reads };
}

function world(ttlSeconds = 10) {
  let now = Date.now();
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const policies: Policies = { ...DEFAULT_POLICIES, authCacheTtlSeconds: ttlSeconds };
  const counted = counting(store);
  const metrics = new CountingMetrics();
  const handler = createAuthorizerHandler({ store: counted.wrapped, usage, pepper: { get: async () => PEPPER }, policies, clock, metrics, verifier: { usageTimer: false } });
  const ctx = (): TransitionContext => ({ now, policies, ids: randomIds, pepper: PEPPER });
  const create = async (expiresAt: number | null = null) => {
    const { record, secret } = createKeyRecord(randomIds.accountId(), { name: 'integration', scopes: ['keys:read'], expiresAt }, { environment: 'live' }, ctx());
    await store.createKey(record, []);
    return { record, secret };
  };
  /** One transition through the real conditional write, as the management API does it. */
  const apply = async (id: string, t: (r: KeyRecord, c: TransitionContext) => Decision) => {
    const before = (await store.getKey(id, { consistent: true }))!;
    const d = t(before, ctx());
    if (d.kind !== 'change') throw new Error(`expected a change, got ${d.kind}`);
    await store.updateKey(d.next, before.version, []);
    return { record: d.next, secret: d.secret };
  };
  return { clock, handler, metrics, create, apply, ...counted };
}

const rest = async (handler: AuthorizerHandler, secret: string) => {
  try {
    return (await handler({
      type: 'REQUEST', methodArn: METHOD_ARN, headers: { Authorization: `Bearer ${secret}` },
      requestContext: { identity: { sourceIp: '203.0.113.9', userAgent: 'integration/1' } },
    } as unknown as APIGatewayRequestAuthorizerEvent)) as APIGatewayAuthorizerResult;
  } catch (err) {
    expect((err as Error).message).toBe('Unauthorized');
    return null;
  }
};

describe('authorizer against dynalite', () => {
  it('allows with one consistent GetItem on a miss and none on a hit', async () => {
    const w = world();
    const { record, secret } = await w.create();
    const first = await rest(w.handler, secret);
    expect(first?.principalId).toBe(record.id);
    expect(first?.policyDocument.Statement[0]).toMatchObject({ Resource: 'arn:aws:execute-api:us-east-1:123456789012:mgmtapi01/v1/*' });
    for (let i = 0; i < 20; i++) expect(await rest(w.handler, secret)).not.toBeNull();
    expect(w.reads).toEqual([true]);
  });

  it('denies garbage without touching the table', async () => {
    const w = world();
    const { secret } = await w.create();
    for (const token of ['', 'x'.repeat(5_000), secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), secret.replace('rekey_', 'other_'), 'ключ'.repeat(25)]) {
      expect(await rest(w.handler, token)).toBeNull();
    }
    expect(w.reads).toEqual([]);
  });

  it('accepts a secret rotated a moment ago on its first request with a warm cache, and records both slots in usage items, not the key record', async () => {
    const w = world();
    const { record, secret: oldSecret } = await w.create();
    expect(await rest(w.handler, oldSecret)).not.toBeNull();
    const rotated = await w.apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 3600 }, c));
    w.clock.advance(1);
    expect((await rest(w.handler, rotated.secret!))?.context).toMatchObject({ slot: 'current', keyId: record.id });
    expect((await rest(w.handler, oldSecret))?.context).toMatchObject({ slot: 'previous' });
    expect(w.reads).toEqual([true, true]);

    await w.handler.flushUsage();
    const stored = (await store.getKey(record.id, { consistent: true }))!;
    expect(stored).toEqual(rotated.record); // the key record is untouched by use
    expect((await usage.latest(record.id, record.current.sid))?.count).toBeGreaterThanOrEqual(1);
    expect(await usage.latest(record.id, rotated.record.current.sid)).toMatchObject({ count: 1, lastAt: w.clock.now(), from: { ip: '203.0.113.9' } });
  });

  it('ends a secret at its exact expiry from a cached record', async () => {
    const w = world();
    const expiresAt = Math.ceil(w.clock.now() / 1000) * 1000 + 2_000; // a whole second, as the API stores it
    const { secret } = await w.create(expiresAt);
    expect(await rest(w.handler, secret)).not.toBeNull();
    w.clock.advance(expiresAt - 1 - w.clock.now());
    expect(await rest(w.handler, secret)).not.toBeNull();
    w.clock.advance(1);
    expect(await rest(w.handler, secret)).toBeNull();
    expect(w.reads).toHaveLength(2); // the miss, then one re-read triggered by the expiry deny
  });

  it('takes a revocation into account within the TTL', async () => {
    const w = world(2);
    const { record, secret } = await w.create();
    expect(await rest(w.handler, secret)).not.toBeNull();
    await w.apply(record.id, (r, c) => revokeKey(r, c));
    w.clock.advance(1_999);
    expect(await rest(w.handler, secret)).not.toBeNull();
    w.clock.advance(1);
    expect(await rest(w.handler, secret)).toBeNull();
  });

  it('grants on the very next request after a cancel restore, a reactivation and back-to-back 0 s rotations, with a warm cache', async () => {
    const w = world();
    const { record, secret: first } = await w.create();
    expect(await rest(w.handler, first)).not.toBeNull();
    // Rotate with a 1 s window, let it lapse, get refused, cancel: the old secret works at once.
    const { secret: second } = await w.apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 1 }, c));
    w.clock.advance(3);
    expect(await rest(w.handler, second!)).not.toBeNull();
    w.clock.advance(1_100);
    expect(await rest(w.handler, first)).toBeNull();
    await w.apply(record.id, (r, c) => cancelRotation(r, undefined, c));
    w.clock.advance(3);
    expect((await rest(w.handler, first))?.context).toMatchObject({ slot: 'current' });
    // Revoke, refused twice past the TTL, reactivate: works at once.
    await w.apply(record.id, (r, c) => revokeKey(r, c));
    w.clock.advance(10_100);
    expect(await rest(w.handler, first)).toBeNull();
    w.clock.advance(3);
    expect(await rest(w.handler, first)).toBeNull();
    await w.apply(record.id, (r, c) => reactivateKey(r, c));
    w.clock.advance(3);
    expect(await rest(w.handler, first)).not.toBeNull();
    // The restore left the discarded secret valid as previous: end it, then four 0 s rotations in a
    // row, each new secret used at once.
    await w.apply(record.id, (r, c) => changeRotationWindow(r, 0, c));
    for (let i = 0; i < 4; i++) {
      w.clock.advance(3);
      const rotated = await w.apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 0 }, c));
      w.clock.advance(3);
      expect((await rest(w.handler, rotated.secret!))?.context, `rotation ${i + 1}`).toMatchObject({ slot: 'current' });
    }
    expect(w.reads.every(Boolean)).toBe(true);
  });

  it('caches an unknown key id negatively', async () => {
    const w = world();
    // An id this deployment could have minted (valid tag) that the table does not hold.
    const unknown = generateSecret('rekey', 'live', authenticKeyId(deriveIdKey(PEPPER), randomIds.keyId()));
    for (let i = 0; i < 5; i++) expect(await rest(w.handler, unknown)).toBeNull();
    expect(w.reads).toHaveLength(1);
  });

  it('rejects forged ids (valid checksum, no valid tag) without reading the table', async () => {
    const w = world();
    for (let i = 0; i < 200; i++) expect(await rest(w.handler, generateSecret('rekey', 'live', randomBase62(22)))).toBeNull();
    expect(w.reads).toHaveLength(0);
  });

  it('denies and counts when DynamoDB cannot be reached', async () => {
    const closed = await startDynalite();
    await closed.close();
    const dead = new DynamoKeyStore({ client: createDocumentClient({ endpoint: closed.endpoint }), tableName: TABLE });
    const metrics = new CountingMetrics();
    const handler = createAuthorizerHandler({ store: dead, usage, pepper: { get: async () => PEPPER }, policies: DEFAULT_POLICIES, clock: { now: Date.now }, metrics });
    const w = world();
    const { secret } = await w.create();
    expect(await rest(handler, secret)).toBeNull();
    expect(metrics.storeFailures).toBe(1);
  });
});

describe('the Lambda entry point wired from the environment', () => {
  let dataDir: string;
  let handler: AuthorizerHandler;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rekey-authorizer-'));
    process.env.REKEY_DATA_DIR = dataDir;
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;
    process.env.AUTH_CACHE_TTL_SECONDS = '1';
    ({ handler } = await import('../../functions/authorizer.js'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves REST REQUEST, TOKEN and HTTP API 2.0 events with the pepper of the data directory', async () => {
    // The first call creates the pepper file (through the pepper interface); keys are hashed with it.
    await expect(handler({ type: 'TOKEN', methodArn: METHOD_ARN, authorizationToken: 'Bearer x' })).rejects.toThrow('Unauthorized');
    const pepper = await readFile(join(dataDir, 'pepper'));
    const { record, secret } = createKeyRecord('acct-from-runtime', { name: 'wired', scopes: ['keys:read', 'keys:write'] }, { environment: 'live' }, {
      now: Date.now(),
      policies: DEFAULT_POLICIES,
      ids: randomIds,
      pepper,
    });
    await store.createKey(record, []);

    const token = (await handler({ type: 'TOKEN', methodArn: METHOD_ARN, authorizationToken: `Bearer ${secret}` } satisfies APIGatewayTokenAuthorizerEvent)) as APIGatewayAuthorizerResult;
    expect(token.principalId).toBe(record.id);
    expect(token.context).toEqual({ keyId: record.id, accountId: 'acct-from-runtime', environment: 'live', scopes: 'keys:read keys:write', slot: 'current', secretExpiresAt: '' });

    const req = await rest(handler, secret);
    expect(req?.principalId).toBe(record.id);

    const v2 = await handler({ version: '2.0', type: 'REQUEST', routeArn: 'arn:aws:execute-api:us-east-1:1:h/$default/GET/x', headers: { 'x-api-key': secret } } as unknown as APIGatewayRequestAuthorizerEventV2);
    expect(v2).toMatchObject({ isAuthorized: true, context: { keyId: record.id, slot: 'current' } });
    expect(await handler({ version: '2.0', type: 'REQUEST', headers: {} } as unknown as APIGatewayRequestAuthorizerEventV2)).toEqual({ isAuthorized: false });
  });
});
