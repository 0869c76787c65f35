import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizerHandler } from '../../shared/auth/handler.js';
import { emfLine } from '../../shared/auth/metrics.js';
import { digestSecret } from '../../shared/domain/digest.js';
import { generateSecret } from '../../shared/domain/keyFormat.js';
import { createKeyRecord, rotateKey } from '../../shared/domain/keys.js';
import { DEFAULT_POLICIES } from '../../shared/domain/policies.js';
import { randomIds } from '../../shared/domain/ids.js';
import type { KeyStore } from '../../shared/domain/ports.js';
import type { KeyRecord } from '../../shared/domain/types.js';

const PEPPER = Buffer.from('pepper-pepper-pepper-pepper-0123456789');
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/prod/GET/v1/whoami';

let output: string[] = [];
const spies: { mockRestore(): void }[] = [];

beforeEach(() => {
  output = [];
  const capture =
    (..._: unknown[]) =>
    (...args: unknown[]) => {
      output.push(args.map((a) => (typeof a === 'string' ? a : a instanceof Uint8Array ? Buffer.from(a).toString() : JSON.stringify(a) ?? String(a))).join(' '));
      return true;
    };
  spies.push(vi.spyOn(process.stdout, 'write').mockImplementation(capture() as never));
  spies.push(vi.spyOn(process.stderr, 'write').mockImplementation(capture() as never));
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    spies.push(vi.spyOn(console, level).mockImplementation(capture()));
  }
});

afterEach(() => {
  while (spies.length) spies.pop()!.mockRestore();
});

const event = (secret: string) =>
  ({ type: 'REQUEST', methodArn: METHOD_ARN, headers: { Authorization: `Bearer ${secret}` } }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('authorizer logging', () => {
  it('never writes a secret, its random part, its digest or the pepper to any log, whatever the outcome', async () => {
    let now = Date.UTC(2030, 0, 1);
    const records = new Map<string, KeyRecord>();
    let failReads = false;
    const failUses = true;
    const store: Pick<KeyStore, 'getKey'> = {
      async getKey(id) {
        if (failReads) throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', code: 'ECONNRESET' });
        return records.get(id) ?? null;
      },
    };
    const usage = {
      async add() {
        if (failUses) throw new Error('ProvisionedThroughputExceededException');
      },
    };
    const ctx = () => ({ now, policies: DEFAULT_POLICIES, ids: randomIds, pepper: PEPPER });
    const { record, secret } = createKeyRecord('acct0000000000001', { name: 'logging' }, { environment: 'live' }, ctx());
    records.set(record.id, record);
    const rotated = rotateKey(record, { oldKeyExpiresInSeconds: 60 }, ctx());
    if (rotated.kind !== 'change') throw new Error('unreachable');
    const newSecret = rotated.secret!;

    // The default metrics sink (EMF on stdout): the one thing the authorizer ever writes.
    const handler = createAuthorizerHandler({ store, usage, pepper: { get: async () => PEPPER }, policies: DEFAULT_POLICIES, clock: { now: () => now }, verifier: { usageTimer: false } });
    const forged = generateSecret('rekey', 'live', record.id);
    const calls: Promise<unknown>[] = [];
    const attempt = (s: string) => calls.push(handler(event(s)).catch((e: unknown) => e));
    attempt(secret); // allowed; its usage write (after the answer) fails and is counted
    await Promise.all(calls);
    await new Promise((resolve) => setImmediate(resolve));
    records.set(record.id, rotated.next);
    now += 1_500;
    attempt(newSecret); // allowed after a re-read
    attempt(forged); // mismatch
    attempt(secret.slice(0, -1) + 'x'); // bad checksum
    await Promise.all(calls);
    now += 20_000;
    failReads = true;
    attempt(secret); // store failure, counted
    attempt(newSecret);
    await Promise.all(calls);

    const text = output.join('\n');
    expect(text).toContain('StoreFailures'); // the capture works and failures are visible
    expect(text).toContain('UseRecordFailures');
    for (const s of [secret, newSecret, forged]) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(s.slice(28, 60)); // the random part
      expect(text).not.toContain(digestSecret(PEPPER, s));
    }
    expect(text).not.toContain(PEPPER.toString());
    expect(text).not.toContain(PEPPER.toString('base64'));
  });

  it('writes one EMF line per store failure with namespace Rekey, dimension Service=authorizer and the error name only', () => {
    const line = emfLine('StoreFailures', 1_900_000_000_000, Object.assign(new Error('secret-ish detail'), { name: 'TimeoutError' }));
    expect(line.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toEqual({
      _aws: {
        Timestamp: 1_900_000_000_000,
        CloudWatchMetrics: [{ Namespace: 'Rekey', Dimensions: [['Service']], Metrics: [{ Name: 'StoreFailures', Unit: 'Count' }] }],
      },
      Service: 'authorizer',
      StoreFailures: 1,
      errorName: 'TimeoutError',
    });
  });
});
