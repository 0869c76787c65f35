/**
 * The local store's credential (SPEC §6): an access key generated once into `<dataDir>/store.json`
 * (mode 0600) as `{accessKeyId, secretAccessKey, region}`. rekey's own processes (`npm start`, the
 * CLI) put it in the AWS SDK's environment, so every DynamoDB client they build signs its requests
 * with it; the store's guard (`dynalite.ts`) verifies those signatures and refuses everything else.
 * A web page cannot read the file, and the data directory is 0700, so no other local user can either.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperatorKey } from '../adapters/sigv4.js';

/** The store's access key: the same shape as an AWS access key, good for the SDK's signer. */
export type StoreKey = OperatorKey;

export const STORE_KEY_FILE = 'store.json';
/** The region local DynamoDB clients sign for. */
export const LOCAL_STORE_REGION = 'us-east-1';

/** Reads the store key of `dataDir`, or `null` when none was generated yet. */
export function readStoreKey(dataDir: string): StoreKey | null {
  const file = join(dataDir, STORE_KEY_FILE);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let key: Partial<StoreKey>;
  try {
    key = JSON.parse(raw) as Partial<StoreKey>;
  } catch {
    key = {};
  }
  if (typeof key.accessKeyId !== 'string' || typeof key.secretAccessKey !== 'string' || typeof key.region !== 'string' || key.secretAccessKey.length < 32) {
    throw new Error(`${file} is not a valid store key ({accessKeyId, secretAccessKey, region}). Restore it, or delete it to make a new one.`);
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, region: key.region };
}

/**
 * The store key of `dataDir`, generated on first call. Race-free between processes: written to a
 * private temporary file, then hard-linked into place (which fails if another process won).
 */
export function ensureStoreKey(dataDir: string): StoreKey {
  const existing = readStoreKey(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key: StoreKey = {
    // Shaped like an AWS access key id (20 characters); `RKLS`: rekey local store.
    accessKeyId: `RKLS${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    region: LOCAL_STORE_REGION,
  };
  const file = join(dataDir, STORE_KEY_FILE);
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
  return readStoreKey(dataDir)!;
}
