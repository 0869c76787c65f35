/**
 * The IAM statements of each rekey function, written out action by action so least privilege can
 * be read here and asserted from the template (`test/infra/service.test.ts`). Each function gets
 * the grants of the calls it makes (`FUNCTION_GRANTS`), nothing else.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { USAGE_ITEM_ATTRIBUTES, USAGE_PK_PREFIX } from '../shared/usage/items.js';
import { ACCOUNT_PK_PREFIX, ENDPOINT_DELETE_ATTRIBUTES, ENDPOINT_UPDATE_ATTRIBUTES } from '../shared/webhooks/items.js';
import { GSI } from '../shared/adapters/tableSchema.js';
import type { AccountRecord, AuditEvent, KeyRecord } from '../shared/domain/types.js';
import type { FUNCTION_ENTRIES, ROUTES, RouteDef } from '../shared/http/routes.js';
import { TTL_ATTRIBUTE } from './table.js';

/**
 * Every top-level attribute of a domain record, spelled out as a `Record` over the record's keys so
 * that adding a field to `KeyRecord`, `AccountRecord` or `AuditEvent` fails to compile until it is
 * listed here (and so is denied to the authorizer).
 */
const KEY_FIELDS: Record<keyof KeyRecord, true> = {
  id: true, accountId: true, name: true, environment: true, scopes: true, status: true, createdAt: true, version: true,
  current: true, previous: true, rotation: true, revokedAt: true, reactivatableUntil: true, lastUsed: true, fired: true,
  revokedReason: true, exposures: true,
  accountStatus: true, accountVersion: true,
};
const ACCOUNT_FIELDS: Record<keyof AccountRecord, true> = {
  id: true, name: true, status: true, alertEmails: true, allowedScopes: true, leakResponse: true, pendingEmails: true, createdAt: true, version: true, deletedAt: true,
};
const EVENT_FIELDS: Record<keyof AuditEvent, true> = {
  id: true, type: true, at: true, actorKeyId: true, actor: true, accountId: true, keyId: true, data: true,
};
type RouteName = keyof typeof ROUTES;
type TriggerName = keyof typeof FUNCTION_ENTRIES;

/** Storage-only attributes of `shared/adapters/dynamoStore.ts`: entity tag, index keys, outbox (`ob` map, `obp` shard, `obl`/`obt` claim), rate counters (`hits`), TTL. */
const STORAGE_ATTRIBUTES = ['entity', ...Object.values(GSI).flatMap((g) => [g.partitionKey, g.sortKey]), 'ob', 'obl', 'obt', 'hits', TTL_ATTRIBUTE];

/**
 * Every attribute a rekey key, account or event item has. None of them may be named by the
 * authorizer's write (which names only usage-item attributes, see `authorizerStatements`).
 */
export const RECORD_ATTRIBUTES: readonly string[] = [
  ...new Set([...Object.keys(KEY_FIELDS), ...Object.keys(ACCOUNT_FIELDS), ...Object.keys(EVENT_FIELDS), ...STORAGE_ATTRIBUTES]),
];

/**
 * The operator's managed policy (output `OperatorPolicyArn`, SPEC §5 and §9): `execute-api:Invoke`
 * on exactly the admin routes of the route table (path parameters as `*`), and
 * `cloudformation:DescribeStacks` on this stack for the CLI's `--stack` lookup. Nothing else: the
 * admin API does the rest with the functions' own roles, so operators need no table access.
 */
export function operatorStatements(api: { arnForExecuteApi(method?: string, path?: string, stage?: string): string }, stageName: string, routes: readonly RouteDef[], stackArn: string): iam.PolicyStatement[] {
  const admin = routes.filter((r) => r.scope === 'operator');
  return [
    new iam.PolicyStatement({
      sid: 'InvokeAdminApi',
      actions: ['execute-api:Invoke'],
      resources: admin.map((r) => api.arnForExecuteApi(r.method, r.path.replace(/\{[^}]+\}/g, '*'), stageName)),
    }),
    new iam.PolicyStatement({ sid: 'ReadStackOutputs', actions: ['cloudformation:DescribeStacks'], resources: [stackArn] }),
  ];
}

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
  /** The SQS queue of webhook attempts (SPEC §10). */
  readonly webhookQueueArn: string;
}

/**
 * One capability of a function: the IAM statements of one kind of call the code makes.
 * - `getItem`: `GetItem` of key and account records (also the outbox's "is it busy?" read);
 * - `writeItems`: `PutItem` / `UpdateItem` of the table (a transition, the outbox claim and release,
 *   audit events);
 * - `updateEndpoints`: `UpdateItem` of webhook endpoints only: items of an account partition
 *   (`dynamodb:LeadingKeys` `ACCT#*`) naming only the endpoint's key and fields
 *   (`dynamodb:Attributes`, `ENDPOINT_UPDATE_ATTRIBUTES`): it cannot write a key, and of an account
 *   record at most the `id`/`version`/`createdAt` names it shares with endpoints, never its lists;
 * - `listKeys`: `Query` of the listing indexes (keys only) and `BatchGetItem` of the page;
 * - `listAccounts`: the same over the account partitions of `gsi1`;
 * - `readEvents`: `Query` of the table (a key's or account's audit events under its `pk`);
 * - `readUsage`: `Query` of the table (a key's usage minutes under `USAGE#<keyId>`, SPEC §12): every
 *   function that answers with a key view (last use, where from) and the timer (idle cut-over);
 * - `pepper`: `GetSecretValue` of the pepper (every transition reads it);
 * - `timers`: `CreateSchedule` / `DeleteSchedule` in rekey's group, passing the scheduler role;
 * - `publish`: `PutEvents` to the rekey bus; `email`: SES `SendEmail` from the sender address;
 * - `sweepOutbox` / `reconcileTimers`: `Query` of the outbox index `gsi3` / the timer index `gsi4`;
 * - `webhooks`: `Query` of the table (an account's webhook endpoints, an endpoint's deliveries);
 * - `deleteWebhook`: `DeleteItem` and `UpdateItem` in account partitions only (`ACCT#*`), naming
 *   only the key, the version check and the outbox (`ENDPOINT_DELETE_ATTRIBUTES`): delete an
 *   endpoint, claim its outbox, move its pending effects to the account's outbox (the only delete in rekey);
 * - `enqueueAttempts`: SQS `SendMessage` to the webhook attempt queue;
 * - `scheduleAttempts`: `CreateSchedule` in rekey's group (webhook retries over 15 min), passing the scheduler role.
 */
export type Grant =
  | 'getItem'
  | 'writeItems'
  | 'updateEndpoints'
  | 'listKeys'
  | 'listAccounts'
  | 'readEvents'
  | 'readUsage'
  | 'pepper'
  | 'timers'
  | 'publish'
  | 'email'
  | 'sweepOutbox'
  | 'reconcileTimers'
  | 'webhooks'
  | 'deleteWebhook'
  | 'enqueueAttempts'
  | 'scheduleAttempts';

/**
 * Draining a key's outbox performs any effect a key change commits: events, timers, emails, and the
 * webhook fan-out of a published event (find the endpoints, put deliveries, queue first attempts).
 */
const KEY_EFFECTS: readonly Grant[] = ['getItem', 'writeItems', 'timers', 'publish', 'email', 'webhooks', 'enqueueAttempts'];
/** A change of a key: decide (the pepper is read for every transition), commit, drain. */
const KEY_CHANGE: readonly Grant[] = [...KEY_EFFECTS, 'pepper'];
/** A key change answered with the key's view, which shows its recorded usage. */
const KEY_CHANGE_VIEW: readonly Grant[] = [...KEY_CHANGE, 'readUsage'];
/** An account status change: commit the account, then copy the status onto each listed key. */
const ACCOUNT_FAN_OUT: readonly Grant[] = ['getItem', 'writeItems', 'listKeys'];

/**
 * The grants of every function, by route name (`ROUTES`) or trigger name (`FUNCTION_ENTRIES`):
 * exactly the calls each one makes (asserted in `test/infra/service.test.ts`). A new route or
 * trigger fails to compile until it is listed here. The authorizer has its own statements
 * (`authorizerStatements`).
 */
export const FUNCTION_GRANTS = {
  createKey: KEY_CHANGE,
  // GetItem: each listed key's contacts item (KCON#, SPEC §10), found missing by the IAM proof.
  listKeys: ['getItem', 'listKeys', 'readUsage'],
  getKey: ['getItem', 'readUsage'],
  updateKey: KEY_CHANGE_VIEW,
  rotateKey: KEY_CHANGE_VIEW,
  updateRotation: KEY_CHANGE_VIEW,
  cancelRotation: KEY_CHANGE_VIEW,
  revokeKey: KEY_CHANGE_VIEW,
  reactivateKey: KEY_CHANGE_VIEW,
  listKeyEvents: ['getItem', 'readEvents'],
  getKeyUsage: ['getItem', 'readUsage'],
  getAccount: ['getItem'],
  // An account's outbox holds audit events and recipient notices: a confirmation link (its token is
  // derived from the pepper, its digest stored) or a removal notice, by email.
  putAlertEmails: ['getItem', 'writeItems', 'pepper', 'email'],
  // Public: the token is the proof. Joins the address to the list; draining the account may send notices.
  confirmEmail: ['getItem', 'writeItems', 'pepper', 'email'],
  whoami: [],
  openapi: [],
  // Leak reports (SPEC §11): read the key and its account, count the request (UpdateItem of a rate
  // counter), and change the key like any transition.
  reportLeaks: KEY_CHANGE,
  githubSecretScanning: KEY_CHANGE,
  // Admin API (SPEC §9). Key routes first read the account named in the path.
  adminCreateAccount: KEY_CHANGE,
  adminListAccounts: ['listAccounts'],
  adminGetAccount: ['getItem'],
  // Like putAlertEmails: the account's outbox may hold recipient notices (removal; a confirmation
  // link left by a customer's change is derived from the pepper).
  adminUpdateAccount: ['getItem', 'writeItems', 'pepper', 'email'],
  // Suspend and resume copy the status onto every key of the account (the `account_keys` effect).
  adminSuspendAccount: ACCOUNT_FAN_OUT,
  adminResumeAccount: ACCOUNT_FAN_OUT,
  // Delete also revokes each key (a key change per key; revoking reads no pepper).
  adminDeleteAccount: [...KEY_EFFECTS, 'listKeys'],
  adminCreateKey: KEY_CHANGE,
  adminListKeys: ['getItem', 'listKeys', 'readUsage'],
  adminGetKey: ['getItem', 'readUsage'],
  adminUpdateKey: KEY_CHANGE_VIEW,
  adminRotateKey: KEY_CHANGE_VIEW,
  adminUpdateRotation: KEY_CHANGE_VIEW,
  adminCancelRotation: KEY_CHANGE_VIEW,
  adminRevokeKey: KEY_CHANGE_VIEW,
  adminReactivateKey: KEY_CHANGE_VIEW,
  adminListKeyEvents: ['getItem', 'readEvents'],
  adminGetCustomerAccount: ['getItem'],
  adminPutAlertEmails: ['getItem', 'writeItems', 'pepper', 'email'],
  timer: [...KEY_CHANGE, 'readUsage', 'reconcileTimers'],
  // The sweeper performs committed effects; it decides nothing, but a confirmation link it sends is
  // derived from the pepper (the token is never stored). It may resume an account's fan-out
  // (SPEC §9), which lists the account's keys.
  outboxStream: [...KEY_EFFECTS, 'pepper', 'listKeys', 'sweepOutbox'],
  notFound: [],
  // Webhook endpoints (SPEC §10). Creating and rotating seal a signing secret with a key derived from the pepper.
  createWebhook: ['webhooks', 'writeItems', 'pepper'],
  listWebhooks: ['webhooks'],
  getWebhook: ['webhooks'],
  // An UpdateItem of the endpoint's fields (no PutItem: a put would wipe a pending outbox).
  updateWebhook: ['webhooks', 'updateEndpoints'],
  // Reads the endpoint (consistent Query, the `webhooks` grant), claims its outbox and moves effects
  // still pending there (a disabled notice) to the account's outbox before the delete, so none is
  // lost: UpdateItem and DeleteItem confined to account partitions and outbox attributes.
  deleteWebhook: ['webhooks', 'deleteWebhook'],
  rotateWebhookSecret: ['webhooks', 'updateEndpoints', 'pepper'],
  testWebhook: ['webhooks', 'writeItems', 'enqueueAttempts'],
  listWebhookDeliveries: ['webhooks'],
  // One attempt: read the delivery and account, unseal secrets, record it, queue the next. A disable
  // commits its audit event and the alert emails' notice in the endpoint's outbox, and this function
  // drains it (claim and release are UpdateItem, the busy check GetItem, the notice SES within the
  // daily cap's UpdateItem): the same grants, nothing new.
  webhookDelivery: ['getItem', 'webhooks', 'writeItems', 'pepper', 'enqueueAttempts', 'scheduleAttempts', 'email'],
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
    ...(has.has('readEvents') || has.has('readUsage') || has.has('webhooks') ? ['dynamodb:Query'] : []),
  ];
  if (tableActions.length) add('Items', tableActions, [t.tableArn]);
  // Endpoint writes: account partitions only, naming only the attributes those writes name (an
  // allow list of top-level names, as the authorizer's usage write).
  const endpointWrite = (attributes: readonly string[]) => ({
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ACCOUNT_PK_PREFIX}*`] },
    'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...attributes] },
  });
  if (has.has('updateEndpoints')) add('UpdateEndpoints', ['dynamodb:UpdateItem'], [t.tableArn], endpointWrite(ENDPOINT_UPDATE_ATTRIBUTES));
  if (has.has('deleteWebhook')) add('DeleteEndpoints', ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [t.tableArn], endpointWrite(ENDPOINT_DELETE_ATTRIBUTES));
  const indexes = [
    ...(has.has('listKeys') ? [GSI.byAccount.name, GSI.testByAccount.name] : []),
    ...(has.has('listAccounts') && !has.has('listKeys') ? [GSI.byAccount.name] : []),
    ...(has.has('sweepOutbox') ? [GSI.pendingOutbox.name] : []),
    ...(has.has('reconcileTimers') ? [GSI.dueTimers.name] : []),
  ];
  if (indexes.length) add('QueryIndexes', ['dynamodb:Query'], indexes.map(t.indexArn));
  if (has.has('pepper')) add('ReadPepper', ['secretsmanager:GetSecretValue'], [t.pepperArn]);
  if (has.has('timers') || has.has('scheduleAttempts')) {
    add('ManageTimers', has.has('timers') ? ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'] : ['scheduler:CreateSchedule'], [t.schedulesArn]);
    add('PassSchedulerRole', ['iam:PassRole'], [t.schedulerRoleArn], { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  }
  if (has.has('enqueueAttempts')) add('EnqueueWebhookAttempts', ['sqs:SendMessage'], [t.webhookQueueArn]);
  if (has.has('publish')) add('PublishEvents', ['events:PutEvents'], [t.eventBusArn]);
  // In the SES sandbox SendEmail is also authorized against each recipient's identity, so the
  // resource is every identity of the account, and the condition pins the From address.
  if (has.has('email')) add('SendEmail', ['ses:SendEmail'], [t.sesIdentitiesArn], { StringEquals: { 'ses:FromAddress': t.senderEmail } });
  return out;
}

/**
 * The authorizer: reads key records (GetItem), counts usage, reads the pepper. No index, no other
 * write, and its one write cannot reach a key: `UpdateItem` is allowed only on items whose partition
 * key starts with `USAGE#` (`dynamodb:LeadingKeys`) and only naming the usage item's own attributes
 * (`dynamodb:Attributes`, an allow list: the usage write names top-level attributes only, so the
 * question of how nested paths are reported does not arise). See `shared/usage/items.ts`.
 */
export function authorizerStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'ReadKeyRecords', actions: ['dynamodb:GetItem'], resources: [t.tableArn] }),
    new iam.PolicyStatement({
      sid: 'CountUsage',
      actions: ['dynamodb:UpdateItem'],
      resources: [t.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${USAGE_PK_PREFIX}*`] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...USAGE_ITEM_ATTRIBUTES] },
      },
    }),
    new iam.PolicyStatement({ sid: 'ReadPepper', actions: ['secretsmanager:GetSecretValue'], resources: [t.pepperArn] }),
  ];
}
