/**
 * Issue 11's findings 1–4 and 6, as an attacker tried them, over HTTP against local mode (`npm
 * start`'s entry point in a child process). Each of these requests succeeded on v0.1.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyViewT } from '../../shared/http/schemas.js';
import { startLocal, type CreatedAccount, type LocalInstance } from './harness.js';

interface Res<T = Record<string, unknown>> {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary response JSON
  body: T & Record<string, any>;
}
type KeyRes = { key: KeyViewT; secret: string };

async function call<T = Record<string, unknown>>(inst: LocalInstance, secret: string | null, method: string, path: string, body?: unknown): Promise<Res<T>> {
  const headers: Record<string, string> = {};
  if (secret) headers.authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${inst.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Res<T>['body'] };
}

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

/** Every file and directory under `dir` with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory()) out.push(...modes(p));
  }
  return out;
}

describe('security over HTTP against local mode (issue 11)', () => {
  let dataDir: string;
  let inst: LocalInstance;
  let acct: CreatedAccount;
  let root: string;
  let forever: KeyRes;

  beforeAll(async () => {
    // A data directory that already existed, made with a permissive umask (finding 4).
    dataDir = mkdtempSync(join(tmpdir(), 'rekey-sec-'));
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'notes.txt'), 'left here earlier\n', { mode: 0o644 });
    mkdirSync(join(dataDir, 'outbox'), { mode: 0o755 });
    writeFileSync(join(dataDir, 'outbox', 'old.eml'), 'x', { mode: 0o644 });
    chmodSync(join(dataDir, 'outbox'), 0o755);
    chmodSync(join(dataDir, 'outbox', 'old.eml'), 0o644);
    inst = await startLocal({ dataDir, env: { AUTH_CACHE_TTL_SECONDS: '1' } });
    acct = await inst.createAccount({ name: 'Sec e2e', allowScopes: ['invoices:read'] });
    root = acct.secret;
    // Made before any maximum lifetime applies (finding 3, second part).
    forever = (await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'forever', scopes: ['keys:write'] })).body;
  }, 60_000);

  afterAll(async () => {
    await inst?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finding 1: the old secret cannot extend, cancel or re-rotate the rotation meant to retire it', async () => {
    const l = (await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'L', scopes: ['keys:write'] })).body;
    const rotated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${l.key.id}/rotate`, { oldKeyExpiresInSeconds: 3600 });
    const owner = rotated.body.secret;
    const old = l.secret;
    const extend = await call(inst, old, 'PATCH', `/v1/keys/${l.key.id}/rotation`, { oldKeyExpiresInSeconds: 259_200 });
    expect([extend.status, extend.body.error.code]).toEqual([403, 'forbidden']);
    expect(extend.body.error.message).toMatch(/rotated out/);
    expect((await call(inst, old, 'DELETE', `/v1/keys/${l.key.id}/rotation`)).status).toBe(403);
    expect((await call(inst, old, 'POST', `/v1/keys/${l.key.id}/rotate`, {})).status).toBe(403);
    // The owner's new secret still works and the window is unchanged.
    expect((await call(inst, owner, 'GET', '/v1/whoami')).body.slot).toBe('current');
    const key = (await call<KeyRes>(inst, owner, 'GET', `/v1/keys/${l.key.id}`)).body.key;
    expect(key.rotation?.oldKeyExpiresAt).toBe(rotated.body.key.rotation?.oldKeyExpiresAt);
    // Reads and whoami keep working with the old secret.
    expect((await call(inst, old, 'GET', '/v1/whoami')).body.slot).toBe('previous');
    expect((await call(inst, old, 'GET', `/v1/keys/${l.key.id}`)).status).toBe(200);
    // The owner ends the rotation.
    expect((await call(inst, owner, 'PATCH', `/v1/keys/${l.key.id}/rotation`, { oldKeyExpiresInSeconds: 0 })).status).toBe(200);
  });

  it('finding 2: a keys:write key cannot create or make itself a superuser', async () => {
    const l = (await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'short', scopes: ['keys:write'], expiresAt: inHours(1) })).body;
    const before = (await call<{ keys: KeyViewT[] }>(inst, root, 'GET', '/v1/keys?limit=100')).body.keys.length;
    const create = await call(inst, l.secret, 'POST', '/v1/keys', { name: 'god', scopes: ['keys:read', 'keys:write', 'billing:admin', 'payments:*'], expiresAt: null });
    expect([create.status, create.body.error.code]).toEqual([403, 'forbidden']);
    expect(create.body.error.details.map((d: { field: string }) => d.field)).toEqual(['scopes.2', 'scopes.3']);
    const self = await call(inst, l.secret, 'PATCH', `/v1/keys/${l.key.id}`, { expiresAt: null, scopes: ['keys:write', 'billing:admin'] });
    expect([self.status, self.body.error.details.map((d: { field: string }) => d.field)]).toEqual([403, ['scopes', 'expiresAt']]);
    expect((await call<{ keys: KeyViewT[] }>(inst, root, 'GET', '/v1/keys?limit=100')).body.keys.length).toBe(before);
    const me = (await call<KeyRes>(inst, root, 'GET', `/v1/keys/${l.key.id}`)).body.key;
    expect([me.scopes, me.expiresAt]).toEqual([['keys:write'], l.key.expiresAt]);
    // What the account allows (README's walkthrough scope) is fine, and so is renaming itself.
    expect((await call(inst, l.secret, 'POST', '/v1/keys', { name: 'billing-worker', scopes: ['invoices:read'] })).status).toBe(201);
    expect((await call(inst, l.secret, 'PATCH', `/v1/keys/${l.key.id}`, { name: 'renamed' })).status).toBe(200);
    // The account shows what the operator allowed.
    expect((await call(inst, root, 'GET', '/v1/account')).body.account).toMatchObject({ status: 'active', allowedScopes: ['invoices:read'] });
  });

  it('finding 2: the operator CLI sets allowed scopes with update-account', async () => {
    const r = await inst.admin(['update-account', '--account', acct.account.id, '--allow-scope', 'invoices:read', '--allow-scope', 'exports:run', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).account.allowedScopes).toEqual(['invoices:read', 'exports:run']);
    expect((await call(inst, root, 'POST', '/v1/keys', { name: 'exporter', scopes: ['exports:run'] })).status).toBe(201);
    const bad = await inst.admin(['update-account', '--account', acct.account.id, '--allow-scope', 'Not A Scope']);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('--allow-scope')]);
    expect((await inst.admin(['update-account', '--account', acct.account.id, '--no-allow-scope'])).code).toBe(0);
    expect((await call(inst, root, 'POST', '/v1/keys', { name: 'exporter 2', scopes: ['exports:run'] })).status).toBe(403);
    expect((await inst.admin(['update-account', '--account', acct.account.id, '--allow-scope', 'invoices:read'])).code).toBe(0);
  });

  it('finding 6: invisible characters in names are refused', async () => {
    for (const ch of ['\u200B', '\u200F', '\u061C', '\u00AD', '\uFEFF', '\u{E0041}']) {
      const res = await call(inst, root, 'POST', '/v1/keys', { name: `pay${ch}roll` });
      expect([res.status, res.body.error.details[0].field]).toEqual([400, 'name']);
    }
    expect((await call(inst, root, 'POST', '/v1/keys', { name: '👩‍💻 team' })).status).toBe(201);
  });

  it('finding 4: the data directory is 0700 and every file in it 0600, although it existed before with 0755/0644', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const entries = modes(dataDir);
    expect(entries.some((e) => e.path.endsWith('store.json'))).toBe(true);
    expect(entries.some((e) => e.path.includes(`${join(dataDir, 'dynamo')}/`))).toBe(true);
    for (const e of entries) expect([e.path, e.mode.toString(8)]).toEqual([e.path, e.dir ? '700' : '600']);
  });

  it('finding 4: the store refuses unsigned, wrongly signed and cross-origin requests, and serves only its own key', async () => {
    const { dynamoEndpoint, tableName } = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as { dynamoEndpoint: string; tableName: string };
    const target = (op: string) => ({ 'x-amz-target': `DynamoDB_20120810.${op}`, 'content-type': 'application/x-amz-json-1.0' });
    // v0.1: this unsigned UpdateItem moved a read-only key into another account with keys:write.
    const reader = (await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'reader', scopes: ['keys:read'] })).body;
    const hijack = await fetch(dynamoEndpoint, {
      method: 'POST',
      headers: target('UpdateItem'),
      body: JSON.stringify({
        TableName: tableName,
        Key: { pk: { S: `KEY#${reader.key.id}` }, sk: { S: 'KEY' } },
        UpdateExpression: 'SET accountId = :a, scopes = :s',
        ExpressionAttributeValues: { ':a': { S: 'attacker' }, ':s': { L: [{ S: 'keys:write' }] } },
      }),
    });
    expect(hijack.status).toBeGreaterThanOrEqual(400);
    expect(hijack.headers.get('access-control-allow-origin')).toBeNull();
    expect((await call(inst, reader.secret, 'GET', '/v1/whoami')).body).toMatchObject({ accountId: acct.account.id, scopes: ['keys:read'] });
    // A page on another origin: the preflight and the request itself are refused, with no CORS header.
    const preflight = await fetch(dynamoEndpoint, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target,content-type' },
    });
    expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([403, null]);
    const scan = await fetch(dynamoEndpoint, { method: 'POST', headers: { ...target('Scan'), origin: 'http://evil.example' }, body: JSON.stringify({ TableName: tableName }) });
    expect([scan.status, scan.headers.get('access-control-allow-origin')]).toEqual([403, null]);
    // Signed, but not with the store's key: refused.
    const region = 'us-east-1';
    const stranger = new DynamoDBClient({ endpoint: dynamoEndpoint, region, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x'.repeat(40) }, maxAttempts: 1 });
    await expect(stranger.send(new ListTablesCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    stranger.destroy();
    // With the key from the data directory: served.
    const key = JSON.parse(readFileSync(join(dataDir, 'store.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string; region: string };
    const own = new DynamoDBClient({ endpoint: dynamoEndpoint, region: key.region, credentials: key, maxAttempts: 1 });
    expect((await own.send(new ListTablesCommand({}))).TableNames).toContain(tableName);
    own.destroy();
  });

  it('finding 3: expiry cannot be walked past the maximum lifetime, and a key without expiry gets the bound on rotation', async () => {
    await inst.stop();
    inst = await startLocal({ dataDir, env: { AUTH_CACHE_TTL_SECONDS: '1', MAX_KEY_LIFETIME_SECONDS: '60' } });
    // Rotated after a restart under a maximum: no longer `expiresAt: null`.
    const rotated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${forever.key.id}/rotate`, { oldKeyExpiresInSeconds: 0 });
    expect(rotated.status).toBe(200);
    const created = Date.parse(rotated.body.key.currentSecret.createdAt);
    expect(Date.parse(rotated.body.key.expiresAt!)).toBe(created + 60_000);
    // A key changing its own expiry: refused outright (past `now + max` it is already a 400).
    const k = (await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'walker', scopes: ['keys:write'] })).body;
    const bound = Date.parse(k.key.currentSecret.createdAt) + 60_000;
    expect(Date.parse(k.key.expiresAt!)).toBe(bound);
    expect((await call(inst, k.secret, 'PATCH', `/v1/keys/${k.key.id}`, { expiresAt: new Date(bound - 10_000).toISOString() })).status).toBe(403);
    expect((await call(inst, k.secret, 'PATCH', `/v1/keys/${k.key.id}`, { expiresAt: new Date(bound + 30_000).toISOString() })).status).toBe(400);
    // Another key may shorten it, or extend it up to the bound, never past it.
    expect((await call(inst, root, 'PATCH', `/v1/keys/${k.key.id}`, { expiresAt: new Date(bound - 30_000).toISOString() })).status).toBe(200);
    const past = await call(inst, root, 'PATCH', `/v1/keys/${k.key.id}`, { expiresAt: new Date(bound + 1_000).toISOString() });
    expect([past.status, past.body.error.details[0].field]).toEqual([400, 'expiresAt']);
    expect((await call(inst, root, 'PATCH', `/v1/keys/${k.key.id}`, { expiresAt: new Date(bound).toISOString() })).status).toBe(200);
    expect(Date.parse((await call<KeyRes>(inst, root, 'GET', `/v1/keys/${k.key.id}`)).body.key.expiresAt!)).toBe(bound);
  }, 60_000);
});
