/** Deployment policies (SPEC §2, §5, §6) with their defaults. */
export interface Policies {
  /** Secret prefix. @default 'rekey' */
  readonly keyPrefix: string;
  /** Longest transition window a rotation may ask for. @default 259200 (72 h) */
  readonly maxTransitionSeconds: number;
  /** Transition window when a rotation names none. @default 86400 (24 h) */
  readonly defaultTransitionSeconds: number;
  /** Reminder lead before the old secret expires. @default 7200 (2 h) */
  readonly reminderLeadSeconds: number;
  /** How long after expiry a cancel can restore the old secret; 0 makes expiry final. @default 86400 */
  readonly restoreWindowSeconds: number;
  /** How long a revoked key can be reactivated. @default 3600 */
  readonly reactivationWindowSeconds: number;
  /** Longest key lifetime; `null` for unlimited. @default null */
  readonly maxKeyLifetimeSeconds: number | null;
  /** Notice offsets before key expiry, in seconds, descending. @default 30d,14d,7d,3d,1d */
  readonly expiryNoticeOffsets: readonly number[];
  /** Authorizer record cache TTL. @default 10 */
  readonly authCacheTtlSeconds: number;
  /** Most emails (one per recipient) sent per account per UTC day; the rest are skipped and audited. @default 200 */
  readonly maxEmailsPerAccountPerDay: number;
}

const DAY = 86_400;

export const DEFAULT_POLICIES: Policies = Object.freeze({
  keyPrefix: 'rekey',
  maxTransitionSeconds: 259_200,
  defaultTransitionSeconds: 86_400,
  reminderLeadSeconds: 7_200,
  restoreWindowSeconds: 86_400,
  reactivationWindowSeconds: 3_600,
  maxKeyLifetimeSeconds: null,
  expiryNoticeOffsets: Object.freeze([30 * DAY, 14 * DAY, 7 * DAY, 3 * DAY, 1 * DAY]),
  authCacheTtlSeconds: 10,
  maxEmailsPerAccountPerDay: 200,
});

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: DAY, w: 7 * DAY };

/**
 * Parses `30d,14d,7d,3d,1d` (units s, m, h, d, w; a bare number is seconds) into seconds, sorted
 * descending and de-duplicated. An empty string means no notices. Throws naming the bad entry.
 */
export function parseOffsets(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const out = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^\s*(\d+)\s*([smhdw]?)\s*$/.exec(part);
    if (!m) throw new Error(`invalid offset "${part.trim()}": expected a number with an optional unit s, m, h, d or w`);
    const seconds = Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
    if (seconds <= 0) throw new Error(`invalid offset "${part.trim()}": must be positive`);
    out.add(seconds);
  }
  return [...out].sort((a, b) => b - a);
}

/** Formats seconds as the shortest exact unit string (`86400` → `1d`). */
export function formatOffset(seconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    const size = UNIT_SECONDS[unit]!;
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
