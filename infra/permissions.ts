/**
 * The IAM statements of each kind of rekey function, written out action by action so least
 * privilege can be read here and checked by `test/infra`. Actions match the SDK commands the
 * adapters send (`shared/adapters/*`): DynamoDB GetItem, Query, PutItem, UpdateItem; Secrets
 * Manager GetSecretValue; Scheduler CreateSchedule, DeleteSchedule; EventBridge PutEvents; SES
 * SendEmail.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { GSI, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../shared/adapters/tableSchema.js';
import type { AccountRecord, AuditEvent, KeyRecord } from '../shared/domain/types.js';
import type { RouteDef } from '../shared/http/routes.js';
import { TTL_ATTRIBUTE } from './table.js';

/**
 * What a route function may do, derived from the route table: `GET` routes read, other
 * authenticated routes write and perform effects, `none`-scope routes touch nothing.
 */
export function routeAccess(route: RouteDef): 'none' | 'read' | 'write' {
  if (route.scope === 'none') return 'none';
  return route.method === 'GET' ? 'read' : 'write';
}

export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
export const TABLE_WRITE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;
/**
 * Every top-level attribute of a domain record, spelled out as a `Record` over the record's keys so
 * that adding a field to `KeyRecord`, `AccountRecord` or `AuditEvent` fails to compile until it is
 * listed here (and so is denied to the authorizer).
 */
const KEY_FIELDS: Record<keyof KeyRecord, true> = {
  id: true, accountId: true, name: true, environment: true, scopes: true, status: true, createdAt: true, version: true,
  current: true, previous: true, rotation: true, revokedAt: true, reactivatableUntil: true, lastUsed: true, fired: true,
};
const ACCOUNT_FIELDS: Record<keyof AccountRecord, true> = { id: true, name: true, alertEmails: true, createdAt: true, version: true };
const EVENT_FIELDS: Record<keyof AuditEvent, true> = { id: true, type: true, at: true, actorKeyId: true, accountId: true, keyId: true, data: true };
/** Storage-only attributes of `shared/adapters/dynamoStore.ts`: entity tag, index keys, outbox (`ob` map, `obp` flag, `obl`/`obt` claim), TTL. */
const STORAGE_ATTRIBUTES = ['entity', ...Object.values(GSI).flatMap((g) => [g.partitionKey, g.sortKey]), 'ob', 'obl', 'obt', TTL_ATTRIBUTE];

/** What the authorizer's `recordUse` names: the item key, and the `lastUsed` map it sets one entry of. */
export const AUTHORIZER_UPDATABLE_ATTRIBUTES = [TABLE_PARTITION_KEY, TABLE_SORT_KEY, 'lastUsed'] as const;

/**
 * Every attribute a rekey item has except those the authorizer updates: the authorizer's
 * UpdateItem is refused as soon as a request names one of them.
 */
export const AUTHORIZER_PROTECTED_ATTRIBUTES: readonly string[] = [
  ...new Set([...Object.keys(KEY_FIELDS), ...Object.keys(ACCOUNT_FIELDS), ...Object.keys(EVENT_FIELDS), ...STORAGE_ATTRIBUTES]),
].filter((a) => !(AUTHORIZER_UPDATABLE_ATTRIBUTES as readonly string[]).includes(a));

export interface PermissionTargets {
  readonly tableArn: string;
  /** The table and every GSI. */
  readonly tableAndIndexArns: readonly string[];
  readonly pepperArn: string;
  readonly schedulesArn: string;
  readonly schedulerRoleArn: string;
  readonly eventBusArn: string;
  /** The From address: SES permission is limited to mail sent from it. */
  readonly senderEmail: string;
  /** `arn:…:ses:<region>:<account>:identity/*` (see `effectStatements`). */
  readonly sesIdentitiesArn: string;
}

/** Read-only routes: `GET` keys, events, account, whoami. */
export function readStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [new iam.PolicyStatement({ sid: 'ReadKeys', actions: [...TABLE_READ_ACTIONS], resources: [...t.tableAndIndexArns] })];
}

/**
 * The authorizer: reads key records, records last use (UpdateItem that may name no attribute but
 * the key and `lastUsed`, so it cannot change a key's state), reads the pepper. No index, no other
 * write.
 *
 * Why a deny list (`ForAllValues:StringNotEquals`) instead of the allow list
 * `ForAllValues:StringEquals [pk, sk, lastUsed]`: `recordUse` sends
 * `SET lastUsed.#s = :at` with `#s` = the secret's random sid, and a condition on `pk` and
 * `lastUsed.#s`. DynamoDB's guide says `dynamodb:Attributes` holds the attribute names of a request,
 * including those only "evaluated in a conditional write" (so `pk` counts, and key attributes must be
 * allowed), but it does not say whether a nested path contributes only its top-level name
 * (`lastUsed`) or also its map key (the sid). Under the second reading the allow list would refuse
 * every last-use write, and no fixed allow list can name random sids. The deny list holds under both
 * readings: a sid is never one of these names, and any request that names a field of a key, account
 * or event, an index key or the outbox is refused.
 */
export function authorizerStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'ReadKeyRecords', actions: ['dynamodb:GetItem'], resources: [t.tableArn] }),
    new iam.PolicyStatement({
      sid: 'RecordLastUse',
      actions: ['dynamodb:UpdateItem'],
      resources: [t.tableArn],
      conditions: { 'ForAllValues:StringNotEquals': { 'dynamodb:Attributes': [...AUTHORIZER_PROTECTED_ATTRIBUTES] } },
    }),
    new iam.PolicyStatement({ sid: 'ReadPepper', actions: ['secretsmanager:GetSecretValue'], resources: [t.pepperArn] }),
  ];
}

/**
 * Functions that change keys and perform their effects (write routes, the timer, the outbox
 * sweeper): table read/write, the pepper, schedules in rekey's own group, passing the scheduler
 * role to EventBridge Scheduler only, the rekey bus, and email from the sender address only.
 */
export function effectStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'WriteKeys', actions: [...TABLE_WRITE_ACTIONS], resources: [...t.tableAndIndexArns] }),
    new iam.PolicyStatement({ sid: 'ReadPepper', actions: ['secretsmanager:GetSecretValue'], resources: [t.pepperArn] }),
    new iam.PolicyStatement({ sid: 'ManageTimers', actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], resources: [t.schedulesArn] }),
    new iam.PolicyStatement({
      sid: 'PassSchedulerRole',
      actions: ['iam:PassRole'],
      resources: [t.schedulerRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
    new iam.PolicyStatement({ sid: 'PublishEvents', actions: ['events:PutEvents'], resources: [t.eventBusArn] }),
    // In the SES sandbox SendEmail is also authorized against each recipient's identity, so the
    // resource is every identity of the account, and the condition pins the From address.
    new iam.PolicyStatement({
      sid: 'SendEmail',
      actions: ['ses:SendEmail'],
      resources: [t.sesIdentitiesArn],
      conditions: { StringEquals: { 'ses:FromAddress': t.senderEmail } },
    }),
  ];
}
