/**
 * The admin API (SPEC §9) end to end: local mode in a child process, requests signed for real with
 * AWS Signature Version 4 (the typed admin client, and the AWS SDK's signer directly for the
 * forged cases) against the operator key the instance generated into its data directory.
 * `AUTH_CACHE_TTL_SECONDS=1`: a suspension may take up to the TTL; a resume must work at once.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RekeyAdminClient } from '../../client/admin.js';
import { RekeyApiError } from '../../client/index.js';
import { NodeSha256, type OperatorKey } from '../../shared/adapters/sigv4.js';
import { startLocal, type LocalInstance } from './harness.js';

const AUTH_TTL_S = 1;

let inst: LocalInstance;
let key: OperatorKey;
let admin: RekeyAdminClient;

beforeAll(async () => {
  inst = await startLocal({ env: { AUTH_CACHE_TTL_SECONDS: String(AUTH_TTL_S) } });
  key = JSON.parse(readFileSync(join(inst.dataDir, 'operator.json'), 'utf8')) as OperatorKey;
  admin = new RekeyAdminClient({ baseUrl: inst.baseUrl, region: key.region, credentials: key });
}, 60_000);

afterAll(async () => {
  await inst?.dispose();
});

interface Res {
  status: number;
  body: { error?: { code: string; message: string; requestId: string; details?: { field: string }[] } } & Record<string, unknown>;
}

/** A request signed with the SDK signer, optionally with a wrong secret, a shifted clock or a swapped body. */
async function signed(
  method: string,
  path: string,
  opts: { body?: string; sendBody?: string; secret?: string; at?: Date; region?: string; signHeaders?: 'no-host' } = {},
): Promise<Res> {
  const url = new URL(inst.baseUrl + path);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: opts.region ?? key.region,
    sha256: NodeSha256,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: opts.secret ?? key.secretAccessKey },
  });
  const headers: Record<string, string> = { host: url.host, 'content-type': 'application/json' };
  const query: Record<string, string> = Object.fromEntries(url.searchParams);
  const req = await signer.sign(
    { method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) },
    { signingDate: opts.at ?? new Date(), ...(opts.signHeaders === 'no-host' ? { unsignableHeaders: new Set(['host']) } : {}) },
  );
  const { host: _h, ...send } = req.headers as Record<string, string>;
  const body = opts.sendBody ?? opts.body;
  const res = await fetch(url, { method, headers: send, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

async function bearer(secret: string, method: string, path: string, body?: unknown): Promise<Res> {
  const res = await fetch(inst.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const whoami = (secret: string) => bearer(secret, 'GET', '/v1/whoami');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof RekeyApiError) return `${e.status} ${e.code}`;
    throw e;
  }
}

function expectErrorShape(res: Res, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
}

/** Polls until `check` holds, within `ms` (for changes SPEC §2 lets take up to the TTL). */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('admin API over HTTP with real SigV4 signatures', () => {
  it('the operator key is generated once into the data directory, mode 0600', () => {
    expect(statSync(join(inst.dataDir, 'operator.json')).mode & 0o777).toBe(0o600);
    expect(key).toEqual({ accessKeyId: expect.stringMatching(/^[A-Z0-9]{20}$/), secretAccessKey: expect.any(String), region: expect.any(String) });
  });

  it('every route works for the operator, and the audit trail names it', async () => {
    const created = await admin.createAccount({
      name: 'Acme',
      alertEmails: ['ops@acme.example'],
      allowedScopes: ['invoices:read'],
      leakResponse: 'notify',
      firstKey: { name: 'first', scopes: ['keys:read', 'keys:write'] },
    });
    expect(created.account).toMatchObject({ name: 'Acme', status: 'active', alertEmails: ['ops@acme.example'], allowedScopes: ['invoices:read'], leakResponse: 'notify' });
    expect(created.key).toMatchObject({ name: 'first', scopes: ['keys:read', 'keys:write'], environment: 'live' });
    const acc = created.account.id;
    expect((await whoami(created.secret!)).body).toMatchObject({ accountId: acc, keyId: created.key!.id });

    const bare = await admin.createAccount({ name: 'No key yet' });
    expect(bare.key).toBeUndefined();
    expect(bare.secret).toBeUndefined();
    expect(bare.account.alertEmails).toEqual([]);

    // Newest first, paginated.
    const first = await admin.listAccounts({ limit: 1 });
    expect(first.accounts.map((a) => a.id)).toEqual([bare.account.id]);
    const second = await admin.listAccounts({ limit: 1, cursor: first.nextCursor! });
    expect(second.accounts.map((a) => a.id)).toEqual([acc]);

    expect((await admin.getAccount(acc)).account.id).toBe(acc);
    expect((await admin.getCustomerAccount(acc)).account.id).toBe(acc);
    const patched = await admin.updateAccount(acc, { name: 'Acme Inc', allowedScopes: [], leakResponse: 'revoke', alertEmails: ['a@acme.example', 'b@acme.example'] });
    expect(patched.account).toMatchObject({ name: 'Acme Inc', allowedScopes: [], leakResponse: 'revoke', alertEmails: ['a@acme.example', 'b@acme.example'] });
    expect((await admin.putAlertEmails(acc, { alertEmails: ['ops@acme.example'] })).account.alertEmails).toEqual(['ops@acme.example']);
    // An address the customer adds waits for its confirmation (SPEC §10); the operator's are trusted
    // as given, in create, PATCH and PUT alike: the pending one joins the list without confirming.
    const asked = await bearer(created.secret!, 'PUT', '/v1/account/alert-emails', { alertEmails: ['ops@acme.example', 'new@acme.example'] });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ account: { alertEmails: ['ops@acme.example'], pendingEmails: ['new@acme.example'] } });
    const trusted = await admin.updateAccount(acc, { alertEmails: ['ops@acme.example', 'new@acme.example'] });
    expect(trusted.account).toMatchObject({ alertEmails: ['ops@acme.example', 'new@acme.example'], pendingEmails: [] });
    expect(created.account.pendingEmails).toEqual([]);
    expect((await admin.putAlertEmails(acc, { alertEmails: ['ops@acme.example'] })).account).toMatchObject({ alertEmails: ['ops@acme.example'], pendingEmails: [] });

    // The operator is not bound by delegation: any scope, either environment.
    const made = await admin.createKey(acc, { name: 'svc', scopes: ['reports:export', 'keys:write'], environment: 'test' });
    expect(made.key).toMatchObject({ environment: 'test', scopes: ['reports:export', 'keys:write'] });
    const id = made.key.id;
    expect((await admin.listKeys(acc)).keys.map((k) => k.id)).toEqual([id, created.key!.id]);
    expect((await admin.getKey(acc, id)).key.id).toBe(id);
    expect((await admin.updateKey(acc, id, { name: 'svc2', scopes: ['a:b'] })).key).toMatchObject({ name: 'svc2', scopes: ['a:b'] });
    const rotated = await admin.rotateKey(acc, id, { oldKeyExpiresInSeconds: 3600 });
    expect(rotated.key.rotation?.state).toBe('in_progress');
    expect((await whoami(rotated.secret)).body).toMatchObject({ keyId: id, slot: 'current' });
    expect((await whoami(made.secret)).body).toMatchObject({ keyId: id, slot: 'previous' });
    expect((await admin.updateRotation(acc, id, { oldKeyExpiresInSeconds: 60 })).key.rotation?.state).toBe('in_progress');
    expect((await admin.cancelRotation(acc, id)).key.rotation?.state).toBe('cancelled');
    expect((await admin.revokeKey(acc, id)).key.status).toBe('revoked');
    expect((await admin.reactivateKey(acc, id)).key.status).toBe('active');
    expect(await codeOf(admin.reactivateKey(acc, id))).toBe('409 key_not_revoked');

    const events = (await admin.listKeyEvents(acc, id)).events;
    expect(events.map((e) => e.type)).toEqual([
      'api_key.reactivated',
      'api_key.revoked',
      'api_key.rotation_cancelled',
      'api_key.rotation_updated',
      'api_key.rotated',
      'api_key.updated',
      'api_key.created',
    ]);
    for (const e of events) expect(e).toMatchObject({ actorKeyId: null, actor: { type: 'operator', id: 'local-operator' } });

    // A key's own change names the key, in both fields.
    await bearer(created.secret!, 'GET', '/v1/keys');
    const own = await admin.createKey(acc, { name: 'self', scopes: ['keys:write'] });
    await bearer(own.secret, 'PATCH', `/v1/keys/${own.key.id}`, { name: 'renamed' });
    const ownEvents = (await admin.listKeyEvents(acc, own.key.id)).events;
    expect(ownEvents[0]).toMatchObject({ type: 'api_key.updated', actorKeyId: own.key.id, actor: { type: 'key', id: own.key.id } });
  });

  it('input rules and the order of checks are those of SPEC §3', async () => {
    const before = (await admin.listAccounts({ limit: 100 })).accounts.length;
    const bad = await signed('POST', '/admin/v1/accounts', { body: JSON.stringify({ name: 'x', colour: 'red' }) });
    expectErrorShape(bad, 400, 'validation_error');
    expect(bad.body.error!.details!.map((d) => d.field)).toEqual(['colour']);
    expectErrorShape(await signed('POST', '/admin/v1/accounts', { body: JSON.stringify({ name: 'x', leakResponse: 'ignore' }) }), 400, 'validation_error');
    expectErrorShape(await signed('POST', '/admin/v1/accounts', { body: JSON.stringify({ name: 'x', firstKey: { scopes: ['BAD SCOPE'] } }) }), 400, 'validation_error');
    expectErrorShape(await signed('POST', '/admin/v1/accounts', { body: '{"name":' }), 400, 'invalid_json');
    expectErrorShape(await signed('POST', '/admin/v1/accounts', { body: JSON.stringify({ name: 'x'.repeat(17_000) }) }), 413, 'payload_too_large');
    expect((await admin.listAccounts({ limit: 100 })).accounts.length).toBe(before);

    // 400 before 404; unknown account 404; another account's key 404.
    expectErrorShape(await signed('PATCH', '/admin/v1/accounts/AAAAAAAAAAAAAAAA', { body: JSON.stringify({ name: '' }) }), 400, 'validation_error');
    expectErrorShape(await signed('GET', '/admin/v1/accounts/AAAAAAAAAAAAAAAA'), 404, 'not_found');
    expectErrorShape(await signed('GET', '/admin/v1/accounts/nope'), 404, 'not_found');
    const a = await admin.createAccount({ name: 'A', firstKey: {} });
    const b = await admin.createAccount({ name: 'B' });
    expect(await codeOf(admin.getKey(b.account.id, a.key!.id))).toBe('404 not_found');
    expect(await codeOf(admin.revokeKey(b.account.id, a.key!.id))).toBe('404 not_found');
    expect((await whoami(a.secret!)).status).toBe(200);
    // Unknown admin routes: 404 with a signature, 401 without.
    expectErrorShape(await signed('GET', '/admin/v1/nothing-here'), 404, 'not_found');
    expectErrorShape(await signed('PUT', '/admin/v1/accounts'), 404, 'not_found');
    const unsigned = await fetch(`${inst.baseUrl}/admin/v1/nothing-here`);
    expect(unsigned.status).toBe(401);
  });

  it('a wrong secret, a stale date, a tampered body or an unsigned host are 403 and change nothing', async () => {
    const { account } = await admin.createAccount({ name: 'Target' });
    const path = `/admin/v1/accounts/${account.id}`;
    const body = JSON.stringify({ name: 'Hijacked' });
    expectErrorShape(await signed('PATCH', path, { body, secret: 'x'.repeat(40) }), 403, 'forbidden');
    expectErrorShape(await signed('PATCH', path, { body, at: new Date(Date.now() - 6 * 60_000) }), 403, 'forbidden');
    expectErrorShape(await signed('PATCH', path, { body, at: new Date(Date.now() + 6 * 60_000) }), 403, 'forbidden');
    expectErrorShape(await signed('PATCH', path, { body: JSON.stringify({ name: 'Fine' }), sendBody: body }), 403, 'forbidden');
    expectErrorShape(await signed('PATCH', path, { body, region: 'eu-west-1' }), 403, 'forbidden');
    expectErrorShape(await signed('PATCH', path, { body, signHeaders: 'no-host' }), 403, 'forbidden');
    expectErrorShape(await signed('POST', `${path}/suspend`, { secret: 'y'.repeat(40) }), 403, 'forbidden');
    expect((await admin.getAccount(account.id)).account).toMatchObject({ name: 'Target', status: 'active' });
    // Within the skew window, the same request goes through.
    expect((await signed('PATCH', path, { body, at: new Date(Date.now() - 4 * 60_000) })).status).toBe(200);
  });

  it('an API key never authenticates an admin route, and a signature never authenticates /v1', async () => {
    const { account, secret } = await admin.createAccount({ name: 'Keys', firstKey: {} });
    for (const [method, path] of [
      ['GET', '/admin/v1/accounts'],
      ['GET', `/admin/v1/accounts/${account.id}`],
      ['POST', `/admin/v1/accounts/${account.id}/suspend`],
    ] as const) {
      expectErrorShape(await bearer(secret!, method, path), 401, 'unauthorized');
      const viaHeader = await fetch(inst.baseUrl + path, { method, headers: { 'x-api-key': secret! } });
      expect(viaHeader.status).toBe(401);
    }
    expectErrorShape(await signed('GET', '/v1/keys'), 401, 'unauthorized');
    expectErrorShape(await signed('POST', '/v1/keys', { body: JSON.stringify({ name: 'x' }) }), 401, 'unauthorized');
    expect((await admin.getAccount(account.id)).account.status).toBe('active');
  });

  it('suspend: the keys get 401 within the TTL; resume: they work on the very next request, unchanged', async () => {
    const { account, key: k, secret } = await admin.createAccount({ name: 'Suspended', firstKey: {} });
    const other = await admin.createKey(account.id, { name: 'second', environment: 'test', scopes: ['x:y'] });
    expect((await whoami(secret!)).status).toBe(200);
    expect((await whoami(other.secret)).status).toBe(200); // both cached now
    expect((await admin.suspendAccount(account.id)).account.status).toBe('suspended');
    expect((await admin.suspendAccount(account.id)).account.status).toBe('suspended'); // idempotent
    // Each key's cached record expires on its own schedule: both are refused within the TTL.
    await within(AUTH_TTL_S * 1000 + 1500, async () => (await whoami(secret!)).status === 401 && (await whoami(other.secret)).status === 401);
    expectErrorShape(await whoami(other.secret), 401, 'unauthorized');
    // The admin API still manages a suspended account's keys; a key made now is refused too.
    const late = await admin.createKey(account.id, { name: 'late' });
    expect((await whoami(late.secret)).status).toBe(401);

    expect((await admin.resumeAccount(account.id)).account.status).toBe('active');
    expect((await whoami(secret!)).body).toMatchObject({ keyId: k!.id, slot: 'current' });
    expect((await whoami(other.secret)).status).toBe(200);
    expect((await whoami(late.secret)).status).toBe(200);
    expect((await admin.resumeAccount(account.id)).account.status).toBe('active');
    expect((await admin.getKey(account.id, k!.id)).key).toMatchObject({ status: 'active', scopes: k!.scopes, currentSecret: { hint: k!.currentSecret.hint } });
  });

  it('concurrent suspend and rotate leave a consistent record', async () => {
    const { account, key: k, secret } = await admin.createAccount({ name: 'Race', firstKey: {} });
    const [suspended, rotated] = await Promise.all([admin.suspendAccount(account.id), admin.rotateKey(account.id, k!.id, { oldKeyExpiresInSeconds: 600 })]);
    expect(suspended.account.status).toBe('suspended');
    // Both changes stand: the rotation is on the record, and so is the suspension.
    const after = (await admin.getKey(account.id, k!.id)).key;
    expect(after.rotation).toMatchObject({ id: rotated.key.rotation!.id, state: 'in_progress' });
    expect(after.currentSecret.hint).toBe(rotated.key.currentSecret.hint);
    await within(AUTH_TTL_S * 1000 + 1500, async () => (await whoami(rotated.secret)).status === 401 && (await whoami(secret!)).status === 401);
    await admin.resumeAccount(account.id);
    expect((await whoami(rotated.secret)).body).toMatchObject({ slot: 'current' });
    expect((await whoami(secret!)).body).toMatchObject({ slot: 'previous' });
  });

  it('delete revokes every key, the account answers 404 and leaves the list', async () => {
    const { account, key: k, secret } = await admin.createAccount({ name: 'Gone', firstKey: {} });
    const second = await admin.createKey(account.id, { name: 'two' });
    const deleted = await admin.deleteAccount(account.id);
    expect(deleted.account.id).toBe(account.id);
    await within(AUTH_TTL_S * 1000 + 1500, async () => (await whoami(secret!)).status === 401 && (await whoami(second.secret)).status === 401);
    expect(await codeOf(admin.getAccount(account.id))).toBe('404 not_found');
    expect(await codeOf(admin.getKey(account.id, k!.id))).toBe('404 not_found');
    expect(await codeOf(admin.reactivateKey(account.id, k!.id))).toBe('404 not_found');
    expect(await codeOf(admin.deleteAccount(account.id))).toBe('404 not_found');
    const ids: string[] = [];
    for await (const a of admin.iterateAccounts(100)) ids.push(a.id);
    expect(ids).not.toContain(account.id);
  });
});
