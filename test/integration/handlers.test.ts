import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithKey, createWorld, type World } from '../support/world.js';
import { callRoute, loadRouteHandlers, type EventInit, type RouteHandlers } from '../support/apigw.js';
import { setRuntime } from '../../shared/runtime.js';
import type { Caller } from '../../shared/domain/types.js';

let w: World;
let caller: Caller;
let handlers: RouteHandlers;

beforeAll(async () => {
  w = await createWorld({ policies: { maxTransitionSeconds: 7200 } });
  setRuntime(w.rt);
  ({ caller } = await createAccountWithKey({ name: 'Acme', alertEmails: ['ops@acme.test'], allowedScopes: ['reports:read', 'a', 'b'] }, w.rt));
  handlers = await loadRouteHandlers();
});
afterAll(async () => {
  setRuntime(undefined);
  await w.close();
});

function call(init: EventInit & { caller?: EventInit['caller'] }) {
  return callRoute(handlers, { caller, ...init });
}

async function newKey(body: object = { name: 'k' }) {
  const res = await call({ method: 'POST', path: '/v1/keys', body });
  expect(res.status).toBe(201);
  return res.body as { key: { id: string }; secret: string };
}

describe('management API handlers (through the middy stack)', () => {
  it('creates a key: 201 with the key object and a secret that matches the published pattern', async () => {
    const res = await call({ method: 'POST', path: '/v1/keys', body: { name: 'billing', scopes: ['reports:read'] } });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^rekey_live_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$/);
    expect(res.body.key).toMatchObject({ name: 'billing', environment: 'live', scopes: ['reports:read'], status: 'active', previousSecret: null, rotation: null });
    expect(res.body.key.currentSecret.hint).toBe(`rekey_live_…${res.body.secret.slice(-4)}`);
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });

  it('applies the checks in order: 401 → 403 scope → 413 → 400 JSON → 400 validation → 404 key', async () => {
    const noAuth = await call({ method: 'POST', path: '/v1/keys', body: '{', caller: null });
    expect([noAuth.status, noAuth.body.error.code]).toEqual([401, 'unauthorized']);
    const readOnly = { ...caller, scopes: ['keys:read'] };
    const scope = await call({ method: 'POST', path: '/v1/keys', body: 'x'.repeat(20_000), caller: readOnly });
    expect([scope.status, scope.body.error.code]).toEqual([403, 'forbidden']);
    const big = await call({ method: 'POST', path: '/v1/keys/AAAAAAAAAAAAAAAA/rotate', body: `{"name":"${'x'.repeat(17_000)}"}` });
    expect([big.status, big.body.error.code]).toEqual([413, 'payload_too_large']);
    const badJson = await call({ method: 'POST', path: '/v1/keys/AAAAAAAAAAAAAAAA/rotate', body: '{"oldKeyExpiresInSeconds":' });
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'invalid_json']);
    const invalid = await call({ method: 'POST', path: '/v1/keys/AAAAAAAAAAAAAAAA/rotate', body: { oldKeyExpiresInSeconds: 1.5 } });
    expect([invalid.status, invalid.body.error.code]).toEqual([400, 'validation_error']);
    expect(invalid.body.error.details[0].field).toBe('oldKeyExpiresInSeconds');
    const missing = await call({ method: 'POST', path: '/v1/keys/AAAAAAAAAAAAAAAA/rotate', body: {} });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
  });

  it('validation errors name the field: unknown fields, nulls, control characters, scopes, policy maxima, expiry', async () => {
    const cases: [object, string][] = [
      [{ name: 'a', colour: 'red' }, 'colour'],
      [{ name: null }, 'name'],
      [{ name: 'bad\nname' }, 'name'],
      [{ name: 'x'.repeat(129) }, 'name'],
      [{ name: 'a', scopes: ['Has Space'] }, 'scopes.0'],
      [{ name: 'a', scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) }, 'scopes'],
      [{ name: 'a', environment: 'prod' }, 'environment'],
      [{ name: 'a', expiresAt: '2000-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'a', expiresAt: 'tomorrow' }, 'expiresAt'],
      [{}, 'name'],
      [{ name: 'a\u202Eevil' }, 'name'],
      [{ name: 'lone \ud800 surrogate' }, 'name'],
      [{ name: 'rekey_live_AAAAAAAAAAAAAAAAAAAAAA_' + 'a'.repeat(49) }, 'name'],
      [{ name: 'a', expiresAt: '9999-12-31T23:59:59-23:59' }, 'expiresAt'],
    ];
    for (const [body, field] of cases) {
      const res = await call({ method: 'POST', path: '/v1/keys', body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const { key } = await newKey();
    const tooLong = await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate`, body: { oldKeyExpiresInSeconds: 7201 } });
    expect(tooLong.body.error.details[0]).toEqual({ field: 'oldKeyExpiresInSeconds', message: expect.stringContaining('7200') });
    const neg = await call({ method: 'PATCH', path: `/v1/keys/${key.id}/rotation`, body: { oldKeyExpiresInSeconds: -1 } });
    expect(neg.status).toBe(400);
    for (const limit of ['0', '101', '1e1', ' 5', '2.0', 'abc', '']) {
      const list = await call({ method: 'GET', path: '/v1/keys', query: { limit } });
      expect([list.status, list.body.error?.details[0].field], limit).toEqual([400, 'limit']);
    }
    expect((await call({ method: 'GET', path: '/v1/keys', query: { limit: '100' } })).status).toBe(200);
    const cursor = await call({ method: 'GET', path: '/v1/keys', query: { cursor: 'not-a-cursor!' } });
    expect([cursor.status, cursor.body.error.details[0].field]).toEqual([400, 'cursor']);
    const forged = Buffer.from(JSON.stringify({ p: '0000000000000#AAAAAAAAAAAAAAAAAAAAAA' })).toString('base64url');
    expect((await call({ method: 'GET', path: '/v1/keys', query: { cursor: forged } })).status).toBe(200);
  });

  it('bad input changes nothing: the key is byte-for-byte the same after a rejected request', async () => {
    const { key } = await newKey();
    const before = await w.store.getKey(key.id, { consistent: true });
    for (const body of ['{', '[]', '"x"', '{"oldKeyExpiresInSeconds":"60"}', '{"oldKeyExpiresInSeconds":null}', '{"expiresAt":"2000-01-01T00:00:00Z"}', '{"extra":1}']) {
      const res = await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate`, body });
      expect(res.status, body).toBe(400);
    }
    expect(await w.store.getKey(key.id, { consistent: true })).toEqual(before);
  });

  it('answers the 409s of the rotation state machine', async () => {
    const { key } = await newKey();
    expect((await call({ method: 'PATCH', path: `/v1/keys/${key.id}/rotation`, body: { oldKeyExpiresInSeconds: 60 } })).body.error.code).toBe('no_rotation_in_progress');
    expect((await call({ method: 'DELETE', path: `/v1/keys/${key.id}/rotation` })).body.error.code).toBe('nothing_to_cancel');
    const rotated = await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate`, body: { oldKeyExpiresInSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key.rotation).toMatchObject({ state: 'in_progress', oldKeyLastUsedAt: null, reminderAt: null });
    expect(rotated.body.key.previousSecret).not.toBeNull();
    const again = await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate` });
    expect([again.status, again.body.error.code]).toEqual([409, 'rotation_in_progress']);
    const cancelled = await call({ method: 'DELETE', path: `/v1/keys/${key.id}/rotation`, body: null });
    expect(cancelled.body.key.rotation.state).toBe('cancelled');
    expect(cancelled.body.key.previousSecret).toBeNull();
    expect((await call({ method: 'POST', path: `/v1/keys/${key.id}/reactivate` })).body.error.code).toBe('key_not_revoked');
    const revoked = await call({ method: 'POST', path: `/v1/keys/${key.id}/revoke`, body: '{}' });
    expect(revoked.body.key).toMatchObject({ status: 'revoked', reactivatableUntil: expect.any(String) });
    expect((await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate` })).body.error.code).toBe('key_revoked');
    expect((await call({ method: 'PATCH', path: `/v1/keys/${key.id}`, body: { name: 'x' } })).body.error.code).toBe('key_revoked');
    expect((await call({ method: 'POST', path: `/v1/keys/${key.id}/reactivate` })).body.key.status).toBe('active');
    w.clock.advance(1);
  });

  it('a 0 s rotation completes at once; an expired key answers key_expired', async () => {
    const { key } = await newKey({ name: 'short', expiresAt: new Date(w.clock.now() + 5000).toISOString() });
    const emergency = await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate`, body: { oldKeyExpiresInSeconds: 0 } });
    expect(emergency.body.key.rotation.state).toBe('completed');
    // The new secret inherits the old lifetime (5 s) counted from now.
    expect(Date.parse(emergency.body.key.expiresAt) - w.clock.now()).toBe(5000);
    w.clock.advance(5);
    const expired = await call({ method: 'POST', path: `/v1/keys/${key.id}/rotate` });
    expect([expired.status, expired.body.error.code]).toEqual([409, 'key_expired']);
    expect((await call({ method: 'GET', path: `/v1/keys/${key.id}` })).body.key.status).toBe('expired');
  });

  it('whoami reports the slot and secret expiry from the authorizer context; events and account read back', async () => {
    const who = await call({ method: 'GET', path: '/v1/whoami', caller: { ...caller, slot: 'previous', secretExpiresAt: Date.UTC(2027, 0, 1) } });
    expect(who.body).toEqual({ keyId: caller.keyId, accountId: caller.accountId, environment: 'live', scopes: ['keys:read', 'keys:write'], slot: 'previous', secretExpiresAt: '2027-01-01T00:00:00.000Z' });
    const { key } = await newKey();
    await call({ method: 'PATCH', path: `/v1/keys/${key.id}`, body: { name: 'renamed', scopes: ['a', 'a', 'b'] } });
    const events = await call({ method: 'GET', path: `/v1/keys/${key.id}/events`, query: { limit: '1' } });
    expect(events.body.events).toHaveLength(1);
    expect(events.body.events[0]).toMatchObject({ type: 'api_key.updated', actorKeyId: caller.keyId, data: { changes: { name: 'renamed', scopes: ['a', 'b'] } } });
    const next = await call({ method: 'GET', path: `/v1/keys/${key.id}/events`, query: { cursor: events.body.nextCursor } });
    expect(next.body.events.map((e: { type: string }) => e.type)).toEqual(['api_key.created']);
    expect(next.body.nextCursor).toBeNull();
    const acct = await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['a@b.test'] } });
    // An address added through the API waits for its confirmation (SPEC §10).
    expect(acct.body.account.pendingEmails).toEqual(['a@b.test']);
    const bad = await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['nope'] } });
    expect(bad.body.error.details[0].field).toBe('alertEmails.0');
    expect((await call({ method: 'GET', path: '/v1/account' })).body.account.name).toBe('Acme');
  });

  it('never sends an internal error message to the client, and 500s carry the request id', async () => {
    const broken = { ...w.rt, store: { ...w.rt.store, getKey: async () => { throw new Error('dynamo exploded: secret internals'); } } };
    setRuntime(broken as typeof w.rt);
    try {
      const res = await call({ method: 'GET', path: '/v1/keys/AAAAAAAAAAAAAAAAAAAAAA' });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('internal_error');
      expect(JSON.stringify(res.body)).not.toContain('exploded');
      expect(res.body.error.requestId).toMatch(/^req-/);
    } finally {
      setRuntime(w.rt);
    }
  });

  it('no secret appears in logs, errors, audit events or published events', async () => {
    const created = await newKey({ name: 'watched' });
    const rotated = await call({ method: 'POST', path: `/v1/keys/${created.key.id}/rotate`, body: { oldKeyExpiresInSeconds: 0 } });
    const secrets = [created.secret, rotated.body.secret as string];
    // Provoke errors that echo input back.
    await call({ method: 'POST', path: '/v1/keys', body: { name: created.secret, extra: created.secret } });
    await call({ method: 'POST', path: `/v1/keys/${created.key.id}/rotate`, body: `{"${created.secret}":1}` });
    const events = await call({ method: 'GET', path: `/v1/keys/${created.key.id}/events` });
    const haystack = JSON.stringify([w.rec.logs, w.rec.published, events.body, w.rec.mails]);
    for (const s of secrets) {
      expect(haystack).not.toContain(s);
      expect(haystack).not.toContain(s.slice(-20));
    }
  });
});
