/**
 * The AWS queue of webhook attempts. Waits up to 15 minutes (the first attempt, the ~5 s and the
 * 5 min retries) are SQS messages with `DelaySeconds`; longer ones are EventBridge Scheduler
 * one-shots whose target is the same queue (Scheduler's SQS `SendMessage` target), so the delivery
 * function has one trigger and never sleeps. Duplicates are harmless: an attempt message acts only
 * while its delivery is pending and not past that attempt (`shared/webhooks/service.ts`).
 */
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../domain/ports.js';
import type { AttemptQueue } from '../webhooks/ports.js';
import type { AttemptMessage } from '../webhooks/types.js';
import { atExpression, clientToken, effectiveDueTime } from './scheduler.js';

/** SQS's longest message delay. */
export const MAX_SQS_DELAY_SECONDS = 900;

let sqsClient: SQSClient | undefined;
let schedulerClient: SchedulerClient | undefined;

export interface SqsAttemptQueueOptions {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly scheduleGroupName: string;
  /** Role Scheduler assumes to send to the queue. */
  readonly schedulerRoleArn: string;
  readonly deadLetterArn?: string | undefined;
  readonly sqs?: SQSClient;
  readonly scheduler?: SchedulerClient;
  readonly clock?: Clock;
}

export class SqsAttemptQueue implements AttemptQueue {
  private readonly sqs: SQSClient;
  private readonly scheduler: SchedulerClient;
  private readonly clock: Clock;

  constructor(private readonly opts: SqsAttemptQueueOptions) {
    this.sqs = opts.sqs ?? (sqsClient ??= new SQSClient({}));
    this.scheduler = opts.scheduler ?? (schedulerClient ??= new SchedulerClient({}));
    this.clock = opts.clock ?? { now: () => Date.now() };
  }

  async enqueue(message: AttemptMessage, at: number): Promise<void> {
    const body = JSON.stringify(message);
    const delay = Math.max(0, Math.ceil((at - this.clock.now()) / 1000));
    if (delay <= MAX_SQS_DELAY_SECONDS) {
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: body, DelaySeconds: delay }));
      return;
    }
    const name = `wh-${message.deliveryId}-${message.attempt}`;
    const expression = atExpression(effectiveDueTime({ id: name, keyId: message.webhookId, kind: 'key_expired', at }, this.clock.now()));
    try {
      await this.scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: this.opts.scheduleGroupName,
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Description: `rekey webhook attempt ${message.attempt} of delivery ${message.deliveryId}`,
          Target: {
            Arn: this.opts.queueArn,
            RoleArn: this.opts.schedulerRoleArn,
            Input: body,
            RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 },
            ...(this.opts.deadLetterArn ? { DeadLetterConfig: { Arn: this.opts.deadLetterArn } } : {}),
          },
          ClientToken: clientToken(name, expression),
        }),
      );
    } catch (err) {
      // Same delivery, same attempt: an earlier try of this enqueue created it.
      if (err instanceof ConflictException || (err as Error)?.name === 'ConflictException') return;
      throw err;
    }
  }
}
