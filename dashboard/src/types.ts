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

/** How long the old secret must go unused before the card says so (SPEC §12). */
export const QUIET_MS = 15 * 60_000;

/**
 * Since when the old secret of a rotation in progress has been quiet (its last use, or the
 * rotation's start if it has not been used since), and whether that is 15 minutes or more.
 */
export function oldSecretQuiet(key: KeyView, now: number): { since: number; quiet: boolean; usedSinceRotation: boolean } | null {
  const r = key.rotation;
  if (!r || rotationPhase(key, now) !== 'in_progress') return null;
  const started = Date.parse(r.startedAt);
  const last = key.previousSecret?.lastUsedAt ?? r.oldKeyLastUsedAt;
  const lastAt = last ? Date.parse(last) : 0;
  const since = Math.max(started, lastAt);
  return { since, quiet: now - since >= QUIET_MS, usedSinceRotation: lastAt >= started };
}

export type { WebhookEndpoint as WebhookView, WebhookDelivery as DeliveryView } from '../../client/index.js';
