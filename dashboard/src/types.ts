/** Response shapes the dashboard renders (type-only imports: no zod code reaches the bundle). */
import type { AccountViewT, EventViewT, KeyViewT } from '../../shared/http/schemas.js';

export type KeyView = KeyViewT;
export type EventView = EventViewT;
export type AccountView = AccountViewT;

/** `GET /v1/whoami`: which key (and which of its secrets) is signed in. */
export interface Whoami {
  readonly keyId: string;
  readonly accountId: string;
  readonly environment: 'live' | 'test';
  readonly scopes: readonly string[];
  readonly slot: 'current' | 'previous';
  readonly secretExpiresAt: string | null;
}

/** Where a key stands, derived from its view and the clock so the card changes the second a window ends. */
export function rotationPhase(key: KeyView, now: number): 'in_progress' | 'restorable' | 'none' {
  const r = key.rotation;
  if (!r) return 'none';
  if (r.state === 'in_progress' && key.previousSecret && Date.parse(key.previousSecret.expiresAt ?? r.oldKeyExpiresAt) > now) return 'in_progress';
  if (r.state !== 'cancelled' && r.restorableUntil && Date.parse(r.restorableUntil) > now && Date.parse(r.oldKeyExpiresAt) <= now) return 'restorable';
  return 'none';
}
