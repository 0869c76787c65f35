/**
 * The IAM statements of each rekey function, written out action by action so least privilege can
 * be read here, asserted from the template (`test/infra/service.test.ts`) and proved against the
 * calls the bundled code really makes (`test/infra/iam-proof.test.ts`). Each function gets the
 * grants of the calls it makes (`FUNCTION_GRANTS`), nothing else.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { GSI, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../shared/adapters/tableSchema.js';
import type { AccountRecord, AuditEvent, KeyRecord } from '../shared/domain/types.js';
import type { FUNCTION_ENTRIES, ROUTES } from '../shared/http/routes.js';
import { TTL_ATTRIBUTE } from './table.js';

/**
 * Every top-level attribute of a domain record, spelled out as a `Record` over the record's keys so
 * that adding a field to `KeyRecord`, `AccountRecord` or `AuditEvent` fails to compile until it is
 * listed here (and so is denied to the authorizer).
 */
const KEY_FIELDS: Record<keyof KeyRecord, true> = {
  id: true, accountId: true, name: true, environment: true, scopes: true, status: true, createdAt: true, version: true,
  current: true, previous: true, rotation: true, revokedAt: true, reactivatableUntil: true, lastUsed: true, fired: true,
};
const ACCOUNT_FIELDS: Record<keyof AccountRecord, true> = {
  id: true, name: true, status: true, alertEmails: true, allowedScopes: true, createdAt: true, version: true,
};
const EVENT_FIELDS: Record<keyof AuditEvent, true> = { id: true, type: true, at: true, actorKeyId: true, accountId: true, keyId: true, data: true };
type RouteName = keyof typeof ROUTES;
type TriggerName = keyof typeof FUNCTION_ENTRIES;

/** Storage-only attributes of `shared/adapters/dynamoStore.ts`: entity tag, index keys, outbox (`ob` map, `obp` shard, `obl`/`obt` claim), TTL. */
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
  /** `<table ARN>/index/<name>` of an index of `GSI`. */
  readonly indexArn: (name: string) => string;
  readonly pepperArn: string;
  readonly schedulesArn: string;
  readonly schedulerRoleArn: string;
  readonly eventBusArn: string;
  /** The From address: SES permission is limited to mail sent from it. */
  readonly senderEmail: string;
  /** `arn:…:ses:<region>:<account>:identity/*` (see the `email` grant). */
  readonly sesIdentitiesArn: string;
}

/**
 * One capability of a function: the IAM statements of one kind of call the code makes.
 * - `getItem`: `GetItem` of key and account records (also the outbox's "is it busy?" read);
 * - `writeItems`: `PutItem` / `UpdateItem` of the table (a transition, the outbox claim and release,
 *   audit events);
 * - `listKeys`: `Query` of the listing indexes (keys only) and `BatchGetItem` of the page;
 * - `listAccounts`: the same over the account partitions of `gsi1`;
 * - `readEvents`: `Query` of the table (a key's or account's audit events under its `pk`);
 * - `pepper`: `GetSecretValue` of the pepper (every transition reads it);
 * - `timers`: `CreateSchedule` / `DeleteSchedule` in rekey's group, passing the scheduler role;
 * - `publish`: `PutEvents` to the rekey bus; `email`: SES `SendEmail` from the sender address;
 * - `sweepOutbox` / `reconcileTimers`: `Query` of the outbox index `gsi3` / the timer index `gsi4`.
 */
export type Grant =
  | 'getItem'
  | 'writeItems'
  | 'listKeys'
  | 'listAccounts'
  | 'readEvents'
  | 'pepper'
  | 'timers'
  | 'publish'
  | 'email'
  | 'sweepOutbox'
  | 'reconcileTimers';

/** Draining a key's outbox performs any effect a key change commits: events, timers, emails. */
const KEY_EFFECTS: readonly Grant[] = ['getItem', 'writeItems', 'timers', 'publish', 'email'];
/** A change of a key: decide (the pepper is read for every transition), commit, drain. */
const KEY_CHANGE: readonly Grant[] = [...KEY_EFFECTS, 'pepper'];

/**
 * The grants of every function, by route name (`ROUTES`) or trigger name (`FUNCTION_ENTRIES`):
 * exactly the calls each one makes (proved by `test/infra/iam-proof.test.ts`). A new route or
 * trigger fails to compile until it is listed here. The authorizer has its own statements
 * (`authorizerStatements`).
 */
export const FUNCTION_GRANTS = {
  createKey: KEY_CHANGE,
  listKeys: ['listKeys'],
  getKey: ['getItem'],
  updateKey: KEY_CHANGE,
  rotateKey: KEY_CHANGE,
  updateRotation: KEY_CHANGE,
  cancelRotation: KEY_CHANGE,
  revokeKey: KEY_CHANGE,
  reactivateKey: KEY_CHANGE,
  listKeyEvents: ['getItem', 'readEvents'],
  getAccount: ['getItem'],
  // An account's outbox holds only audit events (no published type, no timer, no email).
  putAlertEmails: ['getItem', 'writeItems'],
  whoami: [],
  openapi: [],
  timer: [...KEY_CHANGE, 'reconcileTimers'],
  // The sweeper performs committed effects; it decides nothing, so it never reads the pepper.
  outboxStream: [...KEY_EFFECTS, 'sweepOutbox'],
  notFound: [],
} as const satisfies Record<RouteName | Exclude<TriggerName, 'authorizer'>, readonly Grant[]>;

/** The statements of a set of grants (one statement per grant, in a fixed order). */
export function grantStatements(grants: readonly Grant[], t: PermissionTargets): iam.PolicyStatement[] {
  const has = new Set(grants);
  const out: iam.PolicyStatement[] = [];
  const add = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    out.push(new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }));
  const tableActions = [
    ...(has.has('getItem') ? ['dynamodb:GetItem'] : []),
    ...(has.has('writeItems') ? ['dynamodb:PutItem', 'dynamodb:UpdateItem'] : []),
    ...(has.has('listKeys') || has.has('listAccounts') ? ['dynamodb:BatchGetItem'] : []),
    ...(has.has('readEvents') ? ['dynamodb:Query'] : []),
  ];
  if (tableActions.length) add('Items', tableActions, [t.tableArn]);
  const indexes = [
    ...(has.has('listKeys') ? [GSI.byAccount.name, GSI.testByAccount.name] : []),
    ...(has.has('listAccounts') && !has.has('listKeys') ? [GSI.byAccount.name] : []),
    ...(has.has('sweepOutbox') ? [GSI.pendingOutbox.name] : []),
    ...(has.has('reconcileTimers') ? [GSI.dueTimers.name] : []),
  ];
  if (indexes.length) add('QueryIndexes', ['dynamodb:Query'], indexes.map(t.indexArn));
  if (has.has('pepper')) add('ReadPepper', ['secretsmanager:GetSecretValue'], [t.pepperArn]);
  if (has.has('timers')) {
    add('ManageTimers', ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], [t.schedulesArn]);
    add('PassSchedulerRole', ['iam:PassRole'], [t.schedulerRoleArn], { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  }
  if (has.has('publish')) add('PublishEvents', ['events:PutEvents'], [t.eventBusArn]);
  // In the SES sandbox SendEmail is also authorized against each recipient's identity, so the
  // resource is every identity of the account, and the condition pins the From address.
  if (has.has('email')) add('SendEmail', ['ses:SendEmail'], [t.sesIdentitiesArn], { StringEquals: { 'ses:FromAddress': t.senderEmail } });
  return out;
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
