/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/): `whsec_<base64 of 32 random bytes>`
 * secrets, `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` signatures, one per active secret,
 * space separated. Pure: `node:crypto` only. Verified against the official `standardwebhooks`
 * package in the tests.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNING_SECRET_PREFIX = 'whsec_';
const SIGNING_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{43}=$/;

/** A fresh signing secret: 32 random bytes (256 bits). */
export function newSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function isSigningSecret(s: string): boolean {
  return SIGNING_SECRET_PATTERN.test(s);
}

/** `whsec_…abcd`: enough to tell secrets apart, nothing to sign with. */
export function signingSecretHint(secret: string): string {
  return `${SIGNING_SECRET_PREFIX}…${secret.slice(-5, -1)}`;
}

/** One `v1,<sig>` for one secret. */
export function signOne(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SIGNING_SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three Standard Webhooks headers for one attempt. */
export function signatureHeaders(secrets: readonly string[], msgId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signOne(s, msgId, timestampSeconds, body)).join(' '),
  };
}
