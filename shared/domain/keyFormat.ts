/**
 * The secret format: `<prefix>_<environment>_<keyId>_<random><checksum>`.
 *
 * - `keyId`: 16 base62 characters (≈ 95 bits), the key's stable id.
 * - `random`: 43 base62 characters drawn uniformly (43 · log2 62 ≈ 256.03 bits).
 * - `checksum`: CRC32 of everything before it, 6 base62 characters, so the authorizer rejects typos
 *   and garbage without a database read and secret scanners can recognise a leaked key.
 */
import { crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import type { Environment } from './types.js';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_ID_LENGTH = 16;
export const RANDOM_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
/** Prefixes are lower-case alphanumerics (no `_`, which separates the parts). */
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const KEY_ID_PATTERN = /^[0-9A-Za-z]{16}$/;
/** Longest secret any deployment can issue; anything longer is rejected before parsing. */
export const MAX_SECRET_LENGTH = 16 + 1 + 4 + 1 + KEY_ID_LENGTH + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH;

/** Uniform base62 string of `length` characters from the CSPRNG (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i]!;
      if (b < 248) out += BASE62[b % 62];
    }
  }
  return out;
}

function checksumOf(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function newKeyId(): string {
  return randomBase62(KEY_ID_LENGTH);
}

/** Issues a new secret for a key. The caller must hash it at once and never store or log it. */
export function generateSecret(prefix: string, environment: Environment, keyId: string): string {
  const body = `${prefix}_${environment}_${keyId}_${randomBase62(RANDOM_LENGTH)}`;
  return body + checksumOf(body);
}

export interface ParsedSecret {
  readonly environment: Environment;
  readonly keyId: string;
}

/**
 * Parses a presented secret without any I/O. Returns `null` for anything that is not a well-formed
 * secret of this deployment with a valid checksum. Written without regular expressions so it costs
 * a few hundred nanoseconds on the authorizer's warm path.
 */
export function parseSecret(prefix: string, secret: string): ParsedSecret | null {
  const expected = prefix.length + 1 + 4 + 1 + KEY_ID_LENGTH + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH;
  if (secret.length !== expected) return null;
  if (!secret.startsWith(prefix) || secret.charCodeAt(prefix.length) !== 95 /* _ */) return null;
  const envStart = prefix.length + 1;
  const env = secret.slice(envStart, envStart + 4);
  if (env !== 'live' && env !== 'test') return null;
  const idStart = envStart + 5;
  if (secret.charCodeAt(envStart + 4) !== 95 || secret.charCodeAt(idStart + KEY_ID_LENGTH) !== 95) return null;
  for (let i = idStart; i < secret.length; i++) {
    if (i === idStart + KEY_ID_LENGTH) continue;
    const c = secret.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!ok) return null;
  }
  const bodyEnd = secret.length - CHECKSUM_LENGTH;
  if (checksumOf(secret.slice(0, bodyEnd)) !== secret.slice(bodyEnd)) return null;
  return { environment: env, keyId: secret.slice(idStart, idStart + KEY_ID_LENGTH) };
}

/** `rekey_live_…9fQa`: enough to recognise a secret, useless to an attacker. */
export function hintOf(prefix: string, environment: Environment, secret: string): string {
  return `${prefix}_${environment}_…${secret.slice(-4)}`;
}

/** The regular expression published in README for secret scanners (default prefix). */
export function secretPattern(prefix = 'rekey'): RegExp {
  return new RegExp(`^${prefix}_(live|test)_[0-9A-Za-z]{${KEY_ID_LENGTH}}_[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);
}
