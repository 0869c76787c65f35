/** The notice the alert emails get when rekey disables an endpoint. Pure rendering. */
import { escapeHtml, singleLine } from '../domain/emails.js';
import type { RenderedEmail } from '../domain/ports.js';
import type { DisabledReason, WebhookRecord } from './types.js';

const WHY: Record<DisabledReason, string> = {
  gone: 'it answered 410 Gone',
  failing: 'every delivery to it has failed for 3 days',
  user: 'it was disabled',
};

export function renderWebhookDisabledEmail(hook: WebhookRecord, reason: DisabledReason, accountName: string): RenderedEmail {
  // The URL is the customer's own and may carry a token in its path or query: show only its origin.
  let origin = '(invalid URL)';
  try {
    origin = new URL(hook.url).origin;
  } catch {
    // keep the placeholder
  }
  const lines = [
    `rekey disabled the webhook endpoint ${hook.id} (${origin}) because ${WHY[reason]}.`,
    'No more events are sent to it. Fix the receiver, then enable it again with',
    `PATCH /v1/webhooks/${hook.id} {"enabled": true} or in the dashboard.`,
  ];
  const subject = singleLine(`[rekey] Webhook endpoint disabled (${accountName.slice(0, 64)})`);
  return {
    subject,
    text: `Hello,\n\n${lines.join('\n')}\n\n— rekey\n`,
    html: `<!doctype html>\n<html><body><p>Hello,</p><p>${lines.map(escapeHtml).join('<br>')}</p><p>— rekey</p></body></html>\n`,
  };
}
