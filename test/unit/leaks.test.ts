import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyRecord, rotateKey, type TransitionContext } from '../../shared/domain/keys.js';
import { DEFAULT_POLICIES } from '../../shared/domain/policies.js';
import { randomIds } from '../../shared/domain/ids.js';
import { digestSecret } from '../../shared/domain/digest.js';
import type { KeyRecord } from '../../shared/domain/types.js';
import { exposeSecret, matchSecret, sourceUrl, type ExposeInput } from '../../shared/leaks/exposure.js';
import { GithubKeySource, parseKeysDocument, verifyGithubSignature } from '../../shared/leaks/githubKeys.js';
import { rateLimitSubject } from '../../shared/leaks/rateLimit.js';

const pepper = Buffer.alloc(32, 3);
const t0 = Date.UTC(2026, 0, 1);
const ctx = (now = t0): TransitionContext => ({ now, policies: DEFAULT_POLICIES, ids: randomIds, pepper });
const revoke: ExposeInput = { leakResponse: 'revoke', source: 'leak_report', url: null };
const notify: ExposeInput = { ...revoke, leakResponse: 'notify' };

function key(): { record: KeyRecord; secret: string } {
  const { record, secret } = createKeyRecord('acct', { name: 'k', environment: 'live' }, { environment: 'live' }, ctx());
  return { record, secret };
}

function rotated(seconds: number) {
  const { record, secret: oldSecret } = key();
  const d = rotateKey(record, { oldKeyExpiresInSeconds: seconds }, ctx());
  if (d.kind !== 'change') throw new Error('rotate failed');
  return { record: d.next, oldSecret, newSecret: d.secret! };
}

const expose = (record: KeyRecord, secret: string, input: ExposeInput, now = t0 + 1000) =>
  exposeSecret(record, matchSecret(record, digestSecret(pepper, secret)), input, { now });

describe('exposeSecret (pure)', () => {
  it('current secret, policy revoke: revoked as exposed, api_key.exposed then api_key.revoked, one email, exposure remembered', () => {
    const { record, secret } = key();
    const r = expose(record, secret, { ...revoke, url: 'https://github.com/a/b' });
    expect(r.outcome).toBe('revoked');
    if (r.decision.kind !== 'change') throw new Error('expected a change');
    expect(r.decision.next).toMatchObject({ status: 'revoked', revokedReason: 'exposed', version: record.version + 1 });
    expect(r.decision.events.map((e) => e.type)).toEqual(['api_key.exposed', 'api_key.revoked']);
    expect(r.decision.events[0]!.data).toMatchObject({ slot: 'current', action: 'revoked', url: 'https://github.com/a/b' });
    expect(r.decision.emails).toEqual([expect.objectContaining({ template: 'key_exposed', exposure: { slot: 'current', action: 'revoked', url: 'https://github.com/a/b' } })]);
    expect(r.decision.next.exposures).toEqual([expect.objectContaining({ sid: record.current.sid, action: 'revoked' })]);
  });

  it('previous secret, policy revoke: only that secret expires now, with old_secret_expired announced once', () => {
    const { record, oldSecret } = rotated(3600);
    const r = expose(record, oldSecret, revoke);
    expect(r.outcome).toBe('previous_expired');
    if (r.decision.kind !== 'change') throw new Error('expected a change');
    expect(r.decision.next.status).toBe('active');
    expect(r.decision.next.previous!.expiresAt).toBe(t0 + 1000);
    expect(r.decision.next.rotation).toMatchObject({ oldKeyExpiresAt: t0 + 1000, reminderAt: null, restorableUntil: null });
    expect(r.decision.events.map((e) => e.type)).toEqual(['api_key.exposed', 'api_key.old_secret_expired']);
    expect(r.decision.next.fired).toHaveLength(1);
  });

  it('policy notify: nothing but the exposure record, the event and the email', () => {
    const { record, secret } = key();
    const r = expose(record, secret, notify);
    expect(r.outcome).toBe('notified');
    if (r.decision.kind !== 'change') throw new Error('expected a change');
    const { exposures: _e, version: _v, ...rest } = r.decision.next;
    const { exposures: _e2, version: _v2, ...before } = record;
    expect(rest).toEqual(before);
    expect(r.decision.events.map((e) => e.type)).toEqual(['api_key.exposed']);
  });

  it('is idempotent: the decided record, given the same secret again, answers the same outcome unchanged', () => {
    for (const [input, pick] of [
      [revoke, 'current'],
      [revoke, 'previous'],
      [notify, 'current'],
      [notify, 'previous'],
    ] as const) {
      const { record, oldSecret, newSecret } = rotated(3600);
      const secret = pick === 'current' ? newSecret : oldSecret;
      const first = expose(record, secret, input);
      if (first.decision.kind !== 'change') throw new Error('expected a change');
      const second = expose(first.decision.next, secret, input, t0 + 5000);
      expect(second).toEqual({ decision: { kind: 'unchanged' }, outcome: first.outcome });
    }
  });

  it('unknown: a secret the record does not hold, an expired key, an expired unrestorable previous secret', () => {
    const { record } = key();
    expect(expose(record, key().secret, revoke)).toEqual({ decision: { kind: 'unchanged' }, outcome: 'unknown' });
    const expiring = createKeyRecord('acct', { name: 'k', environment: 'live', expiresAt: t0 + 10_000 }, { environment: 'live' }, ctx());
    expect(expose(expiring.record, expiring.secret, revoke, t0 + 10_000).outcome).toBe('unknown');
    const { record: r2, oldSecret } = rotated(60);
    const restoreEnds = r2.rotation!.restorableUntil!;
    expect(expose(r2, oldSecret, revoke, restoreEnds - 1).outcome).toBe('previous_expired');
    expect(expose(r2, oldSecret, revoke, restoreEnds).outcome).toBe('unknown');
  });

  it('keeps at most 5 exposures, newest last', () => {
    let { record } = key();
    for (let i = 0; i < 7; i++) {
      const d = rotateKey(record, { oldKeyExpiresInSeconds: 0 }, ctx(t0 + i * 10_000));
      if (d.kind !== 'change') throw new Error('rotate failed');
      const r = expose(d.next, d.secret!, notify, t0 + i * 10_000 + 1);
      if (r.decision.kind !== 'change') throw new Error('expected a change');
      record = r.decision.next;
    }
    expect(record.exposures).toHaveLength(5);
    expect(record.exposures.at(-1)!.sid).toBe(record.current.sid);
  });
});

describe('sourceUrl', () => {
  it('keeps plain http(s) URLs, drops anything else', () => {
    expect(sourceUrl('https://github.com/o/r/blob/1/a.env')).toBe('https://github.com/o/r/blob/1/a.env');
    expect(sourceUrl(null)).toBeNull();
    expect(sourceUrl('javascript:alert(1)')).toBeNull();
    expect(sourceUrl('https://x.test/a\nb')).toBeNull();
    expect(sourceUrl(`https://x.test/${'a'.repeat(2100)}`)).toBeNull();
    expect(sourceUrl(`https://x.test/?k=rekey_live_${'A'.repeat(22)}_${'b'.repeat(49)}`)).toBeNull();
  });
});

describe('rateLimitSubject', () => {
  it('counts IPv4 per address and IPv6 per /64', () => {
    expect(rateLimitSubject('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitSubject('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitSubject('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitSubject('2001:0db8:0000:0000:1::')).toBe('2001:db8:0:0::/64');
    expect(rateLimitSubject(null)).toBe('unknown');
    expect(rateLimitSubject('not an ip')).toBe('unknown');
  });
});

describe('GitHub secret scanning signatures (node:crypto ECDSA P-256)', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const body = Buffer.from('[{"token":"x","type":"rekey_api_key","url":"https://github.com/a","source":"content"}]');
  const signature = sign('sha256', body, { key: pair.privateKey, dsaEncoding: 'der' }).toString('base64');
  const key = parseKeysDocument({ public_keys: [{ key_identifier: 'k1', key: pem, is_current: true }] }).get('k1')!;

  it('accepts the signature over the exact bytes and nothing else', () => {
    expect(verifyGithubSignature(body, signature, key)).toBe(true);
    expect(verifyGithubSignature(Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1)), signature, key)).toBe(false);
    expect(verifyGithubSignature(Buffer.concat([body, Buffer.from(' ')]), signature, key)).toBe(false);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(verifyGithubSignature(body, sign('sha256', body, { key: other.privateKey, dsaEncoding: 'der' }).toString('base64'), key)).toBe(false);
    expect(verifyGithubSignature(body, '', key)).toBe(false);
    expect(verifyGithubSignature(body, 'not base64 !!', key)).toBe(false);
    expect(verifyGithubSignature(body, Buffer.from('garbage').toString('base64'), key)).toBe(false);
  });

  it('refuses keys documents that are not P-256 public keys in GitHub format', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => parseKeysDocument({})).toThrow(/public_keys/);
    expect(() => parseKeysDocument({ public_keys: [{ key_identifier: 'a', key: rsa }] })).toThrow(/P-256/);
    expect(() => parseKeysDocument({ public_keys: [{ key_identifier: 'a', key: 'nope' }] })).toThrow(/PEM/);
  });

  it('reads a keys file; fetches from GitHub once, refetches on an unknown key id at most once a minute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-keys-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ public_keys: [{ key_identifier: 'k1', key: pem, is_current: true }] }));
    const fromFile = new GithubKeySource({ file });
    expect(await fromFile.get('k1')).not.toBeNull();
    expect(await fromFile.get('unknown')).toBeNull();

    let now = 0;
    const docs = [{ public_keys: [{ key_identifier: 'k1', key: pem, is_current: true }] }, { public_keys: [{ key_identifier: 'k2', key: pem, is_current: true }] }];
    const urls: string[] = [];
    const fetchFn = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify(docs[Math.min(urls.length - 1, docs.length - 1)]), { status: 200 });
    }) as unknown as typeof fetch;
    const source = new GithubKeySource({ fetch: fetchFn, now: () => now });
    expect(await source.get('k1')).not.toBeNull();
    expect(urls).toEqual(['https://api.github.com/meta/public_keys/secret_scanning']);
    now = 10_000; // within a minute of the load: an unknown id does not refetch
    expect(await source.get('k2')).toBeNull();
    expect(urls).toHaveLength(1);
    now = 61_000; // GitHub rotated: the unknown id is fetched and known from now on
    expect(await source.get('k2')).not.toBeNull();
    expect(urls).toHaveLength(2);
    expect(await Promise.all([source.get('zz'), source.get('zz'), source.get('zz')])).toEqual([null, null, null]);
    expect(urls).toHaveLength(2);
  });

  it('with no keys at all and GitHub unreachable, fails (a 500: GitHub retries) rather than accept', async () => {
    const source = new GithubKeySource({ fetch: (async () => new Response('', { status: 503 })) as unknown as typeof fetch });
    await expect(source.get('k1')).rejects.toThrow(/503/);
  });
});
