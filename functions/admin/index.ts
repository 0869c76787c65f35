/**
 * The admin API's one Lambda function in AWS (SPEC §9). Each admin route keeps its own handler
 * file (this folder); in AWS they share one function so that the stack stays under CloudFormation's
 * 500-resource limit (a function per admin route would add a role, a policy, a log group and a
 * function each). API Gateway names the matched route in `event.resource`; the route table maps
 * it to the handler. Local mode calls each route's own file directly.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ROUTE_LIST } from '../../shared/http/routes.js';
import { handler as notFound } from '../not-found.js';
import { handler as adminCreateAccount } from './accounts-create.js';
import { handler as adminListAccounts } from './accounts-list.js';
import { handler as adminGetAccount } from './accounts-get.js';
import { handler as adminUpdateAccount } from './accounts-update.js';
import { handler as adminSuspendAccount } from './accounts-suspend.js';
import { handler as adminResumeAccount } from './accounts-resume.js';
import { handler as adminDeleteAccount } from './accounts-delete.js';
import { handler as adminCreateKey } from './keys-create.js';
import { handler as adminListKeys } from './keys-list.js';
import { handler as adminGetKey } from './keys-get.js';
import { handler as adminUpdateKey } from './keys-update.js';
import { handler as adminRotateKey } from './keys-rotate.js';
import { handler as adminUpdateRotation } from './rotation-update.js';
import { handler as adminCancelRotation } from './rotation-cancel.js';
import { handler as adminRevokeKey } from './keys-revoke.js';
import { handler as adminReactivateKey } from './keys-reactivate.js';
import { handler as adminListKeyEvents } from './keys-events.js';
import { handler as adminGetCustomerAccount } from './account-get.js';
import { handler as adminPutAlertEmails } from './account-alert-emails.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Every admin route's handler by operation id (a route missing here fails the test of this file). */
export const ADMIN_HANDLERS: Readonly<Record<string, Handler>> = {
  adminCreateAccount,
  adminListAccounts,
  adminGetAccount,
  adminUpdateAccount,
  adminSuspendAccount,
  adminResumeAccount,
  adminDeleteAccount,
  adminCreateKey,
  adminListKeys,
  adminGetKey,
  adminUpdateKey,
  adminRotateKey,
  adminUpdateRotation,
  adminCancelRotation,
  adminRevokeKey,
  adminReactivateKey,
  adminListKeyEvents,
  adminGetCustomerAccount,
  adminPutAlertEmails,
};

export const handler = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
  const route = ROUTE_LIST.find((r) => r.scope === 'operator' && r.path === event.resource && r.method === event.httpMethod);
  const fn = route ? ADMIN_HANDLERS[route.operationId] : undefined;
  return fn ? fn(event, context) : notFound(event);
};
