/** Response shapes the dashboard renders: the typed client's (type-only: no zod code reaches the bundle). */
import type { Account, Key, KeyEvent } from '../../client/index.js';

export type { Whoami } from '../../client/index.js';
export type KeyView = Key;
export type EventView = KeyEvent;
export type AccountView = Account;

/** Where a key stands, derived from its view and the clock so the card changes the second a window ends. */
export function rotationPhase(key: KeyView, now: number): 'in_progress' | 'restorable' | 'none' {
  const r = key.rotation;
  if (!r) return 'none';
  if (r.state === 'in_progress' && key.previousSecret && Date.parse(key.previousSecret.expiresAt ?? r.oldKeyExpiresAt) > now) return 'in_progress';
  if (r.state !== 'cancelled' && r.restorableUntil && Date.parse(r.restorableUntil) > now && Date.parse(r.oldKeyExpiresAt) <= now) return 'restorable';
  return 'none';
}
