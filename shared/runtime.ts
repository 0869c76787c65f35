/**
 * The composition root: the one place that turns configuration into adapters. Lambda handlers and
 * local mode call `runtime()`; tests build their own with `createRuntime(config, overrides)`.
 *
 * With `REKEY_DATA_DIR` set (local mode) effects go to the data directory; otherwise to AWS.
 * Adapters are built on first use, so a read-only function never needs the scheduler's settings.
 */
import { loadConfig, ConfigError, type Config } from './config.js';
import { createLog } from './log.js';
import { EMAIL_METRICS_SERVICE, emfMetrics } from './metrics.js';
import { createDocumentClient, DynamoKeyStore } from './adapters/dynamoStore.js';
import { DynamoUsageStore } from './adapters/dynamoUsage.js';
import { renderEmail } from './domain/emails.js';
import { randomIds } from './domain/ids.js';
import { systemClock } from './domain/clock.js';
import { retryableOnce as once } from './domain/once.js';
import { drainQuietly, type Deps } from './domain/service.js';
import type { EffectPerformers, EventPublisher, Mailer, PepperSource, TimerScheduler } from './domain/ports.js';
import { LocalScheduler } from './local/localScheduler.js';
import { lookup } from 'node:dns/promises';
import { DynamoWebhookStore } from './adapters/webhookStore.js';
import { DynamoEmailQuota } from './adapters/emailQuota.js';
import { DynamoConfirmationStore } from './adapters/confirmations.js';
import type { ConfirmationStore } from './domain/recipients.js';
import { fanOut, type WebhookDeps } from './webhooks/service.js';
import type { AttemptQueue } from './webhooks/ports.js';
import { LOCAL_ATTEMPTS_FILE, type LocalAttempt, toLocalAttempt } from './webhooks/localQueue.js';
import { GithubKeySource } from './leaks/githubKeys.js';
import { readStoreKey } from './local/storeKey.js';

export interface Runtime extends Deps {
  readonly config: Config;
  /** Present in local mode: local mode's main loop starts it with the timer handler. */
  readonly localScheduler: LocalScheduler | undefined;
  /** Email confirmations of verified recipients (SPEC §10). */
  readonly confirmations: ConfirmationStore;
  /** Webhook endpoints and deliveries (SPEC §10). */
  readonly webhooks: WebhookDeps;
  /** Present in local mode: the queue of webhook attempts, driven by local mode's main loop. */
  readonly localAttempts: LocalScheduler<LocalAttempt> | undefined;
  /** GitHub's secret scanning public keys (SPEC §11): the configured file, or fetched from GitHub and cached. */
  readonly secretScanningKeys: GithubKeySource;
}


function required(value: string | undefined, name: string): string {
  if (!value) throw new ConfigError(`Invalid configuration:\n  ${name} is required for this function`);
  return value;
}

export function createRuntime(config: Config, overrides: Partial<Runtime> = {}): Runtime {
  const log = overrides.log ?? createLog();
  const local = config.dataDir !== undefined;
  let client: ReturnType<typeof createDocumentClient> | undefined;
  // Local mode: the store's guard serves only requests signed with the data directory's store key.
  const documentClient = () =>
    (client ??= createDocumentClient({ endpoint: config.dynamoEndpoint, local: local ? (readStoreKey(config.dataDir!) ?? undefined) : undefined }));
  const store = overrides.store ?? new DynamoKeyStore({
      client: documentClient(),
      tableName: config.tableName,
      auditRetentionDays: config.auditRetentionDays,
    });
  const usage = overrides.usage ?? new DynamoUsageStore({ client: documentClient(), tableName: config.tableName });

  let localScheduler: LocalScheduler | undefined;
  let schedulerImpl: () => Promise<TimerScheduler>;
  let publisherImpl: () => Promise<EventPublisher>;
  let mailerImpl: () => Promise<Mailer>;
  let pepperImpl: () => Promise<PepperSource>;
  let localAttempts: LocalScheduler<LocalAttempt> | undefined;
  let attemptsImpl: () => Promise<AttemptQueue>;
  if (local) {
    const dataDir = config.dataDir!;
    // Local mode's main loop drives the scheduler, so it is built eagerly (it is light: no SDK).
    const scheduler = new LocalScheduler({ dataDir });
    localScheduler = scheduler;
    schedulerImpl = async () => scheduler;
    publisherImpl = once(async () => new (await import('./local/jsonlEvents.js')).JsonlEventPublisher({ dataDir }));
    mailerImpl = once(async () => new (await import('./local/fileMailer.js')).FileMailer({ dataDir, ...(config.senderEmail ? { from: config.senderEmail } : {}) }));
    pepperImpl = once(async () => new (await import('./local/filePepper.js')).FilePepper({ dataDir }));
    const attemptScheduler = new LocalScheduler<LocalAttempt>({ dataDir, fileName: LOCAL_ATTEMPTS_FILE });
    localAttempts = attemptScheduler;
    attemptsImpl = async () => ({ enqueue: (m, at) => attemptScheduler.schedule(toLocalAttempt(m, at)) });
  } else {
    schedulerImpl = once(async () => {
      const { EventBridgeScheduler } = await import('./adapters/scheduler.js');
      return new EventBridgeScheduler({
        groupName: required(config.scheduleGroupName, 'SCHEDULE_GROUP_NAME'),
        targetArn: required(config.timerFunctionArn, 'TIMER_FUNCTION_ARN'),
        roleArn: required(config.schedulerRoleArn, 'SCHEDULER_ROLE_ARN'),
        ...(config.schedulerDlqArn ? { deadLetterArn: config.schedulerDlqArn } : {}),
      });
    });
    publisherImpl = once(async () => new (await import('./adapters/eventBus.js')).EventBridgePublisher({ eventBusName: required(config.eventBusName, 'EVENT_BUS_NAME') }));
    mailerImpl = once(async () => new (await import('./adapters/mailer.js')).SesMailer({ from: required(config.senderEmail, 'SENDER_EMAIL') }));
    pepperImpl = once(async () => new (await import('./adapters/pepper.js')).SecretsManagerPepper({ secretId: required(config.pepperSecretArn, 'PEPPER_SECRET_ARN') }));
    attemptsImpl = once(async () => {
      const { SqsAttemptQueue } = await import('./adapters/attemptQueue.js');
      return new SqsAttemptQueue({
        queueUrl: required(config.webhookQueueUrl, 'WEBHOOK_QUEUE_URL'),
        queueArn: required(config.webhookQueueArn, 'WEBHOOK_QUEUE_ARN'),
        scheduleGroupName: required(config.scheduleGroupName, 'SCHEDULE_GROUP_NAME'),
        schedulerRoleArn: required(config.schedulerRoleArn, 'SCHEDULER_ROLE_ARN'),
        deadLetterArn: config.schedulerDlqArn,
      });
    });
  }
  const attempts: AttemptQueue = { enqueue: async (m, at) => (await attemptsImpl()).enqueue(m, at) };
  const scheduler: TimerScheduler = {
    schedule: async (t, key) => (await schedulerImpl()).schedule(t, key),
    cancel: async (t) => (await schedulerImpl()).cancel(t),
  };
  const publisher: EventPublisher = { publish: async (e) => (await publisherImpl()).publish(e) };
  const mailer: Mailer = { send: async (m) => (await mailerImpl()).send(m) };
  const pepper: PepperSource = { get: async () => (await pepperImpl()).get() };
  const emailQuota = new DynamoEmailQuota({ client: documentClient, tableName: config.tableName });
  const confirmations = overrides.confirmations ?? new DynamoConfirmationStore({ client: documentClient, tableName: config.tableName });
  const webhooks: WebhookDeps = overrides.webhooks ?? {
    store,
    webhookStore: new DynamoWebhookStore({ client: documentClient, tableName: config.tableName }), // built on first use
    attempts,
    clock: systemClock,
    ids: randomIds,
    pepper,
    log,
    maxTransitionSeconds: config.policies.maxTransitionSeconds,
    // An endpoint's outbox (the disabled notice) is drained with the runtime's own effect performers.
    drain: async (ref) => drainQuietly(ref, built),
    urlPolicy: { allowLocalHttp: local },
    resolve: (host) => lookup(host, { all: true, verbatim: true }),
  };
  const effects: EffectPerformers = overrides.effects ?? {
    scheduler,
    publisher,
    mailer,
    renderEmail,
    apiUrl: config.apiUrl,
    dashboardUrl: config.dashboardUrl,
    transition: config.policies,
    afterPublish: async (event) => void (await fanOut(event, webhooks)),
    confirmations: { pepper, store: confirmations },
    emailQuota,
    maxEmailsPerAccountPerDay: config.policies.maxEmailsPerAccountPerDay,
  };
  const built: Runtime = {
    config,
    // In AWS, EMF lines become CloudWatch metrics; local mode has no CloudWatch (its log says it all).
    metrics: local ? undefined : emfMetrics(EMAIL_METRICS_SERVICE),
    policies: config.policies,
    store,
    usage,
    clock: systemClock,
    ids: randomIds,
    pepper,
    effects,
    log,
    localScheduler: overrides.localScheduler ?? localScheduler,
    webhooks,
    confirmations,
    localAttempts: overrides.localAttempts ?? localAttempts,
    secretScanningKeys: overrides.secretScanningKeys ?? new GithubKeySource({ file: config.secretScanningKeysFile }),
    ...overrides,
  };
  return built;
}

let current: Runtime | undefined;

/** The process-wide runtime, built once from `process.env` on first use. */
export function runtime(): Runtime {
  current ??= createRuntime(loadConfig(process.env));
  return current;
}

/** Replaces the process-wide runtime (tests; local mode after it has set the environment). */
export function setRuntime(next: Runtime | undefined): void {
  current = next;
}
