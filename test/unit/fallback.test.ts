import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FallbackClient, KeyFallbackError, fromEnv, withKeyFallback, type KeySource } from '../../client/fallback.js';
import { RekeyApiError, RekeyNetworkError } from '../../client/index.js';
import { KeySourceError, fromSecretsManager } from '../../client/secretsManagerSource.js';

const ACTIVE = 'rekey_live_AAAAAAAAAAAAAAAAAAAAAA_activeSecretValue000000000000000000000000000000';
const OLD = 'rekey_live_AAAAAAAAAAAAAAAAAAAAAA_oldSecretValue000000000000000000000000000000000';

/**
 * A stand-in for any API behind the rekey authorizer: it accepts exactly one secret (bearer or
 * x-api-key), answers 401 in the SPEC's error shape otherwise, and records every secret presented.
 */
let server: Server;
let baseUrl: string;
let accepted: string;
let statusWhenAccepted: number;
let seen: string[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const auth = req.headers.authorization;
    const presented = auth?.startsWith('Bearer ') ? auth.slice(7) : ((req.headers['x-api-key'] as string | undefined) ?? '');
    seen.push(presented);
    res.setHeader('content-type', 'application/json');
    if (presented !== accepted) {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Missing or invalid API key.', requestId: `r${seen.length}` } }));
      return;
    }
    res.statusCode = statusWhenAccepted;
    if (statusWhenAccepted === 200) {
      res.end(JSON.stringify({ keyId: 'AAAAAAAAAAAAAAAA', accountId: 'acc', environment: 'live', scopes: [], slot: presented === OLD ? 'previous' : 'current', secretExpiresAt: null }));
    } else {
      const code = statusWhenAccepted === 403 ? 'forbidden' : 'internal_error';
      res.end(JSON.stringify({ error: { code, message: 'no', requestId: 'rq' } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  accepted = ACTIVE;
  statusWhenAccepted = 200;
  seen = [];
});

const call = (secret: string) => fetch(`${baseUrl}/reports`, { headers: { authorization: `Bearer ${secret}` } });

describe('withKeyFallback with plain fetch', () => {
  it('makes one call with the active secret when it works', async () => {
    const onOldKeyUsed = vi.fn();
    const { result, used } = await withKeyFallback({ active: ACTIVE, old: OLD }, call, { onOldKeyUsed });
    expect(result.status).toBe(200);
    expect(used).toBe('active');
    expect(seen).toEqual([ACTIVE]);
    expect(onOldKeyUsed).not.toHaveBeenCalled();
  });

  it("retries once with the old secret after a 401, reports 'old' and calls onOldKeyUsed", async () => {
    accepted = OLD;
    const onOldKeyUsed = vi.fn();
    const { result, used } = await withKeyFallback({ active: ACTIVE, old: OLD }, call, { onOldKeyUsed });
    expect(result.status).toBe(200);
    expect(((await result.json()) as { slot: string }).slot).toBe('previous');
    expect(used).toBe('old');
    expect(seen).toEqual([ACTIVE, OLD]);
    expect(onOldKeyUsed).toHaveBeenCalledTimes(1);
    expect(onOldKeyUsed).toHaveBeenCalledWith({ activeStatus: 401, oldStatus: 200 });
  });

  it('throws KeyFallbackError after two calls when both secrets get 401, with no secret in the error', async () => {
    accepted = 'something-else';
    const err = await withKeyFallback({ active: ACTIVE, old: OLD }, call).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFallbackError);
    const e = err as KeyFallbackError;
    expect(e.status).toBe(401);
    expect(e.code).toBe('unauthorized');
    expect(e.tried).toEqual(['active', 'old']);
    expect(e.response?.status).toBe(401);
    expect(seen).toEqual([ACTIVE, OLD]);
    const text = `${e.message} ${String(e.stack)} ${JSON.stringify(e)}`;
    expect(text).not.toContain(ACTIVE);
    expect(text).not.toContain(OLD);
  });

  it('does not retry a 500: one call, the response handed back', async () => {
    statusWhenAccepted = 500;
    const { result, used } = await withKeyFallback({ active: ACTIVE, old: OLD }, call);
    expect(result.status).toBe(500);
    expect(used).toBe('active');
    expect(seen).toEqual([ACTIVE]);
  });

  it('does not retry a 403 (authenticated, but not allowed)', async () => {
    statusWhenAccepted = 403;
    const { result } = await withKeyFallback({ active: ACTIVE, old: OLD }, call);
    expect(result.status).toBe(403);
    expect(seen).toEqual([ACTIVE]);
  });

  it('does not retry when there is no old secret: one call, then KeyFallbackError', async () => {
    accepted = OLD;
    const err = await withKeyFallback({ active: ACTIVE }, call).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFallbackError);
    expect((err as KeyFallbackError).tried).toEqual(['active']);
    expect(seen).toEqual([ACTIVE]);
  });

  it('does not call twice when the old secret equals the active one', async () => {
    accepted = OLD;
    await expect(withKeyFallback({ active: ACTIVE, old: ACTIVE }, call)).rejects.toBeInstanceOf(KeyFallbackError);
    expect(seen).toEqual([ACTIVE]);
  });

  it('does not retry a network failure: the error is handed back after one attempt', async () => {
    const attempt = vi.fn((secret: string) => fetch('http://127.0.0.1:1/', { headers: { authorization: `Bearer ${secret}` } }));
    await expect(withKeyFallback({ active: ACTIVE, old: OLD }, attempt)).rejects.toThrow(TypeError);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('works with the x-api-key header as well', async () => {
    accepted = OLD;
    const { used } = await withKeyFallback({ active: ACTIVE, old: OLD }, (secret) => fetch(`${baseUrl}/anything`, { headers: { 'x-api-key': secret } }));
    expect(used).toBe('old');
    expect(seen).toEqual([ACTIVE, OLD]);
  });

  it('still answers when the onOldKeyUsed hook throws', async () => {
    accepted = OLD;
    const { used } = await withKeyFallback({ active: ACTIVE, old: OLD }, call, {
      onOldKeyUsed: () => {
        throw new Error('alerting down');
      },
    });
    expect(used).toBe('old');
  });

  it('asks a source to invalidate its cache when every secret was rejected', async () => {
    accepted = 'newer';
    const source: KeySource = { load: vi.fn(async () => ({ active: ACTIVE, old: OLD })), invalidate: vi.fn() };
    await expect(withKeyFallback(source, call)).rejects.toBeInstanceOf(KeyFallbackError);
    expect(source.invalidate).toHaveBeenCalledTimes(1);
  });
});

describe('FallbackClient (RekeyClient with the fallback)', () => {
  it("uses the old secret for whoami after the active one gets 401, and reports 'old'", async () => {
    accepted = OLD;
    const onOldKeyUsed = vi.fn();
    const client = new FallbackClient({ baseUrl, keys: { active: ACTIVE, old: OLD }, onOldKeyUsed });
    const { result, used } = await client.call((c) => c.whoami());
    expect(used).toBe('old');
    expect(result.slot).toBe('previous');
    expect(seen).toEqual([ACTIVE, OLD]);
    expect(onOldKeyUsed).toHaveBeenCalledWith({ activeStatus: 401, oldStatus: undefined });
  });

  it('throws the RekeyApiError of a 500 without a second call', async () => {
    statusWhenAccepted = 500;
    const client = new FallbackClient({ baseUrl, keys: { active: ACTIVE, old: OLD } });
    const err = await client.call((c) => c.whoami()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RekeyApiError);
    expect((err as RekeyApiError).status).toBe(500);
    expect(seen).toEqual([ACTIVE]);
  });

  it('throws KeyFallbackError carrying the last RekeyApiError when both secrets get 401', async () => {
    accepted = 'neither';
    const client = new FallbackClient({ baseUrl, keys: { active: ACTIVE, old: OLD } });
    const err = (await client.call((c) => c.getAccount()).catch((e: unknown) => e)) as KeyFallbackError;
    expect(err).toBeInstanceOf(KeyFallbackError);
    expect(err.cause).toBeInstanceOf(RekeyApiError);
    expect((err.cause as RekeyApiError).code).toBe('unauthorized');
    expect(seen).toEqual([ACTIVE, OLD]);
  });

  it('hands back a network failure as RekeyNetworkError without a retry', async () => {
    const client = new FallbackClient({ baseUrl: 'http://127.0.0.1:1', keys: { active: ACTIVE, old: OLD } });
    const err = await client.call((c) => c.whoami()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RekeyNetworkError);
    expect(String((err as Error).message)).not.toContain(ACTIVE);
  });
});

describe('fromEnv', () => {
  it('reads REKEY_API_KEY and REKEY_API_KEY_OLD by default', async () => {
    const pair = await fromEnv({ env: { REKEY_API_KEY: ACTIVE, REKEY_API_KEY_OLD: OLD } }).load();
    expect(pair).toEqual({ active: ACTIVE, old: OLD });
  });

  it('treats an empty old variable as no old secret, and reads custom variable names', async () => {
    expect(await fromEnv({ env: { REKEY_API_KEY: ACTIVE, REKEY_API_KEY_OLD: '' } }).load()).toEqual({ active: ACTIVE, old: undefined });
    expect(await fromEnv({ activeVar: 'A', oldVar: 'B', env: { A: ACTIVE, B: OLD } }).load()).toEqual({ active: ACTIVE, old: OLD });
  });

  it('fails naming the missing active variable, without any value', async () => {
    const err = (await fromEnv({ env: { REKEY_API_KEY_OLD: OLD } }).load().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('REKEY_API_KEY');
    expect(err.message).not.toContain(OLD);
  });

  it('reads process.env at each call when no env is given', async () => {
    vi.stubEnv('REKEY_API_KEY', ACTIVE);
    vi.stubEnv('REKEY_API_KEY_OLD', '');
    const source = fromEnv();
    expect((await source.load()).old).toBeUndefined();
    vi.stubEnv('REKEY_API_KEY_OLD', OLD);
    expect((await source.load()).old).toBe(OLD);
    vi.unstubAllEnvs();
  });
});

describe('fromSecretsManager', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());
  const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rekey/caller-AbCdEf';

  it('reads the pair with exactly GetSecretValue {SecretId} and caches it for the TTL', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ active: ACTIVE, old: OLD }) });
    let t = 1_000_000;
    const source = fromSecretsManager({ secretId: SECRET_ID, client: new SecretsManagerClient({}), cacheTtlMs: 60_000, now: () => t });
    expect(await source.load()).toEqual({ active: ACTIVE, old: OLD });
    expect(await source.load()).toEqual({ active: ACTIVE, old: OLD });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET_ID });
    t += 60_000;
    await source.load();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('passes VersionStage when asked and shares one request between concurrent loads', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ active: ACTIVE }) });
    const source = fromSecretsManager({ secretId: 'rekey/caller', versionStage: 'AWSPENDING', client: new SecretsManagerClient({}) });
    const [a, b] = await Promise.all([source.load(), source.load()]);
    expect(a).toEqual({ active: ACTIVE, old: undefined });
    expect(b).toBe(a);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'rekey/caller', VersionStage: 'AWSPENDING' }]);
  });

  it('reads again after invalidate(), so a rotation stored in Secrets Manager is picked up', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ active: 'stale-1', old: 'stale-0' }) })
      .resolves({ SecretString: JSON.stringify({ active: ACTIVE, old: null }) });
    const source = fromSecretsManager({ secretId: SECRET_ID, client: new SecretsManagerClient({}) });
    await expect(withKeyFallback(source, call)).rejects.toBeInstanceOf(KeyFallbackError);
    const { used } = await withKeyFallback(source, call);
    expect(used).toBe('active');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(seen).toEqual(['stale-1', 'stale-0', ACTIVE]);
  });

  it('rejects a value that is not {"active": string} without quoting it', async () => {
    const source = () => fromSecretsManager({ secretId: SECRET_ID, client: new SecretsManagerClient({}) });
    sm.on(GetSecretValueCommand).resolves({ SecretString: `{"active": "${ACTIVE}"` });
    const e1 = (await source().load().catch((e: unknown) => e)) as Error;
    expect(e1).toBeInstanceOf(KeySourceError);
    expect(e1.message).toContain('is not JSON');
    expect(e1.message).not.toContain(ACTIVE.slice(-20));
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ current: ACTIVE }) });
    const e2 = (await source().load().catch((e: unknown) => e)) as Error;
    expect(e2.message).toContain('"active"');
    expect(e2.message).not.toContain(ACTIVE);
  });

  it('turns an SDK failure into KeySourceError naming the secret id', async () => {
    sm.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const err = (await fromSecretsManager({ secretId: SECRET_ID, client: new SecretsManagerClient({}) }).load().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(KeySourceError);
    expect(err.message).toContain(SECRET_ID);
    expect(err.message).toContain('ResourceNotFoundException');
  });
});
