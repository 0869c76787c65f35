/**
 * The usage route's logic (SPEC §12), without I/O: the range rules and the answer's shape.
 */
import { ValidationError } from '../domain/errors.js';
import type { KeyRecord } from '../domain/types.js';
import { iso } from '../domain/view.js';
import { MAX_USAGE_RANGE_MS, type UsageMinute } from './types.js';

const DAY_MS = 86_400_000;

/** `to` defaults to now, `from` to 24 h before `to`; `from` must precede `to` by at most 7 days. */
export function usageRange(query: { from?: string | undefined; to?: string | undefined }, now: number): { from: number; to: number } {
  const to = query.to === undefined ? now : Date.parse(query.to);
  if (!Number.isFinite(to)) throw new ValidationError([{ field: 'to', message: 'must be an RFC 3339 timestamp' }]);
  const from = query.from === undefined ? to - DAY_MS : Date.parse(query.from);
  if (!Number.isFinite(from)) throw new ValidationError([{ field: 'from', message: 'must be an RFC 3339 timestamp' }]);
  if (from >= to) throw new ValidationError([{ field: 'from', message: 'must be before `to`' }]);
  if (to - from > MAX_USAGE_RANGE_MS) throw new ValidationError([{ field: 'from', message: 'must be at most 7 days before `to`' }]);
  return { from, to };
}

export interface UsageReport {
  secrets: { hint: string; slot: 'current' | 'previous' | 'retired'; minutes: { at: string; count: number }[] }[];
}

const SLOT_ORDER = { current: 0, previous: 1, retired: 2 } as const;

/**
 * Groups minutes by secret: `current` and `previous` by the record's slots, anything else `retired`
 * (labelled by the hint its minutes carry). Secrets in slot order, then by first minute; minutes in time order.
 */
export function usageReport(record: KeyRecord, minutes: readonly UsageMinute[]): UsageReport {
  const bySid = new Map<string, { hint: string; minutes: UsageMinute[] }>();
  for (const m of minutes) {
    let entry = bySid.get(m.sid);
    if (!entry) bySid.set(m.sid, (entry = { hint: m.hint, minutes: [] }));
    entry.minutes.push(m);
  }
  const slotOf = (sid: string) =>
    sid === record.current.sid ? 'current' : record.previous !== null && sid === record.previous.sid && record.previous.digest !== null ? 'previous' : 'retired';
  const secrets = [...bySid.entries()].map(([sid, e]) => {
    e.minutes.sort((a, b) => a.minute - b.minute);
    const slot = slotOf(sid);
    const hint = slot === 'current' ? record.current.hint : slot === 'previous' ? record.previous!.hint : e.hint;
    return { hint, slot, first: e.minutes[0]!.minute, minutes: e.minutes.map((m) => ({ at: iso(m.minute), count: m.count })) } as const;
  });
  secrets.sort((a, b) => SLOT_ORDER[a.slot] - SLOT_ORDER[b.slot] || a.first - b.first);
  return { secrets: secrets.map(({ hint, slot, minutes: ms }) => ({ hint, slot, minutes: ms })) };
}
