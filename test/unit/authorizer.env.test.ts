import { describe, expect, it, vi } from 'vitest';
import { createAuthorizerHandler } from '../../shared/auth/handler.js';
import { loadAuthorizerEnv } from '../../shared/auth/env.js';
import { authorizerDepsFromEnv } from '../../shared/auth/wiring.js';
import { loadConfig } from '../../shared/config.js';
import { FilePepper } from '../../shared/local/filePepper.js';
import { SecretsManagerPepper } from '../../shared/adapters/pepper.js';

const AWS = { PEPPER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rekey-pepper-AbCdEf' };

/** The authorizer reads its variables without zod (cold start); it must agree with `loadConfig` exactly. */
describe('authorizer environment', () => {
  const valid: Record<string, string | undefined>[] = [
    { ...AWS },
    { ...AWS, KEY_PREFIX: 'acme', AUTH_CACHE_TTL_SECONDS: '0', TABLE_NAME: 'rekey-prod-Table1' },
    { ...AWS, KEY_PREFIX: '  ', AUTH_CACHE_TTL_SECONDS: ' 30 ' },
    { ...AWS, AUTH_CACHE_TTL_SECONDS: '3600', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' },
    { REKEY_DATA_DIR: '/tmp/rekey-data', DYNAMODB_ENDPOINT: 'http://localhost:4567/', AUTH_CACHE_TTL_SECONDS: '' },
  ];
  it.each(valid)('reads the same prefix, TTL, table, endpoint and pepper location as loadConfig (%j)', (env) => {
    const mine = loadAuthorizerEnv(env);
    const theirs = loadConfig(env);
    expect(mine).toEqual({
      keyPrefix: theirs.policies.keyPrefix,
      authCacheTtlSeconds: theirs.policies.authCacheTtlSeconds,
      tableName: theirs.tableName,
      dynamoEndpoint: theirs.dynamoEndpoint,
      pepperSecretArn: theirs.pepperSecretArn,
      dataDir: theirs.dataDir,
    });
  });

  const invalid: [string, Record<string, string>][] = [
    ['KEY_PREFIX', { ...AWS, KEY_PREFIX: 'Re_Key' }],
    ['AUTH_CACHE_TTL_SECONDS', { ...AWS, AUTH_CACHE_TTL_SECONDS: '1.5' }],
    ['AUTH_CACHE_TTL_SECONDS', { ...AWS, AUTH_CACHE_TTL_SECONDS: '-1' }],
    ['AUTH_CACHE_TTL_SECONDS', { ...AWS, AUTH_CACHE_TTL_SECONDS: '3601' }],
    ['TABLE_NAME', { ...AWS, TABLE_NAME: 'ab' }],
    ['DYNAMODB_ENDPOINT', { ...AWS, DYNAMODB_ENDPOINT: 'not a url' }],
  ];
  it.each(invalid)('refuses a bad %s, naming it, as loadConfig does', (name, env) => {
    expect(() => loadConfig(env)).toThrow(name);
    expect(() => loadAuthorizerEnv(env)).toThrow(name);
  });

  it('needs the pepper secret in AWS and the data directory pepper in local mode', () => {
    expect(() => loadAuthorizerEnv({})).toThrow('PEPPER_SECRET_ARN');
    expect(authorizerDepsFromEnv({ ...AWS }).pepper).toBeInstanceOf(SecretsManagerPepper);
    const local = authorizerDepsFromEnv({ REKEY_DATA_DIR: '/tmp/rekey-x', AUTH_CACHE_TTL_SECONDS: '7', KEY_PREFIX: 'acme' });
    expect(local.pepper).toBeInstanceOf(FilePepper);
    expect(local.policies).toEqual({ keyPrefix: 'acme', authCacheTtlSeconds: 7 });
  });
});

describe('authorizer misconfiguration', () => {
  it('denies, and names the bad variable in a StoreFailures EMF line, instead of failing at import', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => lines.push(String(chunk)) > 0) as never);
    try {
      const handler = createAuthorizerHandler(() => authorizerDepsFromEnv({ ...AWS, AUTH_CACHE_TTL_SECONDS: 'ten' }));
      const event = { type: 'TOKEN' as const, methodArn: 'arn:aws:execute-api:us-east-1:1:a/s/GET/x', authorizationToken: 'Bearer x' };
      await expect(handler(event)).rejects.toThrow(/^Unauthorized$/);
      await expect(handler(event)).rejects.toThrow(/^Unauthorized$/);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(2); // one per request: retried, never cached as broken
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ StoreFailures: 1, Service: 'authorizer', errorName: 'ConfigError' });
    expect(line.errorMessage).toContain('AUTH_CACHE_TTL_SECONDS');
  });
});
