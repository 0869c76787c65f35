/**
 * The outbox dispatcher. A transition commits its effects into the item's outbox in the same
 * conditional write as the state change; this module performs them, in commit order, and removes
 * them. Every effect is idempotent (events keyed by id, schedules by name, mails by effect id), so a
 * crash at any point only means the next drain (the handler's own, the stream consumer in AWS, the
 * sweeper in local mode) performs it again. Nothing committed is lost.
 */
import { PUBLISHED_EVENT_TYPES, SYSTEM_ACTOR, type AuditEvent, type Effect, type OutboxRef } from './types.js';
import type { Clock, EffectPerformers, EmailRejection, Ids, KeyStore, Log, Mailer, Metrics, PepperSource } from './ports.js';
import type { Policies } from './policies.js';
import { idTime } from './ids.js';
import { sendWithinCap } from './emailCap.js';
import { confirmationExpiry, confirmationToken, renderRecipientNotice, tokenDigest, type NoticeKey } from './recipients.js';
import type { UsageStore } from '../usage/types.js';
import { renderWebhookDisabledEmail } from '../webhooks/emails.js';

/** What performing effects needs: an account fan-out revokes keys, hence ids, policies and pepper. */
export interface OutboxDeps {
  readonly store: KeyStore;
  readonly clock: Clock;
  readonly effects: EffectPerformers;
  readonly log: Log;
  /** Ids of audit events the outbox adds itself (a skipped email) and of a fan-out's revocations. */
  readonly ids: Ids;
  readonly policies: Policies;
  readonly pepper: PepperSource;
  /** Usage minutes (SPEC §12): read by the views, the usage route and the idle cut-over check. */
  readonly usage: UsageStore;
  /** Counts emails not sent (`EmailsNotSent`). @default - not counted */
  readonly metrics?: Metrics | undefined;
}

/** The metric counting every email that was not sent (rejected by SES, no recipient, given up). */
export const EMAILS_NOT_SENT_METRIC = 'EmailsNotSent';

type EmailEffect = Extract<Effect, { kind: 'email' }>;
type WebhookNoticeEffect = Extract<Effect, { kind: 'webhook_disabled' }>;

/** What an email effect is about, for the audit trail: its key (or the account), its template, extra facts. */
function emailSubject(effect: EmailEffect | WebhookNoticeEffect): { accountId: string; keyId: string | null; template: string; extra: Record<string, unknown> } {
  return effect.kind === 'email'
    ? { accountId: effect.email.accountId, keyId: effect.email.keyId, template: effect.email.template, extra: { hint: effect.email.hint } }
    : { accountId: effect.notice.accountId, keyId: null, template: 'webhook_disabled', extra: { webhookId: effect.notice.webhookId } };
}

/**
 * Records that an email effect reached no one, or not everyone: one audit event per recipient
 * (`email.not_sent`, naming the recipient, or `null` when there was none, and the reason) on the
 * key's trail (the account's for an account email), and the `EmailsNotSent` metric. The event ids
 * derive from the effect id, so a repeated drain records each once.
 */
async function recordNotSent(effect: EmailEffect | WebhookNoticeEffect, rejections: readonly { recipient: string | null; reason: string }[], deps: OutboxDeps): Promise<void> {
  const about = emailSubject(effect);
  const base = effect.id.slice(0, 22);
  for (const [i, r] of rejections.entries()) {
    // The top of the 2-character sequence space of the effect's own commit: never an effect's id.
    const id = base + (36 * 36 - 1 - i).toString(36).padStart(2, '0');
    const event: AuditEvent = {
      id,
      type: 'email.not_sent',
      at: deps.clock.now(),
      actorKeyId: null,
      actor: SYSTEM_ACTOR,
      accountId: about.accountId,
      keyId: about.keyId,
      data: { template: about.template, recipient: r.recipient, reason: r.reason, ...about.extra },
    };
    await deps.store.putEvent(event);
    deps.metrics?.count(EMAILS_NOT_SENT_METRIC, { Reason: r.reason.split(':')[0]!.slice(0, 64) });
    deps.log.warn('email not sent', { keyId: about.keyId, accountId: about.accountId, template: about.template, recipient: r.recipient, reason: r.reason });
  }
}

/**
 * Sends an account email within the daily cap (`sendWithinCap`), keyed by the effect id so a retry
 * is the same message; recipients SES rejected for good and recipients skipped by the cap are
 * recorded (`email.not_sent` / `email.skipped`) and counted.
 */
async function sendCapped(
  effect: EmailEffect | WebhookNoticeEffect,
  to: readonly string[],
  rendered: { subject: string; text: string; html: string },
  deps: OutboxDeps,
): Promise<void> {
  const { effects } = deps;
  const about = emailSubject(effect);
  // The mailer reports recipients SES rejected for good; they are audited and counted below.
  const rejected: EmailRejection[] = [];
  const reporting: Mailer = {
    send: async (m) => {
      const result = await effects.mailer.send(m);
      if (result) rejected.push(...result.rejected);
      return result;
    },
  };
  const sent = await sendWithinCap(
    { to, ...rendered, idempotencyKey: effect.id },
    { accountId: about.accountId, keyId: about.keyId, kind: about.template },
    { mailer: reporting, quota: effects.emailQuota, maxPerDay: effects.maxEmailsPerAccountPerDay ?? 200, store: deps.store, clock: deps.clock, ids: deps.ids, log: deps.log },
  );
  // Skipped by the daily cap: sendWithinCap audits them (email.skipped); count them too.
  if (sent < to.length) deps.metrics?.count(EMAILS_NOT_SENT_METRIC, { Reason: 'daily_cap' }, to.length - sent);
  if (rejected.length) await recordNotSent(effect, rejected, deps);
}

/** Addresses once each, case-insensitively, in order. */
function dedupeAddresses(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((a) => {
    const k = a.trim().toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** How long a dispatcher may hold an item's outbox before another may take over. */
export const OUTBOX_LEASE_MS = 30_000;
const PUBLISHED = new Set<string>(PUBLISHED_EVENT_TYPES);

export async function performEffect(effect: Effect, deps: OutboxDeps): Promise<void> {
  const { store, effects } = deps;
  switch (effect.kind) {
    case 'event':
      await store.putEvent(effect.event);
      if (PUBLISHED.has(effect.event.type)) {
        await effects.publisher.publish(effect.event);
        // Webhook deliveries come from the same outbox effect, so a crash loses none of them either.
        await effects.afterPublish?.(effect.event);
      }
      return;
    case 'schedule':
      return effects.scheduler.schedule(effect.timer, effect.id);
    case 'unschedule':
      return effects.scheduler.cancel(effect.timer);
    case 'notice': {
      const n = effect.notice;
      const account = await store.getAccount(n.accountId);
      if (!account) return;
      let link: string | undefined;
      let expiresAt: number | undefined;
      if (n.template === 'email_confirmation') {
        if (!effects.confirmations) throw new Error('confirmation store not wired');
        const token = confirmationToken(await effects.confirmations.pepper.get(), effect.id);
        expiresAt = confirmationExpiry(effect.id, deps.clock.now());
        // Stored (as a digest) before the link goes out, so the link always works once received.
        await effects.confirmations.store.putConfirmation({ digest: tokenDigest(token), accountId: n.accountId, keyId: n.keyId, address: n.address, expiresAt, usedAt: null });
        link = `${(effects.apiUrl ?? '').replace(/\/+$/, '')}/v1/email-confirmations/${token}`;
      }
      // A key contact's notice names the key; one committed before notices carried the name reads it.
      let key: NoticeKey | undefined;
      if (n.keyId !== null) {
        const record = n.keyName === undefined ? await store.getKey(n.keyId) : null;
        key = { id: n.keyId, name: n.keyName ?? record?.name ?? '', hint: n.hint ?? record?.current.hint };
      }
      const rendered = renderRecipientNotice(n.template, { accountName: account.name, address: n.address, link, expiresAt, key });
      await sendWithinCap(
        { to: [n.address], ...rendered, idempotencyKey: effect.id },
        { accountId: account.id, keyId: n.keyId, kind: n.template },
        { mailer: effects.mailer, quota: effects.emailQuota, maxPerDay: effects.maxEmailsPerAccountPerDay ?? 200, store, clock: deps.clock, ids: deps.ids, log: deps.log },
      );
      return;
    }
    case 'email': {
      const account = await store.getAccount(effect.email.accountId);
      // The account's alert list and the key's confirmed contacts (SPEC §10), each address once.
      const contacts = account ? ((await store.getKeyContacts(effect.email.keyId))?.contacts ?? []) : [];
      const to = account ? dedupeAddresses([...account.alertEmails, ...contacts]) : [];
      if (!account || to.length === 0) {
        await recordNotSent(effect, [{ recipient: null, reason: account ? 'no_recipients: neither alert emails nor key contacts' : 'account_missing' }], deps);
        return;
      }
      const rendered = effects.renderEmail(effect.email, {
        accountName: account.name,
        ...(effects.apiUrl ? { apiUrl: effects.apiUrl } : {}),
        ...(effects.dashboardUrl ? { dashboardUrl: effects.dashboardUrl } : {}),
        ...(effects.transition ? { transition: effects.transition } : {}),
      });
      await sendCapped(effect, to, rendered, deps);
      return;
    }
    case 'webhook_disabled': {
      // SPEC §10: "either way the account's alert emails are told" — committed with the disable,
      // so neither a crash nor a failing mailer loses it; the alert list is read when it is sent.
      const account = await store.getAccount(effect.notice.accountId);
      const to = account ? dedupeAddresses(account.alertEmails) : [];
      if (!account || to.length === 0) {
        await recordNotSent(effect, [{ recipient: null, reason: account ? 'no_recipients: no alert emails' : 'account_missing' }], deps);
        return;
      }
      await sendCapped(effect, to, renderWebhookDisabledEmail(effect.notice, account.name), deps);
      return;
    }
    case 'account_keys': {
      // Loaded on use: only account changes carry this effect, and the module depends on the services.
      const { applyAccountFanOut } = await import('../admin/accounts.js');
      return applyAccountFanOut(effect.fanOut, deps);
    }
  }
}

/** Errors no retry can fix: the effect is dropped (and logged) instead of blocking the outbox. */
const PERMANENT_ERRORS = new Set(['SecretInEventError', 'ValidationException', 'MessageRejected', 'PermanentEffectError']);
/** An effect still failing after this long is dropped too: it must not hold back later effects forever. */
export const MAX_EFFECT_AGE_MS = 3 * 86_400_000;

function isPermanent(err: unknown, effect: Effect, now: number): boolean {
  if (err instanceof Error && PERMANENT_ERRORS.has(err.name)) return true;
  const at = idTime(effect.id);
  return at !== null && now - at > MAX_EFFECT_AGE_MS;
}

/**
 * Performs an item's pending effects in commit order. A transient failure stops the drain (later
 * effects may depend on earlier ones, e.g. unschedule before schedule) and leaves the rest for the
 * next drain; a permanent one drops that effect, logged as an error, and goes on.
 * Never throws for an effect failure.
 */
export interface DrainResult {
  readonly performed: number;
  readonly dropped: number;
  /** An effect failed and stays pending. */
  readonly failed: boolean;
  /** Another dispatcher holds the outbox; nothing was done. */
  readonly busy: boolean;
}

export async function drainOutbox(ref: OutboxRef, deps: OutboxDeps): Promise<DrainResult> {
  const claim = await deps.store.claimOutbox(ref, deps.clock.now(), OUTBOX_LEASE_MS);
  if (claim === null) return { performed: 0, dropped: 0, failed: false, busy: false };
  if (claim === 'busy') return { performed: 0, dropped: 0, failed: false, busy: true };
  const done: string[] = [];
  let dropped = 0;
  let failed = false;
  for (const effect of claim.effects) {
    try {
      await performEffect(effect, deps);
      done.push(effect.id);
    } catch (err) {
      const meta = {
        item: `${ref.kind}:${ref.id}`,
        effectId: effect.id,
        effectKind: effect.kind,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      };
      if (isPermanent(err, effect, deps.clock.now())) {
        deps.log.error('outbox effect dropped: it cannot succeed', meta);
        if (effect.kind === 'email' || effect.kind === 'webhook_disabled') {
          // Given up (an error no retry fixes, or 3 days of failures): still counted and audited.
          await recordNotSent(effect, [{ recipient: null, reason: `given_up: ${meta.error}`.slice(0, 300) }], deps).catch(() => undefined);
        }
        done.push(effect.id);
        dropped++;
        continue;
      }
      failed = true;
      deps.log.error('outbox effect failed; it will be retried', meta);
      break;
    }
  }
  await deps.store.releaseOutbox(ref, claim.token, done);
  return { performed: done.length - dropped, dropped, failed, busy: false };
}

/** The metric counting items whose drain threw during a sweep (the store failed, not an effect). */
export const OUTBOX_SWEEP_ERRORS_METRIC = 'OutboxSweepErrors';

/**
 * Drains every item with pending effects (local mode's periodic sweep; a safety net in AWS). An
 * item whose drain throws (the store failed under it) is logged, counted (`OutboxSweepErrors`) and
 * left for the next sweep: it never keeps the sweep from the items after it. `errors` counts them.
 */
export async function sweepOutbox(deps: OutboxDeps): Promise<{ items: number; performed: number; failed: number; errors: number }> {
  const refs = await deps.store.itemsWithPendingEffects();
  let performed = 0;
  let failed = 0;
  let errors = 0;
  for (const ref of refs) {
    try {
      const result = await drainOutbox(ref, deps);
      performed += result.performed;
      if (result.failed) failed++;
    } catch (err) {
      errors++;
      deps.metrics?.count(OUTBOX_SWEEP_ERRORS_METRIC, {});
      deps.log.error('outbox drain failed during a sweep; the next sweep retries it', { item: `${ref.kind}:${ref.id}`, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  }
  return { items: refs.length, performed, failed, errors };
}
