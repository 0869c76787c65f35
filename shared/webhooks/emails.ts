/** The notice the alert emails get when rekey disables an endpoint. Pure rendering. */
import { displayName, escapeHtml, singleLine } from '../domain/emails.js';
import type { RenderedEmail } from '../domain/ports.js';
import type { WebhookDisabledNotice } from '../domain/types.js';

const WHY: Record<WebhookDisabledNotice['reason'], string> = {
  gone: 'it answered 410 Gone',
  failing: 'every delivery to it has failed for 3 days',
};

/**
 * The origin of an endpoint's URL: the customer's path or query may carry a token, so a notice
 * never shows more than this. `null` when the URL does not parse.
 */
export function webhookOrigin(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

export function renderWebhookDisabledEmail(notice: WebhookDisabledNotice, accountName: string): RenderedEmail {
  const lines = [
    `rekey disabled the webhook endpoint ${notice.webhookId} (${notice.origin ?? '(invalid URL)'}) because ${WHY[notice.reason] ?? 'it was disabled'}.`,
    'No more events are sent to it. Fix the receiver, then enable it again with',
    `PATCH /v1/webhooks/${notice.webhookId} {"enabled": true} or in the dashboard.`,
  ];
  const subject = singleLine(`[rekey] Webhook endpoint disabled (${displayName(accountName, 64)})`);
  return {
    subject,
    text: `Hello,\n\n${lines.join('\n')}\n\n— rekey\n`,
    html: `<!doctype html>\n<html><body><p>Hello,</p><p>${lines.map(escapeHtml).join('<br>')}</p><p>— rekey</p></body></html>\n`,
  };
}
