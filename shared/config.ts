/**
 * Runtime configuration, parsed once from the environment; a bad variable fails fast with its name.
 * The same variables configure Lambda (set by the CDK construct) and local mode.
 *
 * Deliberately without zod (unlike the request schemas): every function reads this at cold start,
 * the authorizer included, and even `zod/mini` added 10–20 ms of CPU there (`npm run bench`). Each
 * variable is one small parse function in a typed table; all errors are collected and named.
 */
import { DEFAULT_POLICIES, parseOffsets, type Policies } from './domain/policies.js';
import { PREFIX_PATTERN } from './domain/keyFormat.js';
import { DEFAULT_LEAK_REPORTS_PER_MINUTE } from './leaks/rateLimit.js';

/** Parses one variable's raw value (`undefined` when unset); throws an Error naming the variable. */
type Parse<T> = (raw: string | undefined) => T;

const seconds =
  (name: string, def: number, max = 10 * 365 * 86_400): Parse<number> =>
  (v) => {
    if (v === undefined || v.trim() === '') return def;
    if (!/^\d+$/.test(v.trim())) throw new Error(`${name} must be a whole number of seconds, got "${v}"`);
    const n = Number(v.trim());
    if (n > max) throw new Error(`${name} must be at most ${max}, got ${n}`);
    return n;
  };

const optional: Parse<string | undefined> = (v) => v;

const ENV = {
  KEY_PREFIX: (v) => {
    const p = v?.trim() || DEFAULT_POLICIES.keyPrefix;
    if (!PREFIX_PATTERN.test(p)) throw new Error(`KEY_PREFIX must match ${PREFIX_PATTERN}, got "${p}"`);
    return p;
  },
  MAX_TRANSITION_SECONDS: seconds('MAX_TRANSITION_SECONDS', DEFAULT_POLICIES.maxTransitionSeconds),
  REMINDER_LEAD_SECONDS: seconds('REMINDER_LEAD_SECONDS', DEFAULT_POLICIES.reminderLeadSeconds),
  RESTORE_WINDOW_SECONDS: seconds('RESTORE_WINDOW_SECONDS', DEFAULT_POLICIES.restoreWindowSeconds),
  REACTIVATION_WINDOW_SECONDS: seconds('REACTIVATION_WINDOW_SECONDS', DEFAULT_POLICIES.reactivationWindowSeconds),
  MAX_KEY_LIFETIME_SECONDS: seconds('MAX_KEY_LIFETIME_SECONDS', 0),
  EXPIRY_NOTICE_OFFSETS: (v) => {
    if (v === undefined) return [...DEFAULT_POLICIES.expiryNoticeOffsets];
    try {
      return parseOffsets(v);
    } catch (e) {
      throw new Error(`EXPIRY_NOTICE_OFFSETS: ${(e as Error).message}`, { cause: e });
    }
  },
  AUTH_CACHE_TTL_SECONDS: seconds('AUTH_CACHE_TTL_SECONDS', DEFAULT_POLICIES.authCacheTtlSeconds, 3600),
  MAX_EMAILS_PER_ACCOUNT_PER_DAY: (v) => {
    if (v === undefined || v.trim() === '') return DEFAULT_POLICIES.maxEmailsPerAccountPerDay;
    if (!/^\d+$/.test(v.trim()) || Number(v.trim()) > 1_000_000) throw new Error(`MAX_EMAILS_PER_ACCOUNT_PER_DAY must be a whole number up to 1000000, got "${v}"`);
    return Number(v.trim());
  },
  /** Days audit events are kept (DynamoDB TTL); 0 or unset keeps them forever. */
  AUDIT_RETENTION_DAYS: (v) => {
    if (v === undefined || v.trim() === '') return 0;
    if (!/^\d+$/.test(v.trim())) throw new Error(`AUDIT_RETENTION_DAYS must be a whole number of days (0 keeps events forever), got "${v}"`);
    const n = Number(v.trim());
    if (n > 36_500) throw new Error(`AUDIT_RETENTION_DAYS must be at most 36500, got ${n}`);
    return n;
  },
  /** How often the authorizer writes usage counts: 60 (once per secret per minute) in production; shorter only for local tests. */
  USAGE_FLUSH_SECONDS: (v) => {
    if (v === undefined || v.trim() === '') return 60;
    const n = Number(v.trim());
    if (![1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].includes(n)) throw new Error(`USAGE_FLUSH_SECONDS must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60), got "${v}"`);
    return n;
  },
  TABLE_NAME: (v) => {
    const name = v ?? 'rekey';
    if (name.length < 3) throw new Error(`TABLE_NAME must be at least 3 characters, got "${name}"`);
    return name;
  },
  /** Set in local mode (and tests) to point the DynamoDB client at dynalite. */
  DYNAMODB_ENDPOINT: (v) => {
    if (v !== undefined && !URL.canParse(v)) throw new Error(`DYNAMODB_ENDPOINT must be a URL, got "${v}"`);
    return v;
  },
  PEPPER_SECRET_ARN: optional,
  /** Local mode: the data directory (pepper file, outbox, events.jsonl, timers). Selects local adapters. */
  REKEY_DATA_DIR: optional,
  SCHEDULE_GROUP_NAME: optional,
  TIMER_FUNCTION_ARN: optional,
  SCHEDULER_ROLE_ARN: optional,
  SCHEDULER_DLQ_ARN: optional,
  EVENT_BUS_NAME: optional,
  SENDER_EMAIL: optional,
  /** Base URL of the management API, used in emails ("how to extend or cancel"). */
  API_URL: optional,
  /** Dashboard URL, used in emails. */
  DASHBOARD_URL: optional,
  /** Origin allowed by CORS (the dashboard's); unset disables CORS headers. */
  CORS_ALLOWED_ORIGIN: optional,
  /** AWS: the SQS queue of webhook attempts (URL for sending, ARN for Scheduler targets). */
  WEBHOOK_QUEUE_URL: optional,
  WEBHOOK_QUEUE_ARN: optional,
  /** GitHub secret scanning keys in GitHub's format, used instead of fetching them (local mode, tests, staging). */
  SECRET_SCANNING_KEYS_FILE: (v) => (v?.trim() ? v.trim() : undefined),
  /** `POST /v1/leaks` requests allowed per source address per minute (SPEC §11). */
  LEAK_REPORTS_PER_MINUTE: (v) => {
    const n = seconds('LEAK_REPORTS_PER_MINUTE', DEFAULT_LEAK_REPORTS_PER_MINUTE, 100_000)(v);
    if (n < 1) throw new Error(`LEAK_REPORTS_PER_MINUTE must be at least 1, got ${n}`);
    return n;
  },
} satisfies Record<string, Parse<unknown>>;

type Env = { [K in keyof typeof ENV]: ReturnType<(typeof ENV)[K]> };

export interface Config {
  readonly policies: Policies;
  readonly tableName: string;
  /** Days audit events are kept; 0 keeps them forever. */
  readonly auditRetentionDays: number;
  readonly dynamoEndpoint: string | undefined;
  readonly pepperSecretArn: string | undefined;
  readonly dataDir: string | undefined;
  readonly scheduleGroupName: string | undefined;
  readonly timerFunctionArn: string | undefined;
  readonly schedulerRoleArn: string | undefined;
  readonly schedulerDlqArn: string | undefined;
  readonly eventBusName: string | undefined;
  readonly senderEmail: string | undefined;
  readonly apiUrl: string | undefined;
  readonly dashboardUrl: string | undefined;
  readonly corsAllowedOrigin: string | undefined;
  /** Authorizer usage write interval (seconds, divides 60). @default 60 */
  readonly usageFlushSeconds: number;
  readonly webhookQueueUrl: string | undefined;
  readonly webhookQueueArn: string | undefined;
  /** GitHub's secret scanning keys file; `undefined`: fetch them from GitHub. */
  readonly secretScanningKeysFile: string | undefined;
  /** Requests of `POST /v1/leaks` per source address per minute. @default 10 */
  readonly leakReportsPerMinute: number;
}

/** Thrown at start-up with every bad variable named. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = {} as Record<string, unknown>;
  const errors: string[] = [];
  for (const [name, parse] of Object.entries(ENV) as [string, Parse<unknown>][]) {
    try {
      e[name] = parse(env[name]);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length) throw new ConfigError(`Invalid configuration:\n  ${errors.join('\n  ')}`);
  return toConfig(e as Env);
}

function toConfig(e: Env): Config {
  if (e.MAX_KEY_LIFETIME_SECONDS !== 0 && e.MAX_KEY_LIFETIME_SECONDS < 60) {
    throw new ConfigError('Invalid configuration:\n  MAX_KEY_LIFETIME_SECONDS must be 0 (unlimited) or at least 60');
  }
  return {
    policies: {
      keyPrefix: e.KEY_PREFIX,
      maxTransitionSeconds: e.MAX_TRANSITION_SECONDS,
      defaultTransitionSeconds: Math.min(DEFAULT_POLICIES.defaultTransitionSeconds, e.MAX_TRANSITION_SECONDS),
      reminderLeadSeconds: e.REMINDER_LEAD_SECONDS,
      restoreWindowSeconds: e.RESTORE_WINDOW_SECONDS,
      reactivationWindowSeconds: e.REACTIVATION_WINDOW_SECONDS,
      maxKeyLifetimeSeconds: e.MAX_KEY_LIFETIME_SECONDS === 0 ? null : e.MAX_KEY_LIFETIME_SECONDS,
      expiryNoticeOffsets: e.EXPIRY_NOTICE_OFFSETS,
      authCacheTtlSeconds: e.AUTH_CACHE_TTL_SECONDS,
      maxEmailsPerAccountPerDay: e.MAX_EMAILS_PER_ACCOUNT_PER_DAY,
    },
    tableName: e.TABLE_NAME,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    dynamoEndpoint: e.DYNAMODB_ENDPOINT,
    pepperSecretArn: e.PEPPER_SECRET_ARN,
    dataDir: e.REKEY_DATA_DIR,
    scheduleGroupName: e.SCHEDULE_GROUP_NAME,
    timerFunctionArn: e.TIMER_FUNCTION_ARN,
    schedulerRoleArn: e.SCHEDULER_ROLE_ARN,
    schedulerDlqArn: e.SCHEDULER_DLQ_ARN,
    eventBusName: e.EVENT_BUS_NAME,
    senderEmail: e.SENDER_EMAIL,
    apiUrl: e.API_URL,
    dashboardUrl: e.DASHBOARD_URL,
    corsAllowedOrigin: e.CORS_ALLOWED_ORIGIN,
    usageFlushSeconds: e.USAGE_FLUSH_SECONDS,
    webhookQueueUrl: e.WEBHOOK_QUEUE_URL,
    webhookQueueArn: e.WEBHOOK_QUEUE_ARN,
    secretScanningKeysFile: e.SECRET_SCANNING_KEYS_FILE,
    leakReportsPerMinute: e.LEAK_REPORTS_PER_MINUTE,
  };
}
