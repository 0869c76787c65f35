/** Real API Gateway REST (payload 1.0) proxy events, as the management API's Lambdas receive them. */
import { resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Caller } from '../../shared/domain/types.js';
import { matchRoute, ROUTES } from '../../shared/http/routes.js';

export interface EventInit {
  method: string;
  path: string;
  body?: string | object | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  caller?: (Caller & { secretExpiresAt?: number | null }) | null;
}

export function restEvent(init: EventInit): APIGatewayProxyEvent {
  const match = matchRoute(init.method, init.path);
  const resource = match.route ? match.route.path : '/{proxy+}';
  const params = match.route ? match.params : { proxy: init.path.slice(1) };
  const body = init.body === undefined || init.body === null ? null : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const headers = { 'Content-Type': 'application/json', Host: 'api.example.test', ...(init.headers ?? {}) };
  const c = init.caller;
  return {
    resource,
    path: init.path,
    httpMethod: init.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: init.query ?? null,
    multiValueQueryStringParameters: init.query ? Object.fromEntries(Object.entries(init.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(params).length ? params : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'mgmtapi01',
      authorizer: c
        ? {
            principalId: c.keyId,
            keyId: c.keyId,
            accountId: c.accountId,
            environment: c.environment,
            scopes: c.scopes.join(' '),
            slot: c.slot,
            secretExpiresAt: c.secretExpiresAt ? String(c.secretExpiresAt) : '',
            integrationLatency: 3,
          }
        : null,
      protocol: 'HTTP/1.1',
      httpMethod: init.method,
      identity: { sourceIp: '203.0.113.9', userAgent: 'vitest' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/v1${init.path}`,
      stage: 'v1',
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'abc123',
      resourcePath: resource,
    },
  };
}

export const lambdaContext = { awsRequestId: 'lambda-req', functionName: 'test', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

/** Routes' real Lambda handlers, by route name. */
export type RouteHandlers = Record<string, (e: unknown, c: unknown) => Promise<APIGatewayProxyResult>>;

/** Imports the handler of every route of the route table that needs a caller (and of the public ones with `withPublic`). */
export async function loadRouteHandlers(opts: { withPublic?: boolean } = {}): Promise<RouteHandlers> {
  const handlers: RouteHandlers = {};
  for (const [name, route] of Object.entries(ROUTES)) {
    if (route.scope === 'none' && !opts.withPublic) continue;
    handlers[name] = ((await import(/* @vite-ignore */ resolve(route.entry))) as { handler: never }).handler;
  }
  return handlers;
}

/** Sends `init` as API Gateway would to the handler of its route; the answer's status, parsed body and headers. */
export async function callRoute(handlers: RouteHandlers, init: EventInit) {
  const match = matchRoute(init.method, init.path);
  if (!match.route) throw new Error(`no route ${init.method} ${init.path}`);
  const name = Object.entries(ROUTES).find(([, r]) => r === match.route)![0];
  const res = await handlers[name]!(restEvent(init), lambdaContext);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary response JSON
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any>, headers: res.headers ?? {} };
}
