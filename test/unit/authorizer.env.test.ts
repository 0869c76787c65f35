import { describe, expect, it, vi } from 'vitest';
import { createAuthorizerHandler } from '../../shared/auth/handler.js';
import { authorizerDepsFromEnv } from '../../shared/auth/wiring.js';
import { FilePepper } from '../../shared/local/filePepper.js';
import { SecretsManagerPepper } from '../../shared/adapters/pepper.js';

const AWS = { PEPPER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rekey-pepper-AbCdEf' };

/** The authorizer reads its variables through the one config reader (`loadConfig`, zod/mini). */
describe('authorizer environment', () => {
  const valid: [Record<string, string | undefined>, { keyPrefix: string; authCacheTtlSeconds: number }, 'aws' | 'file'][] = [
    [{ ...AWS }, { keyPrefix: 'rekey', authCacheTtlSeconds: 10 }, 'aws'],
    [{ ...AWS, KEY_PREFIX: 'acme', AUTH_CACHE_TTL_SECONDS: '0', TABLE_NAME: 'rekey-prod-Table1' }, { keyPrefix: 'acme', authCacheTtlSeconds: 0 }, 'aws'],
    [{ ...AWS, KEY_PREFIX: '  ', AUTH_CACHE_TTL_SECONDS: ' 30 ' }, { keyPrefix: 'rekey', authCacheTtlSeconds: 30 }, 'aws'],
    [{ ...AWS, AUTH_CACHE_TTL_SECONDS: '3600', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }, { keyPrefix: 'rekey', authCacheTtlSeconds: 3600 }, 'aws'],
    [{ REKEY_DATA_DIR: '/tmp/rekey-data', DYNAMODB_ENDPOINT: 'http://localhost:4567/', AUTH_CACHE_TTL_SECONDS: '' }, { keyPrefix: 'rekey', authCacheTtlSeconds: 10 }, 'file'],
  ];
  it.each(valid)('reads prefix, TTL and pepper location from %j', (env, policies, pepperKind) => {
    const deps = authorizerDepsFromEnv(env);
    expect(deps.policies).toEqual(policies);
    expect(deps.pepper).toBeInstanceOf(pepperKind === 'aws' ? SecretsManagerPepper : FilePepper);
  });

  const invalid: [string, Record<string, string>][] = [
    ['KEY_PREFIX', { ...AWS, KEY_PREFIX: 'Re_Key' }],
    ['AUTH_CACHE_TTL_SECONDS', { ...AWS, AUTH_CACHE_TTL_SECONDS: '1.5' }],
    ['AUTH_CACHE_TTL_SECONDS', { ...AWS, AUTH_CACHE_TTL_SECONDS: '-1' }],
    ['AUTH_CACHE_TTL_SECONDS', { ...AWS, AUTH_CACHE_TTL_SECONDS: '3601' }],
    ['TABLE_NAME', { ...AWS, TABLE_NAME: 'ab' }],
    ['DYNAMODB_ENDPOINT', { ...AWS, DYNAMODB_ENDPOINT: 'not a url' }],
  ];
  it.each(invalid)('refuses a bad %s, naming it', (name, env) => {
    expect(() => authorizerDepsFromEnv(env)).toThrow(name);
  });

  it('needs the pepper secret in AWS and the data directory pepper in local mode', () => {
    expect(() => authorizerDepsFromEnv({})).toThrow('PEPPER_SECRET_ARN');
    expect(authorizerDepsFromEnv({ ...AWS }).pepper).toBeInstanceOf(SecretsManagerPepper);
    const local = authorizerDepsFromEnv({ REKEY_DATA_DIR: '/tmp/rekey-x', AUTH_CACHE_TTL_SECONDS: '7', KEY_PREFIX: 'acme' });
    expect(local.pepper).toBeInstanceOf(FilePepper);
    expect(local.policies).toEqual({ keyPrefix: 'acme', authCacheTtlSeconds: 7 });
  });
});

describe('authorizer misconfiguration', () => {
  it('denies, and names the bad variable in the StoreFailures EMF report of its first request, instead of failing at import', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => lines.push(String(chunk)) > 0) as never);
    try {
      const handler = createAuthorizerHandler(() => authorizerDepsFromEnv({ ...AWS, AUTH_CACHE_TTL_SECONDS: 'ten' }));
      const event = { type: 'TOKEN' as const, methodArn: 'arn:aws:execute-api:us-east-1:1:a/s/GET/x', authorizationToken: 'Bearer x' };
      await expect(handler(event)).rejects.toThrow(/^Unauthorized$/);
      await new Promise((r) => setImmediate(r));
      await expect(handler(event)).rejects.toThrow(/^Unauthorized$/);
      await new Promise((r) => setImmediate(r));
    } finally {
      spy.mockRestore();
    }
    // The instance's first request reports at once (retried, never cached as broken); the second
    // is counted for the next report, not written on its own.
    expect(lines.filter((l) => !l.includes('"Reason"'))).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ StoreFailures: 1, Denied: 1, Allowed: 0, Service: 'authorizer', errorName: 'ConfigError' });
    expect(line.errorMessage).toContain('AUTH_CACHE_TTL_SECONDS');
  });
});
