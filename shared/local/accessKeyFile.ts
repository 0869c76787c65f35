/**
 * An access key kept in a private file of the data directory (`{accessKeyId, secretAccessKey,
 * region}`, mode 0600): local mode's store credential (`store.json`, SPEC §6) and operator key
 * (`operator.json`, SPEC §9) are both made and read here.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperatorKey } from '../adapters/sigv4.js';

/** Which key file: its name, what it is called in errors, and how its ids start. */
export interface AccessKeyFile {
  readonly fileName: string;
  /** Words for error messages, e.g. "operator key". */
  readonly what: string;
  /** Four letters that start the access key id (`RKLO`: rekey local operator). */
  readonly idPrefix: string;
  readonly region: string;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomUpper = (n: number) => [...randomBytes(n)].map((b) => UPPER[b & 31]).join('');

/** Reads the key of `dataDir`, or `null` when none was generated yet. */
export function readAccessKey(dataDir: string, kind: AccessKeyFile): OperatorKey | null {
  const file = join(dataDir, kind.fileName);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let key: Partial<OperatorKey>;
  try {
    key = JSON.parse(raw) as Partial<OperatorKey>;
  } catch {
    key = {};
  }
  if (typeof key.accessKeyId !== 'string' || typeof key.secretAccessKey !== 'string' || typeof key.region !== 'string' || key.secretAccessKey.length < 32) {
    // Never regenerate silently: whoever signs with this key (a provider's backend) would be locked out.
    throw new Error(`${file} is not a valid ${kind.what} ({accessKeyId, secretAccessKey, region}). Restore it, or delete it to make a new one.`);
  }
  // The secret must stay private even if someone loosened the mode.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, region: key.region };
}

/**
 * The key of `dataDir`, generated on first call. Race-free between processes: written to a private
 * temporary file, then hard-linked into place (which fails if another process won).
 */
export function ensureAccessKey(dataDir: string, kind: AccessKeyFile): OperatorKey {
  const existing = readAccessKey(dataDir, kind);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key: OperatorKey = {
    // Shaped like an AWS access key id (20 characters).
    accessKeyId: `${kind.idPrefix}${randomUpper(16)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    region: kind.region,
  };
  const file = join(dataDir, kind.fileName);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  return readAccessKey(dataDir, kind)!;
}
