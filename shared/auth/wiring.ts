/**
 * The authorizer's composition root: the DynamoDB store and the pepper source, built from the
 * environment on the first request. Kept apart from `shared/runtime.ts` so the authorizer bundle
 * carries only what it uses (one DynamoDB client, one pepper source, no zod, no logger): that is
 * what keeps its cold start small. Local mode sets the same variables before the gateway calls it.
 */
import { createDocumentClient, DynamoKeyStore } from '../adapters/dynamoStore.js';
import { SecretsManagerPepper } from '../adapters/pepper.js';
import { FilePepper } from '../local/filePepper.js';
import type { AuthorizerDeps } from './handler.js';
import { loadAuthorizerEnv } from './env.js';

/** Wall clock for production; tests inject their own. */
export const systemClock = { now: (): number => Date.now() };

/** Builds the authorizer's dependencies from environment variables (see `docs/authorizer.md`). */
export function authorizerDepsFromEnv(env: Record<string, string | undefined>): AuthorizerDeps {
  const e = loadAuthorizerEnv(env);
  const store = new DynamoKeyStore({ client: createDocumentClient({ endpoint: e.dynamoEndpoint }), tableName: e.tableName });
  const pepper = e.dataDir !== undefined ? new FilePepper({ dataDir: e.dataDir }) : new SecretsManagerPepper({ secretId: e.pepperSecretArn! });
  return { store, pepper, policies: { keyPrefix: e.keyPrefix, authCacheTtlSeconds: e.authCacheTtlSeconds }, clock: systemClock };
}
