import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizerHandler } from '../../shared/auth/handler.js';
import { CountingMetrics, emfMetrics } from '../../shared/auth/metrics.js';
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
    const metrics = emfMetrics();
    const handler = createAuthorizerHandler({ store, usage, pepper: { get: async () => PEPPER }, policies: DEFAULT_POLICIES, clock: { now: () => now }, verifier: { usageTimer: false }, metrics });
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
    metrics.flush();

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

  it('reports counts as EMF lines (namespace Rekey, Service=authorizer; Denied per Reason) with the error name only, never a line per request', async () => {
    const lines: string[] = [];
    let t = 1_900_000_000_000;
    const m = new CountingMetrics((l) => lines.push(l), () => t);
    m.outcome('allowed');
    m.outcome('allowed');
    m.outcome('mismatch');
    m.storeFailure(Object.assign(new Error('secret-ish detail'), { name: 'TimeoutError' }));
    m.outcome('store_error');
    m.flush();
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        _aws: {
          Timestamp: t,
          CloudWatchMetrics: [{
            Namespace: 'Rekey', Dimensions: [['Service']],
            Metrics: ['Allowed', 'Denied', 'StoreFailures', 'UseRecordFailures'].map((Name) => ({ Name, Unit: 'Count' })),
          }],
        },
        Service: 'authorizer', Allowed: 2, Denied: 2, StoreFailures: 1, UseRecordFailures: 0, errorName: 'TimeoutError',
      },
      ...['mismatch', 'store_error'].map((Reason) => ({
        _aws: { Timestamp: t, CloudWatchMetrics: [{ Namespace: 'Rekey', Dimensions: [['Service', 'Reason']], Metrics: [{ Name: 'Denied', Unit: 'Count' }] }] },
        Service: 'authorizer', Reason, Denied: 1,
      })),
    ]);
    expect(lines.join('')).not.toContain('secret-ish');
    // 1,000 requests within the minute after a report: no line until the minute is over.
    lines.length = 0;
    for (let i = 0; i < 1_000; i++) {
      m.outcome('allowed');
      m.afterRequest();
    }
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(0);
    t += 60_000;
    m.afterRequest();
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ Allowed: 1_000, Denied: 0 });
  });
});
