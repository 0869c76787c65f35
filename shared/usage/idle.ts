/**
 * Idle cut-over (SPEC §12): one pure function decides when the old secret of a rotation expires
 * because it went quiet. The timer, the views and the tests all call it with the same recorded
 * facts, so every part of rekey names the same instant.
 *
 * Definition. For a rotation with `idleSeconds = s`, old secret `o`, new secret `n`:
 * - `newUsedAt` = the first recorded use of `n` at or after the rotation started (minute items);
 * - `oldLastUsedAt` = the last recorded use of `o` (latest minute item's `lastAt`), if any;
 * - no cut-over while `newUsedAt` is unknown (nobody has moved to the new secret yet);
 * - otherwise the cut-over instant is `min(oldKeyExpiresAt, max(oldLastUsedAt, newUsedAt, startedAt) + s)`.
 *
 * The timer (`idle_check`) commits that instant as the old secret's expiry once it has passed and
 * no newer use of the old secret has been recorded; until then it re-plans itself for that instant.
 */
import type { RotationRecord } from '../domain/types.js';

/** What the usage items say about a rotation's two secrets. */
export interface IdleFacts {
  /** First recorded use of the new secret since the rotation started; `null` if none. */
  readonly newUsedAt: number | null;
  /** Last recorded use of the old secret; `null` if none. */
  readonly oldLastUsedAt: number | null;
}

/** Fewest idle seconds a rotation may ask for (SPEC §12). */
export const MIN_IDLE_SECONDS = 600;

/** The instant the old secret expires by idle cut-over, or `null` while it cannot be known. */
export function idleCutoverAt(rotation: Pick<RotationRecord, 'startedAt' | 'oldKeyExpiresAt' | 'idleSeconds'>, facts: IdleFacts): number | null {
  const idle = rotation.idleSeconds;
  if (idle === null || idle === undefined || facts.newUsedAt === null) return null;
  const quietSince = Math.max(rotation.startedAt, facts.newUsedAt, facts.oldLastUsedAt ?? 0);
  return Math.min(rotation.oldKeyExpiresAt, quietSince + idle * 1000);
}
