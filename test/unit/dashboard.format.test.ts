import { describe, expect, it } from 'vitest';
import { formatCountdown, formatDuration, formatRelative, parseDuration, splitList } from '../../dashboard/src/format.js';
import { dataSummary, eventTitle } from '../../dashboard/src/components/AuditTimeline.js';
import { rotationPhase, type KeyView } from '../../dashboard/src/types.js';

const MAX = 259_200;

describe('dashboard custom window parsing', () => {
  it('reads plain numbers as seconds, h:m as hours and minutes, and unit forms', () => {
    expect(parseDuration('90', MAX)).toEqual({ seconds: 90 });
    expect(parseDuration('1:30', MAX)).toEqual({ seconds: 5400 });
    expect(parseDuration('2h 30m', MAX)).toEqual({ seconds: 9000 });
    expect(parseDuration('1d', MAX)).toEqual({ seconds: 86_400 });
    expect(parseDuration('45s', MAX)).toEqual({ seconds: 45 });
    expect(parseDuration(' 0 ', MAX)).toEqual({ seconds: 0 });
  });

  it('refuses windows above the maximum, naming the maximum', () => {
    expect(parseDuration('259201', MAX)).toEqual({ error: 'The longest allowed window is 3 d.' });
    expect(parseDuration('73:00', MAX)).toHaveProperty('error');
    expect(parseDuration('72:00', MAX)).toEqual({ seconds: MAX });
  });

  it('explains input that is not a duration', () => {
    expect(parseDuration('', MAX)).toHaveProperty('error');
    expect(parseDuration('soon', MAX)).toEqual({ error: expect.stringContaining('"soon" is not a duration') });
    expect(parseDuration('-5', MAX)).toHaveProperty('error');
    expect(parseDuration('1.5', MAX)).toHaveProperty('error');
  });
});

describe('dashboard time formatting', () => {
  it('counts down by the second and never shows zero before the deadline', () => {
    expect(formatCountdown(40_000)).toBe('00:40');
    expect(formatCountdown(39_001)).toBe('00:40');
    expect(formatCountdown(1)).toBe('00:01');
    expect(formatCountdown(0)).toBe('00:00');
    expect(formatCountdown(-5_000)).toBe('00:00');
    expect(formatCountdown(3_723_000)).toBe('01:02:03');
    expect(formatCountdown(90_061_000)).toBe('1 d 01:01:01');
  });

  it('writes durations with only their non-zero parts', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(90_061)).toBe('1 d 1 h 1 min 1 s');
    expect(formatDuration(259_200)).toBe('3 d');
  });

  it('describes past and future instants relative to now', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatRelative('2026-01-01T11:55:00Z', now)).toBe('5 minutes ago');
    expect(formatRelative('2026-01-01T13:00:00Z', now)).toBe('in 1 hour');
    expect(formatRelative('2026-01-01T12:00:02Z', now)).toBe('just now');
  });

  it('splits alert email and scope lists on commas, spaces and new lines without duplicates', () => {
    expect(splitList('a@x.io,\n b@x.io  a@x.io;c@x.io\n')).toEqual(['a@x.io', 'b@x.io', 'c@x.io']);
    expect(splitList('  ')).toEqual([]);
  });

  it('names audit events in words', () => {
    expect(eventTitle('api_key.rotation_updated')).toBe('Rotation updated');
    expect(eventTitle('key.created')).toBe('Created');
  });

  it('writes event data times as dates and seconds as durations, never raw epoch numbers', () => {
    const text = dataSummary({ oldKeyExpiresAt: Date.parse('2026-01-01T12:00:00Z'), oldKeyExpiresInSeconds: 3600, hint: 'rekey_live_…abcd', nested: { a: 1 } });
    expect(text).not.toContain('1767268800000');
    expect(text).toContain('old key expires at: ');
    expect(text).toContain('2026');
    expect(text).toContain('old key expires in seconds: 1 h');
    expect(text).toContain('hint: rekey_live_…abcd');
    expect(text).not.toContain('nested');
  });
});

describe('dashboard rotation phase', () => {
  const t0 = Date.parse('2026-01-01T12:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const secret = (expiresAt: string | null) => ({ hint: 'rekey_live_…abcd', createdAt: iso(t0), expiresAt, lastUsedAt: null });
  const key = (state: 'in_progress' | 'completed' | 'cancelled', oldExpires: number, restorable: number | null, previous: boolean): KeyView => ({
    id: 'k', name: 'n', environment: 'live', scopes: [], status: 'active', createdAt: iso(t0), expiresAt: null, lastUsedAt: null,
    lastRotatedAt: iso(t0), revokedAt: null, reactivatableUntil: null, currentSecret: secret(null),
    previousSecret: previous ? secret(iso(oldExpires)) : null,
    rotation: { id: 'r', state, startedAt: iso(t0), oldKeyExpiresAt: iso(oldExpires), oldKeyHint: 'rekey_live_…old1', oldKeyLastUsedAt: null, reminderAt: null, restorableUntil: restorable === null ? null : iso(restorable), cancelledAt: state === 'cancelled' ? iso(t0) : null, newKeyExpiresAt: null },
  });

  it('shows both secrets only until the old one expires, by the local clock', () => {
    const k = key('in_progress', t0 + 60_000, t0 + 60_000 + 86_400_000, true);
    expect(rotationPhase(k, t0 + 59_999)).toBe('in_progress');
    expect(rotationPhase(k, t0 + 60_000)).toBe('restorable');
  });

  it('offers restore within the restore window only, and never after a cancel', () => {
    expect(rotationPhase(key('completed', t0, t0 + 1000, false), t0 + 999)).toBe('restorable');
    expect(rotationPhase(key('completed', t0, t0 + 1000, false), t0 + 1000)).toBe('none');
    expect(rotationPhase(key('completed', t0, null, false), t0 + 1)).toBe('none');
    expect(rotationPhase(key('cancelled', t0, t0 + 1000, false), t0 + 1)).toBe('none');
  });
});
