import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SESv2Client, SendEmailCommand, TooManyRequestsException, MessageRejected } from '@aws-sdk/client-sesv2';
import { SesMailer, tagValue } from '../../shared/adapters/mailer.js';
import type { EmailMessage } from '../../shared/domain/ports.js';

const sesMock = mockClient(SESv2Client);
beforeEach(() => sesMock.reset());

const message: EmailMessage = {
  to: ['ops@example.com', 'dev@example.org'],
  subject: '[rekey] Old secret of API key "billing" expires at 2026-03-02T08:00:00Z',
  text: 'plain body',
  html: '<p>html body</p>',
  idempotencyKey: '0m7f3k2a1Ab3dE5fG7hJ',
};

const mailer = () => new SesMailer({ client: new SESv2Client({}), from: 'rekey@example.com' });

describe('SesMailer', () => {
  it('sends one SendEmail per recipient with UTF-8 text and HTML parts and the idempotency tag', async () => {
    sesMock.on(SendEmailCommand).resolves({ MessageId: 'm' });
    await mailer().send(message);
    const inputs = sesMock.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual(
      message.to.map((addr) => ({
        FromEmailAddress: 'rekey@example.com',
        Destination: { ToAddresses: [addr] },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: 'plain body', Charset: 'UTF-8' }, Html: { Data: '<p>html body</p>', Charset: 'UTF-8' } },
          },
        },
        EmailTags: [{ Name: 'rekey-idempotency-key', Value: '0m7f3k2a1Ab3dE5fG7hJ' }],
      })),
    );
  });

  it('passes the configuration set when one is configured', async () => {
    sesMock.on(SendEmailCommand).resolves({});
    await new SesMailer({ client: new SESv2Client({}), from: 'a@b.c', configurationSetName: 'rekey' }).send({ ...message, to: ['x@y.z'] });
    expect(sesMock.commandCalls(SendEmailCommand)[0]!.args[0].input.ConfigurationSetName).toBe('rekey');
  });

  it('sanitises the idempotency key to the SES tag charset', () => {
    expect(tagValue('a.b:c/d é')).toBe('a_b_c_d__');
    expect(tagValue('')).toBe('_');
    expect(tagValue('x'.repeat(300))).toHaveLength(256);
  });

  it('sends nothing for an empty recipient list and once per distinct address', async () => {
    sesMock.on(SendEmailCommand).resolves({});
    await mailer().send({ ...message, to: [] });
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(0);
    await mailer().send({ ...message, to: ['a@x.y', 'a@x.y'] });
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('on a retry after a partial failure, mails only the recipients not yet served', async () => {
    sesMock
      .on(SendEmailCommand)
      .resolvesOnce({})
      .rejectsOnce(new TooManyRequestsException({ message: 'slow down', $metadata: {} }))
      .resolves({});
    const m = mailer();
    await expect(m.send(message)).rejects.toThrow(/SendEmail failed for dev@example.org \(TooManyRequestsException\)/);
    await m.send(message);
    const to = sesMock.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Destination!.ToAddresses![0]);
    expect(to).toEqual(['ops@example.com', 'dev@example.org', 'dev@example.org']);
  });

  it('a rejected address does not stop the others, and is returned with the reason instead of thrown', async () => {
    sesMock
      .on(SendEmailCommand)
      .rejectsOnce(new MessageRejected({ message: 'Email address is not verified.', $metadata: {} }))
      .resolves({});
    const result = await mailer().send({ ...message, to: ['bad@example.com', 'ok@example.com'] });
    const to = sesMock.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Destination!.ToAddresses![0]);
    expect(to).toEqual(['bad@example.com', 'ok@example.com']);
    expect(result).toEqual({ rejected: [{ recipient: 'bad@example.com', reason: 'MessageRejected: Email address is not verified.' }] });
  });

  it('with a rejection and a throttled send, throws for the retry; the retry reports the rejection again without resending it', async () => {
    sesMock
      .on(SendEmailCommand)
      .rejectsOnce(new MessageRejected({ message: 'Email address is not verified.', $metadata: {} }))
      .rejectsOnce(new TooManyRequestsException({ message: 'slow down', $metadata: {} }))
      .resolves({});
    const m = mailer();
    const msg = { ...message, to: ['bad@example.com', 'slow@example.com'] };
    await expect(m.send(msg)).rejects.toThrow(/slow@example.com \(TooManyRequestsException\)/);
    expect(await m.send(msg)).toEqual({ rejected: [{ recipient: 'bad@example.com', reason: 'MessageRejected: Email address is not verified.' }] });
    const to = sesMock.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Destination!.ToAddresses![0]);
    expect(to).toEqual(['bad@example.com', 'slow@example.com', 'slow@example.com']);
  });

  it('refuses a multi-line subject (header injection) without sending', async () => {
    await expect(mailer().send({ ...message, subject: 'hi\r\nBcc: evil@example.com' })).rejects.toThrow(/single line/);
    expect(sesMock.calls()).toHaveLength(0);
  });
});
