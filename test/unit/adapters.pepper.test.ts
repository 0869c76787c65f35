import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, InternalServiceError, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FixedPepper, PepperError, SecretsManagerPepper, decodePepper } from '../../shared/adapters/pepper.js';

const smMock = mockClient(SecretsManagerClient);
beforeEach(() => smMock.reset());

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rekey-pepper-AbCdEf';
const pepper = () => new SecretsManagerPepper({ client: new SecretsManagerClient({}), secretId: ARN });
const STRING_PEPPER = 'p'.repeat(24) + 'Q'.repeat(40);

describe('SecretsManagerPepper', () => {
  it('reads the secret once and serves every later call, concurrent ones included, from cache', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: STRING_PEPPER });
    const p = pepper();
    const [a, b] = await Promise.all([p.get(), p.get()]);
    const c = await p.get();
    expect(a.equals(Buffer.from(STRING_PEPPER, 'utf8'))).toBe(true);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(smMock.commandCalls(GetSecretValueCommand).map((x) => x.args[0].input)).toEqual([{ SecretId: ARN }]);
  });

  it('after a failure, the next call asks Secrets Manager again', async () => {
    smMock
      .on(GetSecretValueCommand)
      .rejectsOnce(new InternalServiceError({ message: 'down', $metadata: {} }))
      .resolves({ SecretString: STRING_PEPPER });
    const p = pepper();
    await expect(p.get()).rejects.toThrow(/reading pepper secret failed: InternalServiceError/);
    await expect(p.get()).resolves.toHaveLength(64);
    expect(smMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('accepts SecretBinary as raw bytes', async () => {
    const bytes = new Uint8Array(32).map((_, i) => i);
    smMock.on(GetSecretValueCommand).resolves({ SecretBinary: bytes });
    expect([...(await pepper().get())]).toEqual([...bytes]);
  });

  it('refuses a pepper shorter than 32 bytes without revealing it', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: 'short-pepper-value' });
    const err = await pepper().get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PepperError);
    expect((err as Error).message).toMatch(/18 bytes; at least 32/);
    expect((err as Error).message).not.toContain('short-pepper-value');
  });
});

describe('decodePepper', () => {
  it('uses a plain SecretString as UTF-8 and decodes a base64: prefixed one', () => {
    const raw = Buffer.alloc(32, 7);
    expect(decodePepper({ SecretString: `base64:${raw.toString('base64')}` }, 't').equals(raw)).toBe(true);
    expect(decodePepper({ SecretString: `base64:${raw.toString('base64url')}` }, 't').equals(raw)).toBe(true);
    expect(decodePepper({ SecretString: STRING_PEPPER }, 't').toString('utf8')).toBe(STRING_PEPPER);
  });

  it('rejects an empty secret and malformed base64', () => {
    expect(() => decodePepper({}, 't')).toThrow(/no value/);
    expect(() => decodePepper({ SecretString: 'base64:not base64!' }, 't')).toThrow(/not base64/);
    expect(() => decodePepper({ SecretString: `base64:${Buffer.alloc(16).toString('base64')}` }, 't')).toThrow(/16 bytes/);
  });
});

describe('FixedPepper', () => {
  it('returns the given bytes and refuses short ones', async () => {
    const bytes = Buffer.alloc(32, 1);
    expect((await new FixedPepper(bytes).get()).equals(bytes)).toBe(true);
    expect(() => new FixedPepper('too short')).toThrow(PepperError);
  });
});
