/**
 * The composition root: the one place that turns configuration into adapters. Lambda handlers and
 * local mode call `runtime()`; tests build their own with `createRuntime(config, overrides)`.
 *
 * With `REKEY_DATA_DIR` set (local mode) effects go to the data directory; otherwise to AWS.
 * Adapters are built on first use, so a read-only function never needs the scheduler's settings.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, ConfigError, type Config } from './config.js';
import { createDocumentClient, DynamoKeyStore } from './adapters/dynamoStore.js';
import { EventBridgeScheduler } from './adapters/scheduler.js';
import { SesMailer } from './adapters/mailer.js';
import { EventBridgePublisher } from './adapters/eventBus.js';
import { SecretsManagerPepper } from './adapters/pepper.js';
import { LocalScheduler } from './local/localScheduler.js';
import { FileMailer } from './local/fileMailer.js';
import { JsonlEventPublisher } from './local/jsonlEvents.js';
import { FilePepper } from './local/filePepper.js';
import { renderEmail } from './domain/emails.js';
import { randomIds } from './domain/ids.js';
import type { Deps } from './domain/service.js';
import type { Clock, EffectPerformers, EventPublisher, Log, Mailer, PepperSource, TimerScheduler } from './domain/ports.js';

export interface Runtime extends Deps {
  readonly config: Config;
  /** Present in local mode: local mode's main loop starts it with the timer handler. */
  readonly localScheduler: LocalScheduler | undefined;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Powertools logger narrowed to the domain's `Log`. Never given a secret. */
export function createLog(serviceName = 'rekey'): Log & { logger: Logger } {
  const logger = new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
  return {
    logger,
    info: (m, meta) => logger.info(m, meta ?? {}),
    warn: (m, meta) => logger.warn(m, meta ?? {}),
    error: (m, meta) => logger.error(m, meta ?? {}),
  };
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new ConfigError(`Invalid configuration:\n  ${name} is required for this function`);
  return value;
}

/** Lazily builds a value on first property access (adapters a function may never need). */
function lazy<T extends object>(build: () => T): T {
  let value: T | undefined;
  return new Proxy({} as T, {
    get(_t, prop) {
      value ??= build();
      const v = Reflect.get(value, prop, value);
      return typeof v === 'function' ? v.bind(value) : v;
    },
  });
}

export function createRuntime(config: Config, overrides: Partial<Runtime> = {}): Runtime {
  const log = overrides.log ?? createLog();
  const local = config.dataDir !== undefined;
  const store = overrides.store ?? new DynamoKeyStore({ client: createDocumentClient({ endpoint: config.dynamoEndpoint }), tableName: config.tableName });

  let localScheduler: LocalScheduler | undefined;
  let scheduler: TimerScheduler;
  let publisher: EventPublisher;
  let mailer: Mailer;
  let pepper: PepperSource;
  if (local) {
    const dataDir = config.dataDir!;
    localScheduler = new LocalScheduler({ dataDir });
    scheduler = localScheduler;
    publisher = new JsonlEventPublisher({ dataDir });
    mailer = new FileMailer({ dataDir, ...(config.senderEmail ? { from: config.senderEmail } : {}) });
    pepper = new FilePepper({ dataDir });
  } else {
    scheduler = lazy(
      () =>
        new EventBridgeScheduler({
          groupName: required(config.scheduleGroupName, 'SCHEDULE_GROUP_NAME'),
          targetArn: required(config.timerFunctionArn, 'TIMER_FUNCTION_ARN'),
          roleArn: required(config.schedulerRoleArn, 'SCHEDULER_ROLE_ARN'),
          ...(config.schedulerDlqArn ? { deadLetterArn: config.schedulerDlqArn } : {}),
        }),
    );
    publisher = lazy(() => new EventBridgePublisher({ eventBusName: required(config.eventBusName, 'EVENT_BUS_NAME') }));
    mailer = lazy(() => new SesMailer({ from: required(config.senderEmail, 'SENDER_EMAIL') }));
    pepper = lazy(() => new SecretsManagerPepper({ secretId: required(config.pepperSecretArn, 'PEPPER_SECRET_ARN') }));
  }
  const effects: EffectPerformers = overrides.effects ?? {
    scheduler,
    publisher,
    mailer,
    renderEmail,
    apiUrl: config.apiUrl,
    dashboardUrl: config.dashboardUrl,
  };
  return {
    config,
    policies: config.policies,
    store,
    clock: systemClock,
    ids: randomIds,
    pepper,
    effects,
    log,
    localScheduler: overrides.localScheduler ?? localScheduler,
    ...overrides,
  };
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
