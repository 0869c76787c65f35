import { describe, expect, it } from 'vitest';
import { delegationRefusals, holdsScope, needsAllowedScopes, rotatedOutRefuses, type DelegationRequest, type DelegationTarget } from '../../shared/domain/authority.js';
import type { Slot } from '../../shared/domain/types.js';

const CALLER = 'CallerKey000000000000A';
const OTHER = 'OtherKey0000000000000B';
const T_EXP = Date.UTC(2030, 0, 1);
const ALLOWED = ['invoices:read', 'payments:*'];

type Target = 'create' | 'self' | 'other';
const targetOf = (t: Target, scopes: readonly string[] = ['reports:read']): DelegationTarget | null =>
  t === 'create' ? null : { id: t === 'self' ? CALLER : OTHER, scopes, expiresAt: T_EXP };

/**
 * The whole rule as one table: caller slot × caller scopes × target × field. `step` is where SPEC
 * §3's order refuses it: `scope` (the rotated-out 403, before body and key are even looked at),
 * `delegation` (the 403 after environment), or `ok`; `fields` are the `details` named.
 */
const TABLE: {
  slot: Slot;
  scopes: string[];
  target: Target;
  request: DelegationRequest;
  rotate?: boolean;
  step: 'scope' | 'delegation' | 'ok';
  fields?: string[];
}[] = [
  // The rotated-out rule: a previous secret writes nothing, whatever it holds and asks.
  { slot: 'previous', scopes: ['keys:write'], target: 'self', request: {}, step: 'scope' },
  { slot: 'previous', scopes: ['keys:write', 'billing:admin'], target: 'other', request: { scopes: ['billing:admin'] }, step: 'scope' },
  { slot: 'previous', scopes: ['keys:write'], target: 'create', request: {}, step: 'scope' },
  // Creating: only held or allowed scopes.
  { slot: 'current', scopes: ['keys:write'], target: 'create', request: { scopes: ['keys:write'] }, step: 'ok' },
  { slot: 'current', scopes: ['keys:write'], target: 'create', request: { scopes: ['keys:read'] }, step: 'ok' }, // implied by keys:write
  { slot: 'current', scopes: ['keys:read'], target: 'create', request: { scopes: ['keys:write'] }, step: 'delegation', fields: ['scopes.0'] },
  { slot: 'current', scopes: ['keys:write'], target: 'create', request: { scopes: ['invoices:read', 'payments:*'] }, step: 'ok' }, // allowed
  {
    slot: 'current', scopes: ['keys:write'], target: 'create',
    request: { scopes: ['keys:read', 'keys:write', 'billing:admin', 'payments:*', 'payments:refund'] },
    step: 'delegation', fields: ['scopes.2', 'scopes.4'], // `*` is literal: payments:* does not allow payments:refund
  },
  { slot: 'current', scopes: ['keys:write', 'orders:*'], target: 'create', request: { scopes: ['orders:read'] }, step: 'delegation', fields: ['scopes.0'] },
  { slot: 'current', scopes: ['keys:write'], target: 'create', request: { expiresAt: null }, step: 'ok' }, // §1 binds scopes, not others' expiry
  // Editing another key: added scopes are bound; kept and removed ones are not.
  { slot: 'current', scopes: ['keys:write'], target: 'other', request: { scopes: ['reports:read', 'invoices:read'] }, step: 'ok' },
  { slot: 'current', scopes: ['keys:write'], target: 'other', request: { scopes: [] }, step: 'ok' },
  { slot: 'current', scopes: ['keys:write'], target: 'other', request: { scopes: ['reports:read', 'billing:admin'] }, step: 'delegation', fields: ['scopes.1'] },
  { slot: 'current', scopes: ['keys:write'], target: 'other', request: { expiresAt: null }, step: 'ok' },
  // A key never changes its own scopes or expiry; it may rename and rotate itself.
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: {}, step: 'ok' },
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { scopes: ['reports:read'] }, step: 'ok' }, // unchanged
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { scopes: [] }, step: 'delegation', fields: ['scopes'] },
  { slot: 'current', scopes: ['keys:write', 'billing:admin'], target: 'self', request: { scopes: ['reports:read', 'billing:admin'] }, step: 'delegation', fields: ['scopes'] },
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { expiresAt: null }, step: 'delegation', fields: ['expiresAt'] },
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { expiresAt: T_EXP + 1 }, step: 'delegation', fields: ['expiresAt'] },
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { expiresAt: T_EXP - 1 }, step: 'delegation', fields: ['expiresAt'] },
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { expiresAt: T_EXP }, step: 'ok' }, // unchanged
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { scopes: [], expiresAt: null }, step: 'delegation', fields: ['scopes', 'expiresAt'] },
  // Rotating itself: inheriting the lifetime is fine; naming the new secret's expiry is a change of its own.
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: {}, rotate: true, step: 'ok' },
  { slot: 'current', scopes: ['keys:write'], target: 'self', request: { expiresAt: null }, rotate: true, step: 'delegation', fields: ['expiresAt'] },
  { slot: 'current', scopes: ['keys:write'], target: 'other', request: { expiresAt: null }, rotate: true, step: 'ok' },
];

describe('who may change what, with which secret (SPEC §1, §2)', () => {
  it.each(TABLE.map((row, i) => [i, row] as const))('row %i', (_i, row) => {
    const refusedAtScope = rotatedOutRefuses(row.slot, 'keys:write');
    if (row.step === 'scope') {
      expect(refusedAtScope).toBe(true);
      return;
    }
    expect(refusedAtScope).toBe(false);
    const refusals = delegationRefusals({ keyId: CALLER, scopes: row.scopes }, ALLOWED, targetOf(row.target), row.request, row.rotate);
    expect(refusals.map((r) => r.field)).toEqual(row.fields ?? []);
    // Each refusal names the refused scope in words.
    for (const r of refusals.filter((x) => x.field.startsWith('scopes.'))) {
      const scope = row.request.scopes![Number(r.field.slice('scopes.'.length))]!;
      expect(r.message).toContain(`"${scope}"`);
    }
  });

  it('keeps keys:read and whoami for a previous secret: only keys:write routes are refused', () => {
    for (const scope of ['keys:read', 'any', 'none']) expect(rotatedOutRefuses('previous', scope)).toBe(false);
    expect(rotatedOutRefuses('current', 'keys:write')).toBe(false);
  });

  it('reads the account only when a requested scope is not held', () => {
    expect(needsAllowedScopes({ scopes: ['keys:write', 'a'] }, { scopes: ['a', 'keys:read'] })).toBe(false);
    expect(needsAllowedScopes({ scopes: ['keys:write'] }, { scopes: ['b'] })).toBe(true);
    expect(needsAllowedScopes({ scopes: [] }, {})).toBe(false);
    expect(holdsScope({ scopes: ['keys:write'] }, 'keys:read')).toBe(true);
    expect(holdsScope({ scopes: ['keys:read'] }, 'keys:write')).toBe(false);
    expect(holdsScope({ scopes: ['x:*'] }, 'x:y')).toBe(false);
  });
});
