/**
 * API Gateway event shapes → `Verifier` → API Gateway responses.
 *
 * - REST API `TOKEN` and `REQUEST` events (and HTTP API payload 1.0): an IAM policy allowing
 *   `execute-api:Invoke` on every method of the API stage, or `throw new Error('Unauthorized')`, which
 *   API Gateway turns into a 401.
 * - HTTP API payload 2.0 events: a simple response `{ isAuthorized, context }`.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerResult,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { MAX_SECRET_LENGTH } from '../domain/keyFormat.js';
import type { PepperSource } from '../domain/ports.js';
import type { AuthMetrics } from './metrics.js';
import { emfMetrics } from './metrics.js';
import { Verifier, type RequestOrigin, type VerifierOptions, type VerifyResult } from './verifier.js';

/**
 * What the integration (and the management API's handlers, via `event.requestContext.authorizer`)
 * receives. All values are strings: API Gateway passes only scalars through.
 */
export interface AuthorizerContext {
  [name: string]: string;
  keyId: string;
  accountId: string;
  environment: string;
  /** Space separated. */
  scopes: string;
  /** `current` or `previous`. */
  slot: string;
  /** Expiry of the secret that authenticated the call, epoch ms as a string; `''` for none. */
  secretExpiresAt: string;
}

/** Every event shape the authorizer accepts. */
export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

export type AuthorizerResult =
  | (APIGatewayAuthorizerResult & { context: AuthorizerContext })
  | APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>
  | APIGatewaySimpleAuthorizerResult;

export type AuthorizerHandler = ((event: AuthorizerEvent, context?: unknown) => Promise<AuthorizerResult>) & {
  /** Writes every usage count this instance holds now and waits for the writes (tests, shutdown). */
  flushUsage(): Promise<void>;
  /**
   * Drops this instance's cached record of a key (see `Verifier.forget`). Only a process that also
   * serves the management API can know when to call it: local mode's gateway does, after a change.
   */
  forget(keyId: string): void;
};

/** The verifier's dependencies, with the pepper as a source read on the first request; `metrics` defaults to EMF lines on stdout. */
export interface AuthorizerDeps extends Pick<VerifierOptions, 'store' | 'usage' | 'policies' | 'clock' | 'metrics'> {
  /** Read once per cold start (retried on the next request if it fails). */
  readonly pepper: PepperSource;
  /** Extra `Verifier` tuning (tests). */
  readonly verifier?: Partial<Pick<VerifierOptions, 'recheckBurst' | 'recheckPerSecond' | 'sleep' | 'usageTimer' | 'usageFlushMs' | 'maxEntries' | 'maxNegativeEntries'>>;
}

/** API Gateway maps exactly this error message to `401 Unauthorized`. */
const UNAUTHORIZED = 'Unauthorized';

/** Secret from `Authorization: Bearer …` (scheme case-insensitive) or `x-api-key`; header names case-insensitive. */
export function secretFromHeaders(headers: Record<string, string | undefined> | null | undefined): string | undefined {
  if (headers == null) return undefined;
  let auth = headers.authorization ?? headers.Authorization;
  let apiKey = headers['x-api-key'] ?? headers['X-Api-Key'] ?? headers['X-API-Key'];
  if (auth === undefined || apiKey === undefined) {
    // Uncommon casing: one pass over the names (REST API keeps the client's casing).
    for (const name in headers) {
      if (name.length === 13 && auth === undefined && name.toLowerCase() === 'authorization') auth = headers[name];
      else if (name.length === 9 && apiKey === undefined && name.toLowerCase() === 'x-api-key') apiKey = headers[name];
    }
  }
  if (typeof auth === 'string' && auth.length > 0) {
    const bearer = bearerToken(auth);
    if (bearer !== undefined) return bearer;
  }
  return typeof apiKey === 'string' ? trimmed(apiKey) : undefined;
}

/** `Bearer <token>` → token; anything else → `undefined`. */
export function bearerToken(value: string): string | undefined {
  if (value.length > MAX_SECRET_LENGTH + 64) return value; // oversized: let the verifier reject it unparsed
  const v = value.trimStart();
  if (v.length < 8) return undefined;
  const sep = v.charCodeAt(6);
  if ((sep !== 32 && sep !== 9) || v.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  return v.slice(7).trim();
}

function trimmed(value: string): string {
  return value.length > MAX_SECRET_LENGTH + 64 ? value : value.trim();
}

/** `TOKEN` events carry the header value; accept it with or without the `Bearer` scheme. */
function secretFromToken(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  return bearerToken(token) ?? trimmed(token);
}

/**
 * `arn:aws:execute-api:region:account:apiId/stage/VERB/path` → `arn:…:apiId/stage/*`, so a policy that
 * API Gateway caches for this token serves every method and path of the stage.
 */
export function stageWildcardArn(methodArn: string): string {
  const colon = methodArn.lastIndexOf(':');
  if (colon < 0) return methodArn;
  const rest = methodArn.slice(colon + 1);
  const first = rest.indexOf('/');
  const second = first < 0 ? -1 : rest.indexOf('/', first + 1);
  if (first <= 0 || second < 0) return methodArn;
  return `${methodArn.slice(0, colon + 1)}${rest.slice(0, second)}/*`;
}

function contextOf(result: Extract<VerifyResult, { ok: true }>): AuthorizerContext {
  const r = result.record;
  return {
    keyId: r.id,
    accountId: r.accountId,
    environment: r.environment,
    scopes: r.scopes.join(' '),
    slot: result.slot,
    secretExpiresAt: result.secretExpiresAt === null ? '' : String(result.secretExpiresAt),
  };
}

function isV2(event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 {
  return (event as { version?: unknown }).version === '2.0';
}

/**
 * Builds the authorizer's Lambda handler. `deps` may be a function, called on the first request only,
 * so importing the module has no side effects and configuration errors surface as denies that are counted.
 */
export function createAuthorizerHandler(deps: AuthorizerDeps | (() => AuthorizerDeps)): AuthorizerHandler {
  let ready: Verifier | undefined;
  let starting: Promise<Verifier> | undefined;
  let metrics: AuthMetrics | undefined;

  const start = async (): Promise<Verifier> => {
    const d = typeof deps === 'function' ? deps() : deps;
    metrics = d.metrics ?? emfMetrics();
    const pepper = await d.pepper.get();
    ready = new Verifier({ ...d.verifier, store: d.store, usage: d.usage, pepper, policies: d.policies, clock: d.clock, metrics });
    return ready;
  };

  const verify = async (secret: string | undefined, origin: RequestOrigin | undefined): Promise<VerifyResult> => {
    let verifier = ready;
    if (verifier === undefined) {
      try {
        verifier = await (starting ??= start());
      } catch (err) {
        // Pepper (or configuration) unavailable: deny, count, and try again on the next request.
        starting = undefined;
        metrics ??= emfMetrics();
        metrics.storeFailure(err);
        metrics.outcome('store_error');
        metrics.afterRequest?.();
        return { ok: false, reason: 'store_error' };
      }
    }
    try {
      // Usage writes are never awaited here: the answer does not wait for bookkeeping.
      const result = await verifier.verify(secret, origin);
      metrics!.outcome(result.ok ? 'allowed' : result.reason);
      metrics!.afterRequest?.();
      return result;
    } catch (err) {
      // Unreachable by design (the verifier does not throw); a surprise must still deny, never allow.
      metrics!.storeFailure(err);
      metrics!.outcome('store_error');
      return { ok: false, reason: 'store_error' };
    }
  };

  const handler = async (event: AuthorizerEvent): Promise<AuthorizerResult> => {
    if (event === null || typeof event !== 'object') throw new Error(UNAUTHORIZED);
    if (isV2(event)) {
      const http = event.requestContext?.http;
      const result = await verify(secretFromHeaders(event.headers), { ip: http?.sourceIp ?? null, userAgent: http?.userAgent ?? null });
      return result.ok ? { isAuthorized: true, context: contextOf(result) } : { isAuthorized: false };
    }
    const secret = event.type === 'TOKEN' ? secretFromToken(event.authorizationToken) : secretFromHeaders(event.headers);
    // A TOKEN event carries only the token: its origin is unknown (null), never guessed.
    const identity = event.type === 'TOKEN' ? undefined : event.requestContext?.identity;
    const origin = identity === undefined ? undefined : { ip: identity.sourceIp ?? null, userAgent: identity.userAgent ?? null };
    const result = await verify(secret, origin);
    if (!result.ok) throw new Error(UNAUTHORIZED);
    const arn = typeof event.methodArn === 'string' ? event.methodArn : (event as { routeArn?: string }).routeArn;
    if (typeof arn !== 'string') throw new Error(UNAUTHORIZED);
    return {
      principalId: result.record.id,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcardArn(arn) }],
      },
      context: contextOf(result),
    };
  };
  return Object.assign(handler, {
    forget: (keyId: string) => ready?.forget(keyId),
    flushUsage: async () => {
      await ready?.usage.flushAll();
    },
  });
}
