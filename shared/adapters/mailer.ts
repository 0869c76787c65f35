/** Amazon SES (v2) adapter for alert emails. */
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import type { EmailMessage, EmailRejection, Mailer } from '../domain/ports.js';

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
  /** (idempotency key, recipient) → why SES rejected it: a retry of the message does not send it again. */
  private readonly rejectedMemo = new Map<string, string>();

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
   * Recipients SES rejected for good (`MessageRejected`, `BadRequestException`) are returned with
   * the reason, for the caller to count and audit. If any other send failed (throttling, an
   * outage), throws after trying everyone; the retry skips the recipients already served or rejected.
   */
  async send(message: EmailMessage): Promise<{ rejected: EmailRejection[] }> {
    if (/[\r\n]/.test(message.subject)) throw new Error('email subject must be a single line');
    const failures: { recipient: string; name: string }[] = [];
    const rejected: EmailRejection[] = [];
    for (const recipient of new Set(message.to)) {
      const memo = `${message.idempotencyKey}\n${recipient.toLowerCase()}`;
      if (this.delivered.has(memo)) continue;
      const known = this.rejectedMemo.get(memo);
      if (known !== undefined) {
        rejected.push({ recipient, reason: known });
        continue;
      }
      try {
        await this.client.send(new SendEmailCommand(this.sendEmailInput(message, recipient)));
      } catch (err) {
        const name = err instanceof Error ? err.name : 'UnknownError';
        if (PERMANENT_SES_ERRORS.has(name)) {
          // SES's message names the check that failed ("Email address is not verified…"); no secret.
          const reason = `${name}: ${err instanceof Error ? err.message : ''}`.slice(0, 300).trim();
          this.remember(this.rejectedMemo, memo, reason);
          rejected.push({ recipient, reason });
        } else failures.push({ recipient, name });
        continue;
      }
      this.remember(this.delivered, memo);
    }
    if (failures.length > 0) {
      // Addresses are named (configuration, not secrets) so an operator can fix them.
      throw new Error(`SendEmail failed for ${failures.map((f) => `${f.recipient} (${f.name})`).join(', ')}`);
    }
    return { rejected };
  }

  private remember(memory: Set<string> | Map<string, string>, memo: string, reason?: string): void {
    if (memory instanceof Map) memory.set(memo, reason ?? '');
    else memory.add(memo);
    if (memory.size > DELIVERED_MEMORY) {
      const oldest = memory.keys().next().value;
      if (oldest !== undefined) memory.delete(oldest);
    }
  }
}
