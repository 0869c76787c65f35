/**
 * Timers are a pure function of the record: `planTimers(record)` lists every one-shot timer the
 * record's state calls for. A transition schedules what its new state adds and unschedules what it
 * drops, so timer ids never need storing. A delivered timer acts only if it is still planned and not
 * yet fired (`record.fired`), which makes duplicate and stale deliveries no-ops.
 *
 * Timers notify and clean up; they never enforce expiry (the authorizer compares with the clock).
 */
import type { Decision, EventDraft } from './keys.js';
import type { Policies } from './policies.js';
import type { EmailRequest, KeyRecord, Timer, TimerKind } from './types.js';
import { iso, isoOrNull } from './view.js';
import { idleCutoverAt, type IdleFacts } from '../usage/idle.js';

const sec = (ms: number) => Math.floor(ms / 1000);
/** Scheduler works in whole seconds: round up, so a timer never fires before its instant. */
const ceilToSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;

const TAGS: Record<TimerKind, string> = {
  rotation_reminder: 'rem',
  old_secret_expired: 'ose',
  purge_previous: 'pp',
  expiry_notice: 'exn',
  key_expired: 'kex',
  purge_revoked: 'prv',
  idle_check: 'idl',
};

/** The deterministic id of a timer: kind, the secret it is about, and its due second. */
export function timerId(kind: TimerKind, ref: string, at: number): string {
  return `${TAGS[kind]}-${ref}-${sec(ceilToSecond(at))}`;
}

function timer(keyId: string, kind: TimerKind, ref: string, at: number): Timer {
  return { id: timerId(kind, ref, at), keyId, kind, at: ceilToSecond(at) };
}

export function planTimers(record: KeyRecord, policies: Policies): Timer[] {
  const out: Timer[] = [];
  const { id } = record;
  if (record.status === 'revoked') {
    const hasDigests = record.current.digest !== null || (record.previous?.digest ?? null) !== null;
    if (hasDigests && record.reactivatableUntil !== null) out.push(timer(id, 'purge_revoked', record.current.sid, record.reactivatableUntil));
    return out;
  }
  const prev = record.previous;
  const r = record.rotation;
  if (prev && prev.digest !== null && prev.expiresAt !== null) {
    if (r && r.cancelledAt === null && r.oldSid === prev.sid) {
      if (r.reminderAt !== null) out.push(timer(id, 'rotation_reminder', prev.sid, r.reminderAt));
      out.push(timer(id, 'old_secret_expired', prev.sid, r.oldKeyExpiresAt));
      out.push(timer(id, 'purge_previous', prev.sid, r.restorableUntil ?? r.oldKeyExpiresAt));
      // Idle cut-over: a check that reads the recorded usage and either expires the old secret or re-plans itself.
      const check = r.idleCheckAt ?? null;
      if (check !== null && (r.idleCutoverAt ?? null) === null && check < r.oldKeyExpiresAt) out.push(timer(id, 'idle_check', prev.sid, check));
    } else {
      // A secret parked in the previous slot by a cancel: nothing to announce, purge when it ends.
      out.push(timer(id, 'purge_previous', prev.sid, prev.expiresAt));
    }
  }
  const cur = record.current;
  if (cur.expiresAt !== null && cur.digest !== null) {
    for (const offset of policies.expiryNoticeOffsets) {
      const at = cur.expiresAt - offset * 1000;
      if (at > cur.createdAt) out.push(timer(id, 'expiry_notice', cur.sid, at));
    }
    out.push(timer(id, 'key_expired', cur.sid, cur.expiresAt));
  }
  return out;
}

/**
 * Kinds that still matter once overdue: a purge must still happen and an expiry must still be
 * announced. Reminders and advance notices that came due meanwhile are pointless, so they are not.
 */
const CATCH_UP_KINDS: ReadonlySet<TimerKind> = new Set(['old_secret_expired', 'purge_previous', 'key_expired', 'idle_check']);

/**
 * What a change from `before` to `after` must schedule and unschedule. A newly planned timer is
 * scheduled unless it already fired, when it is still ahead or, overdue, of a kind that must still
 * happen (a purge, an expiry announcement: e.g. one that came due while the key was revoked and its
 * timers unscheduled); the scheduler runs an overdue one at once. Overdue reminders and notices are
 * skipped. Only future timers are unscheduled (past ones already fired or are no-ops now).
 */
export function diffTimers(before: readonly Timer[], after: readonly Timer[], now: number, fired: readonly string[]) {
  const beforeIds = new Set(before.map((t) => t.id));
  const afterIds = new Set(after.map((t) => t.id));
  const due = (t: Timer) => !fired.includes(t.id) && (t.at >= now || CATCH_UP_KINDS.has(t.kind));
  return {
    schedule: after.filter((t) => !beforeIds.has(t.id) && due(t)),
    unschedule: before.filter((t) => !afterIds.has(t.id) && t.at > now),
  };
}

/**
 * Due time of the earliest planned timer not yet fired, or `null`: stored beside the record as the
 * timer index entry, so the periodic reconciliation finds keys with an overdue timer without a scan.
 */
export function nextTimerDue(record: KeyRecord, policies: Policies): number | null {
  let next: number | null = null;
  for (const t of planTimers(record, policies)) if (!record.fired.includes(t.id) && (next === null || t.at < next)) next = t.at;
  return next;
}

/** Planned, unfired timers due at or before `cutoff`, earliest first (what the reconciliation performs). */
export function overdueTimers(record: KeyRecord, policies: Policies, cutoff: number): Timer[] {
  return planTimers(record, policies)
    .filter((t) => !record.fired.includes(t.id) && t.at <= cutoff)
    .sort((a, b) => a.at - b.at);
}

/** Grace for early delivery (clock skew between the scheduler and this function). */
const EARLY_GRACE_MS = 60_000;

/**
 * Decides what a delivered timer does. Duplicates, stale and unknown timers are `unchanged`.
 * `facts` is the recorded usage of the rotation's secrets, read by the caller for `idle_check` only.
 */
export function fireTimer(record: KeyRecord, delivered: Timer, now: number, policies: Policies, facts?: IdleFacts): Decision {
  const planned = planTimers(record, policies).find((t) => t.id === delivered.id);
  if (!planned || record.fired.includes(planned.id) || now < planned.at - EARLY_GRACE_MS) return { kind: 'unchanged' };
  const fired = [...record.fired, planned.id];
  const next = (changes: Partial<KeyRecord>): KeyRecord => ({ ...record, ...changes, version: record.version + 1 });
  const email = (template: EmailRequest['template'], hint: string, expiresAt: number) => ({ template, hint, expiresAt });

  // A notice about an instant that has already passed (a late delivery, or the reconciliation
  // catching up) would only mislead: it is marked fired without a word; the expiry announcement
  // that supersedes it has its own timer.
  const superseded =
    (planned.kind === 'rotation_reminder' && now >= record.rotation!.oldKeyExpiresAt) ||
    (planned.kind === 'expiry_notice' && record.current.expiresAt !== null && now >= record.current.expiresAt);
  if (superseded) return { kind: 'change', next: next({ fired }), events: [] };

  switch (planned.kind) {
    case 'rotation_reminder': {
      const r = record.rotation!;
      const events: EventDraft[] = [
        { type: 'api_key.rotation_reminder', data: { rotationId: r.id, oldKeyHint: r.oldKeyHint, oldKeyExpiresAt: iso(r.oldKeyExpiresAt) } },
      ];
      return { kind: 'change', next: next({ fired }), events, emails: [email('rotation_reminder', r.oldKeyHint, r.oldKeyExpiresAt)] };
    }
    case 'old_secret_expired': {
      const r = record.rotation!;
      const events: EventDraft[] = [
        { type: 'api_key.old_secret_expired', data: { rotationId: r.id, oldKeyHint: r.oldKeyHint, oldKeyExpiresAt: iso(r.oldKeyExpiresAt), restorableUntil: isoOrNull(r.restorableUntil) } },
      ];
      return { kind: 'change', next: next({ fired }), events, emails: [email('old_secret_expired', r.oldKeyHint, r.oldKeyExpiresAt)] };
    }
    case 'expiry_notice': {
      const cur = record.current;
      const events: EventDraft[] = [
        { type: 'api_key.expiring', data: { hint: cur.hint, expiresAt: isoOrNull(cur.expiresAt), secondsLeft: Math.max(0, sec(cur.expiresAt! - now)) } },
      ];
      return { kind: 'change', next: next({ fired }), events, emails: [email('key_expiring', cur.hint, cur.expiresAt!)] };
    }
    case 'key_expired': {
      const cur = record.current;
      const events: EventDraft[] = [{ type: 'api_key.expired', data: { hint: cur.hint, expiresAt: isoOrNull(cur.expiresAt) } }];
      return { kind: 'change', next: next({ fired }), events, emails: [email('key_expired', cur.hint, cur.expiresAt!)] };
    }
    case 'purge_previous': {
      const prev = record.previous!;
      return {
        kind: 'change',
        next: next({ previous: null, fired }),
        events: [{ type: 'api_key.secrets_purged', data: { slot: 'previous', hint: prev.hint } }],
      };
    }
    case 'idle_check':
      return idleCheck(record, planned, now, policies, facts ?? { newUsedAt: null, oldLastUsedAt: null });
    case 'purge_revoked': {
      return {
        kind: 'change',
        next: next({ current: { ...record.current, digest: null }, previous: null, fired }),
        events: [{ type: 'api_key.secrets_purged', data: { slot: 'all', reason: 'reactivation_window_passed' } }],
      };
    }
  }
}

/**
 * The idle cut-over check (SPEC §12). With the cut-over instant known and passed, the old secret's
 * expiry becomes that instant, announced like any expiry (`api_key.old_secret_expired`, its email,
 * the expiry timer marked fired so it is announced once; a reminder not yet sent is dropped).
 * Otherwise the check re-plans itself: at the cut-over instant when it is known (a later use of the
 * old secret moves it), else `idleSeconds` later (the new secret is still unused; it cannot be
 * quiet long enough before that). No check is planned at or past `oldKeyExpiresAt`.
 */
function idleCheck(record: KeyRecord, planned: Timer, now: number, policies: Policies, facts: IdleFacts): Decision {
  const r = record.rotation!;
  const prev = record.previous!;
  const fired = [...record.fired, planned.id];
  const at = idleCutoverAt(r, facts);
  if (at !== null && at <= now) {
    const restorableUntil = policies.restoreWindowSeconds > 0 ? at + policies.restoreWindowSeconds * 1000 : null;
    const rotation = {
      ...r,
      oldKeyExpiresAt: at,
      idleCutoverAt: at,
      idleCheckAt: null,
      // A reminder due before the cut-over was sent; a later one no longer has anything to remind of.
      reminderAt: r.reminderAt !== null && r.reminderAt < at ? r.reminderAt : null,
      restorableUntil,
    };
    const events: EventDraft[] = [
      {
        type: 'api_key.old_secret_expired',
        data: { rotationId: r.id, oldKeyHint: r.oldKeyHint, oldKeyExpiresAt: iso(at), restorableUntil: isoOrNull(restorableUntil), reason: 'idle', idleSeconds: r.idleSeconds },
      },
    ];
    return {
      kind: 'change',
      next: { ...record, previous: { ...prev, expiresAt: at }, rotation, fired: [...fired, timerId('old_secret_expired', prev.sid, at)], version: record.version + 1 },
      events,
      emails: [{ template: 'old_secret_expired', hint: r.oldKeyHint, expiresAt: at }],
    };
  }
  // Never the same second again (an early delivery would otherwise re-plan the timer it just fired).
  const next = Math.max(at ?? now + (r.idleSeconds ?? 0) * 1000, planned.at + 1000);
  const rotation = { ...r, idleCheckAt: next < r.oldKeyExpiresAt ? next : null };
  return { kind: 'change', next: { ...record, rotation, fired, version: record.version + 1 }, events: [] };
}
