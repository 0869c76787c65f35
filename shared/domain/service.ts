/**
 * Application services: load → decide (pure, `keys.ts` / `timers.ts`) → one conditional write with
 * the outbox → drain. A lost race (`VersionConflictError`) re-reads and decides again, so concurrent
 * calls serialize on the record's `version` and none is lost.
 */
import { delegationRefusals, needsAllowedScopes, type DelegationRequest, type DelegationTarget } from './authority.js';
import { ApiError, VersionConflictError } from './errors.js';
import {
  cancelRotation as cancelT,
  changeRotationWindow as changeWindowT,
  checkIdle,
  checkWindow,
  conflictError,
  createKeyRecord,
  reactivateKey as reactivateT,
  resolveExpiresAt,
  revokeKey as revokeT,
  rotateKey as rotateT,
  updateKey as updateT,
  type Decision,
  type EventDraft,
  type TransitionContext,
} from './keys.js';
import { drainOutbox, type OutboxDeps } from './outbox.js';
import { CONFIRMATION_TOKEN_PATTERN, openPending, planListChange, tokenDigest, type ConfirmationNotApplied, type ConfirmationStore } from './recipients.js';
import { idleFacts, type KeyUsage, keyUsage } from '../usage/facts.js';
import type { IdleFacts } from '../usage/idle.js';
import { usageRange, usageReport, type UsageReport } from '../usage/report.js';
import { effectId } from './ids.js';
import type { Policies } from './policies.js';
import type { Page, PageRequest } from './ports.js';
import { diffTimers, fireTimer, nextTimerDue, overdueTimers, planTimers } from './timers.js';
import {
  SYSTEM_ACTOR,
  type AccountRecord,
  type AccountFanOut,
  type Actor,
  type AuditEvent,
  type Caller,
  type Effect,
  type NoticeRequest,
  type OutboxRef,
  type EmailRequest,
  type Environment,
  type EventType,
  type KeyContactsRecord,
  type KeyRecord,
  type LeakResponse,
  type Timer,
  MAX_KEY_CONTACTS,
} from './types.js';

/** Everything a service needs (the outbox's dependencies are the services' own: an account fan-out acts through them). */
export type Deps = OutboxDeps;

/**
 * On whose behalf a service acts. A customer's key is confined to its account (and a test key to
 * test keys); the operator (admin API, SPEC §9) acts for the one account named in the path, in
 * both environments, and is audited by its IAM principal. `accountId: null` reaches any account
 * (the system's timers).
 */
export interface Principal {
  readonly accountId: string | null;
  readonly environment: Environment;
  readonly actor: Actor;
  /**
   * The scopes of the acting key, which bound what it may give (SPEC §1 Delegation); `null` for the
   * operator, who is not bound by that rule.
   */
  readonly scopes: readonly string[] | null;
}

export const principalOf = (caller: Caller): Principal => ({
  accountId: caller.accountId,
  environment: caller.environment,
  actor: { type: 'key', id: caller.keyId },
  scopes: caller.scopes,
});

/** The operator acting for one account; `operatorId` is the signing IAM principal's ARN (or `local-operator`). */
export const operatorPrincipal = (accountId: string, operatorId: string): Principal & { accountId: string } => ({
  accountId,
  environment: 'live',
  actor: { type: 'operator', id: operatorId },
  scopes: null,
});

/** An audit event; `actorKeyId` is derived from the actor, as it always was (the key's id, else `null`). */
export function auditEvent(
  id: string,
  type: EventType,
  at: number,
  actor: Actor,
  accountId: string,
  keyId: string | null,
  data: Readonly<Record<string, unknown>>,
): AuditEvent {
  return { id, type, at, actorKeyId: actor.type === 'key' ? actor.id : null, actor, accountId, keyId, data };
}

/**
 * Attempts of the read–decide–write loop. Every lost race means another writer committed, so the
 * loop always makes progress; the cap only guards against a bug, not against honest contention.
 */
export const MAX_ATTEMPTS = 200;

const notFound = () => new ApiError('not_found', 'No such key.');

/**
 * What the account lets its keys be given beyond the giver's own scopes; read only when the request
 * gives a scope the caller does not hold (most requests need no account read).
 */
async function allowedScopesFor(principal: Principal, accountId: string, request: DelegationRequest, deps: Deps): Promise<readonly string[]> {
  if (principal.scopes === null || !needsAllowedScopes({ scopes: principal.scopes }, request)) return [];
  return (await deps.store.getAccount(accountId, { consistent: true }))?.allowedScopes ?? [];
}

/**
 * SPEC §1 Delegation, in §3's order (after the key is found and its environment checked, before
 * any state check): `403 forbidden` naming each refused scope or field; the operator is not bound.
 */
function checkDelegation(principal: Principal, allowed: readonly string[], target: DelegationTarget | null, request: DelegationRequest, rotate = false): void {
  if (principal.scopes === null || principal.actor.type !== 'key') return;
  const refusals = delegationRefusals({ keyId: principal.actor.id, scopes: principal.scopes }, allowed, target, request, rotate);
  if (refusals.length > 0) {
    throw new ApiError('forbidden', `This key may not give what it asks for: ${refusals.map((r) => r.field).join(', ')}.`, refusals);
  }
}

const targetOf = (record: KeyRecord): DelegationTarget => ({ id: record.id, scopes: record.scopes, expiresAt: record.current.expiresAt });

/**
 * The context a transition decides in. `withPepper: false` is for transitions that issue no secret
 * (revoke): the pepper is not fetched, and reading it anyway fails loudly instead of hashing with
 * nothing. It keeps the outbox sweeper, which may resume an account deletion's revocations, off
 * the pepper.
 */
async function transitionContext(deps: Deps, now: number, withPepper = true): Promise<TransitionContext> {
  if (withPepper) return { now, policies: deps.policies, ids: deps.ids, pepper: await deps.pepper.get() };
  return {
    now,
    policies: deps.policies,
    ids: deps.ids,
    get pepper(): Buffer {
      throw new Error('this transition was started without the pepper');
    },
  };
}

/** Loads a key the principal may act on: another account's key is 404 (no enumeration); a live key seen by a test key is 403. */
async function loadOwned(principal: Principal, keyId: string, deps: Deps, consistent = true): Promise<KeyRecord> {
  const record = await deps.store.getKey(keyId, { consistent });
  if (!record || (principal.accountId !== null && record.accountId !== principal.accountId)) throw notFound();
  if (principal.environment === 'test' && record.environment !== 'test') {
    throw new ApiError('forbidden', 'A test key can only manage test keys.');
  }
  return record;
}

/** Turns a decision's drafts into outbox effects: events, then timer moves, then emails. */
export function effectsFor(
  before: KeyRecord | null,
  after: KeyRecord,
  events: readonly EventDraft[],
  emails: readonly Omit<EmailRequest, 'accountId' | 'keyId' | 'keyName'>[],
  actor: Actor,
  now: number,
  deps: Pick<Deps, 'ids' | 'policies'>,
  notices: readonly Omit<NoticeRequest, 'accountId' | 'keyId'>[] = [],
): Effect[] {
  const base = deps.ids.sortable(now, after.version);
  let seq = 0;
  const nextId = () => effectId(base, seq++);
  const out: Effect[] = [];
  for (const e of events) {
    const id = nextId();
    out.push({ id, kind: 'event', event: auditEvent(id, e.type, now, actor, after.accountId, after.id, e.data) });
  }
  const { schedule, unschedule } = diffTimers(before ? planTimers(before, deps.policies) : [], planTimers(after, deps.policies), now, after.fired);
  for (const timer of unschedule) out.push({ id: nextId(), kind: 'unschedule', timer });
  for (const timer of schedule) out.push({ id: nextId(), kind: 'schedule', timer });
  for (const m of emails) out.push({ id: nextId(), kind: 'email', email: { ...m, accountId: after.accountId, keyId: after.id, keyName: after.name } });
  for (const n of notices) out.push({ id: nextId(), kind: 'notice', notice: { ...n, accountId: after.accountId, keyId: after.id, keyName: after.name, hint: after.current.hint } });
  return out;
}

/** `fired` only remembers timers the new state still plans, so the record stays small. */
function pruneFired(record: KeyRecord, policies: Policies): KeyRecord {
  // While revoked the plan holds only the purge; keep what fired so a reactivation does not repeat it.
  if (record.fired.length === 0 || record.status === 'revoked') return record;
  const planned = new Set(planTimers(record, policies).map((t) => t.id));
  const fired = record.fired.filter((id) => planned.has(id));
  return fired.length === record.fired.length ? record : { ...record, fired };
}

/** How long a handler waits for another dispatcher to free its item's outbox before answering. */
const DRAIN_WAIT_MS = 2_000;

/**
 * Performs the effects just committed before the caller answers. If another dispatcher holds the
 * outbox (a concurrent change of the same key), waits for it briefly so this change's effects are
 * done too; anything left is the stream consumer's / sweeper's.
 */
export async function drainQuietly(ref: OutboxRef, deps: Deps): Promise<void> {
  const deadline = Date.now() + DRAIN_WAIT_MS;
  try {
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      const result = await drainOutbox(ref, deps);
      if (!result.busy || Date.now() >= deadline) return;
      await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
    }
  } catch (err) {
    // The state change is committed; the sweeper / stream consumer will perform the effects.
    deps.log.warn('outbox drain deferred', { item: `${ref.kind}:${ref.id}`, error: err instanceof Error ? err.name : String(err) });
  }
}

/**
 * The one commit loop: read the freshest record, decide, commit the change and its outbox with a
 * conditional write, retry on a lost race, then drain. Returns the decision and the record as it
 * now stands (the committed one for a change, the read one otherwise); `null` if `load` found none.
 */
export async function commitKeyChange(
  load: () => Promise<KeyRecord | null>,
  decide: (record: KeyRecord, ctx: TransitionContext) => Decision,
  actor: Actor,
  deps: Deps,
  withPepper = true,
): Promise<{ decision: Decision; record: KeyRecord } | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const record = await load();
    if (!record) return null;
    const ctx = await transitionContext(deps, deps.clock.now(), withPepper);
    const decision = decide(record, ctx);
    if (decision.kind !== 'change') return { decision, record };
    const next = pruneFired(decision.next, deps.policies);
    const effects = effectsFor(record, next, decision.events, decision.emails ?? [], actor, ctx.now, deps);
    try {
      await deps.store.updateKey(next, record.version, effects, { nextTimerAt: nextTimerDue(next, deps.policies) });
    } catch (err) {
      if (err instanceof VersionConflictError) {
        await backoff(attempt);
        continue;
      }
      throw err;
    }
    await drainQuietly({ kind: 'key', id: record.id }, deps);
    return { decision, record: next };
  }
  throw new Error('too much contention on one key');
}

/** A principal's change to one of its keys. Conflicts become `ConflictError`s (409). */
async function mutateKey(
  principal: Principal,
  keyId: string,
  deps: Deps,
  decide: (record: KeyRecord, ctx: TransitionContext) => Decision,
  withPepper = true,
): Promise<{ record: KeyRecord; secret?: string }> {
  const result = (await commitKeyChange(() => loadOwned(principal, keyId, deps), decide, principal.actor, deps, withPepper))!;
  const d = result.decision;
  if (d.kind === 'conflict') throw conflictError(d.code, d.message);
  return d.kind === 'change' && d.secret !== undefined ? { record: result.record, secret: d.secret } : { record: result.record };
}

/** Randomised wait before retrying a lost conditional write. */
export const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(40, 2 ** attempt)));

// ---- key services ---------------------------------------------------------------------------------

export interface CreateKeyBody {
  readonly name: string;
  readonly environment?: Environment | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly expiresAt?: string | null | undefined;
  /** SPEC §10: at most 5; through the API each first gets a confirmation link. */
  readonly contacts?: readonly string[] | undefined;
}

export async function createKey(principal: Principal, accountId: string, body: CreateKeyBody, deps: Deps) {
  const now = deps.clock.now();
  const expiresAt = resolveExpiresAt(body.expiresAt, now, deps.policies);
  const environment = body.environment ?? principal.environment;
  if (principal.environment === 'test' && environment !== 'test') throw new ApiError('forbidden', 'A test key can only create test keys.');
  const request = { scopes: body.scopes, expiresAt };
  checkDelegation(principal, await allowedScopesFor(principal, accountId, request, deps), null, request);
  // The new key starts with its account's standing (a key made in a suspended account is refused too).
  const account = await getAccount(accountId, deps, true);
  const ctx = await transitionContext(deps, now);
  const { contacts: wanted, ...keyBody } = body;
  const made = createKeyRecord(accountId, { ...keyBody, environment, expiresAt }, { environment }, ctx);
  const { secret, events } = made;
  const record: KeyRecord = { ...made.record, accountStatus: account.status, accountVersion: account.version };
  let contacts: KeyContactsRecord | null = null;
  let notices: Omit<NoticeRequest, 'accountId' | 'keyId'>[] = [];
  const allEvents = [...events];
  if (wanted !== undefined && wanted.length > 0) {
    const plan = contactsPlan(principal, { keyId: record.id, accountId, contacts: [], pendingEmails: [], version: 0 }, wanted, now);
    contacts = { keyId: record.id, accountId, ...plan.next, version: 1 };
    notices = plan.notices;
    allEvents.push({ type: 'api_key.contacts_updated', data: plan.data });
    // The contacts item first, without effects: if the key's write then fails, it is an item no key
    // reads (key ids are never reused) and no email went out. The confirmations ride on the key's
    // own outbox, committed with the key in one write.
    await deps.store.putKeyContacts(contacts, 0, []);
  }
  const effects = effectsFor(null, record, allEvents, [], principal.actor, now, deps, notices);
  await deps.store.createKey(record, effects, { nextTimerAt: nextTimerDue(record, deps.policies) });
  // A suspend, resume or delete committed meanwhile may have fanned out before this key was listed:
  // copy the account's standing again (a newer version wins; an equal one changes nothing).
  const after = await deps.store.getAccount(accountId, { consistent: true });
  if (after && after.version !== account.version) {
    await deps.store.setKeyAccountStatus(record.id, after.deletedAt !== null ? 'deleted' : after.status, after.version);
  }
  await drainQuietly({ kind: 'key', id: record.id }, deps);
  return { record, secret, contacts };
}

export async function getKey(principal: Principal, keyId: string, deps: Deps): Promise<KeyRecord> {
  return loadOwned(principal, keyId, deps, false);
}

export async function listKeys(principal: Principal & { accountId: string }, page: PageRequest, deps: Deps): Promise<Page<KeyRecord>> {
  return deps.store.listKeys(principal.accountId, page, principal.environment === 'test' ? 'test' : undefined);
}

export interface UpdateKeyBody {
  readonly name?: string | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly expiresAt?: string | null | undefined;
  /** Replaces the key's contacts (SPEC §10). */
  readonly contacts?: readonly string[] | undefined;
}

/**
 * `PATCH /v1/keys/{id}`. Contacts are not authority: delegation has no rule for them (a key may set
 * its own), but the route is `keys:write`, so a rotated-out secret cannot change them, and they
 * follow the key's state checks (a revoked or expired key's contacts are frozen with it). The key
 * fields are committed first, then the contacts item (its own conditional write and outbox).
 */
export async function updateKey(principal: Principal, keyId: string, body: UpdateKeyBody, deps: Deps) {
  const { contacts: wanted, ...keyBody } = body;
  const expiresAt = resolveExpiresAt(keyBody.expiresAt, deps.clock.now(), deps.policies);
  const request = { scopes: keyBody.scopes, expiresAt };
  // Read before the key: it depends only on the caller and the account (and usually is skipped).
  const allowed = principal.accountId === null ? [] : await allowedScopesFor(principal, principal.accountId, request, deps);
  const result = await mutateKey(principal, keyId, deps, (record, ctx) => {
    checkDelegation(principal, allowed, targetOf(record), request);
    return updateT(record, { ...keyBody, expiresAt }, ctx);
  });
  const contacts =
    wanted === undefined
      ? await deps.store.getKeyContacts(keyId, { consistent: true })
      : await commitContactsChange(result.record, principal.actor, deps, (current) => {
          const plan = contactsPlan(principal, current, wanted, deps.clock.now());
          const same = (a: readonly string[], b: readonly string[]) => a.join('\n') === b.join('\n');
          if (same(plan.next.contacts, current.contacts) && same(plan.next.pendingEmails.map((p) => p.address), current.pendingEmails.map((p) => p.address))) return null;
          return plan;
        });
  return { record: result.record, contacts };
}

/** A key's contacts item, for its view (`null`: the key never had contacts). */
export function contactsOf(record: KeyRecord, deps: Pick<Deps, 'store'>): Promise<KeyContactsRecord | null> {
  return deps.store.getKeyContacts(record.id);
}

interface ContactsPlan {
  readonly next: Pick<KeyContactsRecord, 'contacts' | 'pendingEmails'>;
  readonly type: EventType;
  readonly data: Record<string, unknown>;
  readonly notices: Omit<NoticeRequest, 'accountId' | 'keyId'>[];
}

/**
 * The new contacts of a key asked to be `wanted` (SPEC §10): through the API, kept confirmed
 * addresses stay, new ones are pending with one confirmation each, removed ones get one notice;
 * the operator's addresses are trusted as given (removed ones still get their notice).
 */
function contactsPlan(principal: Principal, current: KeyContactsRecord, wanted: readonly string[], now: number): ContactsPlan {
  const emails = normalizeEmails(wanted);
  if (principal.actor.type !== 'key') {
    const removed = current.contacts.filter((c) => !emails.some((e) => e.toLowerCase() === c.toLowerCase()));
    return {
      next: { contacts: emails, pendingEmails: current.pendingEmails.filter((p) => !emails.some((e) => e.toLowerCase() === p.address.toLowerCase())) },
      type: 'api_key.contacts_updated',
      data: { count: emails.length, pending: 0, confirmationsSent: 0, removed: removed.length },
      notices: removed.map((address) => ({ template: 'email_removed' as const, address })),
    };
  }
  const plan = planListChange(current.contacts, openPending(current.pendingEmails, now), emails, now);
  return {
    next: { contacts: plan.confirmed, pendingEmails: plan.pending },
    type: 'api_key.contacts_updated',
    // Counts, never addresses: the audit trail is not a mailing list.
    data: { count: plan.confirmed.length, pending: plan.pending.length, confirmationsSent: plan.toConfirm.length, removed: plan.removed.length },
    notices: [
      ...plan.toConfirm.map((address) => ({ template: 'email_confirmation' as const, address })),
      ...plan.removed.map((address) => ({ template: 'email_removed' as const, address })),
    ],
  };
}

/**
 * The contacts item's commit loop: read (consistent), decide, one conditional write with its audit
 * event and notices in the item's own outbox, retry on a lost race, drain.
 */
async function commitContactsChange(
  key: KeyRecord,
  actor: Actor,
  deps: Deps,
  decide: (current: KeyContactsRecord) => Omit<ContactsPlan, 'notices'> & { notices?: ContactsPlan['notices'] } | null,
): Promise<KeyContactsRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = (await deps.store.getKeyContacts(key.id, { consistent: true })) ?? { keyId: key.id, accountId: key.accountId, contacts: [], pendingEmails: [], version: 0 };
    const d = decide(current);
    if (!d) return current;
    const next: KeyContactsRecord = { ...current, ...d.next, version: current.version + 1 };
    const now = deps.clock.now();
    const base = deps.ids.sortable(now, next.version);
    let seq = 0;
    const eventId = effectId(base, seq++);
    const effects: Effect[] = [
      { id: eventId, kind: 'event', event: auditEvent(eventId, d.type, now, actor, key.accountId, key.id, d.data) },
      ...(d.notices ?? []).map((n): Effect => ({ id: effectId(base, seq++), kind: 'notice', notice: { ...n, accountId: key.accountId, keyId: key.id, keyName: key.name, hint: key.current.hint } })),
    ];
    try {
      await deps.store.putKeyContacts(next, current.version, effects);
    } catch (err) {
      if (err instanceof VersionConflictError) {
        await backoff(attempt);
        continue;
      }
      throw err;
    }
    await drainQuietly({ kind: 'contacts', id: key.id }, deps);
    return next;
  }
  throw new Error('too much contention on one key\'s contacts');
}

export async function rotateKey(
  principal: Principal,
  keyId: string,
  body: { oldKeyExpiresInSeconds?: number | undefined; expiresAt?: string | null | undefined; expireWhenIdleSeconds?: number | undefined },
  deps: Deps,
) {
  if (body.oldKeyExpiresInSeconds !== undefined) checkWindow(body.oldKeyExpiresInSeconds, deps.policies, 'oldKeyExpiresInSeconds');
  checkIdle(body.expireWhenIdleSeconds, body.oldKeyExpiresInSeconds ?? deps.policies.defaultTransitionSeconds);
  const expiresAt = resolveExpiresAt(body.expiresAt, deps.clock.now(), deps.policies);
  // SPEC §2: of concurrent rotate calls on one key exactly one succeeds, whatever the window (a 0 s
  // rotation leaves no valid previous secret, so the state alone would let the next one through).
  // A call lost to a concurrent rotation if a rotation was decided after it began, or if it finds a
  // rotation its first read did not show (decided just before it began, committed after that read).
  const began = deps.clock.now();
  let firstSeen: string | null | undefined;
  return mutateKey(principal, keyId, deps, (record, ctx) => {
    checkDelegation(principal, [], targetOf(record), { expiresAt }, true);
    const seen = record.rotation?.id ?? null;
    firstSeen ??= seen;
    const decision = rotateT(record, { oldKeyExpiresInSeconds: body.oldKeyExpiresInSeconds, expiresAt, expireWhenIdleSeconds: body.expireWhenIdleSeconds }, ctx);
    const lost = seen !== firstSeen || (record.rotation !== null && record.rotation.startedAt >= began);
    return decision.kind === 'change' && lost ? { kind: 'conflict', code: 'rotation_in_progress' } : decision;
  });
}

export async function changeRotationWindow(principal: Principal, keyId: string, body: { oldKeyExpiresInSeconds: number }, deps: Deps) {
  checkWindow(body.oldKeyExpiresInSeconds, deps.policies, 'oldKeyExpiresInSeconds');
  return mutateKey(principal, keyId, deps, (record, ctx) => changeWindowT(record, body.oldKeyExpiresInSeconds, ctx));
}

export async function cancelRotation(principal: Principal, keyId: string, body: { newKeyExpiresInSeconds?: number | undefined }, deps: Deps) {
  if (body.newKeyExpiresInSeconds !== undefined) checkWindow(body.newKeyExpiresInSeconds, deps.policies, 'newKeyExpiresInSeconds');
  return mutateKey(principal, keyId, deps, (record, ctx) => cancelT(record, body.newKeyExpiresInSeconds, ctx));
}

export async function revokeKey(principal: Principal, keyId: string, deps: Deps) {
  // Revoking issues no secret: no pepper read (see transitionContext).
  return mutateKey(principal, keyId, deps, (record, ctx) => revokeT(record, ctx), false);
}

export async function reactivateKey(principal: Principal, keyId: string, deps: Deps) {
  return mutateKey(principal, keyId, deps, (record, ctx) => reactivateT(record, ctx));
}

/** Per-minute usage of each secret of a key the principal may read (SPEC §12). Bad ranges are a 400 before the key's 404. */
export async function keyUsageReport(principal: Principal, keyId: string, query: { from?: string | undefined; to?: string | undefined }, deps: Deps): Promise<UsageReport> {
  const { from, to } = usageRange(query, deps.clock.now());
  const record = await loadOwned(principal, keyId, deps, false);
  return usageReport(record, await deps.usage.range(keyId, from, to));
}

/** The recorded usage a key's view shows (last use and where from, idle cut-over instant). Never throws. */
export function usageOf(record: KeyRecord, deps: Pick<Deps, 'usage' | 'log'>): Promise<KeyUsage> {
  return keyUsage(record, deps.usage, (err) => deps.log.warn('usage read failed; key shown without it', { keyId: record.id, error: err instanceof Error ? err.name : String(err) }));
}

export async function listKeyEvents(principal: Principal, keyId: string, page: PageRequest, deps: Deps): Promise<Page<AuditEvent>> {
  await loadOwned(principal, keyId, deps, false);
  return deps.store.listEvents({ kind: 'key', id: keyId }, page);
}

// ---- accounts -------------------------------------------------------------------------------------

/** The account, or `404 not_found` (also once deleted). */
export async function getAccount(accountId: string, deps: Pick<Deps, 'store'>, consistent = false): Promise<AccountRecord> {
  const account = await deps.store.getAccount(accountId, { consistent });
  if (!account || account.deletedAt !== null) throw new ApiError('not_found', 'No such account.');
  return account;
}

/** Removes duplicates case-insensitively, keeping the first spelling. */
export function normalizeEmails(emails: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of emails) {
    const k = e.trim().toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e.trim());
    }
  }
  return out;
}

export async function setAlertEmails(principal: Principal, accountId: string, alertEmails: readonly string[], deps: Deps): Promise<AccountRecord> {
  // The alert list serves live keys too: a sandbox key must not redirect or silence it.
  if (principal.environment === 'test') throw new ApiError('forbidden', 'A test key cannot change the account.');
  const emails = normalizeEmails(alertEmails);
  // Operator-set addresses are trusted as given (SPEC §10); see updateAccount.
  if (principal.actor.type === 'operator') return updateAccount(principal.actor, accountId, { alertEmails: emails }, deps);
  return commitAccountChange(accountId, principal.actor, deps, (account) => {
    const now = deps.clock.now();
    const plan = planListChange(account.alertEmails, openPending(account.pendingEmails, now), emails, now);
    const unchanged =
      plan.confirmed.join('\n') === account.alertEmails.join('\n') &&
      plan.pending.map((p) => p.address).join('\n') === account.pendingEmails.map((p) => p.address).join('\n');
    if (unchanged) return null;
    return {
      changes: { alertEmails: plan.confirmed, pendingEmails: plan.pending },
      type: 'account.alert_emails_updated',
      // Counts, never addresses: the audit trail is not a mailing list.
      data: { count: plan.confirmed.length, pending: plan.pending.length, confirmationsSent: plan.toConfirm.length, removed: plan.removed.length },
      notices: [
        ...plan.toConfirm.map((address) => ({ template: 'email_confirmation' as const, keyId: null, address })),
        ...plan.removed.map((address) => ({ template: 'email_removed' as const, keyId: null, address })),
      ],
    };
  });
}

/** Most addresses on an account's alert list (the request schema's limit, also for confirmations). */
export const MAX_ALERT_EMAILS = 20;

/** Why a confirmation link did not put its address on its list. */
export type ConfirmationRefusal = 'list_full' | 'withdrawn';

/** The answer of `GET /v1/email-confirmations/{token}`. */
export interface EmailConfirmationResult {
  readonly email: string;
  /** Whether the address is on its list now (the account's alert emails, or the key's contacts). */
  readonly confirmed: boolean;
  /**
   * Only when not confirmed: `list_full` when the list already holds its maximum (20 alert emails, 5
   * contacts: the operator can fill a list while an address waits) — the link stays usable until
   * it expires, so it works once a place is free; `withdrawn` when the address is no longer asked
   * for (removed or replaced since, or its key is gone).
   */
  readonly reason?: ConfirmationRefusal;
}

/**
 * `GET /v1/email-confirmations/{token}` (no authentication): the address joins the list it was
 * added to. An unknown or expired token is `not_found` (a used one too, once expired); any other use
 * answers 200. A used link answers what its use did, from the confirmation record alone: it never
 * reads the list again, so it is no view of who is on a list now. A link that could not add its
 * address because the list is full is not used up (a later click, once there is room, adds it).
 * That outcome and a withdrawn one are audited (`email.confirmation_not_applied`, on the key's or
 * the account's trail, without the address) and logged once per link: the event's id is recorded
 * on the confirmation first, so repeated clicks (link scanners) add no event and no log line.
 */
export async function confirmEmail(token: string, deps: Deps & { confirmations: ConfirmationStore }): Promise<EmailConfirmationResult> {
  const notFound = () => new ApiError('not_found', 'This confirmation link is unknown or has expired.');
  if (!CONFIRMATION_TOKEN_PATTERN.test(token)) throw notFound();
  const digest = tokenDigest(token);
  const c = await deps.confirmations.getConfirmation(digest);
  const now = deps.clock.now();
  if (!c || now >= c.expiresAt) throw notFound();
  const same = (a: string) => a.trim().toLowerCase() === c.address.trim().toLowerCase();
  const isContact = c.keyId !== null;
  const answer = (confirmed: boolean, reason: ConfirmationRefusal = 'withdrawn'): EmailConfirmationResult => (confirmed ? { email: c.address, confirmed } : { email: c.address, confirmed, reason });
  const list = isContact ? 'contacts' : 'alertEmails';
  const limit = isContact ? MAX_KEY_CONTACTS : MAX_ALERT_EMAILS;
  // The not-applied audit event, under the id recorded on the confirmation (idempotent: a repeat
  // of an event already there adds nothing).
  const audit = (n: ConfirmationNotApplied) =>
    deps.store.putEvent(auditEvent(n.eventId, 'email.confirmation_not_applied', n.at, SYSTEM_ACTOR, c.accountId, c.keyId, { list, reason: n.reason, ...(n.reason === 'list_full' ? { limit } : {}) }));
  // A used link answers 200 again with what it did (a link used before outcomes were recorded: confirmed).
  if (c.usedAt !== null) {
    // Completes the audit of a withdrawn link whose first use stopped between its two writes.
    if (c.notApplied?.reason === 'withdrawn') await audit(c.notApplied);
    return answer(c.outcome !== 'withdrawn');
  }
  // Decided on the freshest record inside the commit loop (the last decision is the one that held).
  type Outcome = 'added' | 'present' | ConfirmationRefusal;
  // Written by the decide callbacks below (TypeScript cannot see that, hence the widening cast).
  let outcome = 'withdrawn' as Outcome;
  const decideOn = (confirmed: readonly string[], pending: readonly { address: string }[]): boolean => {
    if (confirmed.some(same)) outcome = 'present';
    else if (!pending.some((p) => same(p.address))) outcome = 'withdrawn';
    else if (confirmed.length >= limit) outcome = 'list_full';
    else outcome = 'added';
    return outcome === 'added';
  };
  if (isContact) {
    // A key contact (SPEC §10): joins that key's contacts if still asked for, at most 5.
    const key = await deps.store.getKey(c.keyId!, { consistent: true });
    if (key) {
      await commitContactsChange(key, SYSTEM_ACTOR, deps, (current) => {
        if (!decideOn(current.contacts, current.pendingEmails)) return null;
        return {
          next: { contacts: [...current.contacts, c.address], pendingEmails: current.pendingEmails.filter((p) => !same(p.address)) },
          type: 'api_key.contact_confirmed',
          data: { count: current.contacts.length + 1 },
        };
      });
    }
  } else {
    await commitAccountChange(c.accountId, SYSTEM_ACTOR, deps, (account) => {
      // Still asked for (not removed or replaced since): it joins the list, at most 20 addresses.
      if (!decideOn(account.alertEmails, account.pendingEmails)) return null;
      return {
        changes: { alertEmails: [...account.alertEmails, c.address], pendingEmails: account.pendingEmails.filter((p) => !same(p.address)) },
        type: 'account.email_confirmed',
        data: { count: account.alertEmails.length + 1 },
      };
    });
  }
  const result = outcome as Outcome;
  if (result === 'added' || result === 'present') {
    await deps.confirmations.markUsed(digest, now, 'confirmed');
    return answer(true);
  }
  // Not silent: the owner sees in the audit trail that a confirmation could not take effect, once
  // per link and reason. A full list may have room later: the link stays usable until it expires.
  // A withdrawn address can never join through this link (a new request sends a new one): used up.
  if (result === 'list_full' && c.notApplied?.reason === 'list_full') {
    await audit(c.notApplied);
    return answer(false, result);
  }
  const notApplied: ConfirmationNotApplied = { reason: result, eventId: effectId(deps.ids.sortable(now), 0), at: now };
  const recorded = result === 'withdrawn' ? await deps.confirmations.markUsed(digest, now, 'withdrawn', notApplied) : await deps.confirmations.markNotApplied(digest, notApplied);
  // Lost to a concurrent use of the same link: that request records (and logs) it.
  if (recorded) {
    await audit(notApplied);
    deps.log.warn('email confirmation not applied', { accountId: c.accountId, keyId: c.keyId, list, reason: result });
  }
  return answer(false, result);
}

/** What an operator may change on an account with {@link updateAccount}. */
export interface AccountChanges {
  readonly name?: string | undefined;
  readonly alertEmails?: readonly string[] | undefined;
  readonly allowedScopes?: readonly string[] | undefined;
  /** How rekey answers a valid leaked secret of this account (SPEC §11). */
  readonly leakResponse?: LeakResponse | undefined;
}

/**
 * Operator entry point (admin API `PATCH /admin/v1/accounts/{accountId}`): rename an account,
 * replace its alert list (trusted as given) or its allowed scopes (the customer's entitlement,
 * SPEC §1), or set its leak response. One conditional write with its audit event; nothing to do
 * is no write. Removing an allowed scope takes nothing from existing keys: it only bounds what
 * keys may be given from now on.
 */
export async function updateAccount(actor: Actor, accountId: string, input: AccountChanges, deps: Deps): Promise<AccountRecord> {
  const emails = input.alertEmails === undefined ? undefined : normalizeEmails(input.alertEmails);
  const allowed = input.allowedScopes === undefined ? undefined : [...new Set(input.allowedScopes)];
  return commitAccountChange(accountId, actor, deps, (account) => {
    const changes: { -readonly [K in keyof AccountChanges]: AccountChanges[K] } = {};
    if (input.name !== undefined && input.name !== account.name) changes.name = input.name;
    const removed = emails === undefined ? [] : account.alertEmails.filter((a) => !emails.some((e) => e.toLowerCase() === a.toLowerCase()));
    if (emails !== undefined && emails.join('\n') !== account.alertEmails.join('\n')) changes.alertEmails = emails;
    if (allowed !== undefined && allowed.join(' ') !== account.allowedScopes.join(' ')) changes.allowedScopes = allowed;
    if (input.leakResponse !== undefined && input.leakResponse !== account.leakResponse) changes.leakResponse = input.leakResponse;
    if (Object.keys(changes).length === 0) return null;
    // The audit trail names what changed, and counts addresses rather than listing them.
    const data: Record<string, unknown> = { fields: Object.keys(changes) };
    if (changes.name !== undefined) data.name = changes.name;
    if (changes.allowedScopes !== undefined) data.allowedScopes = changes.allowedScopes;
    if (changes.leakResponse !== undefined) data.leakResponse = changes.leakResponse;
    if (changes.alertEmails !== undefined) data.alertEmailCount = changes.alertEmails.length;
    // Addresses the operator sets are trusted (no confirmation); one it set is no longer pending.
    const pendingEmails = emails === undefined ? account.pendingEmails : account.pendingEmails.filter((p) => !emails.some((e) => e.toLowerCase() === p.address.toLowerCase()));
    return {
      changes: { ...changes, pendingEmails },
      type: 'account.updated',
      data,
      notices: removed.map((address) => ({ template: 'email_removed' as const, keyId: null, address })),
    };
  });
}

/** What an account change decides: the fields it sets, its audit event and, for a status change, the fan-out to the keys. */
export interface AccountDecision {
  readonly changes: Partial<AccountRecord>;
  readonly type: EventType;
  readonly data: Record<string, unknown>;
  readonly fanOut?: Pick<AccountFanOut, 'status' | 'revoke'>;
  /** Emails to single addresses about themselves (confirmation links, removal notices, SPEC §10). */
  readonly notices?: readonly Omit<NoticeRequest, 'accountId'>[];
}

/**
 * The account's commit loop: read (consistent), decide, one conditional write with the audit
 * event (and the `account_keys` fan-out effect, SPEC §9), retry on a lost race, drain. `decide`
 * returns `null` for nothing to change (idempotent calls answer the account as it is).
 */
export async function commitAccountChange(
  accountId: string,
  actor: Actor,
  deps: Deps,
  decide: (account: AccountRecord) => AccountDecision | null,
): Promise<AccountRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const account = await getAccount(accountId, deps, true);
    const decision = decide(account);
    if (decision === null) return account;
    const now = deps.clock.now();
    const next: AccountRecord = { ...account, ...decision.changes, version: account.version + 1 };
    const base = deps.ids.sortable(now, next.version);
    const id = effectId(base, 0);
    const effects: Effect[] = [{ id, kind: 'event', event: auditEvent(id, decision.type, now, actor, accountId, null, decision.data) }];
    if (decision.fanOut) {
      effects.push({ id: effectId(base, effects.length), kind: 'account_keys', fanOut: { ...decision.fanOut, accountId, accountVersion: next.version, actor } });
    }
    for (const n of decision.notices ?? []) effects.push({ id: effectId(base, effects.length), kind: 'notice', notice: { ...n, accountId } });
    try {
      await deps.store.updateAccount(next, account.version, effects);
    } catch (err) {
      if (err instanceof VersionConflictError) {
        await backoff(attempt);
        continue;
      }
      throw err;
    }
    await drainQuietly({ kind: 'account', id: accountId }, deps);
    return next;
  }
  throw new Error(`too much contention on account ${accountId}`);
}

// ---- timers ---------------------------------------------------------------------------------------

/** The timer function's logic: re-read, act only if the timer is still planned and not yet fired. */
export async function handleTimer(timer: Timer, deps: Deps): Promise<'acted' | 'stale' | 'missing'> {
  // The idle check decides from recorded usage, read with the record on every attempt.
  let facts: IdleFacts | undefined;
  const result = await commitKeyChange(
    async () => {
      const record = await deps.store.getKey(timer.keyId, { consistent: true });
      facts = record !== null && timer.kind === 'idle_check' ? await idleFacts(record, deps.usage) : undefined;
      return record;
    },
    (record, ctx) => fireTimer(record, timer, ctx.now, deps.policies, facts),
    SYSTEM_ACTOR,
    deps,
  );
  if (!result) return 'missing';
  return result.decision.kind === 'change' ? 'acted' : 'stale';
}


/**
 * How overdue a timer must be before the reconciliation performs it: Scheduler fires within about a
 * minute and its retries take a few more; the reconciliation is for invocations that were dropped.
 */
export const RECONCILE_GRACE_MS = 5 * 60_000;

/**
 * The periodic reconciliation (SPEC §5 "No notice or purge is lost"): performs every planned,
 * unfired timer overdue by more than `RECONCILE_GRACE_MS`, found through the timer index. Each goes
 * through `handleTimer`, so the fired set keeps it exactly-once against a late or repeated
 * delivery of the same timer. A key that fails is logged and left for the next run.
 */
export async function reconcileTimers(deps: Deps): Promise<{ keys: number; acted: number; failed: number }> {
  const cutoff = deps.clock.now() - RECONCILE_GRACE_MS;
  const keyIds = await deps.store.keysWithTimersDue(cutoff);
  let acted = 0;
  let failed = 0;
  for (const keyId of keyIds) {
    try {
      const record = await deps.store.getKey(keyId, { consistent: true });
      if (!record) continue;
      for (const timer of overdueTimers(record, deps.policies, cutoff)) {
        if ((await handleTimer(timer, deps)) === 'acted') acted++;
      }
    } catch (err) {
      failed++;
      deps.log.error('timer reconciliation failed for a key; the next run retries', { keyId, error: err instanceof Error ? err.name : String(err) });
    }
  }
  return { keys: keyIds.length, acted, failed };
}
