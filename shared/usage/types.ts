/**
 * Usage per secret per minute (SPEC §12): the shapes the authorizer writes and the management API
 * reads. Pure types; `shared/adapters/dynamoUsage.ts` stores them, `counter.ts` produces them.
 */

/** Where a request came from, as API Gateway saw it. `null` fields when the event carries none (TOKEN). */
export interface UseOrigin {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** One flush: `count` verified requests of secret `sid` of key `keyId` during `minute`. */
export interface UsageFlush {
  readonly keyId: string;
  readonly sid: string;
  /** The secret's hint, so a retired secret can still be labelled from its usage items alone. */
  readonly hint: string;
  /** Start of the minute, epoch ms (a multiple of 60000). */
  readonly minute: number;
  readonly count: number;
  /** Time of the first and of the last use counted by this flush (epoch ms). */
  readonly firstAt: number;
  readonly lastAt: number;
  /** Origin of the last use counted (already sanitized). */
  readonly from: UseOrigin;
}

/** One stored minute of one secret (the sum over every authorizer instance). */
export interface UsageMinute {
  readonly sid: string;
  readonly hint: string;
  readonly minute: number;
  readonly count: number;
  /** Earliest first use any instance recorded in this minute. */
  readonly firstAt: number;
  /** Last use of the instance that wrote this minute last (within the minute; see docs/usage.md). */
  readonly lastAt: number;
  readonly from: UseOrigin;
}

/** What is known of one secret's recorded use. */
export interface SecretUse {
  readonly lastAt: number;
  readonly from: UseOrigin;
}

/** Persistence of usage items (`pk = USAGE#<keyId>`, `sk = <sid>#<minute>`). */
export interface UsageStore {
  /** Adds one flush to its minute item (`ADD count`), creating it with its TTL. One `UpdateItem`. */
  add(flush: UsageFlush): Promise<void>;
  /** The latest recorded minute of a secret, or `null` if it has none (within the retention). */
  latest(keyId: string, sid: string): Promise<UsageMinute | null>;
  /** The first recorded minute of a secret at or after `since` (epoch ms), or `null`. */
  first(keyId: string, sid: string, since: number): Promise<UsageMinute | null>;
  /** Every recorded minute of the key that overlaps `[from, to]`, all secrets, in sid then time order. */
  range(keyId: string, from: number, to: number): Promise<UsageMinute[]>;
}

/** Minutes are kept this long (DynamoDB TTL): 7 days promised plus a day of margin. */
export const USAGE_RETENTION_SECONDS = 8 * 86_400;
/** Longest range the usage route answers (SPEC §12). */
export const MAX_USAGE_RANGE_MS = 7 * 86_400_000;
export const MINUTE_MS = 60_000;

/** Start of the minute containing `ms`. */
export const minuteOf = (ms: number): number => ms - (ms % MINUTE_MS);
