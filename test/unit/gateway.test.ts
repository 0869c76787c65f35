import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGateway, isAllowed, type AuthorizerPolicyResult, type DashboardSource, type ProxyHandlerFn } from '../../shared/local/gateway.js';
import { FUNCTION_ENTRIES, ROUTES } from '../../shared/http/routes.js';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../shared/adapters/sigv4.js';

const OPERATOR_KEY = { accessKeyId: 'RKLOUNITUNITUNITUNIT', secretAccessKey: 'unit-test-operator-secret-0123456789abcdef', region: 'us-east-1' };

const SECRET = 'rekey_live_k1_goodsecret';

function allow(methodArn: string): AuthorizerPolicyResult {
  return {
    principalId: 'k1',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }] },
    context: { keyId: 'k1', accountId: 'a1', environment: 'live', scopes: 'keys:read keys:write', slot: 'current', secretExpiresAt: 1700000000000 },
  };
}

describe('local gateway', () => {
  let server: Server;
  let base: string;
  let authEvents: APIGatewayRequestAuthorizerEvent[];
  let handlerCalls: { entry: string; event: APIGatewayProxyEvent }[];
  let authorizerImpl: (e: APIGatewayRequestAuthorizerEvent) => Promise<AuthorizerPolicyResult>;
  let handlerImpl: (entry: string, e: APIGatewayProxyEvent) => ReturnType<ProxyHandlerFn>;
  let dashboard: DashboardSource | undefined;
  let distDir: string;
  let tmp: string;
  /** What the gateway told the operator on stderr: captured, so expected failures are asserted, not printed. */
  let operatorErrors: string[];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'rekey-gw-'));
    distDir = join(tmp, 'dist');
    await mkdir(join(distDir, 'assets'), { recursive: true });
    await writeFile(join(tmp, 'outside.txt'), 'OUTSIDE');
    await writeFile(join(distDir, 'index.html'), '<!doctype html><title>rekey</title>');
    await writeFile(join(distDir, 'assets', 'app.js'), 'console.log(1)');
    server = createGateway({
      rootDir: process.cwd(),
      loadAuthorizer: async () => async (e) => {
        authEvents.push(e);
        return authorizerImpl(e);
      },
      loadHandler: async (entry) => async (e) => {
        handlerCalls.push({ entry, event: e });
        return handlerImpl(entry, e);
      },
      dashboard: () => dashboard ?? { kind: 'note', html: '<p>building</p>' },
      dashboardConfig: { maxTransitionSeconds: 3600 },
      operatorKey: () => OPERATOR_KEY,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    operatorErrors = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      operatorErrors.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '));
    });
    authEvents = [];
    handlerCalls = [];
    dashboard = undefined;
    authorizerImpl = async (e) => {
      const h = e.headers ?? {};
      const auth = h['Authorization'] ?? h['authorization'];
      if (auth !== `Bearer ${SECRET}`) throw new Error('Unauthorized');
      return allow(e.methodArn);
    };
    handlerImpl = async (entry) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry }) });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const authed = { Authorization: `Bearer ${SECRET}` };

  it('runs the authorizer with a REST REQUEST event, then the route handler with a payload 1.0 proxy event', async () => {
    const res = await fetch(`${base}/v1/keys/k%2D9/events?limit=5&cursor=a&cursor=b`, { headers: { ...authed, 'X-Custom': 'one' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ entry: ROUTES.listKeyEvents.entry });
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    expect(authEvents).toHaveLength(1);
    const a = authEvents[0]!;
    expect(a.type).toBe('REQUEST');
    expect(a.methodArn).toBe('arn:aws:execute-api:local:000000000000:local/local/GET/v1/keys/k%2D9/events');
    expect(a.headers?.['Authorization']).toBe(`Bearer ${SECRET}`);
    expect(a.httpMethod).toBe('GET');

    expect(handlerCalls).toHaveLength(1);
    const e = handlerCalls[0]!.event;
    expect(e.resource).toBe('/v1/keys/{id}/events');
    expect(e.path).toBe('/v1/keys/k%2D9/events');
    expect(e.httpMethod).toBe('GET');
    expect(e.pathParameters).toEqual({ id: 'k-9' });
    expect(e.queryStringParameters).toEqual({ limit: '5', cursor: 'b' });
    expect(e.multiValueQueryStringParameters).toEqual({ limit: ['5'], cursor: ['a', 'b'] });
    expect(e.headers['X-Custom']).toBe('one');
    expect(e.multiValueHeaders['X-Custom']).toEqual(['one']);
    expect(e.body).toBeNull();
    expect(e.isBase64Encoded).toBe(false);
    expect(e.requestContext.requestId).toBe(requestId);
    expect(e.requestContext.resourcePath).toBe('/v1/keys/{id}/events');
    expect(e.requestContext.httpMethod).toBe('GET');
    expect(e.requestContext.stage).toBe('local');
    expect(e.requestContext.identity.sourceIp).toBe('127.0.0.1');
    // API Gateway passes every context value as a string.
    expect(e.requestContext.authorizer).toEqual({
      principalId: 'k1',
      keyId: 'k1',
      accountId: 'a1',
      environment: 'live',
      scopes: 'keys:read keys:write',
      slot: 'current',
      secretExpiresAt: '1700000000000',
    });
  });

  it('answers 401 in the API error shape when the authorizer throws Unauthorized, without calling a handler', async () => {
    const res = await fetch(`${base}/v1/whoami`, { headers: { Authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
    expect(handlerCalls).toHaveLength(0);
  });

  it('answers 401 when the policy denies, or allows only another resource', async () => {
    authorizerImpl = async (e) => ({ ...allow(e.methodArn), policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' }] } });
    expect((await fetch(`${base}/v1/whoami`, { headers: authed })).status).toBe(401);
    authorizerImpl = async () => allow('arn:aws:execute-api:local:000000000000:local/local/GET/v1/account');
    expect((await fetch(`${base}/v1/whoami`, { headers: authed })).status).toBe(401);
    expect(handlerCalls).toHaveLength(0);
  });

  it('accepts a wildcard Allow that covers every method of the API', async () => {
    authorizerImpl = async (e) => ({ ...allow(e.methodArn), policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:local:000000000000:local/local/*' }] } });
    expect((await fetch(`${base}/v1/keys`, { method: 'POST', headers: authed, body: '{}' })).status).toBe(200);
  });

  it('authenticates before routing: an unknown route is 401 without a secret and goes to the not-found function with one', async () => {
    expect((await fetch(`${base}/v1/nope`)).status).toBe(401);
    expect(handlerCalls).toHaveLength(0);
    handlerImpl = async () => ({ statusCode: 404, body: JSON.stringify({ error: { code: 'not_found' } }) });
    const res = await fetch(`${base}/v1/nope/deeper`, { headers: authed });
    expect(res.status).toBe(404);
    expect(handlerCalls[0]!.entry).toBe(FUNCTION_ENTRIES.notFound);
    expect(handlerCalls[0]!.event.resource).toBe('/{proxy+}');
    expect(handlerCalls[0]!.event.pathParameters).toEqual({ proxy: 'v1/nope/deeper' });
  });

  it('sends a known path with an unsupported method to the not-found function too', async () => {
    handlerImpl = async () => ({ statusCode: 404, body: '{}' });
    const res = await fetch(`${base}/v1/whoami`, { method: 'DELETE', headers: authed });
    expect(res.status).toBe(404);
    expect(handlerCalls.map((c) => c.entry)).toEqual([FUNCTION_ENTRIES.notFound]);
  });

  it('answers 404 itself when the not-found function cannot be loaded', async () => {
    handlerImpl = async () => {
      throw new Error('boom');
    };
    const res = await fetch(`${base}/v1/nope`, { headers: authed });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect(operatorErrors).toEqual([expect.stringMatching(/^\[gateway\] not-found handler failed \(requestId [-0-9a-f]+\): Error: boom$/)]);
  });

  it('serves the OpenAPI route without running the authorizer', async () => {
    const res = await fetch(`${base}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(authEvents).toHaveLength(0);
    expect(handlerCalls[0]!.entry).toBe(ROUTES.openapi.entry);
    expect(handlerCalls[0]!.event.requestContext.authorizer).toBeNull();
  });

  it('hands a body up to 1 MiB to the handler unchanged', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(20_000) });
    const res = await fetch(`${base}/v1/keys`, { method: 'POST', headers: { ...authed, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(handlerCalls[0]!.event.body).toBe(body);
    expect(handlerCalls[0]!.event.headers['content-type']).toBe('application/json');
  });

  it('answers 413 itself above 1 MiB without calling the handler', async () => {
    const res = await fetch(`${base}/v1/keys`, { method: 'POST', headers: authed, body: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(handlerCalls).toHaveLength(0);
  });

  it('answers 413 for an oversized chunked upload (no content-length) too', async () => {
    const chunk = new Uint8Array(256 * 1024).fill(120);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${base}/v1/keys`, { method: 'POST', headers: authed, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(handlerCalls).toHaveLength(0);
  });

  /** Raw HTTP/1.1 over a socket: what the client writes and when, and every byte it reads back. */
  async function rawExchange(head: string, body: { size: number; chunk: number; waitFor100?: boolean }) {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let writeError: Error | undefined;
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', (e) => (writeError = e));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(head);
    if (body.waitFor100) {
      // A client honouring 100-continue waits for the interim answer (or a final one) first.
      await vi.waitFor(() => expect(received).toMatch(/^HTTP\/1\.1 (100|4\d\d)/), { timeout: 2000 });
      if (!received.startsWith('HTTP/1.1 100')) {
        await closed;
        return { received, receivedAtEndOfUpload: received, writeError, bodySent: false };
      }
    }
    const piece = Buffer.alloc(body.chunk, 120);
    for (let sent = 0; sent < body.size && !writeError; sent += body.chunk) {
      if (!socket.write(piece.subarray(0, Math.min(body.chunk, body.size - sent)))) await new Promise((r) => socket.once('drain', r));
      // A slow uploader: the server has every chance to answer (and hang up) mid-upload.
      if (sent % (body.chunk * 8) === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const receivedAtEndOfUpload = received;
    await vi.waitFor(() => expect(received).toMatch(/\r\n\r\n\{.*\}$/s), { timeout: 5000 });
    socket.end();
    await closed;
    return { received, receivedAtEndOfUpload, writeError, bodySent: true };
  }

  it('reads an oversized upload to its end before answering 413, so a slow uploader never gets EPIPE', async () => {
    const size = 3 * 1024 * 1024;
    const r = await rawExchange(
      `POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\nContent-Length: ${size}\r\n\r\n`,
      { size, chunk: 16 * 1024 },
    );
    expect(r.writeError).toBeUndefined();
    expect(r.receivedAtEndOfUpload).toBe('');
    expect(r.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.received).toContain('"payload_too_large"');
    expect(r.received.toLowerCase()).not.toContain('connection: close');
    expect(handlerCalls).toHaveLength(0);
  });

  it('answers 413 to Expect: 100-continue for an oversized body without asking for it, and closes', async () => {
    const r = await rawExchange(
      `POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\nContent-Length: ${3 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`,
      { size: 3 * 1024 * 1024, chunk: 16 * 1024, waitFor100: true },
    );
    expect(r.bodySent).toBe(false);
    expect(r.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.received.toLowerCase()).toContain('connection: close');
    expect(handlerCalls).toHaveLength(0);
  });

  it('says 100 Continue to Expect: 100-continue for a body within the limit, then hands it over', async () => {
    const r = await rawExchange(
      `POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n`,
      { size: 2000, chunk: 500, waitFor100: true },
    );
    expect(r.bodySent).toBe(true);
    expect(r.received).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(handlerCalls[0]!.event.body).toBe('x'.repeat(2000));
  });

  it('stops reading past 10 MiB: answers 413 and closes', async () => {
    // The client states the size and sends nothing: the answer cannot wait for the upload.
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(`POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SECRET}\r\nContent-Length: ${11 * 1024 * 1024}\r\n\r\n`);
    await new Promise<void>((r) => socket.on('close', () => r()));
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(handlerCalls).toHaveLength(0);
  });

  it('turns a throwing handler into a 500 internal_error without leaking the message', async () => {
    handlerImpl = async () => {
      throw new Error('secret internals at /srv/x.ts:12');
    };
    const res = await fetch(`${base}/v1/whoami`, { headers: authed });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe('internal_error');
    expect(text).not.toContain('internals');
    // The operator, not the client, sees what failed.
    expect(operatorErrors).toEqual([expect.stringMatching(/^\[gateway\] GET \/v1\/whoami failed .*Error: secret internals/)]);
  });

  it('turns a malformed handler result into a 500', async () => {
    handlerImpl = async () => undefined;
    expect((await fetch(`${base}/v1/whoami`, { headers: authed })).status).toBe(500);
    expect(operatorErrors).toEqual([expect.stringContaining('malformed proxy response')]);
  });

  it('treats an authorizer failure other than Unauthorized as a 500, never as allowed', async () => {
    authorizerImpl = async () => {
      throw new Error('store down');
    };
    const res = await fetch(`${base}/v1/whoami`, { headers: authed });
    expect(res.status).toBe(500);
    expect(handlerCalls).toHaveLength(0);
    expect(operatorErrors).toEqual([expect.stringContaining('Error: store down')]);
  });

  it('writes the handler status, headers and body back, and decodes base64 bodies', async () => {
    handlerImpl = async () => ({ statusCode: 201, headers: { 'x-thing': 'a', 'content-type': 'text/plain' }, body: Buffer.from('hello').toString('base64'), isBase64Encoded: true });
    const res = await fetch(`${base}/v1/whoami`, { headers: authed });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-thing')).toBe('a');
    expect(await res.text()).toBe('hello');
  });

  it('serves the dashboard note while no build exists', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('building');
  });

  it('serves built dashboard assets, falls back to index.html for app routes, and never leaves the build directory', async () => {
    dashboard = { kind: 'dir', dir: distDir };
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>rekey</title>');
    const js = await fetch(`${base}/assets/app.js`);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(await js.text()).toBe('console.log(1)');
    expect(await (await fetch(`${base}/keys/abc`)).text()).toContain('<title>rekey</title>');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    for (const p of ['/..%2foutside.txt', '/%2e%2e/outside.txt', '/assets/..%2f..%2foutside.txt', '/%2e%2e%2foutside.txt']) {
      const res = await fetch(`${base}${p}`);
      expect(res.status, p).toBe(404);
      expect(await res.text(), p).not.toContain('OUTSIDE');
    }
    expect(authEvents).toHaveLength(0);
  });

  it('serves the dashboard its config.json (the window policy) beside a built dashboard, so the page makes no failing request', async () => {
    dashboard = { kind: 'dir', dir: distDir };
    const res = await fetch(`${base}/config.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ maxTransitionSeconds: 3600 });
    expect(authEvents).toHaveLength(0);
  });

  it.each(['/admin/v1/nothing', '/admin/', '/admin'])(
    'treats %s as an admin API path: 401 without a signature or with an API key, the JSON 404 when signed, never the dashboard, never the authorizer',
    async (path) => {
      dashboard = { kind: 'dir', dir: distDir };
      for (const headers of [{}, authed]) {
        const res = await fetch(`${base}${path}`, { headers });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
      handlerImpl = async () => ({ statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'not_found' } }) });
      const url = new URL(base + path);
      const signer = new SignatureV4({ service: 'execute-api', region: OPERATOR_KEY.region, sha256: NodeSha256, credentials: OPERATOR_KEY });
      const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
      const { host: _host, ...headers } = signed.headers;
      const res = await fetch(url, { headers });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('<title>rekey</title>');
      expect(handlerCalls.map((c) => c.entry)).toEqual([FUNCTION_ENTRIES.notFound]);
      // The handler sees the operator as API Gateway's AWS_IAM would put it, and no authorizer context.
      expect(handlerCalls[0]!.event.requestContext.identity.userArn).toBe('local-operator');
      expect(handlerCalls[0]!.event.requestContext.authorizer).toBeNull();
      expect(authEvents).toHaveLength(0);
    },
  );

  it.each(['/v2/keys', '/v0', '/v1beta/keys', '/v9/x/y'])(
    'treats %s as an API path: 401 without credentials, the JSON 404 with them, never the dashboard HTML',
    async (path) => {
      dashboard = { kind: 'dir', dir: distDir };
      const anon = await fetch(`${base}${path}`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('content-type')).toBe('application/json');
      expect(((await anon.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      handlerImpl = async () => ({ statusCode: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'not_found' } }) });
      const authedRes = await fetch(`${base}${path}`, { headers: authed });
      expect(authedRes.status).toBe(404);
      expect(await authedRes.text()).not.toContain('<title>rekey</title>');
      expect(handlerCalls.map((c) => c.entry)).toEqual([FUNCTION_ENTRIES.notFound]);
    },
  );

  it.each(['/keys/abc', '/version', '/vx/keys', '/administrator', '/'])('lets %s fall back to the dashboard', async (path) => {
    dashboard = { kind: 'dir', dir: distDir };
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>rekey</title>');
  });
});

describe('isAllowed', () => {
  const arn = 'arn:aws:execute-api:local:000000000000:local/local/GET/v1/whoami';
  it('needs an Allow statement whose resource covers the method ARN', () => {
    expect(isAllowed({ Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: arn }] }, arn)).toBe(true);
    expect(isAllowed({ Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: arn.replace('GET', 'POST') }] }, arn)).toBe(false);
    expect(isAllowed({ Statement: [{ Action: 'execute-api:*', Effect: 'Allow', Resource: ['arn:aws:execute-api:local:*'] }] }, arn)).toBe(true);
    expect(isAllowed({ Statement: [] }, arn)).toBe(false);
    expect(isAllowed(undefined, arn)).toBe(false);
  });
  it('lets an explicit Deny win over an Allow', () => {
    expect(
      isAllowed(
        {
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' },
            { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: arn },
          ],
        },
        arn,
      ),
    ).toBe(false);
  });
});

describe('local gateway with CORS_ALLOWED_ORIGIN', () => {
  let server: Server;
  let base: string;
  let handled = 0;

  beforeAll(async () => {
    server = createGateway({
      rootDir: process.cwd(),
      corsAllowedOrigin: 'http://localhost:5173',
      loadAuthorizer: async () => async () => {
        throw new Error('Unauthorized');
      },
      loadHandler: async () => async () => {
        handled++;
        return { statusCode: 200, body: '{}' };
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('answers the preflight without the authorizer, like the CDK API', async () => {
    const res = await fetch(`${base}/v1/keys/abc/rotate`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(handled).toBe(0);
  });

  it('puts the allowed origin on its own 401 so the browser can read the error', async () => {
    const res = await fetch(`${base}/v1/whoami`, { headers: { origin: 'http://localhost:5173' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });
});
