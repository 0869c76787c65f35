/**
 * The authorizer's composition root: the DynamoDB store and the pepper source, built from the
 * environment on the first request. Kept apart from `shared/runtime.ts` so the authorizer bundle
 * carries only what it uses (one DynamoDB client, one pepper source, the light config reader, no
 * logger): that is what keeps its cold start small. Local mode sets the same variables before the
 * gateway calls it.
 */
import { createDocumentClient, DynamoKeyStore } from '../adapters/dynamoStore.js';
import { DynamoUsageStore } from '../adapters/dynamoUsage.js';
import { SecretsManagerPepper } from '../adapters/pepper.js';
import { ConfigError, loadConfig } from '../config.js';
import { systemClock } from '../domain/clock.js';
import { FilePepper } from '../local/filePepper.js';
import { readStoreKey } from '../local/storeKey.js';
import type { AuthorizerDeps } from './handler.js';
import { CountingMetrics } from './metrics.js';

/** Builds the authorizer's dependencies from environment variables (see `docs/authorizer.md`). */
export function authorizerDepsFromEnv(env: Record<string, string | undefined>): AuthorizerDeps {
  const config = loadConfig(env);
  // Local mode: the store's guard requires its key from the data directory.
  const local = config.dataDir !== undefined ? (readStoreKey(config.dataDir) ?? undefined) : undefined;
  const client = createDocumentClient({ endpoint: config.dynamoEndpoint, local });
  const store = new DynamoKeyStore({ client, tableName: config.tableName });
  const usage = new DynamoUsageStore({ client, tableName: config.tableName });
  let pepper;
  if (config.dataDir !== undefined) pepper = new FilePepper({ dataDir: config.dataDir });
  else if (config.pepperSecretArn) pepper = new SecretsManagerPepper({ secretId: config.pepperSecretArn });
  else throw new ConfigError('Invalid configuration:\n  PEPPER_SECRET_ARN is required for this function (or REKEY_DATA_DIR in local mode)');
  const { keyPrefix, authCacheTtlSeconds } = config.policies;
  // Local mode has no CloudWatch: count without writing EMF lines to the console.
  const metrics = config.dataDir !== undefined ? new CountingMetrics() : undefined;
  return {
    store,
    usage,
    pepper,
    policies: { keyPrefix, authCacheTtlSeconds },
    clock: systemClock,
    verifier: { usageFlushMs: config.usageFlushSeconds * 1000 },
    ...(metrics ? { metrics } : {}),
  };
}
