/**
 * SPEC §1 Delegation, §2 "A rotated-out secret cannot manage" and Key expiry, §3 order of checks,
 * through the real handlers and middy stack on dynalite. Each finding of issue 11 has its
 * regression here: these requests all succeeded on v0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute, lambdaContext, loadRouteHandlers, restEvent, type EventInit, type RouteHandlers } from '../support/apigw.js';
import { setRuntime } from '../../shared/runtime.js';
import { createKey, rotateKey, updateAccount } from '../../shared/domain/service.js';
import { ANY_ACCOUNT as OPERATOR, createAccountWithKey, createWorld, TEST_OPERATOR, type World } from '../support/world.js';
import type { Caller } from '../../shared/domain/types.js';

let w: World;
let admin: Caller;
let handlers: RouteHandlers;
const HOUR = 3600;

beforeAll(async () => {
  w = await createWorld({ policies: { maxKeyLifetimeSeconds: 60 * 86_400 } });
  setRuntime(w.rt);
  ({ caller: admin } = await createAccountWithKey({ name: 'Acme', alertEmails: ['ops@acme.test'], allowedScopes: ['invoices:read'] }, w.rt));
  handlers = await loadRouteHandlers();
});
afterAll(async () => {
  setRuntime(undefined);
  await w.close();
});

function call(init: EventInit & { caller: EventInit['caller'] }) {
  return callRoute(handlers, init);
}

/** A key made by the operator, and the caller its current secret authenticates as. */
async function keyWith(scopes: string[], opts: { environment?: 'live' | 'test'; expiresAt?: string } = {}) {
  const { record } = await createKey(OPERATOR, admin.accountId, { name: 'k', scopes, environment: opts.environment ?? 'live', expiresAt: opts.expiresAt }, w.rt);
  const caller: Caller = { keyId: record.id, accountId: admin.accountId, environment: record.environment, scopes, slot: 'current' };
  return { id: record.id, caller };
}

const stored = async (id: string) => (await w.store.getKey(id, { consistent: true }))!;

describe('finding 1: a rotated-out secret cannot fight its rotation', () => {
  it('answers 403 to every keys:write route for a previous-slot secret, keeps reads and whoami, and changes nothing', async () => {
    const l = await keyWith(['keys:write']);
    await rotateKey(OPERATOR, l.id, { oldKeyExpiresInSeconds: HOUR }, w.rt);
    const before = await stored(l.id);
    const old: Caller = { ...l.caller, slot: 'previous' };
    const p = `/v1/keys/${l.id}`;
    const writes: EventInit[] = [
      { method: 'PATCH', path: `${p}/rotation`, body: { oldKeyExpiresInSeconds: 259_200 } },
      { method: 'DELETE', path: `${p}/rotation` },
      { method: 'POST', path: `${p}/rotate`, body: {} },
      { method: 'PATCH', path: p, body: { name: 'mine now' } },
      { method: 'POST', path: `${p}/revoke` },
      { method: 'POST', path: `${p}/reactivate` },
      { method: 'POST', path: '/v1/keys', body: { name: 'backdoor' } },
      { method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['attacker@evil.test'] } },
    ];
    for (const req of writes) {
      const res = await call({ ...req, caller: old });
      expect([req.method, req.path, res.status, res.body.error?.code]).toEqual([req.method, req.path, 403, 'forbidden']);
      expect(res.body.error.message).toMatch(/rotated out/);
    }
    // At the scope step: before the body size (413) and validation (400) checks.
    expect((await call({ method: 'PATCH', path: `${p}/rotation`, body: 'x'.repeat(20_000), caller: old })).status).toBe(403);
    expect((await call({ method: 'PATCH', path: `${p}/rotation`, body: { nope: 1 }, caller: old })).status).toBe(403);
    expect(await stored(l.id)).toEqual(before);
    // Reads and whoami keep working.
    expect((await call({ method: 'GET', path: p, caller: old })).status).toBe(200);
    expect((await call({ method: 'GET', path: `${p}/events`, caller: old })).status).toBe(200);
    expect((await call({ method: 'GET', path: '/v1/keys', caller: old })).status).toBe(200);
    expect((await call({ method: 'GET', path: '/v1/account', caller: old })).status).toBe(200);
    expect((await call({ method: 'GET', path: '/v1/whoami', caller: old })).body.slot).toBe('previous');
    // The current secret manages the rotation.
    expect((await call({ method: 'PATCH', path: `${p}/rotation`, body: { oldKeyExpiresInSeconds: 0 }, caller: l.caller })).status).toBe(200);
  });

  it('treats an authorizer context without a slot as no caller (fails closed)', async () => {
    const ev = restEvent({ method: 'GET', path: '/v1/whoami', caller: admin });
    delete (ev.requestContext.authorizer as Record<string, unknown>).slot;
    const res = await handlers.whoami!(ev, lambdaContext);
    expect(res.statusCode).toBe(401);
  });
});

describe('finding 2: no escalation through key creation or editing', () => {
  it('refuses to give scopes the caller neither holds nor the account allows, naming each, and creates nothing', async () => {
    const l = await keyWith(['keys:write'], { expiresAt: new Date(w.clock.now() + HOUR * 1000).toISOString() });
    const before = (await w.store.listKeys(admin.accountId, { limit: 100 })).items.length;
    const res = await call({
      method: 'POST', path: '/v1/keys', caller: l.caller,
      body: { name: 'escalated', scopes: ['keys:read', 'keys:write', 'billing:admin', 'payments:*'], expiresAt: null },
    });
    // This deployment has a maximum lifetime, so `expiresAt: null` is a validation error (400 precedes 403).
    expect([res.status, res.body.error.details[0].field]).toEqual([400, 'expiresAt']);
    const again = await call({ method: 'POST', path: '/v1/keys', caller: l.caller, body: { name: 'escalated', scopes: ['keys:read', 'keys:write', 'billing:admin', 'payments:*'] } });
    expect(again.status).toBe(403);
    expect(again.body.error.details).toEqual([
      { field: 'scopes.2', message: expect.stringContaining('"billing:admin"') },
      { field: 'scopes.3', message: expect.stringContaining('"payments:*"') },
    ]);
    expect((await w.store.listKeys(admin.accountId, { limit: 100 })).items.length).toBe(before);
    // What it holds, and what the account allows, it may give.
    const ok = await call({ method: 'POST', path: '/v1/keys', caller: l.caller, body: { name: 'fine', scopes: ['keys:read', 'keys:write', 'invoices:read'] } });
    expect(ok.status).toBe(201);
  });

  it('refuses a key changing its own scopes or expiry (403 naming both fields), yet lets it rename, rotate and revoke itself', async () => {
    const l = await keyWith(['keys:write'], { expiresAt: new Date(w.clock.now() + HOUR * 1000).toISOString() });
    const before = await stored(l.id);
    const self = await call({ method: 'PATCH', path: `/v1/keys/${l.id}`, caller: l.caller, body: { expiresAt: new Date(w.clock.now() + 2 * HOUR * 1000).toISOString(), scopes: ['keys:write', 'billing:admin'] } });
    expect(self.status).toBe(403);
    expect(self.body.error.details.map((d: { field: string }) => d.field)).toEqual(['scopes', 'expiresAt']);
    const renameToo = await call({ method: 'PATCH', path: `/v1/keys/${l.id}`, caller: l.caller, body: { name: 'x', scopes: [] } });
    expect(renameToo.status).toBe(403);
    expect(await stored(l.id)).toEqual(before);
    const rotateSelf = await call({ method: 'POST', path: `/v1/keys/${l.id}/rotate`, caller: l.caller, body: { expiresAt: new Date(w.clock.now() + 40 * 86_400_000).toISOString() } });
    expect([rotateSelf.status, rotateSelf.body.error?.details?.[0]?.field]).toEqual([403, 'expiresAt']);
    expect((await call({ method: 'PATCH', path: `/v1/keys/${l.id}`, caller: l.caller, body: { name: 'renamed' } })).status).toBe(200);
    expect((await call({ method: 'POST', path: `/v1/keys/${l.id}/rotate`, caller: l.caller, body: { oldKeyExpiresInSeconds: 0 } })).status).toBe(200);
    expect((await call({ method: 'POST', path: `/v1/keys/${l.id}/revoke`, caller: l.caller })).status).toBe(200);
  });

  it('lets another key remove scopes and keep ones the target already has, but not add unheld ones', async () => {
    const target = await keyWith(['reports:read', 'billing:admin']);
    const l = await keyWith(['keys:write']);
    const keep = await call({ method: 'PATCH', path: `/v1/keys/${target.id}`, caller: l.caller, body: { scopes: ['billing:admin', 'invoices:read'] } });
    expect([keep.status, keep.body.key?.scopes]).toEqual([200, ['billing:admin', 'invoices:read']]);
    const add = await call({ method: 'PATCH', path: `/v1/keys/${target.id}`, caller: l.caller, body: { scopes: ['billing:admin', 'payments:*'] } });
    expect([add.status, add.body.error.details]).toEqual([403, [{ field: 'scopes.1', message: expect.stringContaining('"payments:*"') }]]);
  });

  it('places delegation after 404 and the environment 403, and before the state 409', async () => {
    const testKey = await keyWith(['keys:write'], { environment: 'test' });
    const live = await keyWith(['reports:read']);
    const tooMuch = { scopes: ['billing:admin'] };
    // Unknown key: 404 first.
    expect((await call({ method: 'PATCH', path: '/v1/keys/AAAAAAAAAAAAAAAAAAAAAA', caller: testKey.caller, body: tooMuch })).status).toBe(404);
    // A live key seen by a test key: the environment 403, not the delegation one.
    const env = await call({ method: 'PATCH', path: `/v1/keys/${live.id}`, caller: testKey.caller, body: tooMuch });
    expect([env.status, env.body.error.details]).toEqual([403, undefined]);
    // A revoked key: delegation (403) answers before the state (409).
    const l = await keyWith(['keys:write']);
    await call({ method: 'POST', path: `/v1/keys/${live.id}/revoke`, caller: l.caller });
    const frozen = await call({ method: 'PATCH', path: `/v1/keys/${live.id}`, caller: l.caller, body: tooMuch });
    expect([frozen.status, frozen.body.error.details?.[0]?.field]).toEqual([403, 'scopes.0']);
    expect((await call({ method: 'PATCH', path: `/v1/keys/${live.id}`, caller: l.caller, body: { name: 'x' } })).body.error.code).toBe('key_revoked');
  });

  it('follows the account\'s allowed scopes as the operator changes them', async () => {
    const l = await keyWith(['keys:write']);
    const body = { name: 'n', scopes: ['exports:run'] };
    expect((await call({ method: 'POST', path: '/v1/keys', caller: l.caller, body })).status).toBe(403);
    await updateAccount({ type: 'operator', id: TEST_OPERATOR }, admin.accountId, { allowedScopes: ['invoices:read', 'exports:run'] }, w.rt);
    expect((await call({ method: 'POST', path: '/v1/keys', caller: l.caller, body })).status).toBe(201);
    const acct = await call({ method: 'GET', path: '/v1/account', caller: l.caller });
    expect(acct.body.account).toMatchObject({ status: 'active', allowedScopes: ['invoices:read', 'exports:run'] });
    await updateAccount({ type: 'operator', id: TEST_OPERATOR }, admin.accountId, { allowedScopes: ['invoices:read'] }, w.rt);
  });
});

describe('finding 3: the lifetime limit counts from each secret\'s own creation', () => {
  it('lets PATCH extend only up to createdAt + max, however often it is called', async () => {
    const l = await keyWith(['keys:write']);
    const target = await keyWith(['reports:read'], { expiresAt: new Date(w.clock.now() + 40 * 86_400_000).toISOString() });
    const createdAt = (await stored(target.id)).current.createdAt;
    const bound = createdAt + 60 * 86_400_000;
    w.clock.advance(30 * 86_400);
    // Walking forward in steps, as v0.1 allowed: each step is within `now + max`.
    const step = await call({ method: 'PATCH', path: `/v1/keys/${target.id}`, caller: l.caller, body: { expiresAt: new Date(bound - 1000).toISOString() } });
    expect(step.status).toBe(200);
    // Within `now + max` but past `createdAt + max`: refused, naming the field.
    const past = await call({ method: 'PATCH', path: `/v1/keys/${target.id}`, caller: l.caller, body: { expiresAt: new Date(bound + 1000).toISOString() } });
    expect([past.status, past.body.error.details[0].field]).toEqual([400, 'expiresAt']);
    const to = await call({ method: 'PATCH', path: `/v1/keys/${target.id}`, caller: l.caller, body: { expiresAt: new Date(bound).toISOString() } });
    expect([to.status, to.body.key.expiresAt]).toEqual([200, new Date(bound).toISOString()]);
    expect((await stored(target.id)).current.expiresAt).toBe(bound);
  });

  it('on rotate caps an inherited lifetime at the new secret\'s bound, and gives a never-expiring key the bound', async () => {
    const noMax = await createWorld({ dynamo: w.dynamo });
    const { account } = await createAccountWithKey({ name: 'Old', alertEmails: [] }, noMax.rt);
    const { record } = await createKey(OPERATOR, account.id, { name: 'forever' }, noMax.rt);
    expect(record.current.expiresAt).toBeNull();
    // The same table, now under a maximum of 3600 s (a restart with MAX_KEY_LIFETIME_SECONDS=3600).
    const bounded = await createWorld({ dynamo: w.dynamo, policies: { maxKeyLifetimeSeconds: HOUR } });
    const rt = { ...bounded.rt, store: noMax.store };
    const { record: rotated } = await rotateKey(OPERATOR, record.id, { oldKeyExpiresInSeconds: 0 }, rt);
    expect(rotated.current.expiresAt).toBe(rotated.current.createdAt + HOUR * 1000);
    // An inherited lifetime longer than the bound is capped at it.
    const noMaxKey = await createKey(OPERATOR, account.id, { name: 'long', expiresAt: new Date(noMax.clock.now() + 7 * 86_400_000).toISOString() }, noMax.rt);
    const { record: capped } = await rotateKey(OPERATOR, noMaxKey.record.id, { oldKeyExpiresInSeconds: 0 }, rt);
    expect(capped.current.expiresAt).toBe(capped.current.createdAt + HOUR * 1000);
    await noMax.close();
    await bounded.close();
  });
});

describe('finding 6: invisible characters in names', () => {
  it('refuses Unicode format characters (Cf) except ZWNJ and ZWJ, naming the field and creating nothing', async () => {
    const before = (await w.store.listKeys(admin.accountId, { limit: 100 })).items.length;
    for (const ch of ['\u200B', '\u200F', '\u061C', '\u00AD', '\uFEFF', '\u{E0001}', '\u{E0041}', '\u{E007F}', '\u202E', '\u2066']) {
      const res = await call({ method: 'POST', path: '/v1/keys', caller: admin, body: { name: `pay${ch}roll` } });
      expect([ch.codePointAt(0)!.toString(16), res.status, res.body.error.details[0].field]).toEqual([ch.codePointAt(0)!.toString(16), 400, 'name']);
    }
    expect((await w.store.listKeys(admin.accountId, { limit: 100 })).items.length).toBe(before);
    // Scripts and emoji that need the joiners still work.
    for (const name of ['क्‍ष', 'می‌خواهم', '👩‍💻 team']) {
      expect((await call({ method: 'POST', path: '/v1/keys', caller: admin, body: { name } })).status).toBe(201);
    }
  });
});
