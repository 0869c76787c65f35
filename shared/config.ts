/**
 * Runtime configuration, parsed once from the environment with zod; a bad variable fails fast with
 * its name. The same variables configure Lambda (set by the CDK construct) and local mode.
 */
import { z } from 'zod';
import { DEFAULT_POLICIES, parseOffsets, type Policies } from './domain/policies.js';
import { PREFIX_PATTERN } from './domain/keyFormat.js';

const seconds = (name: string, def: number, max = 10 * 365 * 86_400) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      if (!/^\d+$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number of seconds, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v.trim());
      if (n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be at most ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

const EnvSchema = z.object({
  KEY_PREFIX: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const p = v?.trim() || DEFAULT_POLICIES.keyPrefix;
      if (!PREFIX_PATTERN.test(p)) {
        ctx.addIssue({ code: 'custom', message: `KEY_PREFIX must match ${PREFIX_PATTERN}, got "${p}"` });
        return z.NEVER;
      }
      return p;
    }),
  MAX_TRANSITION_SECONDS: seconds('MAX_TRANSITION_SECONDS', DEFAULT_POLICIES.maxTransitionSeconds),
  REMINDER_LEAD_SECONDS: seconds('REMINDER_LEAD_SECONDS', DEFAULT_POLICIES.reminderLeadSeconds),
  RESTORE_WINDOW_SECONDS: seconds('RESTORE_WINDOW_SECONDS', DEFAULT_POLICIES.restoreWindowSeconds),
  REACTIVATION_WINDOW_SECONDS: seconds('REACTIVATION_WINDOW_SECONDS', DEFAULT_POLICIES.reactivationWindowSeconds),
  MAX_KEY_LIFETIME_SECONDS: seconds('MAX_KEY_LIFETIME_SECONDS', 0),
  EXPIRY_NOTICE_OFFSETS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return [...DEFAULT_POLICIES.expiryNoticeOffsets];
      try {
        return parseOffsets(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `EXPIRY_NOTICE_OFFSETS: ${(e as Error).message}` });
        return z.NEVER;
      }
    }),
  AUTH_CACHE_TTL_SECONDS: seconds('AUTH_CACHE_TTL_SECONDS', DEFAULT_POLICIES.authCacheTtlSeconds, 3600),
  TABLE_NAME: z.string().min(3).default('rekey'),
  /** Set in local mode (and tests) to point the DynamoDB client at dynalite. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  PEPPER_SECRET_ARN: z.string().optional(),
  /** Local mode: the data directory (pepper file, outbox, events.jsonl, timers). Selects local adapters. */
  REKEY_DATA_DIR: z.string().optional(),
  SCHEDULE_GROUP_NAME: z.string().optional(),
  TIMER_FUNCTION_ARN: z.string().optional(),
  SCHEDULER_ROLE_ARN: z.string().optional(),
  SCHEDULER_DLQ_ARN: z.string().optional(),
  EVENT_BUS_NAME: z.string().optional(),
  SENDER_EMAIL: z.string().optional(),
  /** Base URL of the management API, used in emails ("how to extend or cancel"). */
  API_URL: z.string().optional(),
  /** Dashboard URL, used in emails. */
  DASHBOARD_URL: z.string().optional(),
  /** Origin allowed by CORS (the dashboard's); unset disables CORS headers. */
  CORS_ALLOWED_ORIGIN: z.string().optional(),
});

export interface Config {
  readonly policies: Policies;
  readonly tableName: string;
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
}

/** Thrown at start-up with every bad variable named. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new ConfigError(`Invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  const e = parsed.data;
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
    },
    tableName: e.TABLE_NAME,
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
  };
}
