/** Webhook and delivery records → the API's objects (SPEC §10). */
import { iso, isoOrNull } from '../domain/view.js';
import { secretActive, type DeliveryRecord, type WebhookRecord } from './types.js';

export function webhookView(w: WebhookRecord, now: number) {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    environment: w.environment,
    eventTypes: [...w.eventTypes],
    enabled: w.enabled,
    disabledReason: w.disabledReason,
    signingSecretHints: w.secrets.filter((s) => secretActive(s, now)).map((s) => s.hint),
    createdAt: iso(w.createdAt),
  };
}

export function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts.map((a) => ({ at: iso(a.at), statusCode: a.statusCode, error: a.error, durationMs: a.durationMs })),
    nextAttemptAt: d.status === 'pending' ? isoOrNull(d.nextAttemptAt) : null,
    createdAt: iso(d.createdAt),
  };
}
