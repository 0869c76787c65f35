/** Keyed digests of secrets. The pepper lives in Secrets Manager (AWS) or the data directory (local). */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** base64url HMAC-SHA256(pepper, secret). */
export function digestSecret(pepper: Buffer, secret: string): string {
  return createHmac('sha256', pepper).update(secret).digest('base64url');
}

/** Constant-time comparison of two base64url digests (same length by construction). */
export function digestsEqual(a: string, b: string | null): boolean {
  if (b === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
