import { randomBase62, newKeyId } from './keyFormat.js';
import type { Ids } from './ports.js';

/**
 * Sortable ids: 9 base36 characters of epoch ms (lexicographic order = time order until year 5138)
 * followed by an ordering number (base36, 5) and random characters. Used for events and outbox entries.
 */
export function sortableId(now: number, order = 0): string {
  // `order` (a record's version) keeps one item's effects in commit order even within one millisecond.
  return now.toString(36).padStart(9, '0') + order.toString(36).padStart(5, '0') + randomBase62(8);
}

export const randomIds: Ids = {
  keyId: newKeyId,
  accountId: () => randomBase62(16),
  secretId: () => randomBase62(8),
  rotationId: () => randomBase62(12),
  sortable: sortableId,
};
