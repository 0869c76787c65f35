import { describe, expect, it } from 'vitest';
import { cancelRotation, changeRotationWindow, createKeyRecord, reactivateKey, resolveExpiresAt, revokeKey, rotateKey, updateKey, type Decision, type TransitionContext } from '../../shared/domain/keys.js';
import { DEFAULT_POLICIES, formatOffset, parseOffsets, type Policies } from '../../shared/domain/policies.js';
import { randomIds } from '../../shared/domain/ids.js';
import { diffTimers, fireTimer, planTimers } from '../../shared/domain/timers.js';
import { keyView, secretValid } from '../../shared/domain/view.js';
import { ValidationError } from '../../shared/domain/errors.js';
import type { KeyRecord } from '../../shared/domain/types.js';

const T0 = Date.UTC(2026, 10, 23, 12);
const H = 3_600_000;
const ctx = (now: number, policies: Partial<Policies> = {}): TransitionContext => ({ now, policies: { ...DEFAULT_POLICIES, ...policies }, ids: randomIds, pepper: Buffer.alloc(32, 1) });

function fresh(expiresAt: number | null = null, policies: Partial<Policies> = {}) {
  return createKeyRecord('acct', { name: 'k', expiresAt }, { environment: 'live' }, ctx(T0, policies)).record;
}
function changed(d: Decision): KeyRecord {
  if (d.kind !== 'change') throw new Error(`expected a change, got ${JSON.stringify(d)}`);
  return d.next;
}

describe('rotation state machine', () => {
  it('rotate keeps the old secret for the default 24 h, with a reminder 2 h before and a restore window after', () => {
    const k = fresh();
    const d = rotateKey(k, {}, ctx(T0));
    const r = changed(d);
    expect(d.kind === 'change' && d.secret).toMatch(/^rekey_live_/);
    expect(r.previous).toMatchObject({ sid: k.current.sid, expiresAt: T0 + 24 * H });
    expect(r.rotation).toMatchObject({ oldKeyExpiresAt: T0 + 24 * H, reminderAt: T0 + 22 * H, restorableUntil: T0 + 48 * H, cancelledAt: null });
    expect(r.id).toBe(k.id);
    expect(r.scopes).toEqual(k.scopes);
    expect(r.version).toBe(k.version + 1);
    expect(keyView(r, T0).rotation!.state).toBe('in_progress');
    expect(keyView(r, T0 + 24 * H).rotation!.state).toBe('completed');
  });

  it('a window shorter than the reminder lead has no reminder; 0 s expires the old secret at once', () => {
    const k = fresh();
    expect(changed(rotateKey(k, { oldKeyExpiresInSeconds: 7199 }, ctx(T0))).rotation!.reminderAt).toBeNull();
    const d = rotateKey(k, { oldKeyExpiresInSeconds: 0 }, ctx(T0));
    const r = changed(d);
    expect(secretValid(r.previous, T0)).toBe(false);
    expect(d.kind === 'change' && d.events.map((e) => e.type)).toEqual(['api_key.rotated', 'api_key.old_secret_expired']);
  });

  it('refuses a second rotation while the previous secret is valid, allows one once it expired', () => {
    const r = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 60 }, ctx(T0)));
    expect(rotateKey(r, {}, ctx(T0 + 59_999))).toMatchObject({ kind: 'conflict', code: 'rotation_in_progress', message: expect.stringContaining('previous secret') });
    expect(rotateKey(r, {}, ctx(T0 + 60_000)).kind).toBe('change');
  });

  it('the new secret inherits the old lifetime from now, or takes the body expiry; the old never outlives its own expiry', () => {
    const k = fresh(T0 + 10 * H);
    const later = T0 + 9 * H;
    const r = changed(rotateKey(k, { oldKeyExpiresInSeconds: 86400 }, ctx(later)));
    expect(r.current.expiresAt).toBe(later + 10 * H);
    expect(r.previous!.expiresAt).toBe(T0 + 10 * H); // capped at the old secret's own expiry
    expect(changed(rotateKey(k, { expiresAt: null }, ctx(later))).current.expiresAt).toBeNull();
  });

  it('change window extends, shortens or ends the previous secret and moves the reminder', () => {
    const r = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 3600 }, ctx(T0)));
    const ext = changed(changeRotationWindow(r, 5 * 3600, ctx(T0 + 1000)));
    expect(ext.previous!.expiresAt).toBe(T0 + 1000 + 5 * H);
    expect(ext.rotation!.reminderAt).toBe(T0 + 1000 + 3 * H);
    const end = changeRotationWindow(ext, 0, ctx(T0 + 2000));
    expect(changed(end).rotation!.oldKeyExpiresAt).toBe(T0 + 2000);
    expect(end.kind === 'change' && end.events.map((e) => e.type)).toContain('api_key.old_secret_expired');
    expect(changeRotationWindow(changed(end), 60, ctx(T0 + 2000))).toEqual({ kind: 'conflict', code: 'no_rotation_in_progress' });
  });

  it('cancel in progress restores the old secret and discards the new one by default, or keeps it n seconds', () => {
    const k = fresh();
    const r = changed(rotateKey(k, {}, ctx(T0)));
    const c = changed(cancelRotation(r, undefined, ctx(T0 + 1000)));
    expect(c.current.sid).toBe(k.current.sid);
    expect(c.current.expiresAt).toBeNull();
    expect(c.previous).toBeNull();
    expect(keyView(c, T0 + 1000).rotation!.state).toBe('cancelled');
    const kept = changed(cancelRotation(r, 600, ctx(T0 + 1000)));
    expect(kept.previous).toMatchObject({ sid: r.current.sid, expiresAt: T0 + 1000 + 600_000 });
    // The kept secret is in the previous slot: no new rotation until it ends, and no second cancel.
    expect(rotateKey(kept, {}, ctx(T0 + 2000))).toMatchObject({ kind: 'conflict', code: 'rotation_in_progress', message: expect.stringContaining('was cancelled') });
    expect(cancelRotation(kept, undefined, ctx(T0 + 2000))).toEqual({ kind: 'conflict', code: 'nothing_to_cancel' });
  });

  it('cancel after expiry restores within restoreWindowSeconds (new secret kept 24 h by default), never after; 0 disables', () => {
    const r = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 60 }, ctx(T0, { restoreWindowSeconds: 3600 }), ));
    const restored = changed(cancelRotation(r, undefined, ctx(T0 + 60_000 + 3_599_999, { restoreWindowSeconds: 3600 })));
    expect(restored.previous!.expiresAt).toBe(T0 + 60_000 + 3_599_999 + 24 * H);
    expect(cancelRotation(r, undefined, ctx(T0 + 60_000 + 3_600_000))).toEqual({ kind: 'conflict', code: 'nothing_to_cancel' });
    const final = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 60 }, ctx(T0, { restoreWindowSeconds: 0 })));
    expect(final.rotation!.restorableUntil).toBeNull();
    expect(cancelRotation(final, undefined, ctx(T0 + 60_000))).toEqual({ kind: 'conflict', code: 'nothing_to_cancel' });
    expect(cancelRotation(fresh(), undefined, ctx(T0))).toEqual({ kind: 'conflict', code: 'nothing_to_cancel' });
  });

  it('revoke is idempotent; reactivate only while revoked and inside its window; frozen keys refuse changes', () => {
    const k = fresh();
    const rv = changed(revokeKey(k, ctx(T0)));
    expect(revokeKey(rv, ctx(T0 + 1))).toEqual({ kind: 'unchanged' });
    expect(rotateKey(rv, {}, ctx(T0))).toEqual({ kind: 'conflict', code: 'key_revoked' });
    expect(updateKey(rv, { name: 'x' }, ctx(T0))).toEqual({ kind: 'conflict', code: 'key_revoked' });
    expect(reactivateKey(k, ctx(T0))).toEqual({ kind: 'conflict', code: 'key_not_revoked' });
    expect(changed(reactivateKey(rv, ctx(T0 + 3_599_999))).status).toBe('active');
    expect(reactivateKey(rv, ctx(T0 + 3_600_000))).toEqual({ kind: 'conflict', code: 'reactivation_window_passed' });
    const expiring = fresh(T0 + 1000);
    expect(rotateKey(expiring, {}, ctx(T0 + 1000))).toEqual({ kind: 'conflict', code: 'key_expired' });
  });

  it('update changes only what differs and reports it', () => {
    const k = fresh();
    expect(updateKey(k, { name: 'k', scopes: [] }, ctx(T0))).toEqual({ kind: 'unchanged' });
    const d = updateKey(k, { scopes: ['b', 'b', 'a'] }, ctx(T0));
    expect(changed(d).scopes).toEqual(['b', 'a']);
  });

  it('expiresAt input: future, within the maximum lifetime, null only without one', () => {
    const p = { ...DEFAULT_POLICIES, maxKeyLifetimeSeconds: 86400 };
    expect(resolveExpiresAt(undefined, T0, p)).toBeUndefined();
    expect(() => resolveExpiresAt(null, T0, p)).toThrow(ValidationError);
    expect(() => resolveExpiresAt(new Date(T0).toISOString(), T0, p)).toThrow(/future/);
    expect(() => resolveExpiresAt(new Date(T0 + 86_400_001).toISOString(), T0, p)).toThrow(/86400/);
    expect(resolveExpiresAt('2026-11-24T00:00:00+02:00', T0, p)).toBe(Date.UTC(2026, 10, 23, 22));
    expect(fresh(undefined, { maxKeyLifetimeSeconds: 86400 }).current.expiresAt).toBeNull();
    const defaulted = createKeyRecord('a', { name: 'k' }, { environment: 'live' }, ctx(T0, { maxKeyLifetimeSeconds: 86400 })).record;
    expect(defaulted.current.expiresAt).toBe(T0 + 24 * H);
  });
});

describe('timers', () => {
  it('plans reminder, old-secret expiry and purge for a rotation, notices at each offset before key expiry', () => {
    const k = fresh(T0 + 40 * 24 * H);
    const r = changed(rotateKey(k, { oldKeyExpiresInSeconds: 3 * 3600 }, ctx(T0 + 1000)));
    const plan = planTimers(r, DEFAULT_POLICIES);
    const byKind = (kind: string) => plan.filter((t) => t.kind === kind).map((t) => t.at);
    expect(byKind('rotation_reminder')).toEqual([T0 + 1000 + H]);
    expect(byKind('old_secret_expired')).toEqual([T0 + 1000 + 3 * H]);
    expect(byKind('purge_previous')).toEqual([T0 + 1000 + 27 * H]);
    expect(byKind('expiry_notice')).toHaveLength(5);
    expect(byKind('key_expired')).toEqual([r.current.expiresAt]);
    for (const t of plan) expect(`${t.keyId}-${t.id}`.length).toBeLessThanOrEqual(64);
  });

  it('skips expiry notices that were already past when the secret was issued', () => {
    const k = fresh(T0 + 5 * 24 * H);
    expect(planTimers(k, DEFAULT_POLICIES).filter((t) => t.kind === 'expiry_notice').map((t) => (k.current.expiresAt! - t.at) / (24 * H))).toEqual([3, 1]);
  });

  it('a delivered timer acts once; duplicates, stale and early deliveries are no-ops', () => {
    const r = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 3 * 3600 }, ctx(T0)));
    const reminder = planTimers(r, DEFAULT_POLICIES).find((t) => t.kind === 'rotation_reminder')!;
    expect(fireTimer(r, reminder, reminder.at - 120_000, DEFAULT_POLICIES)).toEqual({ kind: 'unchanged' });
    const d = fireTimer(r, reminder, reminder.at, DEFAULT_POLICIES);
    const after = changed(d);
    expect(d.kind === 'change' && d.emails).toEqual([{ template: 'rotation_reminder', hint: r.previous!.hint, expiresAt: r.previous!.expiresAt }]);
    expect(fireTimer(after, reminder, reminder.at + 5, DEFAULT_POLICIES)).toEqual({ kind: 'unchanged' });
    const cancelled = changed(cancelRotation(r, undefined, ctx(T0 + 1000)));
    expect(fireTimer(cancelled, reminder, reminder.at, DEFAULT_POLICIES)).toEqual({ kind: 'unchanged' });
  });
});

describe('policies', () => {
  it('parses expiry notice offsets and names a bad entry', () => {
    expect(parseOffsets('30d,14d,7d,3d,1d')).toEqual([30, 14, 7, 3, 1].map((d) => d * 86400));
    expect(parseOffsets('1h, 90, 1h')).toEqual([3600, 90]);
    expect(parseOffsets('')).toEqual([]);
    expect(() => parseOffsets('30d,soon')).toThrow(/"soon"/);
    expect(formatOffset(86400)).toBe('1d');
    expect(formatOffset(90)).toBe('90s');
  });
});

describe('review fixes', () => {
  it('a 0 s rotation announces the old secret expired once: its timer is already marked fired', () => {
    const d = rotateKey(fresh(), { oldKeyExpiresInSeconds: 0 }, ctx(T0 + 123));
    const r = changed(d);
    const ose = planTimers(r, DEFAULT_POLICIES).find((t) => t.kind === 'old_secret_expired')!;
    expect(r.fired).toContain(ose.id);
    expect(fireTimer(r, ose, ose.at, DEFAULT_POLICIES)).toEqual({ kind: 'unchanged' });
    expect(d.kind === 'change' && d.emails!.map((e) => e.template)).toEqual(['old_secret_expired']);
    const w = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 600 }, ctx(T0)));
    const ended = changeRotationWindow(w, 0, ctx(T0 + 5_500));
    const ose2 = planTimers(changed(ended), DEFAULT_POLICIES).find((t) => t.kind === 'old_secret_expired')!;
    expect(fireTimer(changed(ended), ose2, ose2.at, DEFAULT_POLICIES)).toEqual({ kind: 'unchanged' });
  });

  it('refuses an expiresAt so far ahead that timestamps would stop being RFC 3339', () => {
    expect(() => resolveExpiresAt('9999-12-31T23:59:59-23:59', T0, DEFAULT_POLICIES)).toThrow(/100 years/);
    expect(resolveExpiresAt('2120-01-01T00:00:00Z', T0, DEFAULT_POLICIES)).toBe(Date.UTC(2120, 0, 1));
  });

  it('does not restore an old secret whose own lifetime ended in the meantime', () => {
    const k = fresh(T0 + 10 * H);
    const r = changed(rotateKey(k, { oldKeyExpiresInSeconds: 86400 }, ctx(T0 + 9 * H)));
    expect(r.previous!.expiresAt).toBe(T0 + 10 * H);
    expect(cancelRotation(r, undefined, ctx(T0 + 10 * H + 60_000))).toEqual({ kind: 'conflict', code: 'nothing_to_cancel' });
  });

  it('sends a reminder when the window equals the lead (only a shorter window has none)', () => {
    expect(changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 7200 }, ctx(T0))).rotation!.reminderAt).toBe(T0);
    expect(changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 7199 }, ctx(T0))).rotation!.reminderAt).toBeNull();
  });

  it('writes RFC 3339 timestamps in event data', () => {
    const d = rotateKey(fresh(), { oldKeyExpiresInSeconds: 3 * 3600 }, ctx(T0));
    const data = d.kind === 'change' ? d.events[0]!.data : {};
    expect(data).toMatchObject({ oldKeyExpiresAt: '2026-11-23T15:00:00.000Z', reminderAt: '2026-11-23T13:00:00.000Z', expiresAt: null });
    const rv = revokeKey(fresh(), ctx(T0));
    expect(rv.kind === 'change' && rv.events[0]!.data).toEqual({ reactivatableUntil: '2026-11-23T13:00:00.000Z' });
  });

  it('on reactivation, purges and expiry announcements that came due while revoked are scheduled again', () => {
    const r = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 60 }, ctx(T0, { restoreWindowSeconds: 0 })));
    const revoked = changed(revokeKey(r, ctx(T0 + 1000)));
    const back = changed(reactivateKey(revoked, ctx(T0 + 120_000)));
    const before = planTimers(revoked, DEFAULT_POLICIES);
    const after = planTimers(back, { ...DEFAULT_POLICIES, restoreWindowSeconds: 0 });
    const caught = diffTimers(before, after, T0 + 120_000, back.fired);
    expect(caught.schedule.map((t) => t.kind).sort()).toEqual(['old_secret_expired', 'purge_previous']);
    // Already fired, or an overdue reminder: not scheduled again.
    const firedOse = caught.schedule.find((t) => t.kind === 'old_secret_expired')!.id;
    expect(diffTimers(before, after, T0 + 120_000, [firedOse]).schedule.map((t) => t.kind)).toEqual(['purge_previous']);
    const withReminder = changed(rotateKey(fresh(), { oldKeyExpiresInSeconds: 3 * 3600 }, ctx(T0)));
    const overdue = diffTimers([], planTimers(withReminder, DEFAULT_POLICIES), T0 + 2 * H, []);
    expect(overdue.schedule.map((t) => t.kind)).not.toContain('rotation_reminder');
  });
});
