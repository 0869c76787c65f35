import { describe, expect, it } from 'vitest';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { createAuthorizerHandler, stageWildcardArn, type AuthorizerDeps } from '../../shared/auth/handler.js';
import { CountingMetrics } from '../../shared/auth/metrics.js';
import { Verifier } from '../../shared/auth/verifier.js';
import { authenticKeyId, deriveIdKey, generateSecret, MAX_SECRET_LENGTH, randomBase62 } from '../../shared/domain/keyFormat.js';
import {
  cancelRotation,
  changeRotationWindow,
  createKeyRecord,
  reactivateKey,
  revokeKey,
  rotateKey,
  type Decision,
  type TransitionContext,
} from '../../shared/domain/keys.js';
import { DEFAULT_POLICIES } from '../../shared/domain/policies.js';
import { randomIds } from '../../shared/domain/ids.js';
import type { KeyStore } from '../../shared/domain/ports.js';
import type { UsageFlush, UsageStore } from '../../shared/usage/types.js';
import type { KeyRecord } from '../../shared/domain/types.js';

const PEPPER = Buffer.alloc(32, 7);
/** An id this deployment could have issued (right tag) that the store does not hold: a deleted or never-created key. */
const minted = (random: string) => authenticKeyId(deriveIdKey(PEPPER), random);
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/GET/v1/keys/k1';

class FakeClock {
  constructor(public t = T0) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** In-memory key store that counts reads, and usage store that records flushes. */
class FakeStore implements Pick<KeyStore, 'getKey'>, Pick<UsageStore, 'add'> {
  records = new Map<string, KeyRecord>();
  reads: { id: string; consistent: boolean }[] = [];
  uses: UsageFlush[] = [];
  failReads = false;
  failUses = false;
  hangUses = false;
  readDelay: Promise<void> | null = null;

  async getKey(id: string, options?: { consistent?: boolean }): Promise<KeyRecord | null> {
    this.reads.push({ id, consistent: options?.consistent === true });
    if (this.readDelay) await this.readDelay;
    if (this.failReads) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { name: 'TimeoutError' });
    return this.records.get(id) ?? null;
  }
  async add(flush: UsageFlush): Promise<void> {
    if (this.hangUses) return new Promise(() => {});
    if (this.failUses) throw new Error('ProvisionedThroughputExceededException');
    this.uses.push(flush);
  }
  put(record: KeyRecord) {
    this.records.set(record.id, record);
  }
}

function setup(opts: { ttl?: number; deps?: Partial<AuthorizerDeps>; verifier?: AuthorizerDeps['verifier'] } = {}) {
  const clock = new FakeClock();
  /** Waits for a re-read token: on the fake clock, time passes exactly by the wait. */
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  const store = new FakeStore();
  const metrics = new CountingMetrics();
  const policies = { ...DEFAULT_POLICIES, authCacheTtlSeconds: opts.ttl ?? 10 };
  let pepperLoads = 0;
  const pepper = {
    get: async () => {
      pepperLoads++;
      return PEPPER;
    },
  };
  const handler = createAuthorizerHandler({ store, usage: store, pepper, policies, clock, metrics, ...opts.deps, verifier: { sleep, usageTimer: false, ...opts.verifier } });
  const ctx = (): TransitionContext => ({ now: clock.t, policies, ids: randomIds, pepper: PEPPER });
  const createKey = (input: { expiresAt?: number | null; environment?: 'live' | 'test'; scopes?: string[] } = {}) => {
    const { record, secret } = createKeyRecord('acct0000000000001', { name: 'ci', scopes: ['keys:read', 'orders:write'], ...input }, { environment: 'live' }, ctx());
    store.put(record);
    return { record, secret };
  };
  /** Applies a transition to the stored record, as the management API would. */
  const apply = (id: string, transition: (r: KeyRecord, c: TransitionContext) => Decision): { record: KeyRecord; secret?: string } => {
    const d = transition(store.records.get(id)!, ctx());
    if (d.kind !== 'change') throw new Error(`expected a change, got ${d.kind}`);
    store.put(d.next);
    return d.secret === undefined ? { record: d.next } : { record: d.next, secret: d.secret };
  };
  return { clock, store, metrics, handler, createKey, apply, policies, sleeps, pepperLoads: () => pepperLoads };
}

const restEvent = (headers: Record<string, string> | null, origin = { ip: '203.0.113.9', userAgent: 'curl/8' }): APIGatewayRequestAuthorizerEvent =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/v1/keys/{id}',
    path: '/v1/keys/k1',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: headers ? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) : null,
    pathParameters: { id: 'k1' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      httpMethod: 'GET',
      identity: { sourceIp: origin.ip, userAgent: origin.userAgent },
      path: '/prod/v1/keys/k1',
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: T0,
      resourceId: 'abc123',
      resourcePath: '/v1/keys/{id}',
      stage: 'prod',
    },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

const tokenEvent = (authorizationToken: string): APIGatewayTokenAuthorizerEvent => ({ type: 'TOKEN', methodArn: METHOD_ARN, authorizationToken });

const httpV2Event = (headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 => ({
  version: '2.0',
  type: 'REQUEST',
  routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:h7tp4p1/$default/GET/orders',
  identitySource: Object.values(headers),
  routeKey: 'GET /orders',
  rawPath: '/orders',
  rawQueryString: '',
  cookies: [],
  headers,
  queryStringParameters: {},
  requestContext: {
    accountId: '123456789012',
    apiId: 'h7tp4p1',
    domainName: 'h7tp4p1.execute-api.eu-west-1.amazonaws.com',
    domainPrefix: 'h7tp4p1',
    http: { method: 'GET', path: '/orders', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8' },
    requestId: 'JKJaXmPLvHcESHA=',
    routeKey: 'GET /orders',
    stage: '$default',
    time: '01/Jan/2030:12:00:00 +0000',
    timeEpoch: T0,
  },
  pathParameters: {},
  stageVariables: {},
});

type Handler = ReturnType<typeof createAuthorizerHandler>;
/** Runs a REST REQUEST event; `null` when denied with exactly `Unauthorized`. */
async function rest(handler: Handler, secret: string, origin?: { ip: string; userAgent: string }): Promise<APIGatewayAuthorizerResult | null> {
  try {
    return (await handler(restEvent({ Authorization: `Bearer ${secret}` }, origin))) as APIGatewayAuthorizerResult;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('Unauthorized');
    return null;
  }
}

describe('authorizer event shapes', () => {
  it('allows a REST REQUEST event with an IAM policy covering every method of the stage and the caller context', async () => {
    const { handler, createKey } = setup();
    const { record, secret } = createKey({ expiresAt: T0 + 86_400_000 });
    const result = (await handler(restEvent({ Authorization: `Bearer ${secret}` }))) as APIGatewayAuthorizerResult;
    expect(result).toEqual({
      principalId: record.id,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*' }],
      },
      context: {
        keyId: record.id,
        accountId: 'acct0000000000001',
        environment: 'live',
        scopes: 'keys:read orders:write',
        slot: 'current',
        secretExpiresAt: String(T0 + 86_400_000),
      },
    });
  });

  it('allows a REST TOKEN event with or without the Bearer scheme', async () => {
    const { handler, createKey } = setup();
    const { record, secret } = createKey();
    for (const token of [`Bearer ${secret}`, secret, `bearer  ${secret} `]) {
      const result = (await handler(tokenEvent(token))) as APIGatewayAuthorizerResult;
      expect(result.principalId).toBe(record.id);
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/*' });
      expect(result.context).toMatchObject({ keyId: record.id, slot: 'current', secretExpiresAt: '' });
    }
  });

  it('answers an HTTP API 2.0 event with a simple response and the caller context', async () => {
    const { handler, createKey } = setup();
    const { record, secret } = createKey({ environment: 'test', scopes: [] });
    expect(await handler(httpV2Event({ authorization: `Bearer ${secret}` }))).toEqual({
      isAuthorized: true,
      context: { keyId: record.id, accountId: 'acct0000000000001', environment: 'test', scopes: '', slot: 'current', secretExpiresAt: '' },
    });
    expect(await handler(httpV2Event({ authorization: 'Bearer nope' }))).toEqual({ isAuthorized: false });
    expect(await handler(httpV2Event({}))).toEqual({ isAuthorized: false });
  });

  it('reads the secret from x-api-key and from headers in any letter case', async () => {
    const { handler, createKey } = setup();
    const { record, secret } = createKey();
    for (const headers of <Record<string, string>[]>[
      { 'x-api-key': secret },
      { 'X-API-KEY': secret },
      { AUTHORIZATION: `BEARER ${secret}` },
      { authorization: `bearer ${secret}` },
      { Authorization: 'Basic dXNlcjpwYXNz', 'X-Api-Key': secret },
    ]) {
      const result = (await handler(restEvent(headers))) as APIGatewayAuthorizerResult;
      expect(result.principalId).toBe(record.id);
    }
  });

  it('denies REST events without a secret by throwing exactly Unauthorized', async () => {
    const { handler, createKey, store } = setup();
    const { secret } = createKey();
    await expect(handler(restEvent(null))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(restEvent({}))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(restEvent({ Authorization: secret }))).rejects.toThrow(/^Unauthorized$/); // no scheme
    await expect(handler(restEvent({ Authorization: `Basic ${secret}` }))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(tokenEvent(''))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(null as never)).rejects.toThrow(/^Unauthorized$/);
    expect(store.reads).toHaveLength(0);
  });

  it('derives the stage wildcard from a method ARN and keeps odd ARNs as they are', () => {
    expect(stageWildcardArn('arn:aws:execute-api:us-east-1:111122223333:api1/v1/POST/keys/x/rotate')).toBe('arn:aws:execute-api:us-east-1:111122223333:api1/v1/*');
    expect(stageWildcardArn('arn:aws-cn:execute-api:cn-north-1:111122223333:api1/$default/GET/')).toBe('arn:aws-cn:execute-api:cn-north-1:111122223333:api1/$default/*');
    expect(stageWildcardArn('arn:aws:execute-api:us-east-1:111122223333:api1')).toBe('arn:aws:execute-api:us-east-1:111122223333:api1');
  });
});

describe('authorizer garbage rejection', () => {
  it('denies empty, huge, unicode, wrong-prefix, wrong-environment and bad-checksum tokens without reading the store', async () => {
    const { handler, createKey, store } = setup();
    const { secret } = createKey();
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const garbage = [
      '',
      ' ',
      'x'.repeat(MAX_SECRET_LENGTH + 1),
      'a'.repeat(1_000_000),
      secret + 'a',
      secret.slice(0, -1),
      '🔑'.repeat(20),
      secret.slice(0, -2) + 'é1',
      secret.replace(/^rekey_/, 'other_'),
      secret.replace('_live_', '_prod_'),
      secret.replace('_live_', '_test_'), // checksum covers the environment
      flip(secret, secret.length - 1), // checksum
      flip(secret, 30), // random part
      flip(secret, 12), // key id
      generateSecret('rekeyx', 'live', 'AAAAAAAAAAAAAAAA'),
    ];
    for (const token of garbage) {
      expect(await rest(handler, token), JSON.stringify(token.slice(0, 40))).toBeNull();
      expect(await handler(httpV2Event({ 'x-api-key': token }))).toEqual({ isAuthorized: false });
      await expect(handler(tokenEvent(token))).rejects.toThrow(/^Unauthorized$/);
    }
    expect(store.reads).toHaveLength(0);
  });
});

describe('authorizer cache', () => {
  it('costs exactly one consistent read on a miss and none on a hit', async () => {
    const { handler, createKey, store } = setup();
    const { record, secret } = createKey();
    expect(await rest(handler, secret)).not.toBeNull();
    expect(store.reads).toEqual([{ id: record.id, consistent: true }]);
    for (let i = 0; i < 50; i++) expect(await rest(handler, secret)).not.toBeNull();
    expect(store.reads).toHaveLength(1);
  });

  it('shares one read between concurrent misses of the same key', async () => {
    const { handler, createKey, store } = setup();
    const { secret } = createKey();
    let release!: () => void;
    store.readDelay = new Promise<void>((r) => (release = r));
    const pending = Array.from({ length: 5 }, () => rest(handler, secret));
    release();
    for (const r of await Promise.all(pending)) expect(r).not.toBeNull();
    expect(store.reads).toHaveLength(1);
  });

  it('reads again once the TTL has passed, and on every request with a TTL of 0', async () => {
    const { handler, createKey, store, clock } = setup();
    const { secret } = createKey();
    await rest(handler, secret);
    clock.advance(9_999);
    await rest(handler, secret);
    expect(store.reads).toHaveLength(1);
    clock.advance(1);
    await rest(handler, secret);
    expect(store.reads).toHaveLength(2);

    const zero = setup({ ttl: 0 });
    const k = zero.createKey();
    for (let i = 0; i < 3; i++) expect(await rest(zero.handler, k.secret)).not.toBeNull();
    expect(zero.store.reads).toHaveLength(3);
  });

  it('rejects 10,000 distinct forged secrets (valid checksum, an id never issued) with no read', async () => {
    const { handler, createKey, store } = setup();
    const { secret } = createKey();
    for (let i = 0; i < 10_000; i++) expect(await rest(handler, generateSecret('rekey', 'live', randomBase62(22)))).toBeNull();
    // An id minted with another pepper is a forgery too.
    const otherIdKey = deriveIdKey(Buffer.alloc(32, 1));
    expect(await rest(handler, generateSecret('rekey', 'live', authenticKeyId(otherIdKey, randomBase62(16))))).toBeNull();
    expect(store.reads).toHaveLength(0);
    expect(await rest(handler, secret)).not.toBeNull();
    expect(store.reads).toHaveLength(1);
  });

  it('caches unknown key ids negatively for the TTL', async () => {
    const { handler, store, clock } = setup();
    const unknown = generateSecret('rekey', 'live', minted('ZZZZZZZZZZZZZZZZ'));
    for (let i = 0; i < 20; i++) expect(await rest(handler, unknown)).toBeNull();
    expect(store.reads).toHaveLength(1);
    clock.advance(10_000);
    expect(await rest(handler, unknown)).toBeNull();
    expect(store.reads).toHaveLength(2);
  });

  it('ends a secret at its exact expiry instant even when the record is cached', async () => {
    const { handler, createKey, store, clock } = setup();
    const { secret } = createKey({ expiresAt: T0 + 5_000 });
    expect(await rest(handler, secret)).not.toBeNull();
    clock.advance(4_999);
    expect(await rest(handler, secret)).not.toBeNull();
    expect(store.reads).toHaveLength(1); // still the cached record
    clock.advance(1);
    expect(await rest(handler, secret)).toBeNull();
    expect(await rest(handler, secret)).toBeNull();
  });

  it('ends the previous secret of a rotation at its exact second while the new one keeps working', async () => {
    const { handler, createKey, apply, clock } = setup();
    const { record, secret: oldSecret } = createKey();
    const { secret: newSecret } = apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 3 }, c));
    expect((await rest(handler, oldSecret))?.context).toMatchObject({ slot: 'previous', secretExpiresAt: String(T0 + 3_000) });
    clock.advance(2_999);
    expect((await rest(handler, oldSecret))?.context?.slot).toBe('previous');
    clock.advance(1);
    expect(await rest(handler, oldSecret)).toBeNull();
    expect((await rest(handler, newSecret!))?.context?.slot).toBe('current');
  });

  it('accepts a secret rotated a millisecond ago on its first request while the cache is warm', async () => {
    const { handler, createKey, apply, store, clock } = setup();
    const { record, secret: oldSecret } = createKey();
    expect(await rest(handler, oldSecret)).not.toBeNull(); // warms the cache
    clock.advance(1);
    const { secret: newSecret } = apply(record.id, (r, c) => rotateKey(r, {}, c));
    clock.advance(1);
    expect((await rest(handler, newSecret!))?.context?.slot).toBe('current');
    expect((await rest(handler, oldSecret))?.context?.slot).toBe('previous');
    expect(store.reads.map((r) => r.consistent)).toEqual([true, true]);
  });

  it('accepts a reactivated key and a restored old secret on their first request while the cache is warm', async () => {
    const { handler, createKey, apply, clock, store } = setup();
    const { record, secret } = createKey();
    apply(record.id, (r, c) => revokeKey(r, c));
    expect(await rest(handler, secret)).toBeNull(); // the revoked record is now cached
    clock.advance(1);
    apply(record.id, (r, c) => reactivateKey(r, c));
    expect(await rest(handler, secret)).not.toBeNull();

    // A 0 s rotation expires the old secret at once; later a cancel restores it as current.
    clock.advance(2_000);
    const { secret: newSecret } = apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 0 }, c));
    clock.advance(1);
    expect(await rest(handler, newSecret!)).not.toBeNull();
    expect(await rest(handler, secret)).toBeNull();
    clock.advance(2_000);
    apply(record.id, (r, c) => cancelRotation(r, undefined, c));
    clock.advance(1);
    const readsBefore = store.reads.length;
    expect((await rest(handler, secret))?.context?.slot).toBe('current');
    expect(store.reads).toHaveLength(readsBefore + 1);
    expect((await rest(handler, newSecret!))?.context?.slot).toBe('previous');
  });

  it('accepts a brand-new secret on its first request while a fleet keeps sending the expired old secret', async () => {
    const { handler, createKey, apply, store, clock } = setup();
    const { record, secret: first } = createKey();
    const { secret: second } = apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 0 }, c));
    clock.advance(1);
    expect(await rest(handler, second!)).not.toBeNull(); // cache warm
    for (let i = 0; i < 50; i++) {
      clock.advance(2);
      expect(await rest(handler, first)).toBeNull();
    }
    clock.advance(2);
    const { secret: third } = apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 60 }, c));
    clock.advance(2);
    expect((await rest(handler, third!))?.context?.slot).toBe('current');
    expect(store.reads.every((r) => r.consistent)).toBe(true);
  });

  it('bounds deny-triggered re-reads of one key to a burst of 5, then 5 a second, however many wrong secrets arrive', async () => {
    const { handler, createKey, store, clock, sleeps } = setup();
    const { secret } = createKey();
    await rest(handler, secret);
    const start = clock.t;
    const forged = generateSecret('rekey', 'live', secret.slice(11, 33)); // right id, wrong secret
    for (let i = 0; i < 5; i++) expect(await rest(handler, forged)).toBeNull();
    expect(store.reads).toHaveLength(1 + 5); // the burst: no waiting
    expect(sleeps).toEqual([]);
    for (let i = 0; i < 200; i++) {
      clock.advance(1);
      expect(await rest(handler, forged)).toBeNull();
    }
    const elapsedS = (clock.t - start) / 1000;
    const rereads = store.reads.length - 1;
    expect(rereads).toBeLessThanOrEqual(5 + Math.ceil(5 * elapsedS));
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(200); // a refused request waits at most one refill
    // Only the refill rate, not the flood, sets the cost: 200 refusals over ~40 s of waiting.
    expect(rereads).toBeGreaterThan(5);
  });

  it('serves every concurrent deny of one key from a single queued re-read once its bucket is empty', async () => {
    const release: (() => void)[] = [];
    const { handler, createKey, store, clock } = setup({ verifier: { sleep: () => new Promise<void>((r) => release.push(r)) } });
    const { record, secret } = createKey();
    await rest(handler, secret);
    const forged = generateSecret('rekey', 'live', record.id);
    for (let i = 0; i < 5; i++) await rest(handler, forged);
    const readsBefore = store.reads.length;
    const pending = Array.from({ length: 20 }, () => rest(handler, forged));
    // A new secret is issued while they wait: its first request joins the same queued read.
    const { secret: fresh } = (() => {
      const d = rotateKey(store.records.get(record.id)!, {}, { now: clock.t, policies: DEFAULT_POLICIES, ids: randomIds, pepper: PEPPER });
      if (d.kind !== 'change') throw new Error('unreachable');
      store.put(d.next);
      return { secret: d.secret! };
    })();
    const grant = rest(handler, fresh);
    await new Promise((r) => setTimeout(r, 5));
    expect(release).toHaveLength(1);
    clock.advance(200);
    release[0]!();
    for (const r of await Promise.all(pending)) expect(r).toBeNull();
    expect((await grant)?.context?.slot).toBe('current');
    expect(store.reads).toHaveLength(readsBefore + 1);
  });
  it('keeps a revoked key working from cache until the TTL, then refuses it', async () => {
    const { handler, createKey, apply, clock } = setup();
    const { record, secret } = createKey();
    expect(await rest(handler, secret)).not.toBeNull();
    clock.advance(100);
    apply(record.id, (r, c) => revokeKey(r, c));
    clock.advance(9_899);
    expect(await rest(handler, secret)).not.toBeNull(); // within the TTL: the cached record
    clock.advance(1);
    expect(await rest(handler, secret)).toBeNull();
    clock.advance(5_000);
    expect(await rest(handler, secret)).toBeNull();
  });

  it('refuses an old secret expired early (window changed to 0) within the TTL', async () => {
    const { handler, createKey, apply, clock } = setup();
    const { record, secret: oldSecret } = createKey();
    apply(record.id, (r, c) => rotateKey(r, {}, c));
    expect(await rest(handler, oldSecret)).not.toBeNull();
    clock.advance(1_000);
    apply(record.id, (r, c) => changeRotationWindow(r, 0, c));
    clock.advance(9_000);
    expect(await rest(handler, oldSecret)).toBeNull();
  });
});

describe('authorizer failures', () => {
  it('denies and counts when the store fails, and tries again on the next request', async () => {
    const { handler, createKey, store, metrics } = setup();
    const { secret } = createKey();
    store.failReads = true;
    expect(await rest(handler, secret)).toBeNull();
    expect(await handler(httpV2Event({ authorization: `Bearer ${secret}` }))).toEqual({ isAuthorized: false });
    expect(metrics.storeFailures).toBe(2);
    store.failReads = false;
    expect(await rest(handler, secret)).not.toBeNull();
  });

  it('denies a cached record whose deny re-read fails, never allowing it', async () => {
    const { handler, createKey, apply, store, metrics, clock } = setup();
    const { record, secret } = createKey();
    await rest(handler, secret);
    const { secret: newSecret } = apply(record.id, (r, c) => rotateKey(r, {}, c));
    clock.advance(1);
    store.failReads = true;
    expect(await rest(handler, newSecret!)).toBeNull();
    expect(metrics.storeFailures).toBe(1);
  });

  it('loads the pepper once, and denies and counts while it cannot be loaded', async () => {
    const { createKey, store, metrics, clock, policies } = setup();
    const { secret } = createKey();
    let calls = 0;
    let fail = true;
    const handler = createAuthorizerHandler({
      store,
      usage: store,
      clock,
      policies,
      metrics,
      pepper: {
        get: async () => {
          calls++;
          if (fail) throw new Error('AccessDeniedException');
          return PEPPER;
        },
      },
    });
    expect(await rest(handler, secret)).toBeNull();
    expect(metrics.storeFailures).toBe(1);
    fail = false;
    for (let i = 0; i < 5; i++) expect(await rest(handler, secret)).not.toBeNull();
    expect(calls).toBe(2);
  });

  it('denies a record the verifier cannot make sense of, without throwing anything but Unauthorized', async () => {
    const { handler, createKey, store, metrics } = setup();
    const { record, secret } = createKey();
    store.put({ ...record, current: undefined } as unknown as KeyRecord);
    expect(await rest(handler, secret)).toBeNull();
    expect(metrics.storeFailures).toBe(1);
  });
});

/** Lets the flush the counter armed (`setImmediate`) run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('authorizer usage counting (SPEC §12)', () => {
  it('writes the first use of a secret at once, then at most one write per secret per minute, with the counts adding up', async () => {
    const { handler, createKey, apply, store, clock } = setup();
    const { record, secret: oldSecret } = createKey();
    await rest(handler, oldSecret, { ip: '203.0.113.7', userAgent: 'billing/1.0' });
    await tick();
    expect(store.uses).toEqual([
      { keyId: record.id, sid: record.current.sid, hint: record.current.hint, minute: T0, count: 1, firstAt: T0, lastAt: T0, from: { ip: '203.0.113.7', userAgent: 'billing/1.0' } },
    ]);
    for (let i = 0; i < 50; i++) {
      clock.advance(100);
      await rest(handler, oldSecret);
    }
    await tick();
    expect(store.uses).toHaveLength(1); // the rest of the minute waits for the minute to end

    const { record: rotated, secret: newSecret } = apply(record.id, (r, c) => rotateKey(r, {}, c));
    clock.advance(1_000);
    for (let i = 0; i < 3; i++) await rest(handler, newSecret!);
    await tick();
    // A first use is written on the next turn of the event loop, with whatever arrived meanwhile.
    expect(store.uses.map((u) => [u.sid, u.count])).toEqual([[record.current.sid, 1], [rotated.current.sid, 3]]);

    clock.advance(60_000); // next minute: the next request flushes both secrets' finished minute
    await rest(handler, newSecret!);
    await tick();
    const bySid = (sid: string) => store.uses.filter((u) => u.sid === sid).reduce((n, u) => n + u.count, 0);
    expect(bySid(record.current.sid)).toBe(51);
    expect(bySid(rotated.current.sid)).toBe(3); // the 4th is in the minute still being counted
    expect(store.uses).toHaveLength(3);
    expect(store.uses.every((u) => u.minute === T0)).toBe(true);
  });

  it('counts in memory only: no write starts before the answer, and writes never touch the key record', async () => {
    const { handler, createKey, store, clock } = setup();
    const { secret } = createKey();
    expect(await rest(handler, secret)).not.toBeNull();
    expect(store.uses).toHaveLength(0); // armed, not started: the write runs on a later turn
    await tick();
    expect(store.uses).toHaveLength(1);
    clock.advance(1);
    expect(store.reads).toHaveLength(1);
  });

  it('never lets a failing or hanging usage write deny or hold a request', async () => {
    const { handler, createKey, store, metrics } = setup();
    const { secret } = createKey();
    store.failUses = true;
    expect(await rest(handler, secret)).not.toBeNull();
    await tick();
    expect(metrics.useRecordFailures).toBe(1);
    expect(metrics.storeFailures).toBe(0);

    const slow = setup();
    const k = slow.createKey();
    slow.store.hangUses = true;
    const started = performance.now();
    for (let i = 0; i < 3; i++) expect(await rest(slow.handler, k.secret)).not.toBeNull();
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('keeps no origin for a TOKEN event, and strips control characters from user agents at flush time', async () => {
    const { handler, createKey, store } = setup();
    const a = createKey();
    await handler({ type: 'TOKEN', authorizationToken: `Bearer ${a.secret}`, methodArn: METHOD_ARN });
    const b = createKey();
    await rest(handler, b.secret, { ip: '2001:db8::1', userAgent: 'evil\r\nX-Injected: 1\u0000' + 'x'.repeat(600) });
    await tick();
    expect(store.uses[0]!.from).toEqual({ ip: null, userAgent: null });
    expect(store.uses[1]!.from.ip).toBe('2001:db8::1');
    expect(store.uses[1]!.from.userAgent).toMatch(/^evilX-Injected: 1x+$/);
    expect(store.uses[1]!.from.userAgent).toHaveLength(512);
  });
});

describe('authorizer grants work on the very next request (SPEC §2)', () => {
  it('accepts the old secret right after a cancel restores it, moments after it was refused as expired', async () => {
    const { handler, createKey, apply, clock } = setup();
    const { record, secret: oldSecret } = createKey();
    expect(await rest(handler, oldSecret)).not.toBeNull();
    const { secret: newSecret } = apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 1 }, c));
    clock.advance(4);
    expect(await rest(handler, newSecret!)).not.toBeNull();
    clock.advance(1_100);
    expect(await rest(handler, oldSecret)).toBeNull();
    clock.advance(4);
    apply(record.id, (r, c) => cancelRotation(r, undefined, c));
    clock.advance(4);
    expect((await rest(handler, oldSecret))?.context?.slot).toBe('current');
  });

  it('accepts a reactivated key right after two refusals of the revoked key past the TTL', async () => {
    const { handler, createKey, apply, clock } = setup();
    const { record, secret } = createKey();
    expect(await rest(handler, secret)).not.toBeNull();
    apply(record.id, (r, c) => revokeKey(r, c));
    clock.advance(10_100);
    expect(await rest(handler, secret)).toBeNull();
    clock.advance(3);
    expect(await rest(handler, secret)).toBeNull();
    clock.advance(3);
    apply(record.id, (r, c) => reactivateKey(r, c));
    clock.advance(3);
    expect((await rest(handler, secret))?.context?.slot).toBe('current');
  });

  it('accepts each new secret of back-to-back 0 s rotations on its first request', async () => {
    const { handler, createKey, apply, clock } = setup();
    const { record, secret: first } = createKey();
    let secret = first;
    expect(await rest(handler, secret)).not.toBeNull();
    for (let i = 0; i < 6; i++) {
      clock.advance(3);
      const rotated = apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 0 }, c));
      clock.advance(3);
      const previous = secret;
      secret = rotated.secret!;
      expect((await rest(handler, secret))?.context?.slot, `rotation ${i + 1}`).toBe('current');
      clock.advance(3);
      // A straggler still sends the secret just rotated out: refused, and it costs a re-read too.
      expect(await rest(handler, previous)).toBeNull();
    }
  });
});

describe('authorizer negative cache', () => {
  it('keeps unknown key ids in their own bounded map, so forged ids never evict a live record', async () => {
    const { handler, createKey, store } = setup({ verifier: { maxEntries: 2, maxNegativeEntries: 3 } });
    const { secret } = createKey();
    expect(await rest(handler, secret)).not.toBeNull();
    const forged = Array.from({ length: 50 }, (_, i) => generateSecret('rekey', 'live', minted(`Z${String(i).padStart(15, '0')}`)));
    for (const f of forged) expect(await rest(handler, f)).toBeNull();
    expect(store.reads).toHaveLength(1 + 50);
    expect(await rest(handler, secret)).not.toBeNull();
    expect(store.reads).toHaveLength(51); // still cached
    // The negative map is bounded: the oldest forged id was dropped and costs a read again.
    expect(await rest(handler, forged[49]!)).toBeNull();
    expect(store.reads).toHaveLength(51);
    expect(await rest(handler, forged[0]!)).toBeNull();
    expect(store.reads).toHaveLength(52);
  });
});

describe('Verifier', () => {
  it('reports why a secret was refused and which slot matched', async () => {
    const clock = new FakeClock();
    const store = new FakeStore();
    const policies = DEFAULT_POLICIES;
    const verifier = new Verifier({ store, usage: store, pepper: PEPPER, policies, clock, usageTimer: false });
    const ctx: TransitionContext = { now: clock.t, policies, ids: randomIds, pepper: PEPPER };
    const { record, secret } = createKeyRecord('acct0000000000001', { name: 'x' }, { environment: 'live' }, ctx);
    store.put(record);
    expect(await verifier.verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(await verifier.verify('rekey_live_nope')).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifier.verify(generateSecret('rekey', 'live', 'QQQQQQQQQQQQQQQQQQQQQQ'))).toEqual({ ok: false, reason: 'forged' });
    expect(await verifier.verify(generateSecret('rekey', 'live', minted('QQQQQQQQQQQQQQQQ')))).toEqual({ ok: false, reason: 'unknown' });
    expect(await verifier.verify(generateSecret('rekey', 'live', record.id))).toEqual({ ok: false, reason: 'mismatch' });
    expect(await verifier.verify(secret)).toMatchObject({ ok: true, slot: 'current', secretExpiresAt: null, record: { id: record.id } });
    const revoked = revokeKey(record, ctx);
    if (revoked.kind !== 'change') throw new Error('unreachable');
    store.put(revoked.next);
    clock.advance(10_000);
    expect(await verifier.verify(secret)).toEqual({ ok: false, reason: 'revoked' });
  });
});

describe('forget (local mode: the gateway announces changes made through the API)', () => {
  it('after forget, the next request reads the record again and sees the change at once (slot, last use)', async () => {
    const { handler, store, createKey, apply, clock } = setup();
    const { record, secret: oldSecret } = createKey();
    expect((await rest(handler, oldSecret))!.context!.slot).toBe('current');
    const readsBefore = store.reads.length;
    clock.advance(300);
    apply(record.id, (r, c) => rotateKey(r, { oldKeyExpiresInSeconds: 600 }, c));
    handler.forget(record.id);
    clock.advance(300);
    const after = await rest(handler, oldSecret);
    expect(after!.context!.slot).toBe('previous'); // not the cached "current"
    expect(store.reads.length).toBe(readsBefore + 1);
    await rest(handler, oldSecret);
    expect(store.reads.length).toBe(readsBefore + 1); // cached again
  });

  it('a read already in flight when the key is forgotten answers its request but is not cached', async () => {
    const { store, createKey, apply, clock, policies } = setup();
    const { record, secret } = createKey();
    // This read sees the record as it was when issued, before the change lands.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const snapshotStore = {
      getKey: async (id: string, o?: { consistent?: boolean }) => {
        const snapshot = store.records.get(id) ?? null;
        store.reads.push({ id, consistent: o?.consistent === true });
        await gate;
        return snapshot;
      },
    };
    const verifier = new Verifier({ store: snapshotStore, usage: store, pepper: PEPPER, policies, clock, usageTimer: false });
    const pending = verifier.verify(secret); // miss: its read is now in flight
    await Promise.resolve();
    apply(record.id, (r, c) => revokeKey(r, c));
    verifier.forget(record.id);
    release();
    expect((await pending).ok).toBe(true); // answered from what its read saw
    const reads = store.reads.length;
    expect((await verifier.verify(secret)).ok).toBe(false); // read again: sees the revocation
    expect(store.reads.length).toBe(reads + 1);
  });
});
