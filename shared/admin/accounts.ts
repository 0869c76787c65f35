/**
 * The operator's account services (SPEC §9 admin API): create (with an optional first key), list,
 * get, update, suspend, resume, delete. Each account change is one conditional write on the
 * account's `version` with its outbox, like every key transition.
 *
 * Suspension without an extra read in the authorizer: a status change commits an `account_keys`
 * effect into the account's outbox, which copies the status onto every key record of the account
 * (`KeyStore.setKeyAccountStatus`, conditional on the account version, so it is idempotent and an
 * older copy never overwrites a newer one). The handler drains the outbox before answering, so the
 * copy is done when suspend or resume returns; a crash mid-way leaves the effect pending and the
 * sweeper (stream consumer in AWS) resumes it. The authorizer's one `GetItem` of the key then
 * decides: a suspension is seen within `authCacheTtlSeconds`, and a resume, being a grant, on the
 * very next request (a deny from a cached record re-reads it).
 */
import { effectId } from '../domain/ids.js';
import { resolveExpiresAt } from '../domain/keys.js';
import type { Page, PageRequest } from '../domain/ports.js';
import {
  auditEvent,
  commitAccountChange,
  createKey,
  drainQuietly,
  getAccount,
  listKeys,
  normalizeEmails,
  operatorPrincipal,
  revokeKey,
  updateAccount as updateAccountRecord,
  type AccountChanges,
  type CreateKeyBody,
  type Deps,
} from '../domain/service.js';
import type { AccountFanOut, AccountRecord, AccountStatus, Actor, KeyRecord, LeakResponse } from '../domain/types.js';

/** The operator, as the gateway established it (the IAM principal ARN, or `local-operator`). */
export interface Operator {
  readonly id: string;
}

const operatorActor = (op: Operator): Actor => ({ type: 'operator', id: op.id });

export interface CreateAccountInput {
  readonly name: string;
  readonly alertEmails?: readonly string[] | undefined;
  readonly allowedScopes?: readonly string[] | undefined;
  readonly leakResponse?: LeakResponse | undefined;
  readonly firstKey?: Partial<CreateKeyBody> | undefined;
}

/** Name of the first key when the operator gives none. */
export const FIRST_KEY_NAME = 'Initial key';

/**
 * A new account and, when `firstKey` is given, its first key (default name "Initial key", scopes
 * `keys:read keys:write`, environment `live`). The operator is not bound by delegation (SPEC §1).
 * The secret is returned once.
 */
export async function createAccount(op: Operator, input: CreateAccountInput, deps: Deps): Promise<{ account: AccountRecord; key?: KeyRecord; secret?: string }> {
  const now = deps.clock.now();
  // Bad input changes nothing (SPEC §3): the first key's expiry is checked before the account is
  // written, since the key is created after it (the operator is bound by no other rule that could
  // refuse it).
  if (input.firstKey) resolveExpiresAt(input.firstKey.expiresAt, now, deps.policies, 'firstKey.expiresAt');
  const account: AccountRecord = {
    id: deps.ids.accountId(),
    name: input.name,
    status: 'active',
    // Addresses the operator sets are trusted as given (SPEC §10): no confirmation round.
    alertEmails: normalizeEmails(input.alertEmails ?? []),
    allowedScopes: [...new Set(input.allowedScopes ?? [])],
    leakResponse: input.leakResponse ?? 'revoke',
    pendingEmails: [],
    createdAt: now,
    version: 1,
    deletedAt: null,
  };
  const actor = operatorActor(op);
  const id = effectId(deps.ids.sortable(now), 0);
  await deps.store.createAccount(account, [{ id, kind: 'event', event: auditEvent(id, 'account.created', now, actor, account.id, null, { name: account.name, leakResponse: account.leakResponse }) }]);
  await drainQuietly({ kind: 'account', id: account.id }, deps);
  if (!input.firstKey) return { account };
  const first = input.firstKey;
  const { record, secret } = await createKey(
    operatorPrincipal(account.id, op.id),
    account.id,
    {
      name: first.name ?? FIRST_KEY_NAME,
      environment: first.environment ?? 'live',
      scopes: first.scopes ?? ['keys:read', 'keys:write'],
      expiresAt: first.expiresAt,
    },
    deps,
  );
  return { account, key: record, secret };
}

/** Every account, newest first (deleted ones are not listed). */
export async function listAccounts(page: PageRequest, deps: Deps): Promise<Page<AccountRecord>> {
  return deps.store.listAccounts(page);
}

/** Changes name, alert emails (trusted, no confirmation), allowed scopes or leak response. */
export async function updateAccount(op: Operator, accountId: string, input: AccountChanges, deps: Deps): Promise<AccountRecord> {
  return updateAccountRecord(operatorActor(op), accountId, input, deps);
}

/** Suspends or resumes the account: its keys are refused (or work again, unchanged). Idempotent. */
export async function setAccountStatus(op: Operator, accountId: string, status: AccountStatus, deps: Deps): Promise<AccountRecord> {
  return commitAccountChange(accountId, operatorActor(op), deps, (a) =>
    a.status === status
      ? null
      : { changes: { status }, type: status === 'suspended' ? 'account.suspended' : 'account.resumed', data: {}, fanOut: { status, revoke: false } },
  );
}

/**
 * Deletes the account: every key is refused at once (status copied as `deleted`) and revoked, so
 * its digests are purged after the reactivation window by the keys' own purge timers. The account
 * item stays as a tombstone (out of the listing) so the id is never reused; from now on it
 * answers 404. Answers the account as it was at deletion.
 */
export async function deleteAccount(op: Operator, accountId: string, deps: Deps): Promise<AccountRecord> {
  const now = deps.clock.now();
  return commitAccountChange(accountId, operatorActor(op), deps, () => ({ changes: { deletedAt: now }, type: 'account.deleted', data: {}, fanOut: { status: 'deleted', revoke: true } }));
}

/**
 * Performs an `account_keys` effect: copies the status onto every key of the account, and revokes
 * each for a delete. Safe to run again from the start (each step is idempotent), which is how a
 * crash mid-way is resumed.
 */
export async function applyAccountFanOut(fanOut: AccountFanOut, deps: Deps): Promise<void> {
  const principal = operatorPrincipal(fanOut.accountId, fanOut.actor.id ?? 'system');
  const revoker = { ...principal, actor: fanOut.actor };
  let cursor: string | undefined;
  do {
    const page = await listKeys(principal, { limit: 100, cursor }, deps);
    for (const key of page.items) {
      await deps.store.setKeyAccountStatus(key.id, fanOut.status, fanOut.accountVersion);
      if (fanOut.revoke) await revokeKey(revoker, key.id, deps);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** The admin key routes act for the account in the path, which must exist (else 404, before the key's 404). */
export async function accountPrincipal(op: Operator, accountId: string, deps: Deps) {
  await getAccount(accountId, deps);
  return operatorPrincipal(accountId, op.id);
}
