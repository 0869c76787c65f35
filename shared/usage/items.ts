/**
 * How usage minutes are keyed in the table: shared by the adapter that writes them
 * (`shared/adapters/dynamoUsage.ts`) and the IAM policy that confines the authorizer's write to them
 * (`infra/permissions.ts`). Kept free of SDK imports so the CDK code does not bundle the AWS SDK.
 */

/** Partition key prefix of usage items; the authorizer's write permission is confined to it. */
export const USAGE_PK_PREFIX = 'USAGE#';
/** Partition key of the usage items of key `keyId`. */
export const usagePk = (keyId: string): string => `${USAGE_PK_PREFIX}${keyId}`;
/** Every attribute the authorizer's usage write names (its IAM policy allows exactly these). */
export const USAGE_ITEM_ATTRIBUTES = ['pk', 'sk', 'n', 'm', 'sid', 'hint', 'fa', 'la', 'ip', 'ua', 'ttl'] as const;
