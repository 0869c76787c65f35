/**
 * A {@link KeySource} reading both secrets from one AWS Secrets Manager secret whose value is JSON
 * `{"active": "...", "old": "..."}` (`old` optional, or `null`). Kept apart from `client/index.ts`
 * so browser bundles of the client never pull in the AWS SDK.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyPair, KeySource } from './fallback.js';

export interface SecretsManagerSourceOptions {
  /** Name or ARN of the secret. */
  readonly secretId: string;
  /** An SDK client (region, credentials, endpoint). @default new SecretsManagerClient({}) */
  readonly client?: SecretsManagerClient;
  /** Version stage to read. @default the service default, `AWSCURRENT` */
  readonly versionStage?: string;
  /** How long a read value is reused before the secret is read again. @default 300000 (5 min) */
  readonly cacheTtlMs?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/** Thrown when the secret cannot be read or does not hold `{"active": string, "old"?: string}`. Never holds the value. */
export class KeySourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}

/**
 * Reads the pair once and reuses it for `cacheTtlMs`; concurrent loads share one request. When
 * every secret was rejected the fallback helper calls `invalidate()`, so the next call reads the
 * secret again and picks up a rotation made in Secrets Manager.
 */
export function fromSecretsManager(opts: SecretsManagerSourceOptions): KeySource {
  const client = opts.client ?? new SecretsManagerClient({});
  const ttl = opts.cacheTtlMs ?? 300_000;
  const now = opts.now ?? Date.now;
  let cached: { pair: KeyPair; at: number } | undefined;
  let pending: Promise<KeyPair> | undefined;

  async function read(): Promise<KeyPair> {
    let value: string | undefined;
    try {
      const out = await client.send(
        new GetSecretValueCommand({ SecretId: opts.secretId, ...(opts.versionStage ? { VersionStage: opts.versionStage } : {}) }),
      );
      value = out.SecretString;
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      throw new KeySourceError(`could not read secret ${opts.secretId} from Secrets Manager (${name})`, { cause: err });
    }
    const pair = parsePair(value, opts.secretId);
    cached = { pair, at: now() };
    return pair;
  }

  return {
    load: () => {
      if (cached && now() - cached.at < ttl) return Promise.resolve(cached.pair);
      pending ??= read().finally(() => (pending = undefined));
      return pending;
    },
    invalidate: () => {
      cached = undefined;
    },
  };
}

function parsePair(value: string | undefined, secretId: string): KeyPair {
  const bad = (why: string) => new KeySourceError(`secret ${secretId} ${why}; expected JSON {"active": "...", "old": "..."}`);
  if (value === undefined) throw bad('has no SecretString');
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    // JSON.parse messages quote the text they choke on: never pass that on.
    throw bad('is not JSON');
  }
  const o = json as { active?: unknown; old?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.active !== 'string' || o.active.trim() === '') throw bad('has no "active" string');
  if (o.old !== undefined && o.old !== null && typeof o.old !== 'string') throw bad('has an "old" that is not a string');
  const old = typeof o.old === 'string' && o.old.trim() !== '' ? o.old.trim() : undefined;
  return { active: o.active.trim(), old };
}
