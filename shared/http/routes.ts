/**
 * The one route table: read by the handlers (scope, schemas), the CDK API (`infra/`), the local
 * gateway (`shared/local/`) and the OpenAPI generator. Adding a route here is the only way to add one.
 */
import type { z } from 'zod';
import * as s from './schemas.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/**
 * `any`: any valid secret; `none`: no authentication at all; `operator`: the admin API (SPEC §9),
 * authenticated by an AWS SigV4 signature (API Gateway `AWS_IAM`; the local gateway verifies it),
 * never by an API key.
 */
export type RouteScope = 'keys:read' | 'keys:write' | 'any' | 'none' | 'operator';

export interface RouteDef {
  readonly operationId: string;
  readonly method: Method;
  /** API Gateway style path with `{id}` parameters. */
  readonly path: string;
  readonly scope: RouteScope;
  /** Lambda entry file, relative to the repo root; exports `handler`. */
  readonly entry: string;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly response: z.ZodType;
  readonly successStatus: 200 | 201 | 202;
  /** 409 codes this route can answer. */
  readonly conflicts?: readonly string[];
  /** Shape of the `{id}` path parameter; any other id is a 404 before any read. @default the key id pattern */
  readonly idPattern?: RegExp;
  /** Codes of other statuses a public (`none`) route answers with, for the OpenAPI document. */
  readonly otherErrors?: { readonly 401?: readonly string[]; readonly 429?: readonly string[] };
  /** OpenAPI description of a public route (how it is protected instead of an API key). */
  readonly description?: string;
  /**
   * The function authenticates the request itself from its raw body (a signature over the exact
   * bytes), so the middy stack hands it the raw body and leaves JSON parsing and validation of
   * `body` to it (`parseJsonBody`), after the signature check: 401 precedes 400.
   */
  readonly rawBody?: boolean;
  /** Largest body accepted (413 above it). @default 16 KiB (SPEC §3) */
  readonly maxBodyBytes?: number;
  /** Per-method API Gateway throttling (public routes), on top of the stage's. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/** Webhook endpoint ids: 16 base62 characters (`shared/webhooks/service.ts`). */
export const WEBHOOK_ID_PATTERN = /^[0-9A-Za-z]{16}$/;

const route = <T extends RouteDef>(r: T): T => r;

/** The §3 key and account routes, which the admin API also serves for a given account. */
const KEY_ROUTES = {
  createKey: route({
    operationId: 'createKey', method: 'POST', path: '/v1/keys', scope: 'keys:write', entry: 'functions/keys-create.ts',
    summary: 'Create a key; its secret is returned once.', body: s.CreateKeyBody, response: s.KeyWithSecretResponse, successStatus: 201,
  }),
  listKeys: route({
    operationId: 'listKeys', method: 'GET', path: '/v1/keys', scope: 'keys:read', entry: 'functions/keys-list.ts',
    summary: 'List keys, newest first, revoked included.', query: s.PageQuery, response: s.KeyListResponse, successStatus: 200,
  }),
  getKey: route({
    operationId: 'getKey', method: 'GET', path: '/v1/keys/{id}', scope: 'keys:read', entry: 'functions/keys-get.ts',
    summary: 'Get one key.', response: s.KeyResponse, successStatus: 200,
  }),
  updateKey: route({
    operationId: 'updateKey', method: 'PATCH', path: '/v1/keys/{id}', scope: 'keys:write', entry: 'functions/keys-update.ts',
    summary: "Change a key's name, scopes or expiry.", body: s.UpdateKeyBody, response: s.KeyResponse, successStatus: 200,
    conflicts: ['key_revoked', 'key_expired'],
  }),
  rotateKey: route({
    operationId: 'rotateKey', method: 'POST', path: '/v1/keys/{id}/rotate', scope: 'keys:write', entry: 'functions/keys-rotate.ts',
    summary: 'Issue a new secret; the old one keeps working for the transition window.', body: s.RotateBody,
    response: s.KeyWithSecretResponse, successStatus: 200, conflicts: ['rotation_in_progress', 'key_revoked', 'key_expired'],
  }),
  updateRotation: route({
    operationId: 'updateRotation', method: 'PATCH', path: '/v1/keys/{id}/rotation', scope: 'keys:write', entry: 'functions/rotation-update.ts',
    summary: 'Extend or shorten the life of the previous secret, counted from now.', body: s.UpdateRotationBody,
    response: s.KeyResponse, successStatus: 200, conflicts: ['no_rotation_in_progress', 'key_revoked', 'key_expired'],
  }),
  cancelRotation: route({
    operationId: 'cancelRotation', method: 'DELETE', path: '/v1/keys/{id}/rotation', scope: 'keys:write', entry: 'functions/rotation-cancel.ts',
    summary: 'Cancel a rotation (or restore the old secret within the restore window).', body: s.CancelRotationBody,
    response: s.KeyResponse, successStatus: 200, conflicts: ['nothing_to_cancel', 'key_revoked', 'key_expired'],
  }),
  revokeKey: route({
    operationId: 'revokeKey', method: 'POST', path: '/v1/keys/{id}/revoke', scope: 'keys:write', entry: 'functions/keys-revoke.ts',
    summary: 'Stop every secret of the key. Idempotent.', body: s.EmptyBody, response: s.KeyResponse, successStatus: 200,
  }),
  reactivateKey: route({
    operationId: 'reactivateKey', method: 'POST', path: '/v1/keys/{id}/reactivate', scope: 'keys:write', entry: 'functions/keys-reactivate.ts',
    summary: 'Restore a revoked key with the same secrets, within the reactivation window.', body: s.EmptyBody,
    response: s.KeyResponse, successStatus: 200, conflicts: ['key_not_revoked', 'reactivation_window_passed', 'key_exposed'],
  }),
  listKeyEvents: route({
    operationId: 'listKeyEvents', method: 'GET', path: '/v1/keys/{id}/events', scope: 'keys:read', entry: 'functions/keys-events.ts',
    summary: "The key's audit trail, newest first.", query: s.PageQuery, response: s.EventListResponse, successStatus: 200,
  }),
  getKeyUsage: route({
    operationId: 'getKeyUsage', method: 'GET', path: '/v1/keys/{id}/usage', scope: 'keys:read', entry: 'functions/keys-usage.ts',
    summary: 'Verified requests per secret per minute (at most 7 days per call; kept at least 7 days).', query: s.UsageQuery,
    response: s.UsageResponse, successStatus: 200,
  }),
  getAccount: route({
    operationId: 'getAccount', method: 'GET', path: '/v1/account', scope: 'keys:read', entry: 'functions/account-get.ts',
    summary: "The caller's account.", response: s.AccountResponse, successStatus: 200,
  }),
  putAlertEmails: route({
    operationId: 'putAlertEmails', method: 'PUT', path: '/v1/account/alert-emails', scope: 'keys:write', entry: 'functions/account-alert-emails.ts',
    summary: 'Replace the list of addresses that receive reminders and notices.', body: s.AlertEmailsBody,
    response: s.AccountResponse, successStatus: 200,
  }),
} as const satisfies Record<string, RouteDef>;

type AccountRoute<T extends RouteDef> = Omit<T, 'operationId' | 'path' | 'scope' | 'entry' | 'summary'> & {
  readonly operationId: string;
  readonly path: string;
  readonly scope: 'operator';
  readonly entry: string;
  readonly summary: string;
};

/**
 * A customer route acting for a given account under the admin API (SPEC §9): same method, schemas
 * and conflicts; path under `/admin/v1/accounts/{accountId}`; its handler of the same file name in
 * `functions/admin/`.
 */
function forAccount<T extends RouteDef>(r: T, operationId: string, summary: string = r.summary): AccountRoute<T> {
  return {
    ...r,
    operationId,
    path: `/admin/v1/accounts/{accountId}${r.path.slice('/v1'.length)}`,
    scope: 'operator',
    entry: r.entry.replace(/^functions\//, 'functions/admin/'),
    summary,
  };
}

export const ROUTES = {
  ...KEY_ROUTES,
  whoami: route({
    operationId: 'whoami', method: 'GET', path: '/v1/whoami', scope: 'any', entry: 'functions/whoami.ts',
    summary: 'Which key and which of its secrets authenticated this call.', response: s.WhoamiResponse, successStatus: 200,
  }),
  createWebhook: route({
    operationId: 'createWebhook', method: 'POST', path: '/v1/webhooks', scope: 'keys:write', entry: 'functions/webhooks/create.ts',
    summary: 'Create a webhook endpoint; its signing secret is returned once.', body: s.CreateWebhookBody,
    response: s.WebhookWithSecretResponse, successStatus: 201, conflicts: ['limit_reached'],
  }),
  listWebhooks: route({
    operationId: 'listWebhooks', method: 'GET', path: '/v1/webhooks', scope: 'keys:read', entry: 'functions/webhooks/list.ts',
    summary: 'List webhook endpoints, newest first.', response: s.WebhookListResponse, successStatus: 200,
  }),
  getWebhook: route({
    operationId: 'getWebhook', method: 'GET', path: '/v1/webhooks/{id}', scope: 'keys:read', entry: 'functions/webhooks/get.ts',
    summary: 'Get one webhook endpoint.', response: s.WebhookResponse, successStatus: 200, idPattern: WEBHOOK_ID_PATTERN,
  }),
  updateWebhook: route({
    operationId: 'updateWebhook', method: 'PATCH', path: '/v1/webhooks/{id}', scope: 'keys:write', entry: 'functions/webhooks/update.ts',
    summary: "Change an endpoint's URL, event types or description, or enable / disable it.", body: s.UpdateWebhookBody,
    response: s.WebhookResponse, successStatus: 200, idPattern: WEBHOOK_ID_PATTERN,
  }),
  deleteWebhook: route({
    operationId: 'deleteWebhook', method: 'DELETE', path: '/v1/webhooks/{id}', scope: 'keys:write', entry: 'functions/webhooks/delete.ts',
    summary: 'Delete a webhook endpoint.',
    body: s.EmptyBody, response: s.WebhookResponse, successStatus: 200, idPattern: WEBHOOK_ID_PATTERN, otherErrors: { 429: ['too_many_requests'] },
  }),
  rotateWebhookSecret: route({
    operationId: 'rotateWebhookSecret', method: 'POST', path: '/v1/webhooks/{id}/rotate-secret', scope: 'keys:write',
    entry: 'functions/webhooks/rotate-secret.ts',
    summary: 'Issue a new signing secret; deliveries carry a signature for each valid secret during the overlap.',
    body: s.RotateWebhookSecretBody, response: s.WebhookWithSecretResponse, successStatus: 200, conflicts: ['rotation_in_progress'], idPattern: WEBHOOK_ID_PATTERN,
  }),
  testWebhook: route({
    operationId: 'testWebhook', method: 'POST', path: '/v1/webhooks/{id}/test', scope: 'keys:write', entry: 'functions/webhooks/test.ts',
    summary: 'Send a webhook.test event to the endpoint.', body: s.EmptyBody, response: s.TestDeliveryResponse, successStatus: 202, idPattern: WEBHOOK_ID_PATTERN,
  }),
  listWebhookDeliveries: route({
    operationId: 'listWebhookDeliveries', method: 'GET', path: '/v1/webhooks/{id}/deliveries', scope: 'keys:read',
    entry: 'functions/webhooks/deliveries.ts', summary: "The endpoint's deliveries and their attempts, newest first.",
    query: s.PageQuery, response: s.DeliveryListResponse, successStatus: 200, idPattern: WEBHOOK_ID_PATTERN,
  }),
  confirmEmail: route({
    operationId: 'confirmEmail', method: 'GET', path: '/v1/email-confirmations/{id}', scope: 'none', entry: 'functions/email-confirm.ts',
    summary: 'Confirm an address added to an alert list (the link of the confirmation email; no authentication). Using it again answers 200 again.',
    response: s.EmailConfirmationResponse, successStatus: 200, idPattern: /^[A-Za-z0-9_-]{43}$/,
  }),
  openapi: route({
    operationId: 'getOpenApi', method: 'GET', path: '/v1/openapi.json', scope: 'none', entry: 'functions/openapi.ts',
    summary: 'This OpenAPI document.', response: s.OpenApiResponse, successStatus: 200,
  }),
  reportLeaks: route({
    operationId: 'reportLeaks', method: 'POST', path: '/v1/leaks', scope: 'none', entry: 'functions/leaks-report.ts',
    summary: 'Report leaked rekey secrets (at most 100). Possession is the proof: a valid leaked secret is acted on at once.',
    description:
      'No API key. Rate-limited per source address (see README, "Leaked keys"): above the limit the answer is `429 too_many_requests`. ' +
      'Each result names the hint of the reported secret and what rekey did: `revoked`, `previous_expired`, `notified` or `unknown`.',
    body: s.LeakReportBody, response: s.LeakReportResponse, successStatus: 200,
    otherErrors: { 429: ['too_many_requests'] }, throttle: { rateLimit: 5, burstLimit: 10 }
  }),
  githubSecretScanning: route({
    operationId: 'githubSecretScanning', method: 'POST', path: '/v1/secret-scanning/github', scope: 'none', entry: 'functions/secret-scanning-github.ts',
    summary: "GitHub secret scanning partner endpoint: a signed batch of found tokens; answers GitHub's feedback array.",
    description:
      'No API key: the body must be signed by GitHub (`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`: ECDSA P-256 SHA-256, ' +
      "base64 DER, over the raw body bytes) with one of GitHub's published secret scanning keys. A missing or bad signature answers `401 unauthorized`.",
    body: s.GithubSecretScanningBody, response: s.GithubSecretScanningResponse, successStatus: 200,
    otherErrors: { 401: ['unauthorized'] }, rawBody: true, maxBodyBytes: 1024 * 1024, throttle: { rateLimit: 20, burstLimit: 40 }
  }),
  // ---- admin API (SPEC §9): AWS SigV4 (API Gateway AWS_IAM; the local gateway verifies it) ----
  adminCreateAccount: route({
    operationId: 'adminCreateAccount', method: 'POST', path: '/admin/v1/accounts', scope: 'operator', entry: 'functions/admin/accounts-create.ts',
    summary: 'Create an account, optionally with its first key (the secret is returned once).', body: s.CreateAccountBody,
    response: s.CreatedAccountResponse, successStatus: 201,
  }),
  adminListAccounts: route({
    operationId: 'adminListAccounts', method: 'GET', path: '/admin/v1/accounts', scope: 'operator', entry: 'functions/admin/accounts-list.ts',
    summary: 'List accounts, newest first.', query: s.PageQuery, response: s.AccountListResponse, successStatus: 200,
  }),
  adminGetAccount: route({
    operationId: 'adminGetAccount', method: 'GET', path: '/admin/v1/accounts/{accountId}', scope: 'operator', entry: 'functions/admin/accounts-get.ts',
    summary: 'Get one account.', response: s.AccountResponse, successStatus: 200,
  }),
  adminUpdateAccount: route({
    operationId: 'adminUpdateAccount', method: 'PATCH', path: '/admin/v1/accounts/{accountId}', scope: 'operator', entry: 'functions/admin/accounts-update.ts',
    summary: "Change an account's name, alert emails, allowed scopes or leak response.", body: s.UpdateAccountBody,
    response: s.AccountResponse, successStatus: 200,
  }),
  adminSuspendAccount: route({
    operationId: 'adminSuspendAccount', method: 'POST', path: '/admin/v1/accounts/{accountId}/suspend', scope: 'operator', entry: 'functions/admin/accounts-suspend.ts',
    summary: "Suspend an account: its keys are refused within authCacheTtlSeconds. Idempotent.", body: s.EmptyBody,
    response: s.AccountResponse, successStatus: 200,
  }),
  adminResumeAccount: route({
    operationId: 'adminResumeAccount', method: 'POST', path: '/admin/v1/accounts/{accountId}/resume', scope: 'operator', entry: 'functions/admin/accounts-resume.ts',
    summary: 'Resume a suspended account: its keys work again, unchanged, on the next request. Idempotent.', body: s.EmptyBody,
    response: s.AccountResponse, successStatus: 200,
  }),
  adminDeleteAccount: route({
    operationId: 'adminDeleteAccount', method: 'DELETE', path: '/admin/v1/accounts/{accountId}', scope: 'operator', entry: 'functions/admin/accounts-delete.ts',
    summary: 'Delete an account: every key revoked, digests purged after the reactivation window; the id is never reused.', body: s.EmptyBody,
    response: s.AccountResponse, successStatus: 200,
  }),
  // Every §3 route but whoami, acting for a given account (SPEC §9): the customer route's schemas
  // and conflicts, under /admin/v1/accounts/{accountId}, SigV4 only.
  adminCreateKey: forAccount(KEY_ROUTES.createKey, 'adminCreateKey', 'Create a key for the account; its secret is returned once.'),
  adminListKeys: forAccount(KEY_ROUTES.listKeys, 'adminListKeys', "List the account's keys, newest first, revoked included."),
  adminGetKey: forAccount(KEY_ROUTES.getKey, 'adminGetKey', 'Get one key of the account.'),
  adminUpdateKey: forAccount(KEY_ROUTES.updateKey, 'adminUpdateKey'),
  adminRotateKey: forAccount(KEY_ROUTES.rotateKey, 'adminRotateKey'),
  adminUpdateRotation: forAccount(KEY_ROUTES.updateRotation, 'adminUpdateRotation'),
  adminCancelRotation: forAccount(KEY_ROUTES.cancelRotation, 'adminCancelRotation'),
  adminRevokeKey: forAccount(KEY_ROUTES.revokeKey, 'adminRevokeKey'),
  adminReactivateKey: forAccount(KEY_ROUTES.reactivateKey, 'adminReactivateKey'),
  adminListKeyEvents: forAccount(KEY_ROUTES.listKeyEvents, 'adminListKeyEvents'),
  adminGetCustomerAccount: forAccount(KEY_ROUTES.getAccount, 'adminGetCustomerAccount', 'The account, as its own keys see it at GET /v1/account.'),
  adminPutAlertEmails: forAccount(KEY_ROUTES.putAlertEmails, 'adminPutAlertEmails', "Replace the account's alert emails (trusted as given)."),
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof ROUTES;
export const ROUTE_LIST: readonly RouteDef[] = Object.values(ROUTES);

/** Paths under this prefix are the admin API: SigV4 only (an API key never authenticates there). */
export const ADMIN_PREFIX = '/admin/';
export const isAdminPath = (path: string): boolean => path.startsWith(ADMIN_PREFIX) || path === '/admin';

/**
 * The one function every admin route shares in AWS (`functions/admin/index.ts` dispatches on the
 * route table); each route still has its own handler file, which local mode calls directly.
 */
export const ADMIN_FUNCTION_ENTRY = 'functions/admin/index.ts';

/** Entries that are not HTTP routes. */
export const FUNCTION_ENTRIES = {
  authorizer: 'functions/authorizer.ts',
  timer: 'functions/timer.ts',
  outboxStream: 'functions/outbox-stream.ts',
  webhookDelivery: 'functions/webhooks/delivery.ts',
  notFound: 'functions/not-found.ts',
} as const;

/**
 * The entry of every function deployed in AWS: one per route outside the admin API, the one admin
 * function, and the triggers. What the npm package prebuilds (`scripts/build-package.ts`).
 */
export const DEPLOYED_ENTRIES: readonly string[] = [
  ...new Set([...ROUTE_LIST.filter((r) => r.scope !== 'operator').map((r) => r.entry), ADMIN_FUNCTION_ENTRY, ...Object.values(FUNCTION_ENTRIES)]),
];

/** Matches a concrete path against the table; `null` when no route has that path (404). */
export function matchRoute(method: string, path: string): { route: RouteDef; params: Record<string, string> } | { route: null; pathKnown: boolean } {
  let pathKnown = false;
  for (const r of ROUTE_LIST) {
    const params = matchPath(r.path, path);
    if (!params) continue;
    pathKnown = true;
    if (r.method === method) return { route: r, params };
  }
  return { route: null, pathKnown };
}

function matchPath(template: string, path: string): Record<string, string> | null {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (p[i] === '') return null;
      try {
        params[seg.slice(1, -1)] = decodeURIComponent(p[i]!);
      } catch {
        return null;
      }
    } else if (seg !== p[i]) return null;
  }
  return params;
}
