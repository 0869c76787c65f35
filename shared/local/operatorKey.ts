/**
 * Local mode's operator access key (SPEC §9): generated once into `<dataDir>/operator.json`
 * (mode 0600) as `{accessKeyId, secretAccessKey, region}`. The local gateway verifies admin
 * requests against it; the CLI, tests and a provider's backend sign with it like with an AWS key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperatorKey } from '../adapters/sigv4.js';

export const OPERATOR_KEY_FILE = 'operator.json';
/** Region local admin requests are signed for (any value works; this one every AWS tool accepts). */
export const LOCAL_OPERATOR_REGION = 'us-east-1';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomUpper = (n: number) => [...randomBytes(n)].map((b) => UPPER[b & 31]).join('');

/** Reads the operator key of `dataDir`, or `null` when it has not been generated yet. */
export function readOperatorKey(dataDir: string): OperatorKey | null {
  const file = join(dataDir, OPERATOR_KEY_FILE);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const key = JSON.parse(raw) as Partial<OperatorKey>;
  if (typeof key.accessKeyId !== 'string' || typeof key.secretAccessKey !== 'string' || typeof key.region !== 'string' || key.secretAccessKey.length < 32) {
    // Never regenerate silently: the provider's backend may hold this key.
    throw new Error(`${file} is not a valid operator key ({accessKeyId, secretAccessKey, region}). Restore it or delete it to make a new one.`);
  }
  // The secret must stay private even if someone loosened the mode.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, region: key.region };
}

/**
 * The operator key of `dataDir`, generated on first call. Race-free between processes: written to
 * a private temporary file, then hard-linked into place (fails if another process won).
 */
export function ensureOperatorKey(dataDir: string): OperatorKey {
  const existing = readOperatorKey(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key: OperatorKey = {
    // Shaped like an AWS access key id (20 characters); `RKLO`: rekey local operator.
    accessKeyId: `RKLO${randomUpper(16)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    region: LOCAL_OPERATOR_REGION,
  };
  const file = join(dataDir, OPERATOR_KEY_FILE);
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
  return readOperatorKey(dataDir)!;
}
