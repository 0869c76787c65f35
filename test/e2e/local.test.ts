/**
 * Local mode end to end: `npm start`'s entry point in a child process, driven over real HTTP.
 * The authorizer's record cache is 1 s here (`AUTH_CACHE_TTL_SECONDS=1`) so that changes that take
 * access away (revoke, cancel, a window set to 0), which SPEC §2 lets take up to the TTL, are
 * observed within the test's patience; changes that grant access are asserted on the very next request.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyViewT } from '../../shared/http/schemas.js';
import { envFromStackOutputs, optionOfField, parseCli, UsageError } from '../../shared/local/admin.js';
import { runAdmin, runMainToExit, startLocal, type CreatedAccount, type LocalInstance } from './harness.js';

const AUTH_TTL_S = 1;

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

async function call<T = Record<string, unknown>>(inst: LocalInstance, secret: string | null, method: string, path: string, body?: unknown): Promise<Res<T>> {
  const headers: Record<string, string> = {};
  if (secret) headers.authorization = `Bearer ${secret}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`${inst.baseUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed as T, text };
}

type Whoami = { keyId: string; slot: 'current' | 'previous'; secretExpiresAt: string | null };
type KeyRes = { key: KeyViewT; secret?: string };

const whoami = (inst: LocalInstance, secret: string) => call<Whoami>(inst, secret, 'GET', '/v1/whoami');

/** Polls until `check` passes (for changes the spec allows to take up to the cache TTL). */
async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = (AUTH_TTL_S + 2) * 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!check(last)) {
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

const sleepUntil = (iso: string, marginMs = 50) => new Promise((r) => setTimeout(r, Math.max(0, Date.parse(iso) - Date.now() + marginMs)));

describe('local mode over HTTP', () => {
  let inst: LocalInstance;
  let admin: CreatedAccount;
  let root: string;

  beforeAll(async () => {
    // Reminders 2 s before an old secret expires, so a short rotation shows the scheduler at work.
    inst = await startLocal({ env: { AUTH_CACHE_TTL_SECONDS: String(AUTH_TTL_S), REMINDER_LEAD_SECONDS: '2' } });
    admin = await inst.createAccount({ name: 'Acme e2e', alertEmails: ['ops@acme.example', 'dev@acme.example'], allowScopes: ['reports:read'] });
    root = admin.secret;
  }, 60_000);

  afterAll(async () => {
    await inst?.dispose();
  });

  it('prints where it listens and the command for a first key, and records itself in local.json', () => {
    expect(inst.output()).toContain(`${inst.baseUrl}/v1`);
    expect(inst.output()).toContain('npm run admin -- create-account --name');
    const info = JSON.parse(readFileSync(join(inst.dataDir, 'local.json'), 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({ port: inst.port, tableName: 'rekey' });
    expect(info.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(join(inst.dataDir, 'pepper'))).toBe(true);
  });

  it('create-account gives a live keys:read keys:write key whose secret authenticates as the current slot', async () => {
    expect(admin.account.alertEmails).toEqual(['ops@acme.example', 'dev@acme.example']);
    expect(admin.key).toMatchObject({ environment: 'live', scopes: ['keys:read', 'keys:write'], status: 'active' });
    expect(admin.secret).toMatch(/^rekey_live_/);
    const me = await whoami(inst, root);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ keyId: admin.key.id, accountId: admin.account.id, environment: 'live', slot: 'current', scopes: ['keys:read', 'keys:write'] });
    const acct = await call(inst, root, 'GET', '/v1/account');
    expect(acct.body).toMatchObject({ account: { id: admin.account.id, name: 'Acme e2e' } });
  });

  it('rejects a missing, malformed or unknown secret with 401 in the error shape', async () => {
    for (const secret of [null, 'nope', `${root.slice(0, -1)}${root.endsWith('A') ? 'B' : 'A'}`]) {
      const r = await call<{ error: { code: string; requestId: string } }>(inst, secret, 'GET', '/v1/whoami');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
      expect(r.body.error.requestId).toBeTruthy();
    }
    // An unknown API path (SPEC §6) is the API's 401 too, never the dashboard's page.
    const v2 = await call<{ error: { code: string } }>(inst, null, 'GET', '/v2/keys');
    expect([v2.status, v2.body.error.code]).toEqual([401, 'unauthorized']);
  });

  it('rotation: both secrets work during the window (current / previous), then only the new one', async () => {
    const created = await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'billing-worker', scopes: ['reports:read'] });
    expect(created.status).toBe(201);
    const oldSecret = created.body.secret!;
    const keyId = created.body.key.id;
    expect((await whoami(inst, oldSecret)).body).toMatchObject({ keyId, slot: 'current' });

    const rotated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 3 });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret!;
    expect(newSecret).not.toBe(oldSecret);
    const key = rotated.body.key;
    expect(key.id).toBe(keyId);
    expect(key.scopes).toEqual(['reports:read']);
    expect(key.rotation?.state).toBe('in_progress');
    const oldExpiry = key.rotation!.oldKeyExpiresAt;
    expect(Date.parse(oldExpiry) - Date.now()).toBeGreaterThan(1000);
    expect(Date.parse(oldExpiry) - Date.now()).toBeLessThanOrEqual(3000);

    // The new secret works on the very next request; the old one still works, as "previous".
    const asNew = await whoami(inst, newSecret);
    expect(asNew.status).toBe(200);
    expect(asNew.body).toMatchObject({ keyId, slot: 'current' });
    const asOld = await whoami(inst, oldSecret);
    expect(asOld.status).toBe(200);
    expect(asOld.body).toMatchObject({ keyId, slot: 'previous', secretExpiresAt: oldExpiry });

    // Rotating again while the old secret is valid is refused.
    const again = await call<{ error: { code: string } }>(inst, root, 'POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 60 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('rotation_in_progress');

    // Expiry is exact: no waiting for the cache once the second has passed.
    await sleepUntil(oldExpiry);
    expect((await whoami(inst, oldSecret)).status).toBe(401);
    expect((await whoami(inst, newSecret)).body).toMatchObject({ slot: 'current' });
    const after = await call<KeyRes>(inst, root, 'GET', `/v1/keys/${keyId}`);
    expect(after.body.key.rotation?.state).toBe('completed');

    // The local scheduler fired the reminder (2 s lead) and the expiry timer through the real timer handler.
    const events = await eventually(
      () => call<{ events: { type: string; at: string; actorKeyId: string | null }[] }>(inst, root, 'GET', `/v1/keys/${keyId}/events`),
      (r) => r.body.events.some((e) => e.type === 'api_key.old_secret_expired'),
      5000,
    );
    const types = events.body.events.map((e) => e.type);
    expect(types).toContain('api_key.rotation_reminder');
    expect(types).toContain('api_key.old_secret_expired');
    const reminder = await eventually(
      async () => (existsSync(join(inst.dataDir, 'outbox')) ? readdirSync(join(inst.dataDir, 'outbox')) : []).map((f) => readFileSync(join(inst.dataDir, 'outbox', f), 'utf8')),
      (mails) => mails.some((m) => m.includes('billing-worker') && m.includes('ops@acme.example')),
      5000,
    );
    expect(reminder.some((m) => m.includes('billing-worker'))).toBe(true);
    expect(reminder.join('\n')).not.toContain(oldSecret);
    expect(reminder.join('\n')).not.toContain(newSecret);
  });

  it('change window: extend, shorten, and 0 expires the old secret now', async () => {
    const created = await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'window' });
    const keyId = created.body.key.id;
    const oldSecret = created.body.secret!;
    const noRotation = await call<{ error: { code: string } }>(inst, root, 'PATCH', `/v1/keys/${keyId}/rotation`, { oldKeyExpiresInSeconds: 60 });
    expect(noRotation.status).toBe(409);
    expect(noRotation.body.error.code).toBe('no_rotation_in_progress');

    const rotated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 60 });
    const newSecret = rotated.body.secret!;

    const extended = await call<KeyRes>(inst, root, 'PATCH', `/v1/keys/${keyId}/rotation`, { oldKeyExpiresInSeconds: 7200 });
    expect(extended.status).toBe(200);
    const extendedBy = Date.parse(extended.body.key.rotation!.oldKeyExpiresAt) - Date.now();
    expect(extendedBy).toBeGreaterThan(7190_000);
    expect(extendedBy).toBeLessThanOrEqual(7200_000);
    expect(extended.body.key.previousSecret?.expiresAt).toBe(extended.body.key.rotation!.oldKeyExpiresAt);

    const shortened = await call<KeyRes>(inst, root, 'PATCH', `/v1/keys/${keyId}/rotation`, { oldKeyExpiresInSeconds: 30 });
    expect(Date.parse(shortened.body.key.rotation!.oldKeyExpiresAt) - Date.now()).toBeLessThanOrEqual(30_000);
    expect((await whoami(inst, oldSecret)).body).toMatchObject({ slot: 'previous' });

    const tooLong = await call<{ error: { code: string } }>(inst, root, 'PATCH', `/v1/keys/${keyId}/rotation`, { oldKeyExpiresInSeconds: 259_201 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('validation_error');

    const now = await call<KeyRes>(inst, root, 'PATCH', `/v1/keys/${keyId}/rotation`, { oldKeyExpiresInSeconds: 0 });
    expect(now.status).toBe(200);
    expect(now.body.key.rotation?.state).toBe('completed');
    expect((await eventually(() => whoami(inst, oldSecret), (r) => r.status === 401)).status).toBe(401);
    expect((await whoami(inst, newSecret)).status).toBe(200);
  });

  it('cancel in progress: the new secret stops and the old one is current again', async () => {
    const created = await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'cancel-me' });
    const keyId = created.body.key.id;
    const oldSecret = created.body.secret!;
    const nothing = await call<{ error: { code: string } }>(inst, root, 'DELETE', `/v1/keys/${keyId}/rotation`);
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.code).toBe('nothing_to_cancel');

    const rotated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 600 });
    const newSecret = rotated.body.secret!;
    expect((await whoami(inst, newSecret)).status).toBe(200);

    const cancelled = await call<KeyRes>(inst, root, 'DELETE', `/v1/keys/${keyId}/rotation`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.key.rotation?.state).toBe('cancelled');
    expect(cancelled.body.key.currentSecret.hint).toBe(created.body.key.currentSecret.hint);

    expect((await eventually(() => whoami(inst, newSecret), (r) => r.status === 401)).status).toBe(401);
    const old = await eventually(() => whoami(inst, oldSecret), (r) => r.body?.slot === 'current');
    expect(old.body).toMatchObject({ keyId, slot: 'current' });

    const twice = await call<{ error: { code: string } }>(inst, root, 'DELETE', `/v1/keys/${keyId}/rotation`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('nothing_to_cancel');
  });

  it('cancel after expiry restores the old secret within the restore window, the new one staying valid', async () => {
    const created = await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'restore-me' });
    const keyId = created.body.key.id;
    const oldSecret = created.body.secret!;
    const rotated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 1 });
    const newSecret = rotated.body.secret!;
    await sleepUntil(rotated.body.key.rotation!.oldKeyExpiresAt);
    expect((await whoami(inst, oldSecret)).status).toBe(401);
    const completed = await call<KeyRes>(inst, root, 'GET', `/v1/keys/${keyId}`);
    expect(completed.body.key.rotation?.state).toBe('completed');
    expect(completed.body.key.rotation?.restorableUntil).not.toBeNull();

    const restored = await call<KeyRes>(inst, root, 'DELETE', `/v1/keys/${keyId}/rotation`);
    expect(restored.status).toBe(200);
    expect(restored.body.key.rotation?.state).toBe('cancelled');
    expect(restored.body.key.currentSecret.hint).toBe(created.body.key.currentSecret.hint);
    const newLife = Date.parse(restored.body.key.previousSecret!.expiresAt!) - Date.now();
    expect(newLife).toBeGreaterThan(86_000_000);

    // Granting access works on the very next request.
    expect((await whoami(inst, oldSecret)).body).toMatchObject({ keyId, slot: 'current' });
    expect((await whoami(inst, newSecret)).body).toMatchObject({ keyId, slot: 'previous' });
  });

  it('revoke stops every secret of the key; reactivate brings the same secrets back', async () => {
    const created = await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'revoke-me' });
    const keyId = created.body.key.id;
    const secret = created.body.secret!;
    expect((await whoami(inst, secret)).status).toBe(200);

    const revoked = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${keyId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.key.status).toBe('revoked');
    expect(revoked.body.key.reactivatableUntil).not.toBeNull();
    expect((await eventually(() => whoami(inst, secret), (r) => r.status === 401)).status).toBe(401);
    expect((await call(inst, root, 'POST', `/v1/keys/${keyId}/revoke`)).status).toBe(200);
    const rotateRevoked = await call<{ error: { code: string } }>(inst, root, 'POST', `/v1/keys/${keyId}/rotate`, {});
    expect(rotateRevoked.status).toBe(409);
    expect(rotateRevoked.body.error.code).toBe('key_revoked');

    const reactivated = await call<KeyRes>(inst, root, 'POST', `/v1/keys/${keyId}/reactivate`);
    expect(reactivated.status).toBe(200);
    expect(reactivated.body.key.status).toBe('active');
    expect((await whoami(inst, secret)).body).toMatchObject({ keyId, slot: 'current' });
    const notRevoked = await call<{ error: { code: string } }>(inst, root, 'POST', `/v1/keys/${keyId}/reactivate`);
    expect(notRevoked.body.error.code).toBe('key_not_revoked');

    const events = await call<{ events: { type: string; at: string; actorKeyId: string | null }[] }>(inst, root, 'GET', `/v1/keys/${keyId}/events`);
    expect(events.body.events.map((e) => e.type)).toEqual(['api_key.reactivated', 'api_key.revoked', 'api_key.created']);
    expect(events.body.events.every((e) => e.actorKeyId === admin.key.id)).toBe(true);
    const ats = events.body.events.map((e) => Date.parse(e.at));
    expect([...ats].sort((a, b) => b - a)).toEqual(ats);
  });

  it('bad input never yields a 5xx and changes nothing', async () => {
    const created = await call<KeyRes>(inst, root, 'POST', '/v1/keys', { name: 'target' });
    const keyId = created.body.key.id;
    const snapshot = async () => {
      const keys = await call<{ keys: KeyViewT[] }>(inst, root, 'GET', '/v1/keys?limit=100');
      return keys.body.keys.map(({ lastUsedAt: _a, currentSecret: { lastUsedAt: _b, ...cs }, previousSecret, ...k }) => ({
        ...k,
        currentSecret: cs,
        previousSecret: previousSecret ? { ...previousSecret, lastUsedAt: null } : null,
      }));
    };
    const before = await snapshot();

    const cases: [string, string, unknown, number][] = [
      ['POST', '/v1/keys', '{"name":', 400],
      ['POST', '/v1/keys', '[1,2', 400],
      ['POST', '/v1/keys', 'null', 400],
      ['POST', '/v1/keys', '"name"', 400],
      ['POST', '/v1/keys', { name: 'x', admin: true }, 400],
      ['POST', '/v1/keys', { name: '' }, 400],
      ['POST', '/v1/keys', { name: 'a\nb' }, 400],
      ['POST', '/v1/keys', { name: 'x'.repeat(129) }, 400],
      ['POST', '/v1/keys', { name: 'x', scopes: 'keys:read' }, 400],
      ['POST', '/v1/keys', { name: 'x', scopes: ['Bad Scope'] }, 400],
      ['POST', '/v1/keys', { name: 'x', environment: 'prod' }, 400],
      ['POST', '/v1/keys', { name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 400],
      ['POST', '/v1/keys', { name: 'x', expiresAt: 'tomorrow' }, 400],
      ['POST', '/v1/keys', { name: 1 }, 400],
      ['POST', '/v1/keys', { name: 'x'.repeat(20_000) }, 413],
      ['POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: '10' }, 400],
      ['POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 1.5 }, 400],
      ['POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: -1 }, 400],
      ['POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: null }, 400],
      ['POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 1e300 }, 400],
      ['POST', `/v1/keys/${keyId}/rotate`, { oldKeyExpiresInSeconds: 259_201 }, 400],
      ['PATCH', `/v1/keys/${keyId}/rotation`, {}, 400],
      ['DELETE', `/v1/keys/${keyId}/rotation`, { newKeyExpiresInSeconds: 'soon' }, 400],
      ['PATCH', `/v1/keys/${keyId}`, { status: 'active' }, 400],
      ['POST', `/v1/keys/${keyId}/revoke`, { really: true }, 400],
      ['PUT', '/v1/account/alert-emails', { alertEmails: ['not-an-email'] }, 400],
      ['PUT', '/v1/account/alert-emails', { alertEmails: Array.from({ length: 21 }, (_, i) => `a${i}@x.example`) }, 400],
      ['GET', '/v1/keys/does-not-exist', undefined, 404],
      ['GET', `/v1/keys/${'x'.repeat(2000)}`, undefined, 404],
      ['GET', '/v1/keys/%00%ff', undefined, 404],
      ['GET', '/v1/keys/%E2%82%AC%F0%9F%94%91', undefined, 404],
      ['POST', '/v1/keys/nope/rotate', {}, 404],
      ['GET', '/v1/keys?cursor=garbage', undefined, 400],
      ['GET', '/v1/keys?cursor=eyJwayI6IktFWSNhIn0', undefined, 400],
      ['GET', '/v1/keys?limit=0', undefined, 400],
      ['GET', '/v1/keys?limit=101', undefined, 400],
      ['GET', '/v1/keys?limit=abc', undefined, 400],
      ['GET', '/v1/keys?unknown=1', undefined, 400],
      ['GET', `/v1/keys/${keyId}/events?cursor=%%%`, undefined, 400],
      ['GET', '/v1/nowhere', undefined, 404],
      ['GET', '/v2/keys', undefined, 404],
      ['PUT', '/v1/keys', { name: 'x' }, 404],
    ];
    for (const [method, path, body, expected] of cases) {
      const r = await call<{ error: { code: string; message: string } }>(inst, root, method, path, body);
      expect(r.status, `${method} ${path} ${typeof body === 'string' ? body : JSON.stringify(body)?.slice(0, 80)} → ${r.text.slice(0, 200)}`).toBe(expected);
      expect(r.body?.error?.code, `${method} ${path}`).toBeTruthy();
      expect(r.text).not.toMatch(/at .*\.ts:\d+|stack/i);
    }
    // An oversized upload: the gateway reads it to the end before answering, so Node's fetch sees
    // the 413 (not EPIPE); curl sends `Expect: 100-continue` for it and gets the 413 without sending.
    const huge = await fetch(`${inst.baseUrl}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${root}` }, body: 'x'.repeat(3 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    if (existsSync('/usr/bin/curl')) {
      const dir = mkdtempSync(join(tmpdir(), 'rekey-413-'));
      try {
        writeFileSync(join(dir, 'big'), 'x'.repeat(3 * 1024 * 1024));
        const curl = spawnSync('/usr/bin/curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `authorization: Bearer ${root}`, '--data-binary', `@${join(dir, 'big')}`, `${inst.baseUrl}/v1/keys`], {
          encoding: 'utf8',
        });
        expect(curl.stderr).toBe('');
        expect(curl.stdout).toBe('413');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    expect(await snapshot()).toEqual(before);
  });

  it('the operator CLI (a signed admin API client) lists accounts, creates a key for an account and revokes it', async () => {
    const list = await inst.admin(['list-accounts', '--json']);
    expect(list.code).toBe(0);
    const accounts = (JSON.parse(list.stdout) as { accounts: { id: string }[] }).accounts;
    expect(accounts.map((a) => a.id)).toContain(admin.account.id);

    const created = await inst.admin(['create-key', '--account', admin.account.id, '--name', 'ci', '--scope', 'keys:read', '--environment', 'test', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { key, secret } = JSON.parse(created.stdout) as { key: KeyViewT; secret: string };
    expect(key).toMatchObject({ name: 'ci', environment: 'test', scopes: ['keys:read'] });
    expect((await whoami(inst, secret)).body).toMatchObject({ keyId: key.id, environment: 'test' });

    const human = await inst.admin(['list-keys', '--account', admin.account.id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(key.id);

    const revoked = await inst.admin(['revoke-key', '--account', admin.account.id, '--key', key.id, '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((JSON.parse(revoked.stdout) as { key: KeyViewT }).key.status).toBe('revoked');
    expect((await eventually(() => whoami(inst, secret), (r) => r.status === 401)).status).toBe(401);
    const events = await call<{ events: { type: string; actorKeyId: string | null }[] }>(inst, root, 'GET', `/v1/keys/${key.id}/events`);
    expect(events.body.events[0]).toMatchObject({ type: 'api_key.revoked', actorKeyId: null, actor: { type: 'operator', id: 'local-operator' } });

    const missing = await inst.admin(['revoke-key', '--account', admin.account.id, '--key', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not_found');
    // Suspend and resume through the CLI: the key is refused within the TTL, then works at once.
    expect((await inst.admin(['suspend-account', '--account', admin.account.id])).code).toBe(0);
    expect((await eventually(() => whoami(inst, root), (r) => r.status === 401)).status).toBe(401);
    const resumed = await inst.admin(['resume-account', '--account', admin.account.id, '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ account: { id: admin.account.id, status: 'active' } });
    expect((await whoami(inst, root)).status).toBe(200);
    const badAccount = await inst.admin(['create-key', '--account', 'nope', '--name', 'x', '--json']);
    expect(badAccount.code).toBe(1);
    expect(badAccount.stdout).toBe('');
    const badEmail = await inst.admin(['create-account', '--name', 'x', '--alert-email', 'nope']);
    expect(badEmail.code).toBe(1);
    // The API validates (the CLI has no rules of its own) and names the field.
    expect(badEmail.stderr).toContain('alertEmails.0');
  });

  it('create-account --json prints exactly one JSON object on stdout', async () => {
    const r = await inst.admin(['create-account', '--name', 'Json Co', '--alert-email', 'a@json.example', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const obj = JSON.parse(r.stdout) as CreatedAccount;
    expect(Object.keys(obj).sort()).toEqual(['account', 'key', 'secret']);
    expect((await whoami(inst, obj.secret)).status).toBe(200);
  });

  it('`npm run admin -- … --json` through npm itself prints one JSON object on stdout, without silencing npm (its banner goes to stderr)', () => {
    // Only the project's .npmrc decides: no npm_config_* inherited from the npm that runs the tests.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const r = spawnSync('npm', ['run', 'admin', '--', 'create-account', '--name', 'Npm Co', '--alert-email', 'a@npm.example', '--json'], {
      cwd: process.cwd(),
      env: { ...env, REKEY_DATA_DIR: inst.dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as object).sort()).toEqual(['account', 'key', 'secret']);
    expect(r.stderr).toContain('> rekey@');
    const level = spawnSync('npm', ['config', 'get', 'loglevel'], { cwd: process.cwd(), env, encoding: 'utf8' });
    expect(level.stdout.trim()).toBe('notice');
  });

  it('refuses a second server on the same data directory, naming the running one', async () => {
    const r = await runMainToExit({ REKEY_DATA_DIR: inst.dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already running');
    expect(r.stderr).toContain(inst.baseUrl);
    expect((await whoami(inst, root)).status).toBe(200);
  });

  it('restart keeps every account and key: the same secret works after Ctrl-C and a new start', async () => {
    const before = await call<{ keys: KeyViewT[] }>(inst, root, 'GET', '/v1/keys?limit=100');
    const code = await inst.stop();
    expect(code).toBe(0);
    expect(inst.output()).toContain('stopped');
    expect(existsSync(join(inst.dataDir, 'local.json'))).toBe(false);
    const notRunning = await inst.admin(['list-accounts']);
    expect(notRunning.code).toBe(1);
    expect(notRunning.stderr).toContain('npm start');

    await inst.restart();
    expect((await whoami(inst, root)).body).toMatchObject({ keyId: admin.key.id, slot: 'current' });
    const after = await call<{ keys: KeyViewT[] }>(inst, root, 'GET', '/v1/keys?limit=100');
    expect(after.body.keys.map((k) => [k.id, k.status, k.currentSecret.hint])).toEqual(before.body.keys.map((k) => [k.id, k.status, k.currentSecret.hint]));
  });
});

describe('local mode start-up and CLI usage', () => {
  it.each([
    ['MAX_TRANSITION_SECONDS', 'abc'],
    ['EXPIRY_NOTICE_OFFSETS', '30 days'],
    ['KEY_PREFIX', 'Not A Prefix'],
    ['PORT', 'eighty'],
    ['REKEY_DASHBOARD', 'maybe'],
    ['REKEY_ACCESS_LOG', 'loud'],
  ])('refuses to start when %s=%s, naming the variable', async (name, value) => {
    const r = await runMainToExit({ REKEY_DATA_DIR: join(process.cwd(), '.data-never-created'), [name]: value });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(name);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(process.cwd(), '.data-never-created'))).toBe(false);
  });

  it('the CLI explains itself with --help and rejects unknown commands and options with exit 2', async () => {
    const help = await runAdmin(['--help'], {});
    expect(help.code).toBe(0);
    for (const c of ['create-account', 'list-accounts', 'create-key', 'revoke-key']) expect(help.stdout).toContain(c);
    const sub = await runAdmin(['create-account', '--help'], {});
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--alert-email');
    expect((await runAdmin(['frobnicate'], {})).code).toBe(2);
    const badOpt = await runAdmin(['create-account', '--name', 'x', '--alert-email', 'a@b.example', '--colour', 'red'], {});
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toContain('--colour');
    const missing = await runAdmin(['create-account', '--name', 'x'], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--alert-email');
  });

  it('the CLI says how to start local mode when nothing runs on the data directory', async () => {
    const r = await runAdmin(['create-account', '--name', 'x', '--alert-email', 'a@b.example', '--json'], { REKEY_DATA_DIR: join(process.cwd(), '.data-not-running') });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('npm start');
  });
});

describe('operator CLI parsing', () => {
  it('targets the local instance by default, a stack or an API URL when asked (never a table)', () => {
    const local = parseCli(['list-accounts'], { REKEY_DATA_DIR: '/tmp/x' });
    expect(local).toMatchObject({ kind: 'run', target: { kind: 'local', dataDir: '/tmp/x' } });
    const stack = parseCli(['list-accounts', '--stack', 'RekeyStack', '--region', 'eu-west-1'], {});
    expect(stack).toMatchObject({ target: { kind: 'stack', stack: 'RekeyStack', region: 'eu-west-1' } });
    const url = parseCli(['revoke-key', '--account', 'a', '--key', 'k', '--api-url', 'https://x.example/prod', '--json'], {});
    expect(url).toMatchObject({ json: true, target: { kind: 'url', url: 'https://x.example/prod' } });
    expect(() => parseCli(['list-accounts', '--table', 't'], {})).toThrow(UsageError);
  });

  it('has a command for every admin route, each with --help', () => {
    for (const c of ['create-account', 'list-accounts', 'get-account', 'get-customer-account', 'update-account', 'set-alert-emails', 'suspend-account', 'resume-account',
      'delete-account', 'create-key', 'list-keys', 'get-key', 'update-key', 'rotate-key', 'update-rotation', 'cancel-rotation', 'revoke-key', 'reactivate-key', 'key-events']) {
      expect(parseCli([c, '--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('Usage: npm run admin -- ' + c) });
    }
  });

  it('rejects contradictory or incomplete targets', () => {
    expect(() => parseCli(['list-accounts', '--api-url', 'u', '--stack', 's'], {})).toThrow(UsageError);
    expect(() => parseCli(['list-accounts', '--region', 'eu-west-1'], {})).toThrow(/--stack or --api-url/);
    expect(() => parseCli(['revoke-key', '--key', 'k'], {})).toThrow(/--account/);
    expect(() => parseCli(['create-key', '--name', 'x'], {})).toThrow(/--account/);
    expect(() => parseCli(['create-account', '--name', 'x', 'extra'], {})).toThrow(UsageError);
  });

  it("names the option behind a field the API refused (the API names the body's field)", () => {
    expect(optionOfField('allowedScopes.0')).toBe('--allow-scope');
    expect(optionOfField('alertEmails.1')).toBe('--alert-email');
    expect(optionOfField('oldKeyExpiresInSeconds')).toBe('--old-expires-in');
    expect(optionOfField('firstKey.scopes.0')).toBeUndefined();
    expect(optionOfField('constructor')).toBeUndefined();
  });

  it('finds the API URL in stack outputs, plain or prefixed by a construct id', () => {
    expect(
      envFromStackOutputs({
        TableName: 't',
        ApiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/prod/',
        KeyPrefix: 'acme',
        AdminCommand: 'npm run admin -- …',
      }),
    ).toEqual({ API_URL: 'https://x.execute-api.eu-west-1.amazonaws.com/prod', KEY_PREFIX: 'acme' });
    expect(envFromStackOutputs({ RekeyApiUrl0A1B2C3D: 'https://y/prod', RekeyOperatorPolicyArnFFEE0011: 'arn:p' })).toEqual({ API_URL: 'https://y/prod', OPERATOR_POLICY_ARN: 'arn:p' });
  });
});
