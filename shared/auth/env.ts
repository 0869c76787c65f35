/**
 * The authorizer's own reading of its environment variables.
 *
 * Why not `loadConfig` (`shared/config.ts`): that module parses every variable with zod, and zod
 * alone adds about 450 KiB to the bundle and ~30 ms of CPU to each cold start, a third of the
 * authorizer's whole cold-start budget (100 ms). The authorizer needs six variables, read here with
 * the same defaults and the same rules; `test/unit/authorizer.env.test.ts` checks that both readers
 * agree, so they cannot drift apart silently.
 */
import { PREFIX_PATTERN } from '../domain/keyFormat.js';
import { DEFAULT_POLICIES } from '../domain/policies.js';

export interface AuthorizerEnv {
  /** `KEY_PREFIX`. @default 'rekey' */
  readonly keyPrefix: string;
  /** `AUTH_CACHE_TTL_SECONDS`, 0–3600. @default 10 */
  readonly authCacheTtlSeconds: number;
  /** `TABLE_NAME`. @default 'rekey' */
  readonly tableName: string;
  /** `DYNAMODB_ENDPOINT` (local mode, tests). */
  readonly dynamoEndpoint: string | undefined;
  /** `PEPPER_SECRET_ARN` (AWS): required unless `REKEY_DATA_DIR` is set. */
  readonly pepperSecretArn: string | undefined;
  /** `REKEY_DATA_DIR` (local mode): the pepper file lives there. */
  readonly dataDir: string | undefined;
}

/** A bad variable; the message names it. Thrown on the first request, counted, and the request denied. */
export class AuthorizerConfigError extends Error {
  constructor(message: string) {
    super(`Invalid configuration:\n  ${message}`);
    this.name = 'ConfigError';
  }
}

const MAX_TTL_SECONDS = 3600;

function seconds(env: Record<string, string | undefined>, name: string, def: number, max: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return def;
  if (!/^\d+$/.test(v.trim())) throw new AuthorizerConfigError(`${name} must be a whole number of seconds, got "${v}"`);
  const n = Number(v.trim());
  if (n > max) throw new AuthorizerConfigError(`${name} must be at most ${max}, got ${n}`);
  return n;
}

const optional = (v: string | undefined) => (v === undefined ? undefined : v);

/** Reads and checks the authorizer's variables; throws `AuthorizerConfigError` naming the first bad one. */
export function loadAuthorizerEnv(env: Record<string, string | undefined>): AuthorizerEnv {
  const keyPrefix = env.KEY_PREFIX?.trim() || DEFAULT_POLICIES.keyPrefix;
  if (!PREFIX_PATTERN.test(keyPrefix)) throw new AuthorizerConfigError(`KEY_PREFIX must match ${PREFIX_PATTERN}, got "${keyPrefix}"`);
  const authCacheTtlSeconds = seconds(env, 'AUTH_CACHE_TTL_SECONDS', DEFAULT_POLICIES.authCacheTtlSeconds, MAX_TTL_SECONDS);
  const tableName = env.TABLE_NAME ?? 'rekey';
  if (tableName.length < 3) throw new AuthorizerConfigError(`TABLE_NAME must be at least 3 characters, got "${tableName}"`);
  const dynamoEndpoint = optional(env.DYNAMODB_ENDPOINT);
  if (dynamoEndpoint !== undefined && !isUrl(dynamoEndpoint)) throw new AuthorizerConfigError(`DYNAMODB_ENDPOINT must be a URL, got "${dynamoEndpoint}"`);
  const dataDir = optional(env.REKEY_DATA_DIR);
  const pepperSecretArn = optional(env.PEPPER_SECRET_ARN);
  if (dataDir === undefined && !pepperSecretArn) {
    throw new AuthorizerConfigError('PEPPER_SECRET_ARN is required for this function (or REKEY_DATA_DIR in local mode)');
  }
  return { keyPrefix, authCacheTtlSeconds, tableName, dynamoEndpoint, pepperSecretArn, dataDir };
}

function isUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol.length > 1 && u.host.length > 0;
  } catch {
    return false;
  }
}
