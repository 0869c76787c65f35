/** Amazon SES (v2) adapter for alert emails. */
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import type { EmailMessage, Mailer } from '../domain/ports.js';

let defaultClient: SESv2Client | undefined;
/** One client per process, built on first use. */
function sharedClient(): SESv2Client {
  defaultClient ??= new SESv2Client({});
  return defaultClient;
}

/** SES message tag values allow only `[A-Za-z0-9_-]`, at most 256 characters. */
export function tagValue(raw: string): string {
  const clean = raw.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
  return clean === '' ? '_' : clean;
}

/** Delivered (idempotency key, recipient) pairs remembered per mailer, oldest evicted first. */
const DELIVERED_MEMORY = 1_000;

export interface SesMailerOptions {
  /** Injected in tests; defaults to one module-level client. */
  readonly client?: SESv2Client;
  /** A verified SES identity, e.g. `rekey@example.com`. */
  readonly from: string;
  /** Optional SES configuration set (event publishing, suppression overrides). */
  readonly configurationSetName?: string;
}

/**
 * {@link Mailer} backed by SES `SendEmail` with Simple content (UTF-8 text and HTML parts).
 *
 * One `SendEmail` per recipient: alert lists can mix teams and outside parties, and separate
 * messages keep the addresses private from each other and let one bad address fail alone. SES has
 * no idempotency key, so a retried message could repeat; the mailer remembers which recipients of an
 * idempotency key were already delivered in this process and skips them on a retry (at least once
 * across processes). The idempotency key is attached as the `rekey-idempotency-key` message tag.
 */
/** SES answers that a retry cannot change. */
const PERMANENT_SES_ERRORS = new Set(['MessageRejected', 'BadRequestException']);

export class SesMailer implements Mailer {
  private readonly client: SESv2Client;
  private readonly delivered = new Set<string>();

  constructor(private readonly opts: SesMailerOptions) {
    this.client = opts.client ?? sharedClient();
  }

  /** Builds the exact `SendEmail` input for one recipient. */
  sendEmailInput(message: EmailMessage, recipient: string): SendEmailCommandInput {
    return {
      FromEmailAddress: this.opts.from,
      Destination: { ToAddresses: [recipient] },
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: message.text, Charset: 'UTF-8' },
            Html: { Data: message.html, Charset: 'UTF-8' },
          },
        },
      },
      EmailTags: [{ Name: 'rekey-idempotency-key', Value: tagValue(message.idempotencyKey) }],
      ...(this.opts.configurationSetName ? { ConfigurationSetName: this.opts.configurationSetName } : {}),
    };
  }

  /**
   * Sends to every recipient, even when one fails, so one bad address cannot silence the others.
   * Then throws if any failed: a `PermanentEffectError` when every failure is one no retry can fix
   * (SES rejected the message or the address), which lets the outbox drop it; otherwise a plain
   * error, and the retry skips the recipients already served.
   */
  async send(message: EmailMessage): Promise<void> {
    if (/[\r\n]/.test(message.subject)) throw new Error('email subject must be a single line');
    const failures: { recipient: string; name: string }[] = [];
    for (const recipient of new Set(message.to)) {
      const memo = `${message.idempotencyKey}\n${recipient.toLowerCase()}`;
      if (this.delivered.has(memo)) continue;
      try {
        await this.client.send(new SendEmailCommand(this.sendEmailInput(message, recipient)));
      } catch (err) {
        failures.push({ recipient, name: err instanceof Error ? err.name : 'UnknownError' });
        continue;
      }
      this.delivered.add(memo);
      if (this.delivered.size > DELIVERED_MEMORY) {
        const oldest = this.delivered.values().next().value;
        if (oldest !== undefined) this.delivered.delete(oldest);
      }
    }
    if (failures.length === 0) return;
    // Addresses are named (configuration, not secrets) so an operator can fix them.
    const error = new Error(`SendEmail failed for ${failures.map((f) => `${f.recipient} (${f.name})`).join(', ')}`);
    if (failures.every((f) => PERMANENT_SES_ERRORS.has(f.name))) error.name = 'PermanentEffectError';
    throw error;
  }
}
