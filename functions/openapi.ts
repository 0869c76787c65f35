/**
 * `GET /v1/openapi.json`: the OpenAPI document, without authentication (the route's scope is
 * `none`, so neither the authorizer nor the scope check runs). Built once per cold start (per server
 * URL) from the deployment's policies, so the limits it states are this deployment's.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { buildOpenApi, serializeOpenApi } from '../shared/http/openapi.js';
import { errorBody } from '../shared/http/errors.js';
import { loadConfig, type Config } from '../shared/config.js';
import type { Log } from '../shared/domain/ports.js';
import { corsHeaders } from '../shared/http/cors.js';
import { createLog } from '../shared/log.js';

// A handful of server URLs at most (the API's own domain, perhaps a custom one); the cap keeps a
// client that varies the Host header from growing this map.
const MAX_CACHED = 8;

/** What the document needs: configuration and a logger, none of the runtime's AWS clients. */
export interface OpenApiDeps {
  readonly config: Pick<Config, 'apiUrl' | 'corsAllowedOrigin' | 'policies'>;
  readonly log: Log;
}

let fromEnv: OpenApiDeps | undefined;
/** Parsed on the first request, once per cold start. */
const depsFromEnv = (): OpenApiDeps => (fromEnv ??= { config: loadConfig(process.env), log: createLog() });

/** Builds the handler around a source of its dependencies (tests pass their own). */
export function createOpenApiHandler(getRuntime: () => OpenApiDeps = depsFromEnv) {
  const cache = new Map<string, string>();
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const rt = getRuntime();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId, ...corsHeaders(rt.config.corsAllowedOrigin) };
    try {
      const serverUrl = rt.config.apiUrl || serverUrlOf(event);
      const cacheKey = serverUrl ?? '';
      let body = cache.get(cacheKey);
      if (body === undefined) {
        body = serializeOpenApi(buildOpenApi({ serverUrl, policies: rt.config.policies }));
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(cacheKey, body);
      }
      return { statusCode: 200, headers: { ...headers, 'cache-control': 'public, max-age=300' }, body };
    } catch (err) {
      rt.log.error('openapi document failed', { requestId, error: err instanceof Error ? { name: err.name, message: err.message } : String(err) });
      return { statusCode: 500, headers, body: JSON.stringify(errorBody('internal_error', 'Something went wrong on our side.', requestId)) };
    }
  };
}

/** Lambda entry point (REST API proxy event, payload 1.0). */
export const handler = createOpenApiHandler();

/**
 * The API's base URL as the caller reached it, when API Gateway says: the domain plus whatever
 * precedes the route in the request path (the stage, or a custom domain's base path). `undefined`
 * (a server relative to the document) when the event has no domain, as in local mode, whose routes
 * sit at the root.
 */
export function serverUrlOf(event: APIGatewayProxyEvent): string | undefined {
  const ctx = event.requestContext as Partial<APIGatewayProxyEvent['requestContext']> | undefined;
  const domain = ctx?.domainName;
  const fullPath = ctx?.path;
  if (!domain || !fullPath || !event.path || !fullPath.endsWith(event.path)) return undefined;
  const prefix = fullPath.slice(0, fullPath.length - event.path.length).replace(/\/+$/, '');
  const host = domain.replace(/:\d+$/, '');
  const forwarded = headerOf(event, 'x-forwarded-proto');
  const proto = forwarded === 'http' || (!forwarded && (host === 'localhost' || host === '127.0.0.1')) ? 'http' : 'https';
  return `${proto}://${domain}${prefix}`;
}

function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name && v) return v.split(',')[0]!.trim();
  return undefined;
}
