/** The AWS attempt queue: SQS delays up to 15 minutes, Scheduler one-shots to the same queue beyond (exact commands). */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsAttemptQueue } from '../../shared/adapters/attemptQueue.js';
import { RETRY_DELAYS_MS, type AttemptMessage } from '../../shared/webhooks/types.js';
import { parseMessage } from '../../functions/webhooks/delivery.js';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const sqsMock = mockClient(SQSClient);
const schedulerMock = mockClient(SchedulerClient);
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111122223333/rekey-webhook-attempts';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:111122223333:rekey-webhook-attempts';
const msg: AttemptMessage = { webhookId: 'Wh00000000000001', deliveryId: '0m7f3k2a1000050Ab3dE5fG700', accountId: 'Acct000000000000', attempt: 2 };

const queue = () =>
  new SqsAttemptQueue({
    queueUrl: QUEUE_URL,
    queueArn: QUEUE_ARN,
    scheduleGroupName: 'rekey-timers',
    schedulerRoleArn: 'arn:aws:iam::111122223333:role/rekey-scheduler',
    deadLetterArn: 'arn:aws:sqs:us-east-1:111122223333:rekey-timers-dlq',
    sqs: new SQSClient({}),
    scheduler: new SchedulerClient({}),
    clock: { now: () => NOW },
  });

beforeEach(() => {
  sqsMock.reset();
  schedulerMock.reset();
});

describe('SqsAttemptQueue', () => {
  it('sends attempts due within 15 minutes as SQS messages with that delay (the first at once, ~5 s, 5 min)', async () => {
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm' });
    for (const wait of [0, RETRY_DELAYS_MS[0], RETRY_DELAYS_MS[1], 900_000]) await queue().enqueue(msg, NOW + wait);
    expect(sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: JSON.stringify(msg), DelaySeconds: 0 },
      { QueueUrl: QUEUE_URL, MessageBody: JSON.stringify(msg), DelaySeconds: 5 },
      { QueueUrl: QUEUE_URL, MessageBody: JSON.stringify(msg), DelaySeconds: 300 },
      { QueueUrl: QUEUE_URL, MessageBody: JSON.stringify(msg), DelaySeconds: 900 },
    ]);
    expect(schedulerMock.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });

  it('hands longer waits to a Scheduler one-shot whose target is the queue, named per delivery and attempt', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    await queue().enqueue(msg, NOW + RETRY_DELAYS_MS[2]);
    const calls = schedulerMock.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({
      Name: `wh-${msg.deliveryId}-2`,
      GroupName: 'rekey-timers',
      ScheduleExpression: 'at(2026-03-01T10:30:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: QUEUE_ARN,
        RoleArn: 'arn:aws:iam::111122223333:role/rekey-scheduler',
        Input: JSON.stringify(msg),
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:111122223333:rekey-timers-dlq' },
      },
    });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('treats an existing schedule of the same attempt as done, and passes other failures on', async () => {
    schedulerMock.on(CreateScheduleCommand).rejects(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} }));
    await expect(queue().enqueue(msg, NOW + RETRY_DELAYS_MS[3])).resolves.toBeUndefined();
    sqsMock.on(SendMessageCommand).rejects(new Error('throttled'));
    await expect(queue().enqueue(msg, NOW)).rejects.toThrow('throttled');
  });

  it('the delivery function reads back exactly what was sent and refuses anything else', () => {
    expect(parseMessage(JSON.stringify(msg))).toEqual(msg);
    expect(() => parseMessage('{"webhookId":"x"}')).toThrow();
    expect(() => parseMessage(JSON.stringify({ ...msg, attempt: 1.5 }))).toThrow();
  });
});
