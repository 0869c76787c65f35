/**
 * The middy stack every management route runs in. It applies SPEC §3's order of checks —
 * authentication (401) → scope, and the rotated-out rule (403) → body size (413) → JSON (400) → validation (400) — before the
 * route's function runs; the function then finds the key (404), checks the environment (403),
 * delegation (403) and the state (409). The route table's 404 for unknown routes is the gateway's (or not-found.ts).
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { ROTATED_OUT_MESSAGE, rotatedOutRefuses } from '../domain/authority.js';
import { ApiError, TooManyRequestsError, ValidationError, type ValidationIssue } from '../domain/errors.js';
import { KEY_ID_PATTERN } from '../domain/keyFormat.js';
import { ENVIRONMENTS, SCOPE_READ, SCOPE_WRITE, type Caller, type Environment, type Slot } from '../domain/types.js';
import { runtime as defaultRuntime, type Runtime } from '../runtime.js';
import { corsHeaders } from './cors.js';
import { errorBody, STATUS_BY_CODE } from './errors.js';
import type { RouteDef } from './routes.js';

/** Request bodies above this are refused with 413 (SPEC §3). */
export const MAX_BODY_BYTES = 16 * 1024;

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The authenticated caller plus the expiry of the secret it used (for whoami). */
export type AuthCaller = Caller & { readonly secretExpiresAt: number | null };

/** The admin API's caller: the IAM principal that signed the request (`local-operator` locally). */
export interface OperatorCaller {
  readonly operatorId: string;
}

export interface HttpRequest<R extends RouteDef> {
  readonly caller: R['scope'] extends 'none' ? AuthCaller | null : R['scope'] extends 'operator' ? OperatorCaller : AuthCaller;
  readonly body: Output<R['body']>;
  readonly query: Output<R['query']>;
  /** Path parameters; `id` is checked to be a well-formed key id (else 404). */
  readonly params: Record<string, string>;
  readonly requestId: string;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact body bytes received (signatures are over these, never over a re-serialization). */
  readonly rawBody: Buffer;
  /** The client's address as API Gateway saw it (`requestContext.identity.sourceIp`, not a header). */
  readonly sourceIp: string | null;
}

/** Reads the authorizer's context (all values are strings in REST API events). */
export function callerFrom(event: APIGatewayProxyEvent): AuthCaller | null {
  const a = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  if (!a || typeof a.keyId !== 'string' || typeof a.accountId !== 'string' || !a.keyId || !a.accountId) return null;
  const environment = a.environment as Environment;
  if (!ENVIRONMENTS.includes(environment)) return null;
  // Fail closed: a context without a known slot is no caller (the rotated-out rule depends on it).
  if (a.slot !== 'current' && a.slot !== 'previous') return null;
  const slot: Slot = a.slot;
  const scopes = typeof a.scopes === 'string' ? a.scopes.split(' ').filter(Boolean) : [];
  const exp = typeof a.secretExpiresAt === 'string' && /^\d+$/.test(a.secretExpiresAt) ? Number(a.secretExpiresAt) : null;
  return { keyId: a.keyId, accountId: a.accountId, environment, scopes, slot, secretExpiresAt: exp };
}

/**
 * The admin caller, from what API Gateway's `AWS_IAM` authorization puts in the request context
 * (the local gateway sets the same field after verifying the signature). Never from a header.
 */
export function operatorFrom(event: APIGatewayProxyEvent): OperatorCaller | null {
  const arn = event.requestContext?.identity?.userArn;
  return typeof arn === 'string' && arn.length > 0 ? { operatorId: arn } : null;
}

/** Admin path parameter `accountId`: the shape `ids.accountId()` makes. */
const ACCOUNT_ID_PATTERN = /^[0-9A-Za-z]{16}$/;

/** `keys:write` implies `keys:read`. */
export function hasScope(caller: Caller, scope: RouteDef['scope']): boolean {
  if (scope === 'any' || scope === 'none') return true;
  if (scope === 'operator') return false;
  if (scope === SCOPE_READ) return caller.scopes.includes(SCOPE_READ) || caller.scopes.includes(SCOPE_WRITE);
  return caller.scopes.includes(scope);
}

/** What a value of the wrong type must be instead, in the words of a validation message. */
const TYPE_WORDS: Partial<Record<string, string>> = {
  int: 'must be an integer',
  number: 'must be a number',
  string: 'must be a string',
  boolean: 'must be true or false',
  array: 'must be an array',
  object: 'must be an object',
};

/**
 * zod issues → `{field, message}` naming each offending field (unknown fields one by one). The schemas are parsed with `reportInput`, so a missing
 * value ("is required") is told apart from `null` and from a value of the wrong type.
 */
export function issuesOf(error: z.ZodError, root: string): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ field: base ? `${base}.${key}` : key, message: 'is not a known field' });
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push({ field: base || root, message: 'is required' });
    } else if (issue.code === 'invalid_type' && issue.input === null) {
      out.push({ field: base || root, message: 'must not be null' });
    } else if (issue.code === 'invalid_type') {
      out.push({ field: base || root, message: TYPE_WORDS[issue.expected] ?? issue.message });
    } else {
      out.push({ field: base || root, message: issue.message });
    }
  }
  return out;
}

function json(status: number, body: unknown, headers: Record<string, string>): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(body) };
}

function rawBodyOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function parseBody(route: RouteDef, raw: Buffer): unknown {
  // A GET ignores any body, as API Gateway would; a raw-body route parses after authenticating.
  if (!route.body || route.rawBody) return undefined;
  const text = raw.toString('utf8');
  let value: unknown = {}; // no body at all is read as `{}`: fine where nothing is required
  if (text.trim() !== '') value = parseJson(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError([{ field: 'body', message: 'must be a JSON object' }]);
  }
  return validateBody(route.body, value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('invalid_json', 'The request body is not valid JSON.');
  }
}

function validateBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error, 'body'));
  return parsed.data;
}

/**
 * JSON parsing and validation of a `rawBody` route's body, for its function to call once it has
 * authenticated the request: `invalid_json` or `validation_error` naming each field.
 */
export function parseJsonBody<S extends z.ZodType>(schema: S, raw: Buffer): z.output<S> {
  return validateBody(schema, parseJson(raw.toString('utf8')));
}

function parseQuery(route: RouteDef, event: APIGatewayProxyEvent): unknown {
  if (!route.query) return undefined;
  const multi = event.multiValueQueryStringParameters ?? {};
  const repeated = Object.entries(multi).filter(([, v]) => (v?.length ?? 0) > 1).map(([k]) => k);
  if (repeated.length) throw new ValidationError(repeated.map((k) => ({ field: k, message: 'must be given once' })));
  const parsed = route.query.safeParse({ ...(event.queryStringParameters ?? {}) }, { reportInput: true });
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error, 'query'));
  return parsed.data;
}

/**
 * Wraps a route's function in the middy stack. `fn` receives validated input and returns the
 * response body; its status is the route's `successStatus`. Every error becomes the SPEC's error
 * body; an unexpected one is logged and answered with a generic 500.
 */
export function httpHandler<R extends RouteDef>(
  route: R,
  fn: (req: HttpRequest<R>, rt: Runtime) => Promise<unknown>,
  getRuntime: () => Runtime = defaultRuntime,
) {
  const core = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const rt = getRuntime();
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const headers: Record<string, string> = { 'x-request-id': requestId, ...corsHeaders(rt.config.corsAllowedOrigin) };
    try {
      let caller: AuthCaller | OperatorCaller | null;
      if (route.scope === 'operator') {
        // Admin routes: only the SigV4-authenticated principal; an API key's context never counts.
        caller = operatorFrom(event);
        if (!caller) throw new ApiError('unauthorized', 'An AWS Signature Version 4 signed request is required.');
      } else {
        const key = callerFrom(event);
        if (route.scope !== 'none' && !key) throw new ApiError('unauthorized', 'A valid API key is required.');
        if (key && !hasScope(key, route.scope)) throw new ApiError('forbidden', `This key lacks the scope ${route.scope}.`);
        // The scope step also holds SPEC §2's rotated-out rule: a previous secret reads, never writes.
        if (key && rotatedOutRefuses(key.slot, route.scope)) throw new ApiError('forbidden', ROTATED_OUT_MESSAGE);
        caller = key;
      }
      const rawBody = rawBodyOf(event);
      const maxBody = route.maxBodyBytes ?? MAX_BODY_BYTES;
      if (rawBody.length > maxBody) throw new ApiError('payload_too_large', `Request bodies are limited to ${maxBody} bytes.`);
      const body = parseBody(route, rawBody);
      const query = parseQuery(route, event);
      const params = { ...(event.pathParameters ?? {}) } as Record<string, string>;
      if (params.accountId !== undefined && !ACCOUNT_ID_PATTERN.test(params.accountId)) throw new ApiError('not_found', 'No such account.');
      if (params.id !== undefined && !(route.idPattern ?? KEY_ID_PATTERN).test(params.id)) {
        throw new ApiError('not_found', route.idPattern ? 'Not found.' : 'No such key.');
      }
      const sourceIp = event.requestContext?.identity?.sourceIp ?? null;
      const req = { caller, body, query, params, requestId, headers: { ...(event.headers ?? {}) }, rawBody, sourceIp };
      const result = await fn(req as HttpRequest<R>, rt);
      return json(route.successStatus, result, headers);
    } catch (err) {
      if (err instanceof ApiError) {
        const extra: Record<string, string> = err instanceof TooManyRequestsError ? { 'retry-after': String(err.retryAfterSeconds) } : {};
        return json(STATUS_BY_CODE[err.code], errorBody(err.code, err.message, requestId, err.details), { ...headers, ...extra });
      }
      rt.log.error('unhandled error', {
        route: route.operationId,
        requestId,
        error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
      });
      return json(500, errorBody('internal_error', 'Something went wrong on our side. Try again; if it persists, quote the request id.', requestId), headers);
    }
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(httpHeaderNormalizer()).handler(core);
}
