import { describe, expect, it } from 'vitest';
import { formatCountdown, formatDuration, formatRelative, parseDuration, splitList } from '../../dashboard/src/format.js';
import { describeEvent, eventTitle, hasSentence } from '../../dashboard/src/auditSentences.js';
import { describeError, nameListItems } from '../../dashboard/src/api.js';
import { RekeyApiError, toApiError } from '../../client/index.js';
import { AUDIT_ONLY_EVENT_TYPES, PUBLISHED_EVENT_TYPES } from '../../shared/domain/types.js';
import { oldSecretQuiet, rotationPhase, type KeyView } from '../../dashboard/src/types.js';
import { usageSeries } from '../../dashboard/src/components/UsageChart.js';
import { attemptWords, deliverySummary, disabledWords, shortUrl, shouldFollow, endpointFormError, endpointState, eventTypeWords, receivesAll, WEBHOOK_EVENT_TYPES } from '../../dashboard/src/webhooks.js';

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

});

describe('dashboard audit trail in sentences', () => {
  const ctx = { subjectKeyId: 'K1', keyName: (id: string) => ({ K1: 'billing-worker', A1: 'ops admin' })[id] };
  const ev = (type: string, data: Record<string, unknown>, actorKeyId: string | null = 'A1', actor?: { type: string; id?: string }) => ({ type, data, actorKeyId, ...(actor ? { actor } : {}) });

  it('writes each event as a sentence with key names, not ids, and no raw field names', () => {
    const rotated = describeEvent(
      ev('api_key.rotated', { rotationId: 'sMELPY', oldKeyHint: 'rekey_live_…9fQa', newKeyHint: 'rekey_live_…abcd', oldKeyExpiresAt: '2026-01-02T12:00:00Z', reminderAt: null }),
      ctx,
    );
    expect(rotated).toMatch(/^The key “ops admin” rotated the key: rekey_live_…abcd is the current secret, and the old secret rekey_live_…9fQa keeps working until .*2026.*\.$/);
    expect(rotated).not.toMatch(/rotation id|sMELPY|A1|:\s*false/);
    const cancelled = describeEvent(
      ev('api_key.rotation_cancelled', { rotationId: 'r', restoredAfterExpiry: false, restoredHint: 'rekey_live_…9fQa', newKeyHint: 'rekey_live_…abcd', newKeyExpiresAt: '2026-01-01T00:00:00Z' }, 'K1'),
      ctx,
    );
    expect(cancelled).toMatch(/^This key itself cancelled the rotation: rekey_live_…9fQa is the current secret again; the new secret rekey_live_…abcd works until /);
    expect(describeEvent(ev('api_key.rotation_cancelled', { restoredAfterExpiry: true, restoredHint: 'h1', newKeyHint: 'h2', newKeyExpiresAt: '2026-01-02T00:00:00Z' }), ctx)).toContain(
      'restored h1 after it had expired',
    );
    expect(describeEvent(ev('api_key.old_secret_expired', { oldKeyHint: 'h1', oldKeyExpiresAt: '2026-01-01T00:00:00Z' }, null), ctx)).toMatch(/^The old secret h1 stopped working /);
    expect(describeEvent(ev('api_key.revoked', { reactivatableUntil: '2026-01-01T01:00:00Z' }, 'Zz9999999'), ctx)).toMatch(/^Key Zz9999… revoked the key: every secret is refused; it can be reactivated until /);
    expect(describeEvent(ev('api_key.updated', { changes: { name: 'new name', scopes: ['a:b'] } }), ctx)).toBe('The key “ops admin” renamed it “new name” and set its scopes to a:b.');
    expect(describeEvent(ev('api_key.secrets_purged', { slot: 'previous', hint: 'h1' }, null), ctx)).toBe('rekey erased the digest of h1: it can no longer be restored.');
  });

  it('reads the richer actor field when events carry it, and new types without a sentence still read as words', () => {
    expect(describeEvent(ev('api_key.revoked', {}, null, { type: 'operator', id: 'arn:aws:iam::1:user/x' }), ctx)).toMatch(/^The operator \(arn:aws:iam::1:user\/x\) revoked the key/);
    expect(describeEvent(ev('api_key.reactivated', {}, null, { type: 'key', id: 'A1' }), ctx)).toBe('The key “ops admin” reactivated the key: its secrets work again.');
    expect(describeEvent(ev('api_key.exposed', { hint: 'h1', url: 'https://github.com/x/y' }, null), ctx)).toBe('The secret h1 was reported as exposed at https://github.com/x/y.');
    expect(describeEvent(ev('api_key.exposed', { hint: 'h1', url: null, action: 'revoked' }, null), ctx)).toBe('The secret h1 was reported as exposed; rekey revoked the key for good.');
    expect(describeEvent(ev('api_key.exposed', { hint: 'h1', url: null, action: 'notified' }, null), ctx)).toMatch(/changed nothing/);
    expect(describeEvent(ev('webhook.disabled', { reason: 'gone' }, null), ctx)).toBe('Webhook disabled (by rekey).');
    expect(describeEvent(ev('webhook.created', {}, 'A1'), ctx)).toBe('Webhook created (by the key “ops admin”).');
  });

  it('has a sentence for every audit event type the API records', () => {
    for (const type of [...PUBLISHED_EVENT_TYPES, ...AUDIT_ONLY_EVENT_TYPES].filter((t) => t.startsWith('api_key.'))) expect(hasSentence(type), type).toBe(true);
    // Email events that can land on a key's trail read as sentences too.
    for (const type of ['email.skipped', 'email.not_sent', 'email.confirmation_not_applied']) expect(hasSentence(type), type).toBe(true);
  });
});

describe('dashboard countdowns keep one shape', () => {
  it('keeps the hours field for a countdown whose span is an hour or more', () => {
    expect(formatCountdown(3_600_000, true)).toBe('01:00:00');
    expect(formatCountdown(3_599_000, true)).toBe('00:59:59');
    expect(formatCountdown(59_000, true)).toBe('00:00:59');
    expect(formatCountdown(59_000)).toBe('00:59');
  });
});

describe('dashboard sentences for emails about a key', () => {
  const ctx = { keyName: () => undefined, subjectKeyId: 'k1' };
  const ev = (type: string, data: Record<string, unknown>) => describeEvent({ type, actorKeyId: null, actor: { type: 'system', id: null }, data }, ctx);
  it('says which email was skipped or not sent, and why, in words', () => {
    expect(ev('email.skipped', { email: 'rotation_reminder', skippedRecipients: 2, reason: 'daily_cap', maxEmailsPerAccountPerDay: 200, day: '2026-11-26' })).toBe(
      'rekey skipped the rotation reminder email to 2 recipients: the account reached its daily limit of 200 emails on 2026-11-26.',
    );
    expect(ev('email.not_sent', { template: 'old_secret_expired', recipient: null, reason: 'no_recipients: neither alert emails nor key contacts' })).toMatch(
      /^rekey could not send the old secret expired email: there was no confirmed address/,
    );
    expect(ev('email.not_sent', { template: 'expiring', recipient: 'ops@example.com', reason: 'MessageRejected: Address blacklisted' })).toBe(
      'rekey could not send the expiring email to ops@example.com: it was refused (MessageRejected: Address blacklisted).',
    );
    expect(ev('email.not_sent', { template: 'expired', recipient: null, reason: 'given_up: Throttling' })).toMatch(/kept failing for 3 days/);
    expect(ev('email.confirmation_not_applied', { list: 'contacts', reason: 'list_full', limit: 5 })).toMatch(/already has 5 contacts/);
    expect(ev('email.confirmation_not_applied', { list: 'contacts', reason: 'withdrawn' })).toMatch(/removed from the key's contacts; nothing changed/);
  });
});

describe('dashboard error words', () => {
  it('never says the same thing twice, and shows a refused rotation exactly as the API explains it', () => {
    const unauthorized = describeError(new RekeyApiError(401, 'unauthorized', 'Missing or invalid API key.', 'req-1'));
    expect(unauthorized.summary).toBe('The key was not accepted: it is unknown, mistyped, expired or revoked.');
    const blocked = 'The rotation of this key was cancelled, but the new secret it issued (rekey_live_…abcd) stays valid until 2026-01-02T00:00:00.000Z so clients can switch back.';
    expect(describeError(new RekeyApiError(409, 'rotation_in_progress', blocked, 'req-2')).summary).toBe(blocked);
    expect(describeError(new RekeyApiError(403, 'forbidden', 'Scope reports:write is not yours to give.', 'req-3')).summary).toMatch(/not allowed.*reports:write/);
  });

  it('names the typed address a list error is about instead of its index', () => {
    const err = describeError(
      new RekeyApiError(400, 'validation_error', 'Invalid request.', 'r', [
        { field: 'contacts.1', message: 'must be an email address' },
        { field: 'contacts', message: 'at most 5 addresses' },
      ]),
    );
    expect(nameListItems(err, 'contacts', ['ana@example.com', 'not-an-address'])!.details).toEqual(['contacts: “not-an-address” must be an email address', 'contacts: at most 5 addresses']);
    // An index the list does not have (it changed since) stays as the API said it.
    expect(nameListItems(err, 'contacts', [])!.details[0]).toBe('contacts.1: must be an email address');
    expect(nameListItems(null, 'contacts', [])).toBeNull();
  });

  it('says which thing is gone, and explains the endpoint limit as read by the client from a real answer', () => {
    expect(describeError(new RekeyApiError(404, 'not_found', 'No such webhook.', 'r')).summary).toMatch(/^No such webhook\. It no longer exists .* Refresh/);
    expect(describeError(new RekeyApiError(404, 'not_found', 'No such key.', 'r')).summary).toMatch(/^No such key\./);
    const limit = toApiError(new Response(null, { status: 409 }), { error: { code: 'limit_reached', message: 'An account can have at most 10 webhook endpoints.', requestId: 'r' } });
    expect(describeError(limit).summary).toMatch(/10 webhook endpoints/);
    expect(describeError(limit).summary).not.toMatch(/internal error/);
    // A 429 says how long to wait, as the API wrote it.
    const busy = "The notice of this endpoint's disabling is being sent right now; retry in 4 s.";
    expect(describeError(new RekeyApiError(429, 'too_many_requests', busy, 'r')).summary).toBe(busy);
  });
});

describe('dashboard rotation phase', () => {
  const t0 = Date.parse('2026-01-01T12:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const secret = (expiresAt: string | null) => ({ hint: 'rekey_live_…abcd', createdAt: iso(t0), expiresAt, lastUsedAt: null, lastUsedFrom: null });
  const key = (state: 'in_progress' | 'completed' | 'cancelled', oldExpires: number, restorable: number | null, previous: boolean): KeyView => ({
    id: 'k', name: 'n', environment: 'live', scopes: [], status: 'active', createdAt: iso(t0), expiresAt: null, lastUsedAt: null,
    lastRotatedAt: iso(t0), revokedAt: null, reactivatableUntil: null, revokedReason: null, currentSecret: secret(null),
    previousSecret: previous ? secret(iso(oldExpires)) : null,
    rotation: { id: 'r', state, startedAt: iso(t0), oldKeyExpiresAt: iso(oldExpires), oldKeyHint: 'rekey_live_…old1', oldKeyLastUsedAt: null, oldKeyLastUsedFrom: null, reminderAt: null, restorableUntil: restorable === null ? null : iso(restorable), cancelledAt: state === 'cancelled' ? iso(t0) : null, newKeyExpiresAt: null, idleCutover: null },
    contacts: [], pendingEmails: [],
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

describe('dashboard: old secret quiet for 15 minutes (SPEC §12)', () => {
  const t0 = Date.parse('2026-01-01T12:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const key = (oldLastUsed: number | null): KeyView => ({
    id: 'k', name: 'n', environment: 'live', scopes: [], status: 'active', createdAt: iso(t0), expiresAt: null, lastUsedAt: null,
    lastRotatedAt: iso(t0), revokedAt: null, reactivatableUntil: null, revokedReason: null,
    currentSecret: { hint: 'rekey_live_…new1', createdAt: iso(t0), expiresAt: null, lastUsedAt: null, lastUsedFrom: null },
    previousSecret: { hint: 'rekey_live_…old1', createdAt: iso(t0 - 1e9), expiresAt: iso(t0 + 86_400_000), lastUsedAt: oldLastUsed === null ? null : iso(oldLastUsed), lastUsedFrom: null },
    rotation: {
      id: 'r', state: 'in_progress', startedAt: iso(t0), oldKeyExpiresAt: iso(t0 + 86_400_000), oldKeyHint: 'rekey_live_…old1',
      oldKeyLastUsedAt: oldLastUsed === null ? null : iso(oldLastUsed), oldKeyLastUsedFrom: null, reminderAt: null, restorableUntil: null,
      cancelledAt: null, newKeyExpiresAt: null, idleCutover: null,
    },
    contacts: [], pendingEmails: [],
  });

  it('counts from the old secret\'s last use, or from the rotation\'s start when it was last used before it', () => {
    expect(oldSecretQuiet(key(t0 + 60_000), t0 + 60_000 + 15 * 60_000 - 1)).toMatchObject({ quiet: false, usedSinceRotation: true });
    expect(oldSecretQuiet(key(t0 + 60_000), t0 + 60_000 + 15 * 60_000)).toMatchObject({ quiet: true, since: t0 + 60_000 });
    expect(oldSecretQuiet(key(t0 - 3_600_000), t0 + 14 * 60_000)).toMatchObject({ quiet: false, since: t0, usedSinceRotation: false });
    expect(oldSecretQuiet(key(null), t0 + 15 * 60_000)).toMatchObject({ quiet: true, since: t0 });
    // No statement once the rotation is over.
    expect(oldSecretQuiet(key(null), t0 + 86_400_000)).toBeNull();
  });
});

describe('dashboard usage chart series', () => {
  it('puts previous-slot minutes on the old series, current on the new, fills quiet minutes with 0 and ignores retired secrets', () => {
    const m = (min: number) => new Date(Date.UTC(2026, 0, 1, 12, min)).toISOString();
    const rows = usageSeries(
      {
        secrets: [
          { hint: 'n', slot: 'current', minutes: [{ at: m(2), count: 5 }] },
          { hint: 'o', slot: 'previous', minutes: [{ at: m(0), count: 7 }, { at: m(2), count: 1 }] },
          { hint: 'r', slot: 'retired', minutes: [{ at: m(1), count: 9 }] },
        ],
      },
      Date.parse(m(0)),
      Date.parse(m(2)),
    );
    expect(rows.map((r) => [r.old, r.fresh])).toEqual([[7, 0], [0, 0], [1, 5]]);
  });
});

describe('dashboard webhook words', () => {
  it('has a sentence for every event type an endpoint can subscribe to, and the test event', () => {
    expect(WEBHOOK_EVENT_TYPES).toEqual(PUBLISHED_EVENT_TYPES);
    for (const t of [...PUBLISHED_EVENT_TYPES, 'webhook.test']) expect(eventTypeWords(t), t).not.toBe(t);
    expect(eventTypeWords('api_key.something_new')).toBe('api_key.something_new');
  });

  it('says "all" only when every type is subscribed', () => {
    expect(receivesAll({ eventTypes: [...PUBLISHED_EVENT_TYPES] })).toBe(true);
    expect(receivesAll({ eventTypes: PUBLISHED_EVENT_TYPES.slice(1) })).toBe(false);
  });

  it("explains why an endpoint is off and tells a person's pause from rekey's disabling", () => {
    expect(disabledWords({ enabled: true, disabledReason: null })).toBeNull();
    expect(endpointState({ enabled: true, disabledReason: null })).toBe('enabled');
    expect(disabledWords({ enabled: false, disabledReason: 'gone' })).toMatch(/410 Gone/);
    expect(disabledWords({ enabled: false, disabledReason: 'failing' })).toMatch(/3 days/);
    expect(endpointState({ enabled: false, disabledReason: 'failing' })).toBe('disabled');
    expect(disabledWords({ enabled: false, disabledReason: 'user' })).toMatch(/^Paused/);
    expect(endpointState({ enabled: false, disabledReason: 'user' })).toBe('paused');
  });

  it('describes attempts and where a delivery stands', () => {
    const at = '2026-11-26T12:00:00Z';
    expect(attemptWords({ at, statusCode: 200, error: null, durationMs: 4 })).toBe('200');
    expect(attemptWords({ at, statusCode: 500, error: null, durationMs: 4 })).toBe('500');
    expect(attemptWords({ at, statusCode: null, error: 'timed out after 15 s', durationMs: 15_000 })).toBe('no answer: timed out after 15 s');
    expect(attemptWords({ at, statusCode: null, error: null, durationMs: 0 })).toBe('no answer');
    const a = { at, statusCode: 500, error: null, durationMs: 3 };
    expect(deliverySummary({ status: 'pending', attempts: [], nextAttemptAt: null })).toMatch(/^Queued/);
    expect(deliverySummary({ status: 'pending', attempts: [a], nextAttemptAt: at })).toBe('1 attempt failed so far; retrying');
    expect(deliverySummary({ status: 'delivered', attempts: [{ ...a, statusCode: 204 }], nextAttemptAt: null })).toBe('Delivered on the first attempt');
    expect(deliverySummary({ status: 'delivered', attempts: [a, a, { ...a, statusCode: 200 }], nextAttemptAt: null })).toBe('Delivered after 3 attempts');
    expect(deliverySummary({ status: 'failed', attempts: Array(8).fill(a), nextAttemptAt: null })).toBe('Failed after 8 attempts; no more retries');
  });

  it('follows a pending delivery only while its attempt is due within a minute and not long overdue', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    const iso = (ms: number) => new Date(now + ms).toISOString();
    const created = iso(-1_000);
    expect(shouldFollow({ status: 'pending', nextAttemptAt: null, createdAt: created }, now)).toBe(true);
    expect(shouldFollow({ status: 'pending', nextAttemptAt: iso(5_000), createdAt: created }, now)).toBe(true);
    expect(shouldFollow({ status: 'pending', nextAttemptAt: iso(5 * 60_000), createdAt: created }, now)).toBe(false);
    expect(shouldFollow({ status: 'pending', nextAttemptAt: iso(-30_000), createdAt: created }, now)).toBe(true);
    expect(shouldFollow({ status: 'pending', nextAttemptAt: iso(-3 * 60_000), createdAt: created }, now)).toBe(false);
    expect(shouldFollow({ status: 'pending', nextAttemptAt: null, createdAt: iso(-10 * 60_000) }, now)).toBe(false);
    expect(shouldFollow({ status: 'delivered', nextAttemptAt: null, createdAt: created }, now)).toBe(false);
    expect(shouldFollow({ status: 'failed', nextAttemptAt: null, createdAt: created }, now)).toBe(false);
  });

  it('shortens a long URL around an ellipsis, keeping its host and its end', () => {
    expect(shortUrl('https://hooks.example.com/rekey')).toBe('https://hooks.example.com/rekey');
    const long = `https://hooks.example.com/${'p'.repeat(2000)}/end`;
    const short = shortUrl(long);
    expect(short).toHaveLength(80);
    expect(short.startsWith('https://hooks.example.com/')).toBe(true);
    expect(short.endsWith('pp/end')).toBe(true);
    expect(short).toContain('…');
  });

  it('checks the endpoint form before sending, naming the field', () => {
    expect(endpointFormError('', ['api_key.rotated'])).toMatch(/^URL: /);
    expect(endpointFormError('hooks.example.com/rekey', ['api_key.rotated'])).toMatch(/^URL: .*not a web address/);
    expect(endpointFormError('ftp://hooks.example.com/', ['api_key.rotated'])).toMatch(/^URL: must start with https:\/\//);
    expect(endpointFormError('https://hooks.example.com/rekey', [])).toMatch(/^Events: /);
    expect(endpointFormError(' https://hooks.example.com/rekey ', ['api_key.rotated'])).toBeNull();
  });
});
