/**
 * How webhook endpoint items are keyed and which attributes each write names: shared by the adapter
 * that writes them (`shared/adapters/webhookStore.ts`) and the IAM policies that confine the
 * endpoint routes' writes to them (`infra/permissions.ts`). Kept free of SDK imports so the CDK code
 * does not bundle the AWS SDK.
 */
import type { WebhookRecord } from './types.js';

/** Partition key prefix of an account's items: its record, its endpoints (`WH#<slot>`), its events. */
export const ACCOUNT_PK_PREFIX = 'ACCT#';

/** Endpoint fields a change writes (the keys, `accountId` and `slot` never change). */
export const ENDPOINT_FIELDS = ['id', 'url', 'description', 'environment', 'eventTypes', 'enabled', 'disabledReason', 'secrets', 'failingSince', 'createdAt', 'version'] as const satisfies readonly (keyof WebhookRecord)[];

/**
 * Every attribute a customer's endpoint change (`PATCH`, `rotate-secret`) names: the item key and
 * the endpoint fields, never the outbox (those routes commit no effects).
 */
export const ENDPOINT_UPDATE_ATTRIBUTES = ['pk', 'sk', ...ENDPOINT_FIELDS] as const;

/**
 * Every attribute a delete names, including moving the endpoint's pending effects to its account's
 * outbox: the item key, the version check (`id`, `version`), and the outbox (`ob` map, `obp` shard,
 * `obl`/`obt` claim). Nothing else of an account or endpoint.
 */
export const ENDPOINT_DELETE_ATTRIBUTES = ['pk', 'sk', 'id', 'version', 'ob', 'obp', 'obl', 'obt'] as const;
