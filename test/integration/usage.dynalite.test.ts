/**
 * Traffic-aware rotation (SPEC §12) against dynalite with a controllable clock: the real authorizer
 * counts uses into real usage items, the real timer logic decides the idle cut-over from them.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAccountWithKey, createWorld, TEST_PEPPER, type World, useDynalite } from '../support/world.js';
import { createAuthorizerHandler, type AuthorizerHandler } from '../../shared/auth/handler.js';
import { CountingMetrics } from '../../shared/auth/metrics.js';
import {
  cancelRotation, createKey, handleTimer, keyUsageReport, principalOf, rotateKey, usageOf, type Principal,
} from '../../shared/domain/service.js';
import { ApiError } from '../../shared/domain/errors.js';
import { keyView } from '../../shared/domain/view.js';
import type { Timer } from '../../shared/domain/types.js';

const dynalite = useDynalite();

const S = 1000;

async function setup(policies = {}) {
  const w = await createWorld({ dynamo: dynalite(), policies });
  const { account, caller } = await createAccountWithKey({ name: 'Acme', alertEmails: ['ops@acme.test'] }, w.rt);
  const p = principalOf(caller);
  const { record, secret: oldSecret } = await createKey(p, account.id, { name: 'billing', scopes: [] }, w.rt);
  const auth = createAuthorizerHandler({
    store: w.store, usage: w.usage, pepper: { get: async () => TEST_PEPPER }, policies: w.policies, clock: w.clock,
    metrics: new CountingMetrics(), verifier: { usageTimer: false },
  });
  return { w, p, keyId: record.id, oldSecret, auth };
}

/** One request through the authorizer from `ip`; the usage write is flushed at once (as a minute boundary would). */
async function call(auth: AuthorizerHandler, secret: string, ip = '198.51.100.4', userAgent = 'billing-worker/2.1'): Promise<string | null> {
  try {
    const r = (await auth({
      type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api1234567/v1/GET/invoices', headers: { authorization: `Bearer ${secret}` },
      requestContext: { identity: { sourceIp: ip, userAgent } },
    } as unknown as APIGatewayRequestAuthorizerEvent)) as APIGatewayAuthorizerResult;
    await auth.flushUsage();
    return r.context!.slot as string;
  } catch {
    return null;
  }
}

/** The latest scheduled timer of `kind`. */
const lastTimer = (w: World, kind: Timer['kind']) => w.rec.scheduled.filter((t) => t.kind === kind).at(-1)!;
const expiredEvents = (w: World) => w.rec.published.filter((e) => e.type === 'api_key.old_secret_expired');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError) return `${e.code}:${JSON.stringify(e.details ?? [])}`;
    throw e;
  }
}

describe('rotate with expireWhenIdleSeconds', () => {
  it('accepts 600 up to the window and refuses anything else naming the field, changing nothing', async () => {
    const { w, p, keyId } = await setup();
    const before = await w.store.getKey(keyId);
    expect(await code(rotateKey(p, keyId, { oldKeyExpiresInSeconds: 3600, expireWhenIdleSeconds: 599 }, w.rt))).toMatch(/^validation_error:.*expireWhenIdleSeconds/);
    expect(await code(rotateKey(p, keyId, { oldKeyExpiresInSeconds: 3600, expireWhenIdleSeconds: 3601 }, w.rt))).toMatch(/^validation_error:.*expireWhenIdleSeconds/);
    expect(await code(rotateKey(p, keyId, { expireWhenIdleSeconds: 86_401 }, w.rt))).toMatch(/^validation_error:.*expireWhenIdleSeconds/);
    expect(await w.store.getKey(keyId)).toEqual(before);
    const { record } = await rotateKey(p, keyId, { oldKeyExpiresInSeconds: 3600, expireWhenIdleSeconds: 3600 }, w.rt);
    expect(record.rotation).toMatchObject({ idleSeconds: 3600, idleCheckAt: null }); // a check at the window's end would be pointless
    expect(keyView(record, w.clock.now(), await usageOf(record, w.rt)).rotation!.idleCutover).toEqual({ expireWhenIdleSeconds: 3600, at: null });
  });
});

describe('idle cut-over, decided from recorded usage', () => {
  it('new secret unused → no cut-over; old still used → none; old quiet for n → expired at that second, once, with its events', async () => {
    const { w, p, keyId, oldSecret, auth } = await setup();
    const t0 = w.clock.now();
    // 4 h window: the reminder (2 h before the end) exists and must be dropped by an earlier cut-over.
    const { record: rotated, secret: newSecret } = await rotateKey(p, keyId, { oldKeyExpiresInSeconds: 4 * 3600, expireWhenIdleSeconds: 600 }, w.rt);
    expect(rotated.rotation!.reminderAt).toBe(t0 + 2 * 3600 * S);
    expect(lastTimer(w, 'idle_check').at).toBe(t0 + 600 * S);

    // 1. The old secret is quiet but nobody uses the new one: the check finds nothing to act on and looks again later.
    w.clock.advance(600);
    expect(await handleTimer(lastTimer(w, 'idle_check'), w.rt)).toBe('acted');
    let rec = (await w.store.getKey(keyId))!;
    expect(rec.previous!.expiresAt).toBe(t0 + 4 * 3600 * S);
    expect(rec.rotation!.idleCheckAt).toBe(t0 + 1200 * S);
    expect(lastTimer(w, 'idle_check').at).toBe(t0 + 1200 * S);
    expect(expiredEvents(w)).toHaveLength(0);

    // 2. The new secret is used, and so is the old one, repeatedly: each check re-plans to "last old use + 600 s".
    w.clock.advance(60); // t0+660
    expect(await call(auth, newSecret!)).toBe('current');
    const view1 = keyView(rec = (await w.store.getKey(keyId))!, w.clock.now(), await usageOf(rec, w.rt));
    expect(view1.rotation!.idleCutover).toEqual({ expireWhenIdleSeconds: 600, at: new Date(t0 + 1260 * S).toISOString() });
    for (const at of [700, 1000, 1300, 1500]) {
      w.clock.t = t0 + at * S;
      expect(await call(auth, oldSecret, '192.0.2.77', 'legacy-cron/0.9')).toBe('previous');
    }
    w.clock.t = t0 + 1200 * S;
    // (the uses at 1300 and 1500 were recorded "later" on the wall clock of this test; the check reads them all)
    expect(await handleTimer(lastTimer(w, 'idle_check'), w.rt)).toBe('acted');
    rec = (await w.store.getKey(keyId))!;
    expect(rec.rotation!.idleCheckAt).toBe(t0 + 2100 * S);
    expect(expiredEvents(w)).toHaveLength(0);
    expect(await call(auth, oldSecret, '192.0.2.77', 'legacy-cron/0.9')).toBe('previous'); // still works

    // The view names the deployment still on the old secret.
    const view2 = keyView(rec, w.clock.now(), await usageOf(rec, w.rt));
    expect(view2.previousSecret!.lastUsedFrom).toEqual({ ip: '192.0.2.77', userAgent: 'legacy-cron/0.9' });
    expect(view2.rotation!.oldKeyLastUsedFrom).toEqual({ ip: '192.0.2.77', userAgent: 'legacy-cron/0.9' });
    expect(view2.currentSecret.lastUsedFrom).toEqual({ ip: '198.51.100.4', userAgent: 'billing-worker/2.1' });
    expect(view2.rotation!.oldKeyLastUsedAt).toBe(new Date(t0 + 1500 * S).toISOString());

    // 3. Quiet since t0+1500: at t0+2100 the old secret expires at exactly that second.
    w.clock.t = t0 + 2100 * S - 1;
    expect(await call(auth, oldSecret)).toBe('previous');
    // That use at 2099.999 s was recorded: the check due at 2100 s now finds it and re-plans (to the next second).
    w.clock.t = t0 + 2100 * S;
    expect(await handleTimer(lastTimer(w, 'idle_check'), w.rt)).toBe('acted');
    rec = (await w.store.getKey(keyId))!;
    expect(rec.previous!.expiresAt).toBe(t0 + 4 * 3600 * S);
    const quietFrom = t0 + 2100 * S - 1;
    expect(rec.rotation!.idleCheckAt).toBe(quietFrom + 600 * S); // the timer itself fires at the next whole second

    w.clock.t = quietFrom + 600 * S - 1;
    expect(await call(auth, oldSecret)).toBe('previous'); // one millisecond before: still valid... and used again
    const lastOld = w.clock.now();
    w.clock.t = lastOld + 600 * S;
    const check = lastTimer(w, 'idle_check');
    expect(check.at).toBe(Math.ceil((quietFrom + 600 * S) / S) * S);
    // The check at the planned second sees the newer use and re-plans to lastOld + 600 s.
    w.clock.t = check.at;
    expect(await handleTimer(check, w.rt)).toBe('acted');
    const cutAt = lastOld + 600 * S;
    expect((await w.store.getKey(keyId))!.rotation!.idleCheckAt).toBe(cutAt);

    // Now nobody touches the old secret. The check fires at its planned second and cuts over.
    const final = lastTimer(w, 'idle_check');
    w.clock.t = final.at;
    const published = w.rec.published.length;
    expect(await handleTimer(final, w.rt)).toBe('acted');
    rec = (await w.store.getKey(keyId))!;
    expect(rec.previous!.expiresAt).toBe(cutAt);
    expect(rec.rotation).toMatchObject({ oldKeyExpiresAt: cutAt, idleCutoverAt: cutAt, idleCheckAt: null, reminderAt: null, restorableUntil: cutAt + 86_400 * S });
    const events = w.rec.published.slice(published);
    expect(events.map((e) => e.type)).toEqual(['api_key.old_secret_expired']);
    expect(events[0]!.data).toMatchObject({ rotationId: rotated.rotation!.id, oldKeyExpiresAt: new Date(cutAt).toISOString(), reason: 'idle', idleSeconds: 600 });
    expect(w.rec.mails.filter((m) => /expired/i.test(m.subject))).toHaveLength(1);
    // The reminder and the window-end expiry timers are unscheduled; nothing announces it again.
    const cancelled = w.rec.cancelled.map((t) => t.kind);
    expect(cancelled).toEqual(expect.arrayContaining(['rotation_reminder', 'old_secret_expired']));
    expect(w.rec.scheduled.filter((t) => t.kind === 'old_secret_expired' && t.at <= cutAt + S)).toHaveLength(0);

    // Exactly once: a duplicate delivery of the check is a no-op.
    expect(await handleTimer(final, w.rt)).toBe('stale');
    expect(expiredEvents(w)).toHaveLength(1);

    // Every authorizer now refuses the old secret (from the record), and the new one keeps working.
    w.clock.advance(11);
    expect(await call(auth, oldSecret)).toBeNull();
    expect(await call(auth, newSecret!)).toBe('current');
    const view3 = keyView(rec, w.clock.now(), await usageOf(rec, w.rt));
    expect(view3.rotation).toMatchObject({ state: 'completed', oldKeyExpiresAt: new Date(cutAt).toISOString(), idleCutover: { expireWhenIdleSeconds: 600, at: new Date(cutAt).toISOString() } });
  });

  it('never cuts over later than the window, and a cancel stops the checks', async () => {
    const { w, p, keyId, auth } = await setup();
    const t0 = w.clock.now();
    const { secret: newSecret } = await rotateKey(p, keyId, { oldKeyExpiresInSeconds: 900, expireWhenIdleSeconds: 600 }, w.rt);
    w.clock.advance(500);
    expect(await call(auth, newSecret!)).toBe('current');
    w.clock.t = t0 + 600 * S;
    expect(await handleTimer(lastTimer(w, 'idle_check'), w.rt)).toBe('acted');
    const rec = (await w.store.getKey(keyId))!;
    // The cut-over would be at 1100 s, after the window's end at 900 s: no further check, the window ends it.
    expect(rec.rotation!.idleCheckAt).toBeNull();
    expect(keyView(rec, w.clock.now(), await usageOf(rec, w.rt)).rotation!.idleCutover!.at).toBe(new Date(t0 + 900 * S).toISOString());

    const other = await setup();
    await rotateKey(other.p, other.keyId, { oldKeyExpiresInSeconds: 3600, expireWhenIdleSeconds: 600 }, other.w.rt);
    const check = lastTimer(other.w, 'idle_check');
    await cancelRotation(other.p, other.keyId, {}, other.w.rt);
    expect(other.w.rec.cancelled.map((t) => t.id)).toContain(check.id);
    other.w.clock.t = check.at;
    expect(await handleTimer(check, other.w.rt)).toBe('stale');
  });
});

describe('GET /v1/keys/{id}/usage logic', () => {
  it('answers per-minute counts per secret with slots current, previous and retired, and checks the range', async () => {
    const { w, p, keyId, oldSecret, auth } = await setup();
    const t0 = w.clock.now(); // a whole minute
    for (let i = 0; i < 3; i++) await call(auth, oldSecret);
    const first = await rotateKey(p, keyId, { oldKeyExpiresInSeconds: 0 }, w.rt);
    w.clock.advance(60);
    for (let i = 0; i < 2; i++) await call(auth, first.secret!);
    const second = await rotateKey(p, keyId, { oldKeyExpiresInSeconds: 3600 }, w.rt);
    w.clock.advance(60);
    await call(auth, second.secret!);
    await call(auth, first.secret!);
    const report = await keyUsageReport(p, keyId, {}, w.rt);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(report.secrets).toEqual([
      { hint: second.record.current.hint, slot: 'current', minutes: [{ at: iso(t0 + 120 * S), count: 1 }] },
      { hint: first.record.current.hint, slot: 'previous', minutes: [{ at: iso(t0 + 60 * S), count: 2 }, { at: iso(t0 + 120 * S), count: 1 }] },
      { hint: first.record.rotation!.oldKeyHint, slot: 'retired', minutes: [{ at: iso(t0), count: 3 }] },
    ]);
    const ranged = await keyUsageReport(p, keyId, { from: iso(t0 + 60 * S), to: iso(t0 + 119 * S) }, w.rt);
    expect(ranged.secrets).toEqual([{ hint: first.record.current.hint, slot: 'previous', minutes: [{ at: iso(t0 + 60 * S), count: 2 }] }]);
    expect(await code(keyUsageReport(p, keyId, { from: iso(t0 - 7 * 86_400 * S - S), to: iso(t0) }, w.rt))).toMatch(/^validation_error:.*"from"/);
    expect(await code(keyUsageReport(p, keyId, { from: iso(t0), to: iso(t0) }, w.rt))).toMatch(/^validation_error:.*"from"/);
    // Another account's key: 404, not an empty answer.
    const stranger: Principal = { accountId: 'acct0000000000000', environment: 'live', actor: { type: 'key', id: 'k' }, scopes: ['keys:read'] };
    expect(await code(keyUsageReport(stranger, keyId, {}, w.rt))).toMatch(/^not_found/);
  });
});
