import { describe, expect, it } from 'vitest';
import { createAccountWithKey, createWorld, TEST_OPERATOR, TEST_PEPPER, useDynalite, codeOf } from '../support/world.js';
import {
  cancelRotation, changeRotationWindow, createKey, handleTimer, listKeyEvents, listKeys,
  principalOf, reactivateKey, revokeKey, rotateKey, setAlertEmails, type Principal,
} from '../../shared/domain/service.js';
import { sweepOutbox } from '../../shared/domain/outbox.js';
import { ApiError } from '../../shared/domain/errors.js';
import { digestSecret, digestsEqual } from '../../shared/domain/digest.js';
import { keyView, secretValid } from '../../shared/domain/view.js';
import { planTimers } from '../../shared/domain/timers.js';
import type { KeyRecord } from '../../shared/domain/types.js';

const dynalite = useDynalite();

const OPERATOR_ARN = TEST_OPERATOR;

async function setup(policies = {}) {
  const w = await createWorld({ dynamo: dynalite(), policies });
  const { account, key, secret, caller } = await createAccountWithKey({ name: 'Acme', alertEmails: ['ops@acme.test', 'dev@acme.test'] }, w.rt);
  return { w, account, key, secret, caller, p: principalOf(caller) };
}

/** Which of `secrets` would authenticate against the stored record right now. */
function working(record: KeyRecord, secrets: string[], now: number): string[] {
  return secrets.filter((s) => {
    const d = digestSecret(TEST_PEPPER, s);
    return record.status === 'active' && [record.current, record.previous].some((slot) => slot && secretValid(slot, now) && digestsEqual(d, slot.digest));
  });
}

describe('rotations against dynalite', () => {
  it('50 concurrent rotations of one key: exactly one succeeds, the rest answer rotation_in_progress, and the record stays consistent', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'busy' }, w.rt);
    const results = await Promise.all(Array.from({ length: 50 }, () => codeOf(rotateKey(p, record.id, { oldKeyExpiresInSeconds: 3600 }, w.rt))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'rotation_in_progress')).toHaveLength(49);
    const after = (await w.store.getKey(record.id, { consistent: true }))!;
    expect(after.version).toBe(record.version + 1);
    expect(after.previous?.sid).toBe(record.current.sid);
    expect(after.rotation?.oldSid).toBe(record.current.sid);
    const events = await listKeyEvents(p, record.id, { limit: 100 }, w.rt);
    expect(events.items.filter((e) => e.type === 'api_key.rotated')).toHaveLength(1);
  });

  it('concurrent mixed operations never leave more than one current and one previous secret, and every success is one version', async () => {
    const { w, p } = await setup();
    const { record, secret: first } = await createKey(p, p.accountId!, { name: 'mixed' }, w.rt);
    const secrets = [first];
    const ops = Array.from({ length: 40 }, (_, i) => {
      switch (i % 4) {
        case 0: return rotateKey(p, record.id, { oldKeyExpiresInSeconds: 600 }, w.rt).then((r) => { secrets.push(r.secret!); return 'ok'; });
        case 1: return changeRotationWindow(p, record.id, { oldKeyExpiresInSeconds: 300 }, w.rt).then(() => 'ok');
        case 2: return cancelRotation(p, record.id, {}, w.rt).then(() => 'ok');
        default: return i === 39 ? revokeKey(p, record.id, w.rt).then(() => 'ok') : rotateKey(p, record.id, { oldKeyExpiresInSeconds: 0 }, w.rt).then((r) => { secrets.push(r.secret!); return 'ok'; });
      }
    });
    const results = await Promise.all(ops.map((op) => codeOf(op)));
    for (const r of results) expect(['ok', 'rotation_in_progress', 'no_rotation_in_progress', 'nothing_to_cancel', 'key_revoked']).toContain(r);
    const after = (await w.store.getKey(record.id, { consistent: true }))!;
    // Every committed change is exactly one version step, and one audit event each.
    const events = await listKeyEvents(p, record.id, { limit: 100 }, w.rt);
    const stateEvents = events.items.filter((e) => ['api_key.created', 'api_key.rotated', 'api_key.rotation_updated', 'api_key.rotation_cancelled', 'api_key.revoked'].includes(e.type));
    expect(stateEvents).toHaveLength(after.version);
    // At most two digests anywhere, and at most two of all issued secrets are valid (before the revoke took them all).
    const active = { ...after, status: 'active' as const };
    expect(working(active, secrets, w.clock.now()).length).toBeLessThanOrEqual(2);
    // The revoke among them never conflicts, so the key ends revoked and no issued secret works.
    expect(results[39]).toBe('ok');
    expect(after.status).toBe('revoked');
    expect(working(after, secrets, w.clock.now())).toEqual([]);
  });

  it('the full story: rotate, both secrets work, old one ends at its second, reminder and expiry timers fire once', async () => {
    const { w, p } = await setup();
    const { record, secret: oldSecret } = await createKey(p, p.accountId!, { name: 'story' }, w.rt);
    const { record: rotated, secret: newSecret } = await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 3 * 3600 }, w.rt);
    expect(working(rotated, [oldSecret, newSecret!], w.clock.now())).toEqual([oldSecret, newSecret]);
    // The reminder (2 h before) and the expiry are scheduled with exact times.
    const kinds = w.rec.scheduled.map((t) => [t.kind, t.at - w.clock.now()]);
    expect(kinds).toContainEqual(['rotation_reminder', 3600_000]);
    expect(kinds).toContainEqual(['old_secret_expired', 3 * 3600_000]);
    const reminder = w.rec.scheduled.find((t) => t.kind === 'rotation_reminder')!;
    w.clock.advance(3600);
    expect(await handleTimer(reminder, w.rt)).toBe('acted');
    expect(await handleTimer(reminder, w.rt)).toBe('stale'); // duplicate delivery: no-op
    expect(w.rec.mails).toHaveLength(1);
    expect(w.rec.mails[0]!.to).toEqual(['ops@acme.test', 'dev@acme.test']);
    expect(w.rec.mails[0]!.text).not.toContain(oldSecret);
    expect(w.rec.published.map((e) => e.type)).toContain('api_key.rotation_reminder');
    w.clock.advance(2 * 3600 - 1);
    let now = (await w.store.getKey(record.id, { consistent: true }))!;
    expect(working(now, [oldSecret, newSecret!], w.clock.now())).toEqual([oldSecret, newSecret]);
    w.clock.t += 1000; // the window's last second has passed
    now = (await w.store.getKey(record.id, { consistent: true }))!;
    expect(working(now, [oldSecret, newSecret!], w.clock.now())).toEqual([newSecret]);
    const expiry = w.rec.scheduled.find((t) => t.kind === 'old_secret_expired')!;
    expect(await handleTimer(expiry, w.rt)).toBe('acted');
    const types = (await listKeyEvents(p, record.id, { limit: 20 }, w.rt)).items.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['api_key.old_secret_expired', 'api_key.rotation_reminder', 'api_key.rotated']);
  });

  it('changing the window moves the timers; cancelling deletes them', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'moving' }, w.rt);
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 86400 }, w.rt);
    const firstPlan = [...w.rec.scheduled];
    await changeRotationWindow(p, record.id, { oldKeyExpiresInSeconds: 4 * 3600 }, w.rt);
    expect(w.rec.cancelled.map((t) => t.id).sort()).toEqual(firstPlan.map((t) => t.id).sort());
    const moved = w.rec.scheduled.slice(firstPlan.length);
    expect(moved.find((t) => t.kind === 'rotation_reminder')!.at).toBe(w.clock.now() + 2 * 3600_000);
    await cancelRotation(p, record.id, {}, w.rt);
    expect(w.rec.cancelled.map((t) => t.id)).toEqual(expect.arrayContaining(moved.map((t) => t.id)));
  });

  it('cancel after expiry restores the old secret within the restore window, and not after it', async () => {
    const { w, p } = await setup({ restoreWindowSeconds: 600 });
    const { record, secret: oldSecret } = await createKey(p, p.accountId!, { name: 'restore' }, w.rt);
    const { secret: newSecret } = await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 60 }, w.rt);
    w.clock.advance(61);
    const { record: restored } = await cancelRotation(p, record.id, {}, w.rt);
    expect(working(restored, [oldSecret, newSecret!], w.clock.now())).toEqual([oldSecret, newSecret]);
    expect(restored.previous!.expiresAt).toBe(w.clock.now() + 86400_000);
    expect(await codeOf(cancelRotation(p, record.id, {}, w.rt))).toBe('nothing_to_cancel');

    const other = await createKey(p, p.accountId!, { name: 'too late' }, w.rt);
    await rotateKey(p, other.record.id, { oldKeyExpiresInSeconds: 60 }, w.rt);
    w.clock.advance(60 + 600);
    expect(await codeOf(cancelRotation(p, other.record.id, {}, w.rt))).toBe('nothing_to_cancel');
  });

  it('after a restore, the key says which secret still blocks a rotation, until when, and PATCH 0 ends it so rotate works', async () => {
    const { w, p } = await setup({ restoreWindowSeconds: 600 });
    const { record } = await createKey(p, p.accountId!, { name: 'restored' }, w.rt);
    const { record: rotated } = await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 60 }, w.rt);
    w.clock.advance(61);
    const { record: restored } = await cancelRotation(p, record.id, {}, w.rt);
    const parkedUntil = new Date(w.clock.now() + 86_400_000).toISOString();
    const view = keyView(restored, w.clock.now());
    expect(view.rotation).toMatchObject({ state: 'cancelled', cancelledAt: new Date(w.clock.now()).toISOString(), newKeyExpiresAt: parkedUntil });
    expect(view.previousSecret).toMatchObject({ hint: rotated.current.hint, expiresAt: parkedUntil });

    const refused = await rotateKey(p, record.id, {}, w.rt).then(
      () => null,
      (e: unknown) => e as ApiError,
    );
    expect(refused?.code).toBe('rotation_in_progress');
    expect(refused?.message).toContain('cancelled');
    expect(refused?.message).toContain(rotated.current.hint);
    expect(refused?.message).toContain(`until ${parkedUntil}`);
    expect(refused?.message).toContain(`PATCH /v1/keys/${record.id}/rotation {"oldKeyExpiresInSeconds": 0}`);

    // Following the message: end it now, then rotate.
    const { record: ended } = await changeRotationWindow(p, record.id, { oldKeyExpiresInSeconds: 0 }, w.rt);
    expect(keyView(ended, w.clock.now()).rotation).toMatchObject({ state: 'cancelled', newKeyExpiresAt: null });
    expect(await codeOf(rotateKey(p, record.id, {}, w.rt))).toBe('ok');
  });

  it('a rotation in progress is named in the 409 too: the previous secret, its expiry, and how to end or cancel it', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'busy' }, w.rt);
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 3600 }, w.rt);
    const refused = await rotateKey(p, record.id, {}, w.rt).then(
      () => null,
      (e: unknown) => e as ApiError,
    );
    expect(refused?.message).toContain(record.current.hint);
    expect(refused?.message).toContain(`until ${new Date(w.clock.now() + 3_600_000).toISOString()}`);
    expect(refused?.message).toContain(`DELETE /v1/keys/${record.id}/rotation`);
  });

  it('revoke is idempotent and reactivation works only inside its window; purge then makes it final', async () => {
    const { w, p } = await setup({ reactivationWindowSeconds: 100 });
    const { record, secret } = await createKey(p, p.accountId!, { name: 'revocable' }, w.rt);
    const { record: revoked } = await revokeKey(p, record.id, w.rt);
    const again = await revokeKey(p, record.id, w.rt);
    expect(again.record.version).toBe(revoked.version);
    expect(working(revoked, [secret], w.clock.now())).toEqual([]);
    const { record: back } = await reactivateKey(p, record.id, w.rt);
    expect(working(back, [secret], w.clock.now())).toEqual([secret]);
    expect(await codeOf(reactivateKey(p, record.id, w.rt))).toBe('key_not_revoked');
    await revokeKey(p, record.id, w.rt);
    const purge = w.rec.scheduled.filter((t) => t.kind === 'purge_revoked').at(-1)!;
    w.clock.advance(100);
    expect(await codeOf(reactivateKey(p, record.id, w.rt))).toBe('reactivation_window_passed');
    expect(await handleTimer(purge, w.rt)).toBe('acted');
    const purged = (await w.store.getKey(record.id, { consistent: true }))!;
    expect(purged.current.digest).toBeNull();
  });

  it('another account gets 404 and a test key gets 403 on a live key', async () => {
    const a = await setup();
    const b = await createAccountWithKey({ name: 'Other', alertEmails: [] }, a.w.rt);
    const { record } = await createKey(a.p, a.p.accountId!, { name: 'private' }, a.w.rt);
    const outsider: Principal = { accountId: b.account.id, environment: 'live', actor: { type: 'key', id: b.key.id }, scopes: ['keys:write'] };
    expect(await codeOf(rotateKey(outsider, record.id, {}, a.w.rt))).toBe('not_found');
    const testKey: Principal = { accountId: a.p.accountId, environment: 'test', actor: { type: 'key', id: 'x' }, scopes: ['keys:write'] };
    expect(await codeOf(rotateKey(testKey, record.id, {}, a.w.rt))).toBe('forbidden');
    expect(await codeOf(createKey(testKey, a.p.accountId!, { name: 'live one', environment: 'live' }, a.w.rt))).toBe('forbidden');
    await createKey(testKey, a.p.accountId!, { name: 'sandbox' }, a.w.rt);
    const seen = await listKeys({ ...testKey, accountId: a.p.accountId! }, { limit: 100 }, a.w.rt);
    expect(seen.items.map((k) => k.environment)).toEqual(['test']);
  });

  it('lists keys newest first with a cursor that walks every page exactly once', async () => {
    const { w, p } = await setup();
    for (let i = 0; i < 7; i++) {
      w.clock.advance(1);
      await createKey(p, p.accountId!, { name: `k${i}` }, w.rt);
    }
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listKeys({ ...p, accountId: p.accountId! }, { limit: 3, cursor }, w.rt);
      names.push(...page.items.map((k) => k.name));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(names).toEqual(['k6', 'k5', 'k4', 'k3', 'k2', 'k1', 'k0', 'Initial key']);
  });
});

describe('the outbox', () => {
  it('an effect that fails after the commit is retried by the sweeper and performed exactly once', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'faulty' }, w.rt);
    const before = { published: w.rec.published.length, scheduled: w.rec.scheduled.length };
    w.rec.failNext.publish = 1;
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 86400 }, w.rt); // succeeds: state is committed
    expect(w.rec.published.length).toBe(before.published);
    expect(w.rec.logs.some((l) => l.includes('outbox effect failed'))).toBe(true);
    const swept = await sweepOutbox(w.rt);
    expect(swept.failed).toBe(0);
    expect(w.rec.published.slice(before.published).map((e) => e.type)).toEqual(['api_key.rotated']);
    expect(w.rec.scheduled.length - before.scheduled).toBe(3);
    expect((await sweepOutbox(w.rt)).performed).toBe(0); // nothing left, nothing repeated
  });

  it('each adapter failing once, then recovering: every effect happens once and the record stays valid', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'flaky' }, w.rt);
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 3 * 3600 }, w.rt);
    const reminder = w.rec.scheduled.find((t) => t.kind === 'rotation_reminder')!;
    w.clock.advance(3600);
    w.rec.failNext.mail = 1;
    expect(await handleTimer(reminder, w.rt)).toBe('acted');
    expect(w.rec.mails).toHaveLength(0);
    await sweepOutbox(w.rt);
    expect(w.rec.mails).toHaveLength(1);
    w.rec.failNext.cancel = 1;
    w.rec.failNext.schedule = 1;
    await changeRotationWindow(p, record.id, { oldKeyExpiresInSeconds: 600 }, w.rt);
    for (let i = 0; i < 3; i++) await sweepOutbox(w.rt);
    const after = (await w.store.getKey(record.id, { consistent: true }))!;
    const planned = planTimers(after, w.policies).filter((t) => t.at > w.clock.now()).map((t) => t.id).sort();
    const live = new Set(w.rec.scheduled.map((t) => t.id));
    for (const t of w.rec.cancelled) live.delete(t.id);
    expect([...live].filter((id) => planned.includes(id)).sort()).toEqual(planned);
    expect(w.rec.mails).toHaveLength(1);
  });

  it('alert email changes are audited on the account and deduplicated', async () => {
    const { w, p } = await setup();
    const account = await setAlertEmails(p, p.accountId!, ['A@x.test', 'a@x.test', 'b@x.test'], w.rt);
    // Added through the API: pending until each confirms (SPEC §10).
    expect(account.pendingEmails.map((e) => e.address)).toEqual(['A@x.test', 'b@x.test']);
    const events = await w.store.listEvents({ kind: 'account', id: p.accountId! }, { limit: 10 });
    expect(events.items.map((e) => e.type)).toContain('account.alert_emails_updated');
    // The operator is named by its IAM principal (actorKeyId stays null); a customer's change names the key.
    const event = (type: string) => events.items.find((e) => e.type === type);
    expect(event('account.created')).toMatchObject({ actorKeyId: null, actor: { type: 'operator', id: OPERATOR_ARN } });
    expect(event('account.alert_emails_updated')).toMatchObject({ actorKeyId: p.actor.id, actor: { type: 'key', id: p.actor.id } });
  });
});

describe('review fixes: outbox and contention', () => {
  it('20 concurrent 0 s rotations: exactly one succeeds, the rest answer rotation_in_progress (never a 500)', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'hot' }, w.rt);
    const results = await Promise.all(Array.from({ length: 20 }, () => codeOf(rotateKey(p, record.id, { oldKeyExpiresInSeconds: 0 }, w.rt))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'rotation_in_progress')).toHaveLength(19);
    const after = (await w.store.getKey(record.id, { consistent: true }))!;
    expect(after.version).toBe(record.version + 1);
    // Sequential 0 s rotations, each after the previous answered, all succeed.
    for (let i = 0; i < 3; i++) {
      w.clock.t += 5; // each call begins after the previous one answered
      expect(await codeOf(rotateKey(p, record.id, { oldKeyExpiresInSeconds: 0 }, w.rt))).toBe('ok');
    }
  });

  it('20 concurrent window changes all succeed, one version each, and their events are recorded before they answer', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'windows' }, w.rt);
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 3600 }, w.rt);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => codeOf(changeRotationWindow(p, record.id, { oldKeyExpiresInSeconds: 600 + i }, w.rt))));
    expect(results).toEqual(Array(20).fill('ok'));
    const after = (await w.store.getKey(record.id, { consistent: true }))!;
    expect(after.version).toBe(record.version + 21);
    const events = await listKeyEvents(p, record.id, { limit: 100 }, w.rt);
    expect(events.items.filter((e) => e.type === 'api_key.rotation_updated')).toHaveLength(20);
  });

  it('an effect that can never succeed is dropped and logged; the effects after it still happen', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'poison' }, w.rt);
    const publish = w.rt.effects.publisher.publish;
    let poisoned = 0;
    (w.rt.effects.publisher as { publish: typeof publish }).publish = async (e) => {
      if (e.type === 'api_key.rotated' && poisoned++ === 0) {
        const err = new Error('detail looks like it holds a secret');
        err.name = 'SecretInEventError';
        throw err;
      }
      return publish(e);
    };
    const scheduledBefore = w.rec.scheduled.length;
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 3 * 3600 }, w.rt);
    expect(w.rec.scheduled.length - scheduledBefore).toBe(3); // not blocked behind the dropped event
    expect(w.rec.logs.some((l) => l.includes('outbox effect dropped'))).toBe(true);
    expect((await w.store.itemsWithPendingEffects()).map((r) => r.id)).not.toContain(record.id);
  });

  it('a dispatcher that outlived its lease cannot release the claim of the one that took over', async () => {
    const { w, p } = await setup();
    const { record } = await createKey(p, p.accountId!, { name: 'lease' }, w.rt);
    w.rec.failNext.publish = 1;
    await rotateKey(p, record.id, {}, w.rt); // leaves effects pending
    const ref = { kind: 'key' as const, id: record.id };
    const now = w.clock.now();
    const d1 = await w.store.claimOutbox(ref, now, 30_000);
    expect(d1).not.toBeNull();
    expect(await w.store.claimOutbox(ref, now + 1_000, 30_000)).toBe('busy');
    const d2 = await w.store.claimOutbox(ref, now + 31_000, 30_000); // d1's lease ran out
    expect(d2 && d2 !== 'busy').toBe(true);
    await w.store.releaseOutbox(ref, (d1 as { token: string }).token, []); // the late d1 finishes
    expect(await w.store.claimOutbox(ref, now + 32_000, 30_000)).toBe('busy'); // d2 still owns it
    await w.store.releaseOutbox(ref, (d2 as { token: string }).token, (d2 as { effects: { id: string }[] }).effects.map((e) => e.id));
    expect(await w.store.claimOutbox(ref, now + 33_000, 30_000)).toBeNull();
    expect((await w.store.itemsWithPendingEffects()).map((r) => r.id)).not.toContain(record.id);
  });

  it('a revoked key reactivated after its old secret was due for purge still gets purged', async () => {
    const { w, p } = await setup({ restoreWindowSeconds: 0 });
    const { record } = await createKey(p, p.accountId!, { name: 'catch-up' }, w.rt);
    await rotateKey(p, record.id, { oldKeyExpiresInSeconds: 60 }, w.rt);
    await revokeKey(p, record.id, w.rt);
    w.clock.advance(120);
    const scheduledBefore = w.rec.scheduled.length;
    await reactivateKey(p, record.id, w.rt);
    const caught = w.rec.scheduled.slice(scheduledBefore);
    expect(caught.map((t) => t.kind).sort()).toEqual(['old_secret_expired', 'purge_previous']);
    for (const t of caught) expect(await handleTimer(t, w.rt)).toBe('acted');
    expect((await w.store.getKey(record.id, { consistent: true }))!.previous).toBeNull();
  });

  it('a test key cannot change the account alert list', async () => {
    const { w, p } = await setup();
    expect(await codeOf(setAlertEmails({ ...p, environment: 'test' }, p.accountId!, ['x@y.test'], w.rt))).toBe('forbidden');
  });
});
