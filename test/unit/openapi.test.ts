import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES } from '../../shared/domain/policies.js';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createOpenApiHandler, serverUrlOf } from '../../functions/openapi.js';
import { loadConfig } from '../../shared/config.js';
import { buildOpenApi, serializeOpenApi } from '../../shared/http/openapi.js';
import { ROUTE_LIST } from '../../shared/http/routes.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const doc = buildOpenApi() as Json;

function op(method: string, path: string): Json {
  const o = doc.paths[path]?.[method.toLowerCase()];
  if (!o) throw new Error(`no operation ${method} ${path}`);
  return o;
}

/** Follows a local `$ref` (`#/a/b`) to its target, or returns the value itself. */
function deref(value: Json): Json {
  if (typeof value.$ref !== 'string') return value;
  const target = value.$ref.slice(2).split('/').reduce((o: Json | undefined, k: string) => o?.[k], doc);
  if (!target) throw new Error(`unresolved $ref ${value.$ref}`);
  return target;
}

function collectRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document according to @seriousme/openapi-schema-validator', async () => {
    const validator = new Validator();
    const res = await validator.validate(structuredClone(doc));
    expect(res.errors).toBeUndefined();
    expect(res.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is rejected by the same validator when a required part is broken (the validator is not a no-op)', async () => {
    const broken = structuredClone(doc);
    broken.paths['/v1/keys'].post.responses = 'nothing';
    const res = await new Validator().validate(broken);
    expect(res.valid).toBe(false);
  });

  it('resolves every $ref inside the document', () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      expect(ref.startsWith('#/components/'), ref).toBe(true);
      expect(() => deref({ $ref: ref })).not.toThrow();
    }
  });

  it('has every route of the route table with its method, path, operationId and x-required-scope', () => {
    let count = 0;
    for (const r of ROUTE_LIST) {
      const o = op(r.method, r.path);
      expect(o.operationId).toBe(r.operationId);
      expect(o['x-required-scope']).toBe(r.scope);
      expect(o.responses[String(r.successStatus)]).toBeDefined();
      count++;
    }
    const inDoc = Object.values(doc.paths as Json).flatMap((item) => Object.keys(item).filter((k) => k !== 'parameters'));
    expect(inDoc).toHaveLength(count);
  });

  it('requires a secret (bearer or x-api-key) carrying the route scope on every authenticated route, and none on the document route', () => {
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components.securitySchemes.apiKeyHeader).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }));
    for (const r of ROUTE_LIST) {
      const o = op(r.method, r.path);
      if (r.scope === 'none') {
        expect(o.security).toEqual([]);
        // Public routes answer 401 only when they authenticate otherwise (GitHub's signature).
        if (r.otherErrors?.[401]) expect(deref(o.responses['401']).content['application/json'].schema.allOf[0]).toEqual({ $ref: '#/components/schemas/Error' });
        else expect(o.responses['401']).toBeUndefined();
      } else if (r.scope === 'operator') {
        // The admin API takes SigV4 only: an API key scheme there would be a lie.
        expect(o.security).toEqual([{ sigv4: [] }]);
        expect(o.responses['401']).toBeDefined();
        expect(deref(o.responses['403']).description).toMatch(/signature/);
      } else {
        const roles = r.scope === 'any' ? [] : [r.scope];
        expect(o.security).toEqual([{ bearerAuth: roles }, { apiKeyHeader: roles }]);
        expect(deref(o.responses['401']).content['application/json'].schema.allOf[0]).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(op('GET', '/v1/openapi.json').security).toEqual([]);
    expect(doc.components.securitySchemes.sigv4).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' }),
    );
  });

  it("lists each route's conflict codes under 409 and no 409 where the route has none", () => {
    for (const r of ROUTE_LIST) {
      const o = op(r.method, r.path);
      if (r.conflicts?.length) {
        const schema = o.responses['409'].content['application/json'].schema;
        expect(schema.allOf[1].properties.error.properties.code.enum).toEqual([...r.conflicts]);
      } else expect(o.responses['409']).toBeUndefined();
    }
  });

  it('documents 400 and 413 for routes with a body, 404 for routes with an id, 403 for scoped routes', () => {
    for (const r of ROUTE_LIST) {
      const o = op(r.method, r.path);
      expect(o.responses['413'] !== undefined, `${r.operationId} 413`).toBe(r.body !== undefined);
      expect(o.responses['400'] !== undefined, `${r.operationId} 400`).toBe(r.body !== undefined || r.query !== undefined);
      expect(o.responses['404'] !== undefined, `${r.operationId} 404`).toBe(r.path.includes('{'));
      expect(o.responses['403'] !== undefined, `${r.operationId} 403`).toBe(r.scope !== 'none' && r.scope !== 'any');
      expect(o.responses['500']).toBeDefined();
    }
    const bad = deref(op('POST', '/v1/keys').responses['400']).content['application/json'].schema;
    expect(bad.allOf[1].properties.error.properties.code.enum).toEqual(['validation_error', 'invalid_json']);
  });

  it('marks the body required only where a field is required; rotate, cancel, revoke and reactivate accept none', () => {
    expect(op('POST', '/v1/keys').requestBody.required).toBe(true);
    expect(op('PATCH', '/v1/keys/{id}/rotation').requestBody.required).toBe(true);
    expect(op('PUT', '/v1/account/alert-emails').requestBody.required).toBe(true);
    for (const [m, p] of [['POST', '/v1/keys/{id}/rotate'], ['DELETE', '/v1/keys/{id}/rotation'], ['POST', '/v1/keys/{id}/revoke'], ['POST', '/v1/keys/{id}/reactivate']] as const) {
      expect(op(m, p).requestBody.required, `${m} ${p}`).toBe(false);
    }
    expect(op('GET', '/v1/keys').requestBody).toBeUndefined();
  });

  it('describes requests as the handlers parse them: unknown fields refused, nullable expiresAt, name limits', () => {
    const create = doc.components.schemas.CreateKeyRequest;
    expect(create.additionalProperties).toBe(false);
    expect(create.required).toEqual(['name']);
    expect(create.properties.name).toEqual(expect.objectContaining({ minLength: 1, maxLength: 128 }));
    expect(create.properties.expiresAt.anyOf).toEqual(expect.arrayContaining([{ type: 'null' }]));
    expect(create.properties.scopes.maxItems).toBe(50);
    expect(doc.components.schemas.AlertEmailsRequest.properties.alertEmails.maxItems).toBe(20);
  });

  it('has query parameters limit (integer 1..100, default 20) and cursor on the list routes', () => {
    for (const path of ['/v1/keys', '/v1/keys/{id}/events']) {
      const params = op('GET', path).parameters as Json[];
      expect(params.map((p) => p.name)).toEqual(['limit', 'cursor']);
      expect(params[0]).toEqual(expect.objectContaining({ in: 'query', required: false }));
      expect(params[0]!.schema).toEqual({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    }
    expect(doc.paths['/v1/keys/{id}'].parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
  });

  it('references shared response components (Key inside KeyResponse) instead of copying them', () => {
    expect(doc.components.schemas.KeyResponse.properties.key).toEqual({ $ref: '#/components/schemas/Key' });
    expect(doc.components.schemas.Key.properties.currentSecret).toEqual({ $ref: '#/components/schemas/Secret' });
    expect(doc.components.schemas.__shared).toBeUndefined();
  });

  it("states the deployment's transition maximum and default window from the policies passed in", () => {
    expect(doc.components.schemas.RotateKeyRequest.properties.oldKeyExpiresInSeconds).toEqual(
      expect.objectContaining({ minimum: 0, maximum: DEFAULT_POLICIES.maxTransitionSeconds, default: 86_400 }),
    );
    const custom = buildOpenApi({
      policies: { ...DEFAULT_POLICIES, maxTransitionSeconds: 3600, defaultTransitionSeconds: 1800, maxKeyLifetimeSeconds: 7776000 },
      serverUrl: 'https://api.example.test/prod/',
    }) as Json;
    const s = custom.components.schemas;
    expect(s.RotateKeyRequest.properties.oldKeyExpiresInSeconds).toEqual(expect.objectContaining({ maximum: 3600, default: 1800 }));
    expect(s.UpdateRotationRequest.properties.oldKeyExpiresInSeconds.maximum).toBe(3600);
    expect(s.UpdateRotationRequest.properties.oldKeyExpiresInSeconds.default).toBeUndefined();
    expect(s.CancelRotationRequest.properties.newKeyExpiresInSeconds.maximum).toBe(3600);
    expect(s.CreateKeyRequest.properties.expiresAt.description).toContain('7776000 seconds');
    expect(custom.servers).toEqual([{ url: 'https://api.example.test/prod' }]);
    // The default build is not changed by a custom one (no shared mutable state).
    expect((buildOpenApi() as Json).components.schemas.RotateKeyRequest.properties.oldKeyExpiresInSeconds.maximum).toBe(259_200);
  });

  it('matches the committed openapi.json byte for byte', () => {
    const path = fileURLToPath(new URL('../../openapi.json', import.meta.url));
    const committed = readFileSync(path, 'utf8');
    const fresh = serializeOpenApi(buildOpenApi());
    if (committed !== fresh) {
      expect.fail('openapi.json is out of date with shared/http/schemas.ts and routes.ts: run `npm run openapi` and commit the result');
    }
    expect(JSON.parse(committed)).toEqual(doc);
  });
});

function event(over: { domainName?: string; path?: string; fullPath?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  return {
    resource: '/v1/openapi.json',
    path: over.path ?? '/v1/openapi.json',
    httpMethod: 'GET',
    headers: over.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      stage: 'prod',
      path: over.fullPath ?? '/prod/v1/openapi.json',
      ...(over.domainName ? { domainName: over.domainName } : {}),
      authorizer: null,
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

describe('GET /v1/openapi.json handler', () => {
  const log = { info: () => {}, warn: () => {}, error: () => {} };

  it("answers 200 application/json with the document built from the deployment's policies, without any caller", async () => {
    const config = loadConfig({ MAX_TRANSITION_SECONDS: '7200' });
    const handler = createOpenApiHandler(() => ({ config, log }));
    const res = await handler(event());
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(res.headers?.['x-request-id']).toBe('req-1');
    const body = JSON.parse(res.body) as Json;
    expect(body.openapi).toBe('3.1.0');
    expect(body.components.schemas.RotateKeyRequest.properties.oldKeyExpiresInSeconds.maximum).toBe(7200);
    expect(body.servers).toBeUndefined();
    expect((await new Validator().validate(body)).valid).toBe(true);
  });

  it('names API_URL as the server when it is set', async () => {
    const config = loadConfig({ API_URL: 'https://keys.example.test/' });
    const res = await createOpenApiHandler(() => ({ config, log }))(event({ domainName: 'abc.execute-api.eu-west-1.amazonaws.com' }));
    expect((JSON.parse(res.body) as Json).servers).toEqual([{ url: 'https://keys.example.test' }]);
  });

  it('derives the server from API Gateway\'s domain and stage when API_URL is not set', async () => {
    expect(serverUrlOf(event({ domainName: 'abc.execute-api.eu-west-1.amazonaws.com' }))).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/prod');
    expect(serverUrlOf(event({ domainName: 'api.example.test', fullPath: '/keys/v1/openapi.json' }))).toBe('https://api.example.test/keys');
    expect(serverUrlOf(event({ domainName: 'api.example.test', fullPath: '/v1/openapi.json' }))).toBe('https://api.example.test');
    // Local mode's gateway sets no domain: the server stays relative to the document.
    expect(serverUrlOf(event())).toBeUndefined();
    const config = loadConfig({});
    const res = await createOpenApiHandler(() => ({ config, log }))(event({ domainName: 'abc.execute-api.eu-west-1.amazonaws.com' }));
    expect((JSON.parse(res.body) as Json).servers).toEqual([{ url: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod' }]);
  });

  it('adds the CORS header for the configured dashboard origin', async () => {
    const config = loadConfig({ CORS_ALLOWED_ORIGIN: 'https://dash.example.test' });
    const res = await createOpenApiHandler(() => ({ config, log }))(event());
    expect(res.headers?.['access-control-allow-origin']).toBe('https://dash.example.test');
  });
});
