/**
 * A real rekey runtime for tests: dynalite in-process (a real DynamoDB-compatible server), the real
 * store and domain, a fixed pepper, a controllable clock, and recording effect performers (the
 * only fakes: Scheduler, SES and EventBridge have no local engine).
 */
import { createDocumentClient, DynamoKeyStore } from '../../shared/adapters/dynamoStore.js';
import { afterAll, beforeAll } from 'vitest';
import { DynamoUsageStore } from '../../shared/adapters/dynamoUsage.js';
import { ensureTable } from '../../shared/adapters/tableAdmin.js';
import { startDynalite, type LocalDynamo } from '../../shared/local/dynalite.js';
import { DEFAULT_POLICIES, type Policies } from '../../shared/domain/policies.js';
import { randomIds } from '../../shared/domain/ids.js';
import { renderEmail } from '../../shared/domain/emails.js';
import type { EmailMessage, Log } from '../../shared/domain/ports.js';
import type { AuditEvent, Caller, Timer } from '../../shared/domain/types.js';
import type { Runtime } from '../../shared/runtime.js';
import { drainQuietly, type Principal } from '../../shared/domain/service.js';
import { createAccount } from '../../shared/admin/accounts.js';
import type { Config } from '../../shared/config.js';
import { DynamoWebhookStore } from '../../shared/adapters/webhookStore.js';
import { DynamoEmailQuota } from '../../shared/adapters/emailQuota.js';
import { DynamoConfirmationStore } from '../../shared/adapters/confirmations.js';
import { fanOut, type WebhookDeps } from '../../shared/webhooks/service.js';
import type { AttemptMessage } from '../../shared/webhooks/types.js';
import { GithubKeySource } from '../../shared/leaks/githubKeys.js';
import { ApiError } from '../../shared/domain/errors.js';

export const TEST_PEPPER = Buffer.alloc(32, 7);

export class TestClock {
  constructor(public t = Date.UTC(2026, 10, 23, 12, 0, 0)) {}
  now = () => this.t;
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}

export interface Recorder {
  published: AuditEvent[];
  scheduled: Timer[];
  cancelled: Timer[];
  mails: EmailMessage[];
  logs: string[];
  /** Webhook attempts queued (message and due time). */
  attempts: { message: AttemptMessage; at: number }[];
  /** Make the next N calls of an adapter fail (fault injection). */
  failNext: { publish: number; schedule: number; cancel: number; mail: number };
}

export function recorder(): Recorder {
  return { published: [], scheduled: [], cancelled: [], mails: [], logs: [], attempts: [], failNext: { publish: 0, schedule: 0, cancel: 0, mail: 0 } };
}

export function captureLog(rec: Recorder): Log {
  const write = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    rec.logs.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
  };
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}

let tableSeq = 0;

export interface World {
  rt: Runtime;
  clock: TestClock;
  rec: Recorder;
  store: DynamoKeyStore;
  usage: DynamoUsageStore;
  webhookStore: DynamoWebhookStore;
  policies: Policies;
  dynamo: LocalDynamo;
  close(): Promise<void>;
}

/** Starts dynalite (or reuses `dynamo`) with a fresh table and builds a runtime over it. */
export async function createWorld(opts: { policies?: Partial<Policies>; dynamo?: LocalDynamo } = {}): Promise<World> {
  const dynamo = opts.dynamo ?? (await startDynalite());
  const tableName = `rekey-test-${process.pid}-${++tableSeq}`;
  await ensureTable(dynamo.endpoint, tableName);
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  const store = new DynamoKeyStore({ client, tableName });
  const usage = new DynamoUsageStore({ client, tableName });
  const webhookStore = new DynamoWebhookStore({ client, tableName });
  const clock = new TestClock();
  const rec = recorder();
  const policies: Policies = { ...DEFAULT_POLICIES, ...opts.policies };
  const fail = (kind: keyof Recorder['failNext']) => {
    if (rec.failNext[kind] > 0) {
      rec.failNext[kind]--;
      throw new Error(`injected ${kind} failure`);
    }
  };
  const config: Config = {
    policies, tableName, auditRetentionDays: 0, dynamoEndpoint: dynamo.endpoint, pepperSecretArn: undefined, dataDir: undefined,
    scheduleGroupName: undefined, timerFunctionArn: undefined, schedulerRoleArn: undefined, schedulerDlqArn: undefined,
    eventBusName: undefined, senderEmail: undefined, apiUrl: 'https://api.example.test', dashboardUrl: undefined, corsAllowedOrigin: undefined, usageFlushSeconds: 60,
    webhookQueueUrl: undefined, webhookQueueArn: undefined,
    secretScanningKeysFile: undefined, leakReportsPerMinute: 10,
  };
  const log = captureLog(rec);
  const mailer = { send: async (m: EmailMessage) => { fail('mail'); rec.mails.push(m); } };
  const emailQuota = new DynamoEmailQuota({ client, tableName });
  const confirmations = new DynamoConfirmationStore({ client, tableName });
  const webhooks: WebhookDeps = {
    store, webhookStore, clock, ids: randomIds, pepper: { get: async () => TEST_PEPPER }, log,
    attempts: { enqueue: async (message, at) => void rec.attempts.push({ message, at }) },
    maxTransitionSeconds: policies.maxTransitionSeconds,
    // As in the runtime: an endpoint's outbox (its disabled notice) is drained at once.
    drain: async (ref) => drainQuietly(ref, rt),
    urlPolicy: { allowLocalHttp: true },
    // No DNS in tests: names resolve only when a test injects a resolver.
    resolve: async () => [],
  };
  const rt: Runtime = {
    config,
    policies,
    store,
    usage,
    clock,
    ids: randomIds,
    pepper: { get: async () => TEST_PEPPER },
    log,
    localScheduler: undefined,
    localAttempts: undefined,
    webhooks,
    confirmations,
    // No network in tests: a test that needs GitHub's keys passes its own source.
    secretScanningKeys: new GithubKeySource({ fetch: async () => { throw new Error('no network in tests'); } }),
    effects: {
      publisher: { publish: async (e) => { fail('publish'); rec.published.push(e); } },
      scheduler: {
        schedule: async (t) => { fail('schedule'); rec.scheduled.push(t); },
        cancel: async (t) => { fail('cancel'); rec.cancelled.push(t); },
      },
      mailer,
      renderEmail,
      apiUrl: config.apiUrl,
      afterPublish: async (e) => void (await fanOut(e, webhooks)),
      confirmations: { pepper: { get: async () => TEST_PEPPER }, store: confirmations },
      emailQuota,
      maxEmailsPerAccountPerDay: policies.maxEmailsPerAccountPerDay,
    },
  };
  return {
    rt, clock, rec, store, usage, webhookStore, policies, dynamo,
    close: async () => {
      if (!opts.dynamo) await dynamo.close();
    },
  };
}

/** The IAM principal tests' operator acts as. */
export const TEST_OPERATOR = 'arn:aws:sts::123456789012:assumed-role/ops/test';
/** The operator acting across accounts (as the system's timers do): for store-level tests. */
export const ANY_ACCOUNT: Principal = { accountId: null, environment: 'live', actor: { type: 'operator', id: TEST_OPERATOR }, scopes: null };

/**
 * An account and its first key (`keys:read keys:write`, live), made as the admin API does, with
 * `caller`: that key as the authorizer would pass it on (current secret).
 */
export async function createAccountWithKey(input: { name: string; alertEmails: string[]; allowedScopes?: string[]; leakResponse?: 'revoke' | 'notify' }, rt: Runtime) {
  const r = await createAccount({ id: TEST_OPERATOR }, { ...input, firstKey: {} }, rt);
  const caller: Caller = { keyId: r.key!.id, accountId: r.account.id, environment: 'live', scopes: ['keys:read', 'keys:write'], slot: 'current' };
  return { account: r.account, key: r.key!, secret: r.secret!, caller };
}

/**
 * One dynalite for all the tests of the calling file: started before them, closed after. Returns
 * its getter; each `createWorld({ dynamo: dynalite() })` then gets a fresh table in it.
 */
export function useDynalite(): () => LocalDynamo {
  let dynamo: LocalDynamo | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  return () => {
    if (!dynamo) throw new Error('dynalite is not started yet (call inside a test or hook)');
    return dynamo;
  };
}

/** The `ApiError` code a call fails with, or `'ok'`; any other error is rethrown. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}
