/** Standard Webhooks signing checked against the official `standardwebhooks` package; encryption at rest. */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, webhookDataKey } from '../../shared/webhooks/secretBox.js';
import { isSigningSecret, newSigningSecret, signatureHeaders, signingSecretHint } from '../../shared/webhooks/signing.js';

describe('signing', () => {
  it('produces whsec_ secrets of 32 random bytes', () => {
    const s = newSigningSecret();
    expect(isSigningSecret(s)).toBe(true);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(s);
    expect(signingSecretHint(s)).toBe(`whsec_…${s.slice(-5, -1)}`);
  });

  it('signatures verify with the reference library, for each of several secrets, and not after tampering', () => {
    const a = newSigningSecret();
    const b = newSigningSecret();
    const body = JSON.stringify({ type: 'api_key.rotated', timestamp: new Date().toISOString(), data: { keyId: 'k' } });
    const headers = signatureHeaders([b, a], 'msg_1', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toMatchObject({ type: 'api_key.rotated' });
    expect(new Webhook(b).verify(body, headers)).toMatchObject({ type: 'api_key.rotated' });
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(a).verify(body.replace('"k"', '"x"'), headers)).toThrow();
    expect(() => new Webhook(a).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow();
  });
});

describe('encryption at rest', () => {
  const key = webhookDataKey(randomBytes(32));

  it('round-trips, with a fresh IV each time', () => {
    const s = newSigningSecret();
    const e1 = encryptSecret(key, 'wh1', 's1', s);
    const e2 = encryptSecret(key, 'wh1', 's1', s);
    expect(e1).not.toBe(e2);
    expect(e1).not.toContain(s.slice(6));
    expect(decryptSecret(key, 'wh1', 's1', e1)).toBe(s);
  });

  it('refuses a tampered ciphertext, another webhook or secret id, and another key', () => {
    const enc = encryptSecret(key, 'wh1', 's1', newSigningSecret());
    const raw = Buffer.from(enc, 'base64url');
    raw[14]! ^= 1;
    expect(() => decryptSecret(key, 'wh1', 's1', raw.toString('base64url'))).toThrow();
    expect(() => decryptSecret(key, 'wh2', 's1', enc)).toThrow();
    expect(() => decryptSecret(key, 'wh1', 's2', enc)).toThrow();
    expect(() => decryptSecret(webhookDataKey(randomBytes(32)), 'wh1', 's1', enc)).toThrow();
  });

  it('derives a key distinct from the pepper itself', () => {
    const pepper = randomBytes(32);
    expect(webhookDataKey(pepper).equals(pepper)).toBe(false);
    expect(webhookDataKey(pepper).equals(webhookDataKey(pepper))).toBe(true);
  });
});
