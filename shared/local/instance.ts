/**
 * How local mode is found: the data directory, the port, and `<dataDir>/local.json`, which
 * `npm start` writes while it runs. Kept apart from `main.ts` so the CLI loads no server code.
 */
import { chmodSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config.js';
import type { StoreKey } from './storeKey.js';

/** What `npm start` writes to `<dataDir>/local.json` while it runs; the admin CLI and tests read it. */
export interface LocalInstanceInfo {
  readonly pid: number;
  readonly port: number;
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The policy variables this instance was started with, so the CLI acts with the same policies. */
  readonly env: Record<string, string>;
}

/** The policy variables of SPEC §6 (and the sender address): recorded so the CLI acts alike. */
export const POLICY_ENV_VARS = [
  'KEY_PREFIX',
  'MAX_TRANSITION_SECONDS',
  'REMINDER_LEAD_SECONDS',
  'RESTORE_WINDOW_SECONDS',
  'REACTIVATION_WINDOW_SECONDS',
  'MAX_KEY_LIFETIME_SECONDS',
  'EXPIRY_NOTICE_OFFSETS',
  'AUTH_CACHE_TTL_SECONDS',
  'MAX_EMAILS_PER_ACCOUNT_PER_DAY',
  'AUDIT_RETENTION_DAYS',
  'SENDER_EMAIL',
  'USAGE_FLUSH_SECONDS',
] as const;

export const LOCAL_INFO_FILE = 'local.json';

/** `REKEY_DATA_DIR`, default `.data`, relative to the working directory. */
export function resolveDataDir(env: Record<string, string | undefined> = process.env): string {
  const raw = env.REKEY_DATA_DIR?.trim();
  return resolve(raw ? raw : '.data');
}

/** `PORT`, default 3000; 0 picks a free port. Throws a `ConfigError` naming the variable. */
export function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 3000;
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) > 65535) {
    throw new ConfigError(`Invalid configuration:\n  PORT must be a whole number from 0 to 65535 (0 picks a free port), got "${raw}"`);
  }
  return Number(v);
}

/** `REKEY_DASHBOARD`: `auto` (default) or `off`. Throws a `ConfigError` naming the variable. */
export function parseDashboardMode(raw: string | undefined): 'auto' | 'off' {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'off') return 'off';
  throw new ConfigError(`Invalid configuration:\n  REKEY_DASHBOARD must be "auto" or "off", got "${raw}"`);
}

/** `REKEY_ACCESS_LOG`: on (default) or `off`. Throws a `ConfigError` naming the variable. */
export function parseAccessLog(raw: string | undefined): boolean {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new ConfigError(`Invalid configuration:\n  REKEY_ACCESS_LOG must be "on" or "off", got "${raw}"`);
}

/** The running instance recorded in `dataDir`, or `null` when none is running there. */
export function readLocalInstance(dataDir: string): LocalInstanceInfo | null {
  const file = join(dataDir, LOCAL_INFO_FILE);
  let info: LocalInstanceInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as LocalInstanceInfo;
  } catch {
    return null;
  }
  return typeof info.pid === 'number' && processAlive(info.pid) ? info : null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}


/**
 * Local mode never talks to AWS: the local store's key (`<dataDir>/store.json`) becomes this
 * process's AWS credentials, so every DynamoDB client it builds signs for the store's guard, and a
 * developer's real credentials (and the credential chain's metadata-service probes) stay out.
 */
export function useLocalAwsEnvironment(key: StoreKey, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ACCESS_KEY_ID = key.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = key.secretAccessKey;
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  // The store's guard checks the credential scope: the region is the key's, not the shell's.
  env.AWS_REGION = key.region;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Makes `dataDir` private (SPEC §6): the directory and every directory in it 0700, every file 0600,
 * also when it existed before with looser modes. Symbolic links are left alone (never followed).
 */
export function makePrivate(dataDir: string): void {
  chmodSync(dataDir, 0o700);
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    const path = join(dataDir, entry.name);
    const info = lstatSync(path);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) makePrivate(path);
    else if ((info.mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  }
}
