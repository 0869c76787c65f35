import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalInstance } from './harness.js';

/**
 * In local mode the authorizer shares the process with the management API, and the gateway drops
 * its cached record after each change: the very next request sees the change, even with a long
 * cache TTL (AWS guarantees grants at once and the rest within the TTL).
 */
let local: LocalInstance;
let admin: string;

beforeAll(async () => {
  // USAGE_FLUSH_SECONDS=1: last use is written within a second here (a minute by default, SPEC §12).
  local = await startLocal({ env: { AUTH_CACHE_TTL_SECONDS: '60', REKEY_DASHBOARD: 'off', USAGE_FLUSH_SECONDS: '1' } });
  admin = (await local.createAccount()).secret;
});
afterAll(async () => {
  await local?.stop();
});

async function call(method: string, path: string, secret: string, body?: unknown) {
  const res = await fetch(local.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('changes reach the local authorizer on the very next request', () => {
  it('reports the old secret’s new slot at once after a rotation with a warm 60 s cache, and records its use', async () => {
    const created = await call('POST', '/v1/keys', admin, { name: 'fresh' });
    const id = created.body.key.id as string;
    const old = created.body.secret as string;
    expect((await call('GET', '/v1/whoami', old)).body.slot).toBe('current'); // cache now warm
    const rotated = await call('POST', `/v1/keys/${id}/rotate`, admin, { oldKeyExpiresInSeconds: 600 });
    const startedAt = Date.parse(rotated.body.key.rotation.startedAt);
    const who = await call('GET', '/v1/whoami', old);
    expect([who.status, who.body.slot]).toEqual([200, 'previous']);
    let key = (await call('GET', `/v1/keys/${id}`, admin)).body.key;
    for (let i = 0; i < 50 && !(Date.parse(key.rotation.oldKeyLastUsedAt) >= startedAt); i++) {
      await new Promise((r) => setTimeout(r, 100));
      key = (await call('GET', `/v1/keys/${id}`, admin)).body.key;
    }
    expect(Date.parse(key.rotation.oldKeyLastUsedAt)).toBeGreaterThanOrEqual(startedAt);
    expect(key.previousSecret.lastUsedAt).toBe(key.rotation.oldKeyLastUsedAt);

    await call('DELETE', `/v1/keys/${id}/rotation`, admin);
    expect((await call('GET', '/v1/whoami', old)).body.slot).toBe('current');
    expect((await call('GET', '/v1/whoami', rotated.body.secret)).status).toBe(401);
  });

  it('revocation and scope changes take effect on the next request', async () => {
    const created = await call('POST', '/v1/keys', admin, { name: 'scoped', scopes: [] });
    const id = created.body.key.id as string;
    const secret = created.body.secret as string;
    expect((await call('GET', '/v1/keys', secret)).status).toBe(403);
    await call('PATCH', `/v1/keys/${id}`, admin, { scopes: ['keys:read'] });
    expect((await call('GET', '/v1/keys', secret)).status).toBe(200);
    await call('POST', `/v1/keys/${id}/revoke`, admin);
    expect((await call('GET', '/v1/whoami', secret)).status).toBe(401);
    await call('POST', `/v1/keys/${id}/reactivate`, admin);
    expect((await call('GET', '/v1/whoami', secret)).status).toBe(200);
  });
});
