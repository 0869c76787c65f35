/**
 * Who may change what, with which secret (SPEC §1 Delegation, §2 "A rotated-out secret cannot
 * manage"). Pure checks on (caller, account, request): no I/O, no clock. The HTTP layer applies the
 * rotated-out rule at the scope step; the services apply delegation after the key is found and its
 * environment checked, before any state check (SPEC §3's order).
 */
import type { ValidationIssue } from './errors.js';
import { SCOPE_READ, SCOPE_WRITE, type Slot } from './types.js';

/** The message of the rotated-out 403: says what happened and what to do. */
export const ROTATED_OUT_MESSAGE = "This secret has been rotated out: it can still read, but every change needs the key's current secret.";

/**
 * The rotated-out rule: a request authenticated by a key's previous secret keeps every `keys:read`
 * right and `whoami`, but no `keys:write` route. So a leaked old secret cannot extend, shorten or
 * cancel the rotation meant to retire it, nor rotate again.
 */
export function rotatedOutRefuses(slot: Slot, routeScope: string): boolean {
  return slot === 'previous' && routeScope === SCOPE_WRITE;
}

/** The acting key, as delegation sees it. */
export interface Delegator {
  readonly keyId: string;
  readonly scopes: readonly string[];
}

/** The key being changed, as delegation sees it; `null` when a key is being created. */
export interface DelegationTarget {
  readonly id: string;
  readonly scopes: readonly string[];
  /** The current secret's expiry (epoch ms), `null` for never. */
  readonly expiresAt: number | null;
}

/** What the request asks for; `undefined` fields are not asked. */
export interface DelegationRequest {
  readonly scopes?: readonly string[] | undefined;
  /** A resolved expiry (epoch ms or `null` for never): create/PATCH `expiresAt`, or rotate's new-secret `expiresAt`. */
  readonly expiresAt?: number | null | undefined;
}

/**
 * Whether the caller holds `scope` for delegation purposes: literally (no pattern meaning, `*` is a
 * plain character), except that `keys:write` implies `keys:read` as it does for every route.
 */
export function holdsScope(caller: Pick<Delegator, 'scopes'>, scope: string): boolean {
  return caller.scopes.includes(scope) || (scope === SCOPE_READ && caller.scopes.includes(SCOPE_WRITE));
}

/** Whether the request gives scopes the caller does not hold, so the account's `allowedScopes` must be consulted. */
export function needsAllowedScopes(caller: Pick<Delegator, 'scopes'>, request: DelegationRequest): boolean {
  return (request.scopes ?? []).some((s) => !holdsScope(caller, s));
}

const sameScopes = (a: readonly string[], b: readonly string[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((s) => y.has(s));
};

/**
 * The delegation rule: a key may give a key it creates or edits only scopes it holds or that its
 * account's `allowedScopes` contains; scopes the target already has may stay (removing is always
 * allowed); a key never changes its own `scopes` or `expiresAt` (it can still rename, rotate and
 * revoke itself). Returns one issue per refused scope or field; empty means allowed.
 * @param rotate the request is a rotation: any `expiresAt` a key sets for its own new secret is a
 *   change of its own expiry (without one, the new secret inherits the old lifetime).
 */
export function delegationRefusals(
  caller: Delegator,
  allowedScopes: readonly string[],
  target: DelegationTarget | null,
  request: DelegationRequest,
  rotate = false,
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  if (target !== null && target.id === caller.keyId) {
    if (request.scopes !== undefined && !sameScopes(request.scopes, target.scopes)) {
      out.push({ field: 'scopes', message: 'a key cannot change its own scopes; use another key with keys:write' });
    }
    if (request.expiresAt !== undefined && (rotate || request.expiresAt !== target.expiresAt)) {
      out.push({ field: 'expiresAt', message: 'a key cannot change its own expiry; use another key with keys:write' });
    }
    return out;
  }
  const had = new Set(target?.scopes ?? []);
  (request.scopes ?? []).forEach((scope, i) => {
    if (had.has(scope) || holdsScope(caller, scope) || allowedScopes.includes(scope)) return;
    out.push({ field: `scopes.${i}`, message: `"${scope}" is neither held by this key nor in the account's allowed scopes` });
  });
  return out;
}
