/**
 * EventBridge Scheduler adapter: one one-shot `at(...)` schedule per timer, deleted by the service
 * after it has invoked the timer function.
 */
import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import type { Clock, TimerScheduler } from '../domain/ports.js';
import type { Timer } from '../domain/types.js';

/** Schedule names: 1–64 characters of `[0-9A-Za-z_.-]` (the service's own rule). */
export const SCHEDULE_NAME_PATTERN = /^[0-9A-Za-z_.-]{1,64}$/;

/** Default retry policy: the timer handler is idempotent, so retrying is always safe. */
export const DEFAULT_MAX_RETRIES = 10;
/** Default maximum event age: after a day a notification is stale and the DLQ is the right place. */
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 86_400;
/**
 * Shortest lead the adapter gives a schedule. A due time at or before `now + MIN_LEAD_SECONDS` is
 * moved to `now + MIN_LEAD_SECONDS` (see `effectiveDueTime`).
 */
export const MIN_LEAD_SECONDS = 60;

let defaultClient: SchedulerClient | undefined;
/** One client per process, built on first use so importing this module costs nothing. */
function sharedClient(): SchedulerClient {
  defaultClient ??= new SchedulerClient({});
  return defaultClient;
}

export interface EventBridgeSchedulerOptions {
  /** Injected in tests; defaults to one module-level client. */
  readonly client?: SchedulerClient;
  readonly groupName: string;
  /** ARN of the timer function (`functions/timer.ts`). */
  readonly targetArn: string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  readonly roleArn: string;
  /** SQS queue that receives invocations that failed after every retry. */
  readonly deadLetterArn?: string;
  /** @default 10 */
  readonly maxRetries?: number;
  /** @default 86400 */
  readonly maxEventAgeSeconds?: number;
  /** @default the system clock */
  readonly clock?: Clock;
}

/** `${keyId}-${timerId}`: deterministic, so scheduling the same timer twice names the same schedule. */
export function scheduleName(timer: Timer): string {
  const name = `${timer.keyId}-${timer.id}`;
  if (!SCHEDULE_NAME_PATTERN.test(name)) {
    // A programming error in timer planning, not a runtime condition: fail loudly.
    throw new Error(`invalid schedule name "${name}": must match ${SCHEDULE_NAME_PATTERN}`);
  }
  return name;
}

/** `at(2026-01-02T03:04:05)`, evaluated in UTC (`ScheduleExpressionTimezone: 'UTC'`). */
export function atExpression(epochMs: number): string {
  // Round up to the whole second: firing a notification a fraction early would find nothing due.
  const iso = new Date(Math.ceil(epochMs / 1000) * 1000).toISOString();
  return `at(${iso.slice(0, 19)})`;
}

/**
 * The time the schedule is created for. EventBridge Scheduler's documentation does not promise what
 * an `at()` in the past does (it may be rejected, or accepted and never invoke), and it fires with
 * one-minute precision anyway. So a timer that is already due (a late retry of the outbox) is
 * scheduled `MIN_LEAD_SECONDS` from now: it still fires, a minute late, and the timer handler
 * re-reads the record, so a late or stale delivery is harmless.
 */
export function effectiveDueTime(timer: Timer, now: number): number {
  const earliest = now + MIN_LEAD_SECONDS * 1000;
  return timer.at > earliest ? timer.at : earliest;
}

/**
 * ClientToken (`[A-Za-z0-9_-]{1,64}`): a digest of the name, the expression actually sent and the
 * outbox effect that asks for it. A retried request of one effect is recognised by the service; a
 * moved schedule, and the same schedule asked for again by a later effect, get a fresh token.
 *
 * Why the effect matters: revoking a key deletes its schedules and reactivating it creates the same
 * names with the same due times again. With a token of name and expression alone, that second
 * `CreateSchedule` would repeat the first one's token, and an idempotent API answers a repeated
 * token with the first call's result instead of acting: the deleted schedule would never come back.
 */
export function clientToken(name: string, expression: string, idempotencyKey = ''): string {
  return createHash('sha256').update(`${name}\n${expression}\n${idempotencyKey}`).digest('base64url');
}

/** {@link TimerScheduler} backed by EventBridge Scheduler. Both calls are idempotent. */
export class EventBridgeScheduler implements TimerScheduler {
  private readonly client: SchedulerClient;
  private readonly clock: Clock;

  constructor(private readonly opts: EventBridgeSchedulerOptions) {
    this.client = opts.client ?? sharedClient();
    this.clock = opts.clock ?? { now: () => Date.now() };
  }

  /** Builds the exact `CreateSchedule` input for a timer (exposed for tests and docs). */
  createInput(timer: Timer, idempotencyKey?: string): CreateScheduleCommandInput {
    const name = scheduleName(timer);
    const expression = atExpression(effectiveDueTime(timer, this.clock.now()));
    const { id, keyId, kind, at } = timer;
    return {
      Name: name,
      GroupName: this.opts.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Description: `rekey ${kind} timer for key ${keyId}`,
      Target: {
        Arn: this.opts.targetArn,
        RoleArn: this.opts.roleArn,
        // Only the timer's own fields: the payload is the contract with functions/timer.ts.
        Input: JSON.stringify({ id, keyId, kind, at }),
        RetryPolicy: {
          MaximumRetryAttempts: this.opts.maxRetries ?? DEFAULT_MAX_RETRIES,
          MaximumEventAgeInSeconds: this.opts.maxEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS,
        },
        ...(this.opts.deadLetterArn ? { DeadLetterConfig: { Arn: this.opts.deadLetterArn } } : {}),
      },
      ClientToken: clientToken(name, expression, idempotencyKey),
    };
  }

  async schedule(timer: Timer, idempotencyKey?: string): Promise<void> {
    const input = this.createInput(timer, idempotencyKey);
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (err) {
      // The schedule exists: an earlier attempt of this same effect created it. Timer ids are
      // deterministic for a record state, so an existing name means the same due time.
      if (err instanceof ConflictException || errorName(err) === 'ConflictException') return;
      throw new Error(`CreateSchedule ${input.Name} failed: ${errorName(err)}`, { cause: err });
    }
  }

  async cancel(timer: Timer): Promise<void> {
    const name = scheduleName(timer);
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.opts.groupName }));
    } catch (err) {
      // Already deleted, never created, or already fired (ActionAfterCompletion: DELETE).
      if (err instanceof ResourceNotFoundException || errorName(err) === 'ResourceNotFoundException') return;
      throw new Error(`DeleteSchedule ${name} failed: ${errorName(err)}`, { cause: err });
    }
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'UnknownError';
}
