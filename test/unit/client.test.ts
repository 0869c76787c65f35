import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RekeyApiError, RekeyClient, RekeyNetworkError } from '../../client/index.js';
import { RekeyAdminClient, regionOfApiUrl } from '../../client/admin.js';
import { verifySigV4, type SigV4Result } from '../../shared/adapters/sigv4.js';
import { ROUTES } from '../../shared/http/routes.js';
import { STATUS_BY_CODE } from '../../shared/http/errors.js';

const SECRET = 'rekey_live_AAAAAAAAAAAAAAAA_clientTestSecret0000000000000000000000000000000';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
  /** The SigV4 verdict on the request as received, against {@link OPERATOR}. */
  sigv4: SigV4Result;
}

const OPERATOR = { accessKeyId: 'RKLOTESTTESTTESTTEST', secretAccessKey: 'operator-secret-operator-secret-0123456789', region: 'eu-west-1' };

/** Records each request; answers with whatever `reply` says (default: 200 echo). */
let server: Server;
let baseUrl: string;
let seen: Seen[];
let reply: (req: Seen) => { status: number; body: string; headers?: Record<string, string> };

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readAll(req).then(async (body) => {
      const url = new URL(req.url!, 'http://x');
      const headers: Record<string, string[]> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) (headers[req.rawHeaders[i]!] ??= []).push(req.rawHeaders[i + 1]!);
      const sigv4 = await verifySigV4({ method: req.method!, path: url.pathname, query: url.searchParams, headers, body: Buffer.from(body) }, OPERATOR, Date.now());
      const s: Seen = { method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'], body, sigv4 };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  reply = () => ({ status: 200, body: '{"ok":true}' });
});

const client = () => new RekeyClient({ baseUrl: `${baseUrl}/`, secret: SECRET });

describe('RekeyClient requests', () => {
  it('sends each operation to the method and path of the route table, with the bearer secret', async () => {
    const c = client();
    const id = 'AAAAAAAAAAAAAAAA';
    const calls: [keyof typeof ROUTES, () => Promise<unknown>][] = [
      ['createKey', () => c.createKey({ name: 'n' })],
      ['listKeys', () => c.listKeys()],
      ['getKey', () => c.getKey(id)],
      ['updateKey', () => c.updateKey(id, { name: 'm' })],
      ['rotateKey', () => c.rotateKey(id)],
      ['updateRotation', () => c.updateRotation(id, { oldKeyExpiresInSeconds: 0 })],
      ['cancelRotation', () => c.cancelRotation(id)],
      ['revokeKey', () => c.revokeKey(id)],
      ['reactivateKey', () => c.reactivateKey(id)],
      ['listKeyEvents', () => c.listKeyEvents(id)],
      ['getKeyUsage', () => c.getKeyUsage(id)],
      ['getAccount', () => c.getAccount()],
      ['putAlertEmails', () => c.putAlertEmails({ alertEmails: ['a@example.com'] })],
      ['whoami', () => c.whoami()],
      ['openapi', () => c.getOpenApi()],
      ['confirmEmail', () => c.confirmEmail(id)],
      ['createWebhook', () => c.createWebhook({ url: 'https://hooks.example.com/' })],
      ['listWebhooks', () => c.listWebhooks()],
      ['getWebhook', () => c.getWebhook(id)],
      ['updateWebhook', () => c.updateWebhook(id, { enabled: false })],
      ['deleteWebhook', () => c.deleteWebhook(id)],
      ['rotateWebhookSecret', () => c.rotateWebhookSecret(id)],
      ['testWebhook', () => c.testWebhook(id)],
      ['listWebhookDeliveries', () => c.listWebhookDeliveries(id)],
      ['reportLeaks', () => c.reportLeaks({ secrets: ['x'] })],
    ];
    // GitHub's partner endpoint is called by GitHub with its own signature, never by this client.
    expect(calls.map(([n]) => n).sort()).toEqual(Object.keys(ROUTES).filter((n) => n !== 'githubSecretScanning' && ROUTES[n as keyof typeof ROUTES].scope !== 'operator').sort());
    for (const [name, fn] of calls) {
      seen = [];
      await fn();
      const r = ROUTES[name];
      expect(seen[0]!.method, name).toBe(r.method);
      expect(seen[0]!.url, name).toBe(r.path.replace('{id}', id));
      expect(seen[0]!.authorization, name).toBe(r.scope === 'none' ? undefined : `Bearer ${SECRET}`);
    }
  });

  it('sends JSON bodies; rotate without options sends {}, cancel without options and revoke/reactivate send none', async () => {
    const c = client();
    await c.createKey({ name: 'billing', scopes: ['reports:read'], expiresAt: null });
    expect(JSON.parse(seen[0]!.body)).toEqual({ name: 'billing', scopes: ['reports:read'], expiresAt: null });
    expect(seen[0]!.contentType).toBe('application/json');
    await c.rotateKey('k');
    expect(seen[1]!.body).toBe('{}');
    await c.rotateKey('k', { oldKeyExpiresInSeconds: 3600 });
    expect(JSON.parse(seen[2]!.body)).toEqual({ oldKeyExpiresInSeconds: 3600 });
    await c.cancelRotation('k');
    await c.revokeKey('k');
    await c.reactivateKey('k');
    for (const s of seen.slice(3)) {
      expect(s.body).toBe('');
      expect(s.contentType).toBeUndefined();
    }
    await c.cancelRotation('k', { newKeyExpiresInSeconds: 60 });
    expect(JSON.parse(seen[6]!.body)).toEqual({ newKeyExpiresInSeconds: 60 });
  });

  it('encodes the id so it stays one path segment', async () => {
    await client().getKey('a/../b?c#d');
    expect(seen[0]!.url).toBe('/v1/keys/a%2F..%2Fb%3Fc%23d');
  });

  it('puts limit and cursor in the query string only when given', async () => {
    const c = client();
    await c.listKeys({ limit: 5, cursor: 'abc/+=' });
    await c.listKeyEvents('k', { cursor: 'x' });
    await c.listKeys({});
    expect(seen.map((s) => s.url)).toEqual(['/v1/keys?limit=5&cursor=abc%2F%2B%3D', '/v1/keys/k/events?cursor=x', '/v1/keys']);
  });

  it('iterateKeys follows nextCursor to the last page', async () => {
    reply = (s) => {
      const cursor = new URL(s.url, 'http://x').searchParams.get('cursor');
      const page = cursor === null ? { keys: [{ id: '1' }, { id: '2' }], nextCursor: 'p2' } : { keys: [{ id: '3' }], nextCursor: null };
      return { status: 200, body: JSON.stringify(page) };
    };
    const ids: string[] = [];
    for await (const k of client().iterateKeys(2)) ids.push(k.id);
    expect(ids).toEqual(['1', '2', '3']);
    expect(seen.map((s) => s.url)).toEqual(['/v1/keys?limit=2', '/v1/keys?limit=2&cursor=p2']);
  });
});

describe('RekeyClient errors', () => {
  it('throws RekeyApiError with status, code, message, requestId and details from the SPEC error body', async () => {
    reply = () => ({
      status: 400,
      body: JSON.stringify({ error: { code: 'validation_error', message: 'Invalid request: name: is required', requestId: 'req-9', details: [{ field: 'name', message: 'is required' }] } }),
    });
    const err = (await client().createKey({} as never).catch((e: unknown) => e)) as RekeyApiError;
    expect(err).toBeInstanceOf(RekeyApiError);
    expect(err).toMatchObject({ status: 400, code: 'validation_error', message: 'Invalid request: name: is required', requestId: 'req-9' });
    expect(err.details).toEqual([{ field: 'name', message: 'is required' }]);
    expect(err.isConflict()).toBe(false);
  });

  it('marks 409 codes as conflicts', async () => {
    reply = () => ({ status: 409, body: JSON.stringify({ error: { code: 'rotation_in_progress', message: 'busy', requestId: 'r' } }) });
    const err = (await client().rotateKey('k').catch((e: unknown) => e)) as RekeyApiError;
    expect(err.code).toBe('rotation_in_progress');
    expect(err.isConflict()).toBe(true);
  });

  it("maps an answer that is not rekey's (API Gateway's {message}, a proxy's HTML) to the code of its status", async () => {
    reply = () => ({ status: 403, body: '{"message":"Missing Authentication Token"}', headers: { 'x-amzn-requestid': 'gw-1' } });
    const e1 = (await client().whoami().catch((e: unknown) => e)) as RekeyApiError;
    expect(e1).toMatchObject({ status: 403, code: 'forbidden', message: 'Missing Authentication Token', requestId: 'gw-1' });
    reply = () => ({ status: 502, body: '<html>Bad gateway</html>' });
    const e2 = (await client().whoami().catch((e: unknown) => e)) as RekeyApiError;
    expect(e2).toMatchObject({ status: 502, code: 'internal_error' });
    reply = () => ({ status: 418, body: JSON.stringify({ error: { code: 'teapot', message: 'short and stout', requestId: 'r' } }) });
    const e3 = (await client().whoami().catch((e: unknown) => e)) as RekeyApiError;
    expect(e3).toMatchObject({ status: 418, code: 'internal_error', rawCode: 'teapot' });
  });

  it("keeps every code of the server's error table (limit_reached, key_exposed and too_many_requests were once lost)", async () => {
    for (const [code, status] of Object.entries(STATUS_BY_CODE)) {
      reply = () => ({ status, body: JSON.stringify({ error: { code, message: `m ${code}`, requestId: 'r' } }) });
      const err = (await client().whoami().catch((e: unknown) => e)) as RekeyApiError;
      expect(err, code).toBeInstanceOf(RekeyApiError);
      expect({ status: err.status, code: err.code, rawCode: err.rawCode }, code).toEqual({ status, code, rawCode: undefined });
    }
  });

  it('throws RekeyNetworkError, without the secret, when nothing answers', async () => {
    const err = (await new RekeyClient({ baseUrl: 'http://127.0.0.1:1', secret: SECRET }).whoami().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(RekeyNetworkError);
    expect(err).not.toBeInstanceOf(RekeyApiError);
    expect(err.message).toContain('GET /v1/whoami failed');
    expect(err.message).not.toContain(SECRET);
  });

  it('throws RekeyNetworkError on timeout and on a 2xx that is not JSON', async () => {
    reply = () => ({ status: 200, body: 'not json' });
    await expect(client().whoami()).rejects.toBeInstanceOf(RekeyNetworkError);
    const slow = (() => new Promise<Response>(() => {})) as typeof fetch;
    const c = new RekeyClient({ baseUrl, secret: SECRET, timeoutMs: 50, fetch: (u, init) => Promise.race([slow(u, init), new Promise<Response>((_, rej) => init!.signal!.addEventListener('abort', () => rej(init!.signal!.reason)))]) });
    const err = (await c.whoami().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(RekeyNetworkError);
    expect(err.message).toContain('timed out');
  });
});

describe('RekeyAdminClient', () => {
  const admin = () => new RekeyAdminClient({ baseUrl, region: OPERATOR.region, credentials: OPERATOR });
  const acc = 'BBBBBBBBBBBBBBBB';
  const id = 'AAAAAAAAAAAAAAAA';

  it('sends every admin operation to the route table, signed so that the local verifier accepts it', async () => {
    const c = admin();
    const calls: [keyof typeof ROUTES, () => Promise<unknown>][] = [
      ['adminCreateAccount', () => c.createAccount({ name: 'n', firstKey: {} })],
      ['adminListAccounts', () => c.listAccounts({ limit: 5, cursor: 'c/+ =' })],
      ['adminGetAccount', () => c.getAccount(acc)],
      ['adminUpdateAccount', () => c.updateAccount(acc, { name: 'm' })],
      ['adminSuspendAccount', () => c.suspendAccount(acc)],
      ['adminResumeAccount', () => c.resumeAccount(acc)],
      ['adminDeleteAccount', () => c.deleteAccount(acc)],
      ['adminCreateKey', () => c.createKey(acc, { name: 'k' })],
      ['adminListKeys', () => c.listKeys(acc)],
      ['adminGetKey', () => c.getKey(acc, id)],
      ['adminUpdateKey', () => c.updateKey(acc, id, { name: 'm' })],
      ['adminRotateKey', () => c.rotateKey(acc, id)],
      ['adminUpdateRotation', () => c.updateRotation(acc, id, { oldKeyExpiresInSeconds: 0 })],
      ['adminCancelRotation', () => c.cancelRotation(acc, id)],
      ['adminRevokeKey', () => c.revokeKey(acc, id)],
      ['adminReactivateKey', () => c.reactivateKey(acc, id)],
      ['adminListKeyEvents', () => c.listKeyEvents(acc, id)],
      ['adminGetCustomerAccount', () => c.getCustomerAccount(acc)],
      ['adminPutAlertEmails', () => c.putAlertEmails(acc, { alertEmails: ['a@example.com'] })],
    ];
    expect(calls.map(([n]) => n).sort()).toEqual(Object.values(ROUTES).filter((r) => r.scope === 'operator').map((r) => r.operationId).sort());
    for (const [name, fn] of calls) {
      seen = [];
      await fn();
      const r = ROUTES[name];
      expect(seen[0]!.method, name).toBe(r.method);
      expect(seen[0]!.url.split('?')[0], name).toBe(r.path.replace('{accountId}', acc).replace('{id}', id));
      expect(seen[0]!.authorization, name).toMatch(/^AWS4-HMAC-SHA256 Credential=RKLOTESTTESTTESTTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date/);
      expect(seen[0]!.sigv4, name).toEqual({ ok: true, accessKeyId: OPERATOR.accessKeyId });
    }
  });

  it('a signature with another secret is refused by the verifier', async () => {
    await new RekeyAdminClient({ baseUrl, region: OPERATOR.region, credentials: { ...OPERATOR, secretAccessKey: 'wrong-wrong-wrong-wrong-wrong-wrong-wrong' } }).getAccount(acc);
    expect(seen[0]!.sigv4).toMatchObject({ ok: false, status: 403 });
  });

  it('finds the region in an execute-api URL', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.eu-central-1.amazonaws.com/prod')).toBe('eu-central-1');
    expect(regionOfApiUrl('http://127.0.0.1:3000')).toBeUndefined();
  });
});
