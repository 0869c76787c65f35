import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, InternalException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../../shared/adapters/eventBus.js';
import { SecretInEventError } from '../../shared/domain/eventDetail.js';
import { generateSecret } from '../../shared/domain/keyFormat.js';
import type { AuditEvent } from '../../shared/domain/types.js';

const ebMock = mockClient(EventBridgeClient);
beforeEach(() => ebMock.reset());

const AT = Date.parse('2026-03-01T10:00:00Z');
const event: AuditEvent = {
  id: '0m7f3k2a1Ab3dE5fG7hJ',
  type: 'api_key.rotated',
  at: AT,
  actorKeyId: 'Actor00000000000',
  actor: { type: 'key', id: 'Actor00000000000' },
  accountId: 'Acct000000000000',
  keyId: 'K3yId0123456789a',
  data: { rotationId: 'rot1abcdEFGH', oldKeyExpiresAt: '2026-03-02T10:00:00.000Z', oldKeyHint: 'rekey_live_…9fQa' },
};
const publisher = () => new EventBridgePublisher({ client: new EventBridgeClient({}), eventBusName: 'rekey-bus' });

describe('EventBridgePublisher', () => {
  it('puts one entry: source rekey, detail-type = event type, detail without secrets, event time', async () => {
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    await publisher().publish(event);
    const inputs = ebMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(1);
    const entry = inputs[0]!.Entries![0]!;
    expect(entry).toEqual({
      Source: 'rekey',
      DetailType: 'api_key.rotated',
      EventBusName: 'rekey-bus',
      Time: new Date(AT),
      Detail: expect.any(String),
    });
    expect(JSON.parse(entry.Detail!)).toEqual({
      id: event.id,
      type: 'api_key.rotated',
      at: '2026-03-01T10:00:00.000Z',
      accountId: 'Acct000000000000',
      keyId: 'K3yId0123456789a',
      actorKeyId: 'Actor00000000000',
      data: event.data,
    });
  });

  it('throws when PutEvents reports a failed entry', async () => {
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    await expect(publisher().publish(event)).rejects.toThrow(/rejected: InternalFailure boom/);
  });

  it('throws a transport error once, then publishes on the retry', async () => {
    ebMock.on(PutEventsCommand).rejectsOnce(new InternalException({ message: 'x', $metadata: {} })).resolves({ FailedEntryCount: 0 });
    const p = publisher();
    await expect(p.publish(event)).rejects.toThrow(/PutEvents api_key.rotated .* failed: InternalException/);
    await expect(p.publish(event)).resolves.toBeUndefined();
    expect(ebMock.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it('refuses to publish a detail that contains a secret, and names no secret in the error', async () => {
    const secret = generateSecret('acme', 'live', 'K3yId0123456789aTag456');
    const leaky: AuditEvent = { ...event, data: { note: `oops ${secret}` } };
    const err = await publisher().publish(leaky).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretInEventError);
    expect(String((err as Error).message)).not.toContain(secret);
    await expect(publisher().publish({ ...event, data: { nested: { digest: 'abc' } } })).rejects.toThrow(/field "digest"/);
    expect(ebMock.calls()).toHaveLength(0);
  });

  it('does not publish audit-only event types', async () => {
    await publisher().publish({ ...event, type: 'api_key.secrets_purged' });
    await publisher().publish({ ...event, type: 'account.created', keyId: null });
    expect(ebMock.calls()).toHaveLength(0);
  });
});
