/**
 * The OpenAPI 3.1 document of the management API, generated from the route table (`ROUTES`) and the
 * very zod schemas the handlers validate with, so the document cannot drift from the behaviour.
 *
 * Request schemas are converted in zod's `input` mode (what a client may send) and response schemas
 * in `output` mode (what the API returns). Every schema that carries `.meta({ id })` becomes a
 * component under `components/schemas` and is referenced with `$ref`.
 */
import { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { DEFAULT_POLICIES, type Policies } from '../domain/policies.js';
import { ROUTE_LIST, type RouteDef } from './routes.js';
import { ErrorResponse } from './schemas.js';

/** Options of {@link buildOpenApi}. */
export interface OpenApiOptions {
  /** Base URL of the deployed API (`servers[0].url`); omitted means relative to the document's host. */
  readonly serverUrl?: string;
  /** Deployment policies whose limits appear in the document. @default DEFAULT_POLICIES */
  readonly policies?: Policies;
}

type Json = Record<string, unknown>;

const COMPONENT_PREFIX = '#/components/schemas/';
const SHARED_PREFIX = `${COMPONENT_PREFIX}__shared#/$defs/`;

const ERROR_CODES_BY_STATUS = {
  400: ['validation_error', 'invalid_json'],
  401: ['unauthorized'],
  403: ['forbidden'],
  404: ['not_found'],
  413: ['payload_too_large'],
  500: ['internal_error'],
} as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed (`invalid_json`) or fails validation (`validation_error`, with `details`).',
  401: 'Missing, malformed, unknown, expired or revoked secret (`unauthorized`).',
  403: 'The key lacks the required scope, the secret has been rotated out (a previous secret cannot change anything), a test key acts on a live key, or the request gives scopes or changes fields the key may not delegate (`forbidden`, with `details` naming each).',
  404: "No such key in the caller's account (`not_found`).",
  409: 'The key is not in a state that allows this change.',
  429: 'Not now (`too_many_requests`): too many requests from this address (leak reports), or the resource is busy for a moment (a webhook endpoint whose disabled notice is being sent); retry after the `retry-after` seconds.',
  413: 'The request body is larger than 16 KiB (`payload_too_large`).',
  500: 'Unexpected failure (`internal_error`); retry later and quote the `requestId`.',
};

/**
 * Builds the OpenAPI 3.1 document. Pure and deterministic: the same inputs give the same document,
 * key order included, so the committed `openapi.json` can be compared with a fresh build.
 */
export function buildOpenApi(opts: OpenApiOptions = {}): Json {
  const policies = opts.policies ?? DEFAULT_POLICIES;

  const inputSchemas = new Set<z.ZodType>();
  const outputSchemas = new Set<z.ZodType>([ErrorResponse]);
  for (const r of ROUTE_LIST) {
    if (r.body) inputSchemas.add(r.body);
    outputSchemas.add(r.response);
  }
  const inputs = convert(inputSchemas, 'input');
  const outputs = convert(outputSchemas, 'output');
  // Limits that depend on the deployment describe what a client may send, so only requests get them.
  applyPolicies(inputs.components, policies);
  const components = mergeComponents(inputs.components, outputs.components);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTE_LIST) {
    const item = (paths[r.path] ??= {});
    if (pathParams(r.path).length > 0 && !item.parameters) {
      item.parameters = pathParams(r.path).map((name) => ({
        name,
        in: 'path',
        required: true,
        description: name === 'accountId' ? 'The account id.' : 'The key id (the 16 characters after the environment in the secret).',
        schema: { type: 'string', minLength: 1 },
      }));
    }
    item[r.method.toLowerCase()] = operation(r, inputs.refs, outputs.refs);
  }

  const doc: Json = {
    openapi: '3.1.0',
    info: {
      title: 'rekey management API',
      version: pkg.version,
      description: infoDescription(policies),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl.replace(/\/+$/, '') }] } : {}),
    tags: [
      { name: 'keys', description: 'Create, read, change, revoke and reactivate keys.' },
      { name: 'rotation', description: 'Rotate a key and manage the transition window.' },
      { name: 'account', description: "The caller's account and its alert addresses." },
      { name: 'meta', description: 'Who am I, and this document.' },
      { name: 'leaks', description: 'Report leaked secrets: GitHub secret scanning and anyone who finds one. No API key.' },
      {
        name: 'admin',
        description:
          "The provider's admin API (`/admin/v1`): accounts, and every key route acting for a given account. " +
          'Authenticated by AWS Signature Version 4 only (an API key never works here).',
      },
    ],
    paths,
    components: {
      schemas: components,
      responses: commonResponses(),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The key secret as `Authorization: Bearer <secret>`.',
        },
        apiKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: 'The key secret as `x-api-key: <secret>` (alternative to the bearer header).',
        },
        // API Gateway's own notation for IAM authorization in OpenAPI exports.
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          'x-amazon-apigateway-authtype': 'awsSigv4',
          description:
            'AWS Signature Version 4 for service `execute-api` (admin API only). In AWS: IAM credentials allowed `execute-api:Invoke` ' +
            'on the admin routes (stack output `OperatorPolicyArn`). Locally: the operator key in `<data dir>/operator.json`. ' +
            'No signature answers 401; a bad, stale (beyond ±5 min) or tampered one 403.',
        },
      },
    },
  };
  return doc;
}

/** The exact text written to `openapi.json`: 2-space indent and a trailing newline. */
export function serializeOpenApi(doc: Json): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

// ---- schema conversion -----------------------------------------------------------------------

interface Converted {
  /** Component schemas by id. */
  readonly components: Record<string, Json>;
  /** The `$ref` (or inline schema) of each converted root schema. */
  readonly refs: Map<z.ZodType, Json>;
}

/**
 * Converts a set of root schemas with zod's registry mode, which emits one entry per registered
 * schema and `$ref`s between them. Roots without an id get none and are inlined.
 */
function convert(roots: Set<z.ZodType>, io: 'input' | 'output'): Converted {
  const registry = z.registry<{ id: string }>();
  const refs = new Map<z.ZodType, Json>();
  const inline: z.ZodType[] = [];
  for (const schema of roots) {
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string') {
      registry.add(schema, { id });
      refs.set(schema, { $ref: COMPONENT_PREFIX + id });
    } else inline.push(schema);
  }
  const out = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'throw',
    uri: (id) => COMPONENT_PREFIX + id,
  }) as { schemas: Record<string, Json> };

  const components: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(out.schemas)) {
    if (id === '__shared') {
      // Schemas with an id that are only reached through others land in `__shared`; they are
      // components like any other.
      for (const [defId, def] of Object.entries((schema.$defs ?? {}) as Record<string, Json>)) components[defId] = clean(def);
    } else components[id] = clean(schema);
  }
  for (const schema of inline) {
    refs.set(schema, clean(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as Json));
  }
  return { components, refs };
}

/** Drops per-document keywords and turns `__shared` references into component references. */
function clean(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rewriteRefs(rest) as Json;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith(SHARED_PREFIX) ? COMPONENT_PREFIX + v.slice(SHARED_PREFIX.length) : rewriteRefs(v);
    }
    return out;
  }
  return value;
}

function mergeComponents(a: Record<string, Json>, b: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = { ...a };
  for (const [id, schema] of Object.entries(b)) {
    // One id must describe one shape; a schema used as both input and output must convert the same.
    if (id in out && JSON.stringify(out[id]) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI: schema "${id}" differs between its request and response forms; give one of them another id`);
    }
    out[id] = schema;
  }
  return Object.fromEntries(Object.entries(out).sort(([x], [y]) => x.localeCompare(y)));
}

/** Writes the deployment's limits into the schemas, where JSON Schema can express them. */
function applyPolicies(components: Record<string, Json>, policies: Policies): void {
  for (const schema of Object.values(components)) {
    const props = schema.properties as Record<string, Json> | undefined;
    if (!props) continue;
    const oldWindow = props.oldKeyExpiresInSeconds;
    if (oldWindow) {
      oldWindow.maximum = policies.maxTransitionSeconds;
      // Only rotate has a default window; changing the window always names it.
      if (!(schema.required as string[] | undefined)?.includes('oldKeyExpiresInSeconds')) oldWindow.default = policies.defaultTransitionSeconds;
    }
    // The domain holds a cancel's remaining life of the new secret to the same maximum.
    if (props.newKeyExpiresInSeconds) props.newKeyExpiresInSeconds.maximum = policies.maxTransitionSeconds;
    const expiresAt = props.expiresAt;
    if (expiresAt && policies.maxKeyLifetimeSeconds !== null) {
      expiresAt.description = `${String(expiresAt.description ?? '')} Must be within ${policies.maxKeyLifetimeSeconds} seconds from now in this deployment.`.trim();
    }
  }
}

// ---- operations -------------------------------------------------------------------------------

function operation(r: RouteDef, inputRefs: Map<z.ZodType, Json>, outputRefs: Map<z.ZodType, Json>): Json {
  const authenticated = r.scope !== 'none';
  const op: Json = {
    operationId: r.operationId,
    summary: r.summary,
    tags: [tagOf(r.path)],
    'x-required-scope': r.scope,
  };
  if (r.scope === 'operator') {
    op.description = scopeDescription(r.scope);
    op.security = [{ sigv4: [] }];
  } else if (authenticated) {
    op.description = scopeDescription(r.scope);
    // OpenAPI 3.1 lets non-OAuth requirements list the roles they need: the scope here.
    const roles = r.scope === 'any' ? [] : [r.scope];
    op.security = [{ bearerAuth: roles }, { apiKeyHeader: roles }];
  } else {
    op.description = r.description ?? 'No authentication.';
    op.security = [];
  }

  if (r.query) {
    const q = z.toJSONSchema(r.query, { target: 'draft-2020-12', io: 'input' }) as Json;
    const required = new Set((q.required as string[] | undefined) ?? []);
    op.parameters = Object.entries((q.properties ?? {}) as Record<string, Json>).map(([name, schema]) => ({
      name,
      in: 'query',
      required: required.has(name),
      description: QUERY_DESCRIPTIONS[name],
      schema: name === 'limit' ? { ...schema, default: 20 } : schema,
    }));
  }

  if (r.body) {
    const required = bodyRequired(r.body);
    op.requestBody = {
      ...(required ? {} : { description: 'Optional: `{}` or no body at all is accepted.' }),
      required,
      content: { 'application/json': { schema: inputRefs.get(r.body)! } },
    };
  }

  const responses: Json = {
    [String(r.successStatus)]: {
      description: r.summary,
      content: { 'application/json': { schema: outputRefs.get(r.response)! } },
    },
  };
  if (r.body) responses['400'] = { $ref: '#/components/responses/BadRequest' };
  else if (r.query) responses['400'] = errorResponse(400, ['validation_error']);
  if (authenticated) responses['401'] = { $ref: '#/components/responses/Unauthorized' };
  else if (r.otherErrors?.[401]) responses['401'] = errorResponse(401, r.otherErrors[401]);
  if (r.scope === 'keys:read' || r.scope === 'keys:write') responses['403'] = { $ref: '#/components/responses/Forbidden' };
  if (r.scope === 'operator') {
    responses['403'] = {
      ...errorResponse(403, ['forbidden']),
      description: 'The signature is not valid: wrong key or secret, region, a clock beyond ±5 minutes, or a body that does not match (`forbidden`).',
    };
  }
  if (pathParams(r.path).length > 0) responses['404'] = { $ref: '#/components/responses/NotFound' };
  if (r.conflicts?.length) responses['409'] = errorResponse(409, r.conflicts);
  if (r.body) responses['413'] = { $ref: '#/components/responses/PayloadTooLarge' };
  if (r.otherErrors?.[429]) responses['429'] = errorResponse(429, r.otherErrors[429]);
  responses['500'] = { $ref: '#/components/responses/InternalError' };
  op.responses = responses;
  return op;
}

const QUERY_DESCRIPTIONS: Record<string, string> = {
  limit: 'Page size, 1 to 100.',
  cursor: 'Opaque cursor from the previous page (`nextCursor`).',
};

function bodyRequired(schema: z.ZodType): boolean {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Json;
  const root = (json.$ref ? Object.values((json.$defs ?? {}) as Record<string, Json>)[0] : json) ?? json;
  return Array.isArray(root.required) && root.required.length > 0;
}

/** An error response whose `code` is narrowed to the codes this route can answer with. */
function errorResponse(status: number, codes: readonly string[]): Json {
  return {
    description: `${ERROR_DESCRIPTIONS[status]} Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: `${COMPONENT_PREFIX}Error` },
            { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: [...codes] } } } } },
          ],
        },
      },
    },
  };
}

function commonResponses(): Json {
  const names: Record<keyof typeof ERROR_CODES_BY_STATUS, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    413: 'PayloadTooLarge',
    500: 'InternalError',
  };
  const out: Json = {};
  for (const [status, name] of Object.entries(names)) {
    out[name] = errorResponse(Number(status), ERROR_CODES_BY_STATUS[Number(status) as keyof typeof names]);
  }
  return out;
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

function tagOf(path: string): string {
  if (path.startsWith('/admin/')) return 'admin';
  if (path === '/v1/leaks' || path.startsWith('/v1/secret-scanning/')) return 'leaks';
  if (path.includes('/rotat')) return 'rotation';
  if (path.startsWith('/v1/keys')) return 'keys';
  if (path.startsWith('/v1/account')) return 'account';
  return 'meta';
}

function scopeDescription(scope: RouteDef['scope']): string {
  if (scope === 'any') return 'Any valid secret, whatever its scopes.';
  if (scope === 'operator') return 'Admin API: AWS Signature Version 4 (`sigv4`); the operator is not bound by delegation.';
  if (scope === 'keys:read') return 'Requires scope `keys:read` (or `keys:write`, which implies it).';
  return 'Requires scope `keys:write`.';
}

function infoDescription(p: Policies): string {
  return [
    'Self-service API keys with zero-downtime rotation. Authenticate with `Authorization: Bearer <secret>` or `x-api-key: <secret>`.',
    'Errors are `{"error": {"code", "message", "requestId", "details"?}}`.',
    `This deployment: secret prefix \`${p.keyPrefix}\`, longest transition window ${p.maxTransitionSeconds} s (default ${p.defaultTransitionSeconds} s), ` +
      `restore window ${p.restoreWindowSeconds} s, reactivation window ${p.reactivationWindowSeconds} s, ` +
      `maximum key lifetime ${p.maxKeyLifetimeSeconds === null ? 'unlimited' : `${p.maxKeyLifetimeSeconds} s`}.`,
  ].join('\n\n');
}
