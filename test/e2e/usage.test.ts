import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type LocalInstance } from './harness.js';

/**
 * SPEC §12 end to end: requests through local mode's gateway and its real authorizer show up in the
 * usage route and in `lastUsedFrom`. `USAGE_FLUSH_SECONDS=1` only shortens the wait for this test;
 * the production rule (at most one write per secret per minute) is the default and is measured by
 * `npm run bench`.
 */
let local: LocalInstance;
let admin: string;

beforeAll(async () => {
  local = await startLocal({ env: { USAGE_FLUSH_SECONDS: '1' } });
  admin = (await local.createAccount()).secret;
});
afterAll(async () => {
  await local?.stop();
});

async function call(method: string, path: string, secret: string, body?: unknown, userAgent = 'rekey-e2e/1.0') {
  const res = await fetch(local.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'user-agent': userAgent },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Polls `read` until `done` holds (at most 15 s; the counts are written within about a second here). */
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('usage per secret per minute, through local mode', () => {
  it('N requests with the old secret and M with the new one show up as N and M; lastUsedFrom names the caller', async () => {
    const created = await call('POST', '/v1/keys', admin, { name: 'orders-api', scopes: [] });
    const id = created.body.key.id as string;
    const old = created.body.secret as string;
    const N = 7;
    const M = 4;
    for (let i = 0; i < N; i++) expect((await call('GET', '/v1/whoami', old, undefined, 'legacy-cron/0.9')).status).toBe(200);
    const rotated = await call('POST', `/v1/keys/${id}/rotate`, admin, { oldKeyExpiresInSeconds: 3600, expireWhenIdleSeconds: 600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key.rotation.idleCutover).toEqual({ expireWhenIdleSeconds: 600, at: null });
    const fresh = rotated.body.secret as string;
    for (let i = 0; i < M; i++) expect((await call('GET', '/v1/whoami', fresh, undefined, 'orders-worker\t/2.0')).status).toBe(200);

    const usage = await eventually(
      () => call('GET', `/v1/keys/${id}/usage`, admin),
      (r) => {
        const total = (slot: string) => (r.body.secrets as { slot: string; minutes: { count: number }[] }[]).filter((s) => s.slot === slot).flatMap((s) => s.minutes).reduce((n, m) => n + m.count, 0);
        return total('previous') === N && total('current') === M;
      },
    );
    expect(usage.status).toBe(200);
    const secrets = usage.body.secrets as { hint: string; slot: string; minutes: { at: string; count: number }[] }[];
    expect(secrets.map((s) => [s.slot, s.hint])).toEqual([['current', rotated.body.key.currentSecret.hint], ['previous', rotated.body.key.previousSecret.hint]]);
    const sum = (slot: string) => secrets.find((s) => s.slot === slot)!.minutes.reduce((n, m) => n + m.count, 0);
    expect([sum('previous'), sum('current')]).toEqual([N, M]);
    for (const s of secrets) for (const m of s.minutes) expect(Date.parse(m.at) % 60_000).toBe(0);

    const key = (await call('GET', `/v1/keys/${id}`, admin)).body.key;
    expect(key.previousSecret.lastUsedFrom).toEqual({ ip: '127.0.0.1', userAgent: 'legacy-cron/0.9' });
    expect(key.rotation.oldKeyLastUsedFrom).toEqual({ ip: '127.0.0.1', userAgent: 'legacy-cron/0.9' });
    expect(key.currentSecret.lastUsedFrom).toEqual({ ip: '127.0.0.1', userAgent: 'orders-worker/2.0' }); // control character stripped
    // The new secret has been used: the idle cut-over instant is known (old quiet since its last use).
    expect(Date.parse(key.rotation.idleCutover.at)).toBeGreaterThanOrEqual(Date.parse(key.rotation.startedAt) + 600_000);
  });

  it('checks the range and the caller', async () => {
    const created = await call('POST', '/v1/keys', admin, { name: 'reader', scopes: [] });
    const id = created.body.key.id as string;
    const tooLong = await call('GET', `/v1/keys/${id}/usage?from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:01Z`, admin);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: 'validation_error', details: [{ field: 'from' }] });
    const bad = await call('GET', `/v1/keys/${id}/usage?to=yesterday`, admin);
    expect([bad.status, bad.body.error.details[0].field]).toEqual([400, 'to']);
    const empty = await call('GET', `/v1/keys/${id}/usage`, admin);
    expect(empty).toEqual({ status: 200, body: { secrets: [] } }); // never used
    // A key without keys:read may not read usage, even its own.
    expect((await call('GET', `/v1/keys/${id}/usage`, created.body.secret)).status).toBe(403);
    // Another account's key is not found.
    const other = (await local.createAccount({ name: 'Other' })).secret;
    expect((await call('GET', `/v1/keys/${id}/usage`, other)).status).toBe(404);
  });
});
