import { randomBase62, newKeyIdRandom } from './keyFormat.js';
import type { Ids } from './ports.js';

/**
 * Sortable ids: 9 base36 characters of epoch ms (lexicographic order = time order until year 5138)
 * followed by an ordering number (base36, 5) and random characters. Used for events and outbox entries.
 */
export function sortableId(now: number, order = 0): string {
  // `order` (a record's version) keeps one item's effects in commit order even within one millisecond.
  return now.toString(36).padStart(9, '0') + order.toString(36).padStart(5, '0') + randomBase62(8);
}

/** An outbox effect id: a sortable id plus its 2-character sequence number within one commit. */
export function effectId(base: string, seq: number): string {
  return base + seq.toString(36).padStart(2, '0');
}

/** When a sortable (or effect) id was made, from its first 9 characters; `null` for another shape. */
export function idTime(id: string): number | null {
  const t = parseInt(id.slice(0, 9), 36);
  return id.length >= 9 && Number.isFinite(t) ? t : null;
}

/**
 * Sort key putting one item's effect ids in commit order: record version, then sequence number
 * (the id last, for ties), so clock skew between writers cannot reorder them.
 */
export function commitOrderKey(id: string): string {
  return id.length === 24 ? id.slice(9, 14) + id.slice(22) + id : id;
}

export const randomIds: Ids = {
  keyId: newKeyIdRandom,
  accountId: () => randomBase62(16),
  secretId: () => randomBase62(8),
  rotationId: () => randomBase62(12),
  sortable: sortableId,
};
