/**
 * The local API gateway: turns each HTTP request into the event API Gateway (REST API, Lambda proxy
 * integration, payload 1.0) would send, runs the real authorizer first, then the route's real
 * handler. The route table (`shared/http/routes.ts`) drives it, as it drives the CDK API.
 *
 * Order of checks, as in AWS: the authorizer (401) → the route table (404, through the same
 * `functions/not-found.ts` the catch-all route uses in AWS) → the handler (scope, body size, input…).
 *
 * The admin API (`/admin/…`, SPEC §9) stands in for API Gateway's `AWS_IAM` authorization: the
 * request's SigV4 signature is verified against the operator key (`shared/adapters/sigv4.ts`;
 * none → 401, bad → 403), the rekey authorizer is never asked, and the handler sees the principal
 * in `requestContext.identity.userArn` (`local-operator`) as it would the IAM principal in AWS.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { FUNCTION_ENTRIES, isAdminPath, matchRoute } from '../http/routes.js';
import { verifySigV4, type OperatorKey } from '../adapters/sigv4.js';
import { errorBody } from '../http/errors.js';
import type { ErrorCode } from '../domain/errors.js';

/** Largest body the gateway reads at all; above it the gateway answers 413 itself (API Gateway's own cap is 10 MB). */
export const GATEWAY_MAX_BODY_BYTES = 1024 * 1024;

/**
 * How much of an oversized upload the gateway reads and throws away before answering 413. A client
 * that is still sending when the server closes the connection gets `EPIPE`/`ECONNRESET` instead of
 * the answer (Node's fetch and curl alike), so the 413 waits for the end of the upload, up to this
 * bound (API Gateway's own payload cap). Past it the gateway answers at once and closes: a client
 * sending more than 10 MiB to local mode is not one to wait for.
 */
export const GATEWAY_DRAIN_MAX_BYTES = 10 * 1024 * 1024;

/** What a REST `REQUEST` authorizer returns (an IAM policy and a context map). */
export interface AuthorizerPolicyResult {
  principalId: string;
  policyDocument: { Version?: string; Statement: { Action: string | string[]; Effect: string; Resource: string | string[] }[] };
  context?: Record<string, string | number | boolean | null | undefined>;
}

export type AuthorizerFn = ((event: APIGatewayRequestAuthorizerEvent, context: Context) => Promise<AuthorizerPolicyResult>) & {
  /** Drops the authorizer's cached record of a key (`shared/auth`); optional for stand-ins. */
  forget?: (keyId: string) => void;
};
export type ProxyHandlerFn = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult | undefined | void>;

/** Where the dashboard comes from: a directory of built assets, a short note while it is being built, or off. */
export type DashboardSource = { kind: 'dir'; dir: string } | { kind: 'note'; html: string };

export interface GatewayOptions {
  /** Repository root; route entries (`functions/x.ts`) are resolved against it. */
  readonly rootDir: string;
  /** Loads a Lambda entry's `handler`. Defaults to a cached dynamic `import()` of `<rootDir>/<entry>`. */
  readonly loadHandler?: (entry: string) => Promise<ProxyHandlerFn>;
  /** The authorizer. Defaults to the `handler` of `functions/authorizer.ts`. */
  readonly loadAuthorizer?: () => Promise<AuthorizerFn>;
  /** Current dashboard source; read on every request so it can change once a build finishes. */
  readonly dashboard?: () => DashboardSource;
  /**
   * The dashboard's `config.json` (as the CDK deployment writes it next to `index.html`): local mode
   * serves it so the page learns the deployment's window policy and loads without a failed request.
   */
  readonly dashboardConfig?: Readonly<Record<string, unknown>>;
  /** One line per request (method, path, status, ms). Never receives headers or bodies. */
  readonly log?: (line: string) => void;
  /** Stage name in events and ARNs. @default 'local' */
  readonly stage?: string;
  /**
   * The one origin allowed by CORS (`CORS_ALLOWED_ORIGIN`), as the CDK API configures it: preflight
   * `OPTIONS` answered without auth, and CORS headers on the gateway's own error answers.
   * @default none (same-origin only)
   */
  readonly corsAllowedOrigin?: string;
  /** The operator key admin requests must be signed with; without one every admin request is refused (401). */
  readonly operatorKey?: () => OperatorKey | null;
  /** Server clock for the signature's ±5 minute window (tests). @default Date.now */
  readonly now?: () => number;
}

/** The principal admin requests act as in local mode (in AWS: the caller's IAM principal ARN). */
export const LOCAL_OPERATOR_ID = 'local-operator';

/** The same lists as the CDK API's preflight configuration. */
export const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'x-api-key'];
export const CORS_ALLOW_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const API_ID = 'local';
const ACCOUNT_ID = '000000000000';
const REGION = 'local';

/** Creates (does not start) the gateway's HTTP server. */
export function createGateway(opts: GatewayOptions): Server {
  const stage = opts.stage ?? 'local';
  const handlers = new Map<string, Promise<ProxyHandlerFn>>();
  const loadHandler =
    opts.loadHandler ??
    ((entry: string) => {
      let p = handlers.get(entry);
      if (!p) {
        p = importHandler<ProxyHandlerFn>(opts.rootDir, entry);
        // A failed import (a file mid-edit) must not stick: the next request tries again.
        p.catch(() => handlers.delete(entry));
        handlers.set(entry, p);
      }
      return p;
    });
  let authorizer: Promise<AuthorizerFn> | undefined;
  const loadAuthorizer = () => {
    if (!authorizer) {
      authorizer = opts.loadAuthorizer ? opts.loadAuthorizer() : importHandler<AuthorizerFn>(opts.rootDir, FUNCTION_ENTRIES.authorizer);
      authorizer.catch(() => (authorizer = undefined));
    }
    return authorizer;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    handle(req, res, requestId)
      .catch((err: unknown) => {
        // Never a stack trace to the client; the operator sees it on stderr.
        console.error(`[gateway] ${req.method} ${safePath(req.url)} failed (requestId ${requestId}):`, err);
        if (!res.headersSent) sendError(res, 500, 'internal_error', 'Internal server error.', requestId);
        else res.destroy();
      })
      .finally(() => opts.log?.(`${req.method} ${safePath(req.url)} ${res.statusCode} ${Date.now() - started}ms`));
  };
  const server = createServer(onRequest);
  // `Expect: 100-continue` (curl sends it for large bodies): the gateway decides, in `readBody`,
  // whether the client may send its body; an oversized one is refused before a byte of it is sent.
  server.on('checkContinue', onRequest);
  // Slow or stalled clients must not hold a socket forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = parseUrl(req.url);
    if (!url) return sendError(res, 400, 'validation_error', 'Malformed request URL.', requestId);
    const path = url.pathname;

    if (!isApiPath(path)) {
      if (path === '/config.json' && opts.dashboardConfig && opts.dashboard?.().kind === 'dir') return serveJson(req, res, opts.dashboardConfig, requestId);
      return serveDashboard(req, res, path, opts.dashboard?.(), requestId);
    }
    const admin = isAdminPath(path);

    const cors = opts.corsAllowedOrigin;
    // The admin API is for the provider's servers, never a browser page: no CORS there.
    if (cors && !admin) {
      // Like API Gateway's gateway responses: the allowed origin on every answer of the API.
      res.setHeader('access-control-allow-origin', cors);
      res.setHeader('access-control-allow-headers', CORS_ALLOW_HEADERS.join(','));
      res.setHeader('vary', 'Origin');
      if (method === 'OPTIONS') {
        // API Gateway's preflight is a mock integration: no authorizer, no handler.
        res.statusCode = 204;
        res.setHeader('access-control-allow-methods', CORS_ALLOW_METHODS.join(','));
        res.setHeader('access-control-max-age', '600');
        return void res.end();
      }
    }

    const match = matchRoute(method, path);
    const route = match.route;
    const { headers, multiValueHeaders } = headerMaps(req.rawHeaders);
    const { single: queryStringParameters, multi: multiValueQueryStringParameters } = queryMaps(url.searchParams);
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    const now = Date.now();
    const baseContext = {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      stage,
      requestId,
      extendedRequestId: requestId,
      httpMethod: method,
      path: `/${stage}${path}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestTime: new Date(now).toUTCString(),
      requestTimeEpoch: now,
      resourceId: 'local',
      identity: identity(sourceIp, headers['User-Agent'] ?? headers['user-agent'] ?? null),
    };

    // Admin requests: the signature covers the body, so it is read (bounded) before authentication.
    let body: Buffer | 'too_large' | 'too_large_unread' | undefined;
    let operatorArn: string | null = null;
    let operatorAccessKey: string | null = null;
    if (admin) {
      body = await readBody(req, res, GATEWAY_MAX_BODY_BYTES, GATEWAY_DRAIN_MAX_BYTES);
      if (body === 'too_large' || body === 'too_large_unread') {
        if (body === 'too_large_unread') res.setHeader('connection', 'close');
        return sendError(res, 413, 'payload_too_large', `Request body is larger than ${GATEWAY_MAX_BODY_BYTES} bytes.`, requestId);
      }
      const key = opts.operatorKey?.() ?? null;
      const verdict = key
        ? await verifySigV4({ method, path, query: url.searchParams, headers: multiValueHeaders, body }, key, (opts.now ?? Date.now)())
        : ({ ok: false, status: 401, reason: 'no operator key' } as const);
      if (!verdict.ok) {
        return verdict.status === 401
          ? sendError(res, 401, 'unauthorized', 'Admin requests must be signed with AWS Signature Version 4 (service execute-api).', requestId)
          : sendError(res, 403, 'forbidden', 'The request signature is not valid: check the access key, secret, region, clock and body.', requestId);
      }
      operatorArn = LOCAL_OPERATOR_ID;
      operatorAccessKey = verdict.accessKeyId;
    }

    let authorizerContext: Record<string, string> | null = null;
    if (!admin && route?.scope !== 'none') {
      const authEvent: APIGatewayRequestAuthorizerEvent = {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${stage}/${method}${path}`,
        resource: route?.path ?? '/{proxy+}',
        path,
        httpMethod: method,
        headers,
        multiValueHeaders,
        pathParameters: route ? nullIfEmpty((match as { params: Record<string, string> }).params) : { proxy: path.slice(1) },
        queryStringParameters,
        multiValueQueryStringParameters,
        stageVariables: null,
        requestContext: { ...baseContext, resourcePath: route?.path ?? '/{proxy+}' } as APIGatewayRequestAuthorizerEvent['requestContext'],
      };
      const decision = await authorize(authEvent, requestId);
      if (decision.kind === 'deny') return sendError(res, 401, 'unauthorized', 'Missing or invalid API key.', requestId);
      authorizerContext = decision.context;
    }

    // Unknown routes (and a known path with another method) go to the same not-found function
    // API Gateway's catch-all `/{proxy+}` integration calls in AWS.
    const target: { entry: string; resource: string; params: Record<string, string> | null } = route
      ? { entry: route.entry, resource: route.path, params: nullIfEmpty((match as { params: Record<string, string> }).params) }
      : { entry: FUNCTION_ENTRIES.notFound, resource: '/{proxy+}', params: { proxy: path.slice(1) } };

    body ??= await readBody(req, res, GATEWAY_MAX_BODY_BYTES, GATEWAY_DRAIN_MAX_BYTES);
    if (body === 'too_large' || body === 'too_large_unread') {
      // Only when the rest of the upload was not read (never sent, or past the drain bound) is the
      // connection unusable; after a drained upload it stays open like any other.
      if (body === 'too_large_unread') res.setHeader('connection', 'close');
      return sendError(res, 413, 'payload_too_large', `Request body is larger than ${GATEWAY_MAX_BODY_BYTES} bytes.`, requestId);
    }

    const event: APIGatewayProxyEvent = {
      resource: target.resource,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters,
      multiValueQueryStringParameters,
      pathParameters: target.params,
      stageVariables: null,
      body: body.length > 0 ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: {
        ...baseContext,
        // What API Gateway's AWS_IAM authorization puts here for a signed request.
        ...(operatorArn ? { identity: { ...baseContext.identity, userArn: operatorArn, accessKey: operatorAccessKey } } : {}),
        resourcePath: target.resource,
        authorizer: authorizerContext,
      } as APIGatewayProxyEvent['requestContext'],
    };

    let result: APIGatewayProxyResult | undefined | void;
    try {
      const handler = await loadHandler(target.entry);
      result = await handler(event, lambdaContext(target.entry, requestId));
    } catch (err) {
      if (!route) {
        // Not-found function missing or broken: still answer like the catch-all would.
        console.error(`[gateway] not-found handler failed (requestId ${requestId}):`, err);
        return sendError(res, 404, 'not_found', 'No such route.', requestId);
      }
      throw err;
    }
    // The authorizer runs in this process: after a change to a key, drop its cached record so the
    // very next request sees the change (AWS guarantees grants at once and the rest within the TTL;
    // local mode is never staler than that, and last use and whoami's slot are exact at once).
    const changedKey = route && method !== 'GET' && target.params?.id;
    if (changedKey && result && result.statusCode >= 200 && result.statusCode < 300) (await loadAuthorizer()).forget?.(changedKey);
    writeResult(res, result, requestId);
  }

  async function authorize(
    event: APIGatewayRequestAuthorizerEvent,
    requestId: string,
  ): Promise<{ kind: 'allow'; context: Record<string, string> } | { kind: 'deny' }> {
    const fn = await loadAuthorizer();
    let result: AuthorizerPolicyResult;
    try {
      result = await fn(event, lambdaContext(FUNCTION_ENTRIES.authorizer, requestId));
    } catch (err) {
      // API Gateway's contract: throwing exactly "Unauthorized" is a 401; anything else is an
      // authorizer failure (a 500 there as here).
      if (err instanceof Error && err.message === 'Unauthorized') return { kind: 'deny' };
      throw err;
    }
    if (!result || !isAllowed(result.policyDocument, event.methodArn)) return { kind: 'deny' };
    // API Gateway hands the context to the integration with every value as a string.
    const context: Record<string, string> = { principalId: String(result.principalId) };
    for (const [k, v] of Object.entries(result.context ?? {})) {
      if (v !== undefined && v !== null) context[k] = String(v);
    }
    return { kind: 'allow', context };
  }
}

/**
 * SPEC §6: paths that start with `/v<digit>` or `/admin/` belong to the API (an unknown one answers
 * 401 without credentials and the JSON 404 with them, as API Gateway's catch-all does); only other
 * paths may fall back to the dashboard's HTML.
 */
export function isApiPath(path: string): boolean {
  return /^\/v\d/.test(path) || path === '/admin' || path.startsWith('/admin/');
}

/** Evaluates an authorizer's IAM policy for `execute-api:Invoke` on `methodArn`: an explicit Deny wins. */
export function isAllowed(policy: AuthorizerPolicyResult['policyDocument'] | undefined, methodArn: string): boolean {
  if (!policy || !Array.isArray(policy.Statement)) return false;
  let allowed = false;
  for (const st of policy.Statement) {
    const actions = ([] as string[]).concat(st.Action ?? []);
    const resources = ([] as string[]).concat(st.Resource ?? []);
    if (!actions.some((a) => wildcardMatch(a, 'execute-api:Invoke'))) continue;
    if (!resources.some((r) => wildcardMatch(r, methodArn))) continue;
    if (st.Effect === 'Deny') return false;
    if (st.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

/** IAM-style matching: `*` any run of characters, `?` one character. */
function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(value);
}

async function importHandler<T>(rootDir: string, entry: string): Promise<T> {
  const mod = (await import(pathToFileURL(resolve(rootDir, entry)).href)) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`${entry} does not export a handler function`);
  return mod.handler as T;
}

function parseUrl(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

/** The path for logs: query strings can carry anything, so they are dropped. */
function safePath(raw: string | undefined): string {
  return (raw ?? '/').split('?')[0]!.slice(0, 200);
}

/** API Gateway keeps header names as sent; `headers` holds the last value, `multiValueHeaders` all. */
export function headerMaps(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

function queryMaps(params: URLSearchParams): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of params) {
    single[k] = v;
    (multi[k] ??= []).push(v);
  }
  return Object.keys(single).length ? { single, multi } : { single: null, multi: null };
}

function nullIfEmpty(o: Record<string, string>): Record<string, string> | null {
  return Object.keys(o).length ? o : null;
}

function identity(sourceIp: string, userAgent: string | null) {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: sourceIp.replace(/^::ffff:/, ''),
    user: null,
    userAgent,
    userArn: null,
  };
}

function lambdaContext(entry: string, requestId: string): Context {
  const functionName = `rekey-local-${entry.replace(/^functions\//, '').replace(/\.ts$/, '')}`;
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Reads the body, up to `max` bytes. Past that it stops buffering and reports `too_large` once the
 * client has finished sending (the rest is read and discarded, never kept), so the client is
 * listening when the 413 comes. `too_large_unread` means the rest was not read: the client asked
 * `Expect: 100-continue` for an oversized body (it then never sends it), or the upload passed
 * `drainMax`; the caller must close the connection.
 */
function readBody(req: IncomingMessage, res: ServerResponse, max: number, drainMax: number): Promise<Buffer | 'too_large' | 'too_large_unread'> {
  const declared = Number(req.headers['content-length']);
  const expectsContinue = /100-continue/i.test(req.headers.expect ?? '');
  if (Number.isFinite(declared) && declared > max && (expectsContinue || declared > drainMax)) return Promise.resolve('too_large_unread');
  if (expectsContinue) res.writeContinue();
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (value: Buffer | 'too_large' | 'too_large_unread') => {
      if (settled) return;
      settled = true;
      resolvePromise(value);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > drainMax) return settle('too_large_unread');
      // Over `max`: keep reading (so the client can finish) but keep nothing.
      if (size > max) chunks.length = 0;
      else chunks.push(chunk);
    });
    req.on('end', () => settle(size > max ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
  });
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult | undefined | void, requestId: string): void {
  if (!result || typeof result !== 'object' || !Number.isInteger(result.statusCode)) {
    // API Gateway answers a malformed Lambda proxy response with an error of its own.
    console.error(`[gateway] handler returned a malformed proxy response (requestId ${requestId})`);
    return sendError(res, 500, 'internal_error', 'Internal server error.', requestId);
  }
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, String(v));
  for (const [k, vs] of Object.entries(result.multiValueHeaders ?? {})) res.setHeader(k, vs.map(String));
  const body = result.body === undefined || result.body === null ? '' : String(result.body);
  const buf = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  res.statusCode = result.statusCode;
  if (!res.hasHeader('content-type') && buf.length > 0) res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', buf.length);
  res.end(buf);
}

/** The API's error shape, for the answers the gateway gives itself. */
export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, requestId: string): void {
  const body = JSON.stringify(errorBody(code, message, requestId));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

function serveJson(req: IncomingMessage, res: ServerResponse, value: unknown, requestId: string): void {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return sendError(res, 404, 'not_found', 'No such route.', requestId);
  const body = JSON.stringify(value);
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(method === 'HEAD' ? undefined : body);
}

async function serveDashboard(req: IncomingMessage, res: ServerResponse, path: string, source: DashboardSource | undefined, requestId: string) {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return sendError(res, 404, 'not_found', 'No such route.', requestId);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  if (!source) return sendError(res, 404, 'not_found', 'No such route.', requestId);
  if (source.kind === 'note') {
    res.statusCode = path === '/' || path === '/index.html' ? 200 : 404;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    return void res.end(method === 'HEAD' ? undefined : source.html);
  }
  const root = resolve(source.dir);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return sendError(res, 404, 'not_found', 'No such file.', requestId);
  }
  let file = resolve(join(root, decoded));
  // Never serve anything outside the dashboard's build directory.
  if (file !== root && !file.startsWith(root + sep)) return sendError(res, 404, 'not_found', 'No such file.', requestId);
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) {
    // Client-side routes (no extension) get the app; missing assets are a plain 404.
    if (extname(decoded) !== '') return sendError(res, 404, 'not_found', 'No such file.', requestId);
    file = join(root, 'index.html');
    info = await stat(file).catch(() => null);
    if (!info?.isFile()) return sendError(res, 404, 'not_found', 'No such file.', requestId);
  }
  const ext = extname(file).toLowerCase();
  res.statusCode = 200;
  res.setHeader('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
  res.setHeader('content-length', info.size);
  // Hashed assets can be cached; index.html must be re-read so a rebuild shows up.
  res.setHeader('cache-control', ext === '.html' ? 'no-cache' : 'public, max-age=3600');
  if (method === 'HEAD') return void res.end();
  await new Promise<void>((resolvePromise, reject) => {
    const stream = createReadStream(file);
    stream.on('error', reject);
    res.on('close', () => resolvePromise());
    stream.pipe(res);
  });
}
