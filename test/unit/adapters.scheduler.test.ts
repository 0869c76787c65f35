import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
} from '@aws-sdk/client-scheduler';
import { EventBridgeScheduler, atExpression, clientToken, scheduleName } from '../../shared/adapters/scheduler.js';
import type { Timer } from '../../shared/domain/types.js';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const timer: Timer = { id: 'rot1abcdEFGH.rotation_reminder', keyId: 'K3yId0123456789a', kind: 'rotation_reminder', at: Date.parse('2026-03-02T08:00:00Z') };
const schedulerMock = mockClient(SchedulerClient);

function adapter(extra: Partial<ConstructorParameters<typeof EventBridgeScheduler>[0]> = {}) {
  return new EventBridgeScheduler({
    client: new SchedulerClient({}),
    groupName: 'rekey-timers',
    targetArn: 'arn:aws:lambda:us-east-1:111122223333:function:rekey-timer',
    roleArn: 'arn:aws:iam::111122223333:role/rekey-scheduler',
    deadLetterArn: 'arn:aws:sqs:us-east-1:111122223333:rekey-timers-dlq',
    clock: { now: () => NOW },
    ...extra,
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each SDK exception has its own options type
const aws = (E: new (o: any) => Error) => new E({ message: 'x', $metadata: {} });

beforeEach(() => schedulerMock.reset());

describe('EventBridgeScheduler.schedule', () => {
  it('creates a one-shot UTC at() schedule named after key and timer, deleted after completion, with retries and a DLQ', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    await adapter().schedule(timer);
    const calls = schedulerMock.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    const name = 'K3yId0123456789a-rot1abcdEFGH.rotation_reminder';
    expect(calls[0]!.args[0].input).toEqual({
      Name: name,
      GroupName: 'rekey-timers',
      ScheduleExpression: 'at(2026-03-02T08:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Description: 'rekey rotation_reminder timer for key K3yId0123456789a',
      Target: {
        Arn: 'arn:aws:lambda:us-east-1:111122223333:function:rekey-timer',
        RoleArn: 'arn:aws:iam::111122223333:role/rekey-scheduler',
        Input: JSON.stringify({ id: timer.id, keyId: timer.keyId, kind: timer.kind, at: timer.at }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86400 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:111122223333:rekey-timers-dlq' },
      },
      ClientToken: clientToken(name, 'at(2026-03-02T08:00:00)'),
    });
    // The target input is exactly the Timer the timer function expects.
    expect(JSON.parse(calls[0]!.args[0].input.Target!.Input!)).toEqual(timer);
  });

  it('uses the configured retry policy and omits the DLQ when none is configured', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});
    await adapter({ deadLetterArn: undefined, maxRetries: 3, maxEventAgeSeconds: 600 }).schedule(timer);
    const target = schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!;
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 });
    expect(target).not.toHaveProperty('DeadLetterConfig');
  });

  it('sends the same ClientToken for a retried schedule and a valid token charset', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});
    await adapter().schedule(timer);
    await adapter().schedule(timer);
    const [a, b] = schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.ClientToken);
    expect(a).toBe(b);
    expect(a).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(clientToken('n', 'at(2026-03-02T08:00:00)')).not.toBe(clientToken('n', 'at(2026-03-02T08:00:01)'));
  });

  it('revoke then reactivate: the re-created schedule gets a new ClientToken, so Scheduler cannot take it for a replay', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    const s = adapter();
    await s.schedule(timer, 'effect-rotate-00');
    await s.schedule(timer, 'effect-rotate-00'); // the outbox retrying the same effect
    await s.cancel(timer); // revoke
    await s.schedule(timer, 'effect-reactivate-02'); // reactivate: same name, same due time
    const calls = schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
    expect(new Set(calls.map((c) => c.Name)).size).toBe(1);
    expect(new Set(calls.map((c) => c.ScheduleExpression)).size).toBe(1);
    const tokens = calls.map((c) => c.ClientToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(tokens[2]).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it('moves a timer that is already due to one minute from now instead of asking for an at() in the past', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});
    await adapter().schedule({ ...timer, at: NOW - 5 * 60_000 });
    await adapter().schedule({ ...timer, at: NOW + 30_000 });
    const inputs = schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.ScheduleExpression)).toEqual(['at(2026-03-01T10:01:00)', 'at(2026-03-01T10:01:00)']);
    // The payload keeps the real due time: the handler decides from the record, not the schedule.
    expect(JSON.parse(inputs[0]!.Target!.Input!).at).toBe(NOW - 5 * 60_000);
  });

  it('treats ConflictException (schedule already exists) as success', async () => {
    schedulerMock.on(CreateScheduleCommand).rejects(aws(ConflictException));
    await expect(adapter().schedule(timer)).resolves.toBeUndefined();
  });

  it('throws other errors, then succeeds when the service recovers', async () => {
    schedulerMock.on(CreateScheduleCommand).rejectsOnce(aws(ThrottlingException)).resolves({});
    const s = adapter();
    await expect(s.schedule(timer)).rejects.toThrow(/CreateSchedule K3yId0123456789a-rot1abcdEFGH.rotation_reminder failed: ThrottlingException/);
    await expect(s.schedule(timer)).resolves.toBeUndefined();
    expect(schedulerMock.commandCalls(CreateScheduleCommand)).toHaveLength(2);
  });

  it('refuses a timer whose schedule name would be invalid, without calling AWS', async () => {
    await expect(adapter().schedule({ ...timer, id: 'x'.repeat(60) })).rejects.toThrow(/invalid schedule name/);
    await expect(adapter().schedule({ ...timer, id: 'has space' })).rejects.toThrow(/invalid schedule name/);
    expect(schedulerMock.calls()).toHaveLength(0);
  });
});

describe('EventBridgeScheduler.cancel', () => {
  it('deletes the schedule by name in the group', async () => {
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    await adapter().cancel(timer);
    const calls = schedulerMock.commandCalls(DeleteScheduleCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([{ Name: 'K3yId0123456789a-rot1abcdEFGH.rotation_reminder', GroupName: 'rekey-timers' }]);
  });

  it('treats ResourceNotFoundException (already fired or deleted) as success', async () => {
    schedulerMock.on(DeleteScheduleCommand).rejects(aws(ResourceNotFoundException));
    await expect(adapter().cancel(timer)).resolves.toBeUndefined();
  });

  it('throws other errors, then succeeds when the service recovers', async () => {
    schedulerMock.on(DeleteScheduleCommand).rejectsOnce(aws(ThrottlingException)).resolves({});
    const s = adapter();
    await expect(s.cancel(timer)).rejects.toThrow(/DeleteSchedule .* failed: ThrottlingException/);
    await expect(s.cancel(timer)).resolves.toBeUndefined();
  });
});

describe('schedule naming and expressions', () => {
  it('formats at() in UTC, rounding a fractional second up', () => {
    expect(atExpression(Date.parse('2026-12-31T23:59:59Z'))).toBe('at(2026-12-31T23:59:59)');
    expect(atExpression(Date.parse('2026-12-31T23:59:59.001Z'))).toBe('at(2027-01-01T00:00:00)');
  });

  it('derives the name from key id and timer id', () => {
    expect(scheduleName(timer)).toBe(`${timer.keyId}-${timer.id}`);
  });
});
