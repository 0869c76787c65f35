/**
 * The secret format: `<prefix>_<environment>_<keyId>_<random><checksum>`.
 *
 * - `keyId`: 22 base62 characters, the key's stable id: 16 random characters (≈ 95 bits) followed
 *   by a 6-character tag, HMAC-SHA256(idKey, random) in base62 (≈ 35.7 bits). `idKey` is derived
 *   from the pepper (HKDF, fixed label), so only this deployment can mint ids, and the authorizer
 *   rejects a forged id (right shape and checksum, an id it never issued) with no database read.
 * - `random`: 43 base62 characters drawn uniformly (43 · log2 62 ≈ 256.03 bits).
 * - `checksum`: CRC32 of everything before it, 6 base62 characters, so the authorizer rejects typos
 *   and garbage without a database read and secret scanners can recognise a leaked key.
 */
import { crc32 } from 'node:zlib';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Environment } from './types.js';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random part of a key id. */
export const KEY_ID_RANDOM_LENGTH = 16;
/** Authentication tag at the end of a key id. */
export const KEY_ID_TAG_LENGTH = 6;
export const KEY_ID_LENGTH = KEY_ID_RANDOM_LENGTH + KEY_ID_TAG_LENGTH;
export const RANDOM_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
/** Prefixes are lower-case alphanumerics (no `_`, which separates the parts). */
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const KEY_ID_PATTERN = /^[0-9A-Za-z]{22}$/;
/**
 * Anything shaped like a secret of any deployment prefix, unanchored so it finds one inside a longer
 * text (a name, a serialized event): `_(live|test)_<22 id>_<43 random + 6 checksum>`.
 */
export const SECRET_LIKE = /_(?:live|test)_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}/;
/** HKDF label of the key-id key: fixed, so every process of a deployment derives the same key. */
const ID_KEY_LABEL = 'rekey key-id tag v1';
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

/** The random part of a new key id (the tag is added by {@link authenticKeyId}). */
export function newKeyIdRandom(): string {
  return randomBase62(KEY_ID_RANDOM_LENGTH);
}

/**
 * The key that tags key ids: HKDF-SHA256 of the pepper with a fixed label. Derived, not stored, so
 * it needs no secret of its own and rotates with the pepper; distinct from the pepper itself, so a
 * tag reveals nothing about secret digests.
 */
export function deriveIdKey(pepper: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), ID_KEY_LABEL, 32));
}

/** The 6 base62 characters of HMAC-SHA256(idKey, random): 48 bits of the MAC reduced mod 62^6. */
function keyIdTag(idKey: Buffer, random: string): string {
  const mac = createHmac('sha256', idKey).update(random).digest();
  let n = mac.readUIntBE(0, 6);
  let out = '';
  for (let i = 0; i < KEY_ID_TAG_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** A key id this deployment can later recognise: `random` (16 base62) followed by its tag. */
export function authenticKeyId(idKey: Buffer, random: string): string {
  return random + keyIdTag(idKey, random);
}

/**
 * Whether `keyId` carries a valid tag, i.e. was minted with `idKey`. Constant time in the tag (a
 * forger learns nothing from how long a wrong tag took). Expects a well-formed 22-character id.
 */
export function keyIdAuthentic(idKey: Buffer, keyId: string): boolean {
  if (keyId.length !== KEY_ID_LENGTH) return false;
  const expected = keyIdTag(idKey, keyId.slice(0, KEY_ID_RANDOM_LENGTH));
  return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(keyId.slice(KEY_ID_RANDOM_LENGTH), 'latin1'));
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
