/**
 * The IAM statements of each kind of rekey function, written out action by action so least
 * privilege can be read here and checked by `test/infra`. Actions match the SDK commands the
 * adapters send (`shared/adapters/*`): DynamoDB GetItem, Query, PutItem, UpdateItem; Secrets
 * Manager GetSecretValue; Scheduler CreateSchedule, DeleteSchedule; EventBridge PutEvents; SES
 * SendEmail.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RouteDef } from '../shared/http/routes.js';

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
/** Top-level attributes the authorizer may touch with UpdateItem: the key and the last-use map. */
export const AUTHORIZER_UPDATABLE_ATTRIBUTES = ['pk', 'sk', 'lastUsed'] as const;

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
 * The authorizer: reads key records, records last use (UpdateItem limited to the `lastUsed`
 * attribute, so it cannot change a key), reads the pepper. No index, no other write.
 */
export function authorizerStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ sid: 'ReadKeyRecords', actions: ['dynamodb:GetItem'], resources: [t.tableArn] }),
    new iam.PolicyStatement({
      sid: 'RecordLastUse',
      actions: ['dynamodb:UpdateItem'],
      resources: [t.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...AUTHORIZER_UPDATABLE_ATTRIBUTES] } },
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
