/**
 * Webhook endpoints (CRUD, signing-secret rotation, test event) and delivery (fan-out of published
 * events from the outbox, one attempt per queued message, retries, disabling). SPEC §10.
 */
import { ApiError, ConflictError, TooManyRequestsError, ValidationError, VersionConflictError } from '../domain/errors.js';
import { OUTBOX_LEASE_MS } from '../domain/outbox.js';
import { eventDetail, isPublished, serializeDetail } from '../domain/eventDetail.js';
import { effectId } from '../domain/ids.js';
import { randomBase62 } from '../domain/keyFormat.js';
import type { Clock, Ids, KeyStore, Log, Page, PageRequest, PepperSource } from '../domain/ports.js';
import type { Principal } from '../domain/service.js';
import { SYSTEM_ACTOR, type AuditEvent, type Effect, type Environment, type OutboxRef, type PublishedEventType } from '../domain/types.js';
import { webhookOrigin } from './emails.js';
import type { AttemptQueue, WebhookStore } from './ports.js';
import { decryptSecret, encryptSecret, webhookDataKey } from './secretBox.js';
import { sendAttempt, type SendResult } from './sender.js';
import { newSigningSecret, signatureHeaders, signingSecretHint } from './signing.js';
import { RefusedTargetError, resolveTarget, urlProblem, type Resolve, type Target, type UrlPolicy } from './ssrf.js';
import {
  FAILING_DISABLE_MS,
  MAX_WEBHOOKS_PER_ACCOUNT,
  RETRY_DELAYS_MS,
  TEST_EVENT_TYPE,
  WEBHOOK_EVENT_TYPES,
  secretActive,
  type AttemptMessage,
  type DeliveryRecord,
  type SigningSecretRecord,
  type WebhookRecord,
} from './types.js';

export interface WebhookDeps {
  readonly store: KeyStore;
  readonly webhookStore: WebhookStore;
  readonly attempts: AttemptQueue;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly pepper: PepperSource;
  readonly log: Log;
  readonly maxTransitionSeconds: number;
  readonly urlPolicy: UrlPolicy;
  readonly resolve: Resolve;
  /**
   * Performs the effects an endpoint change just committed to its outbox (the disabled notice and
   * its audit event), as key changes drain theirs before answering. Without it they wait for the
   * sweeper / stream consumer, which perform them anyway. @default - left to the sweeper
   */
  readonly drain?: ((ref: OutboxRef) => Promise<void>) | undefined;
  /** Replaces the HTTP sender (tests only). */
  readonly send?: (target: Target, headers: Record<string, string>, body: string) => Promise<SendResult>;
}

const DEFAULT_OVERLAP_SECONDS = 86_400;
const MAX_ATTEMPTS = 50;
const notFound = () => new ApiError('not_found', 'No such webhook.');

/** `keys:write` routes of a test key reach only test endpoints; live keys reach both. */
function checkEnvironment(principal: Principal, environment: Environment): void {
  if (principal.environment === 'test' && environment !== 'test') throw new ApiError('forbidden', 'A test key can only manage test webhooks.');
}

function checkUrl(url: string, deps: WebhookDeps): void {
  const problem = urlProblem(url, deps.urlPolicy);
  if (problem) throw new ValidationError([{ field: 'url', message: problem }]);
}

async function dataKey(deps: WebhookDeps): Promise<Buffer> {
  return webhookDataKey(await deps.pepper.get());
}

async function sealedSecret(webhookId: string, now: number, deps: WebhookDeps): Promise<{ secret: string; record: SigningSecretRecord }> {
  const secret = newSigningSecret();
  const id = randomBase62(12);
  return { secret, record: { id, enc: encryptSecret(await dataKey(deps), webhookId, id, secret), hint: signingSecretHint(secret), createdAt: now, expiresAt: null } };
}

/** Loads an endpoint the principal may see: another account's is 404; a live one seen by a test key is 403. */
async function loadOwned(principal: Principal & { accountId: string }, id: string, deps: WebhookDeps): Promise<WebhookRecord> {
  const all = await deps.webhookStore.listWebhooks(principal.accountId, { consistent: true });
  const record = all.find((w) => w.id === id);
  if (!record) throw notFound();
  checkEnvironment(principal, record.environment);
  return record;
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(40, 2 ** attempt)));

/**
 * Runs one conditional write of a read–decide–write loop: `true` when it landed, `false` (after a
 * backoff) when another writer won the race (`VersionConflictError`), so the caller reads again.
 */
async function wonRace(attempt: number, write: () => Promise<void>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (!(err instanceof VersionConflictError)) throw err;
    await backoff(attempt);
    return false;
  }
}

export interface CreateWebhookBody {
  readonly url: string;
  readonly eventTypes?: readonly PublishedEventType[] | undefined;
  readonly description?: string | undefined;
  readonly environment?: Environment | undefined;
}

/** Creates an endpoint in the first free slot (at most 10 per account); the signing secret is returned once. */
export async function createWebhook(principal: Principal & { accountId: string }, body: CreateWebhookBody, deps: WebhookDeps) {
  checkUrl(body.url, deps);
  const environment = body.environment ?? principal.environment;
  checkEnvironment(principal, environment);
  const id = randomBase62(16);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const existing = await deps.webhookStore.listWebhooks(principal.accountId, { consistent: true });
    const used = new Set(existing.map((w) => w.slot));
    const slot = [...Array(MAX_WEBHOOKS_PER_ACCOUNT).keys()].find((s) => !used.has(s));
    if (slot === undefined) throw new ConflictError('limit_reached', `An account can have at most ${MAX_WEBHOOKS_PER_ACCOUNT} webhook endpoints.`);
    const now = deps.clock.now();
    const { secret, record: sealed } = await sealedSecret(id, now, deps);
    const record: WebhookRecord = {
      id, accountId: principal.accountId, slot, url: body.url, description: body.description ?? '', environment,
      eventTypes: body.eventTypes ? dedupe(body.eventTypes) : [...WEBHOOK_EVENT_TYPES],
      enabled: true, disabledReason: null, secrets: [sealed], failingSince: null, createdAt: now, version: 1,
    };
    // A lost race: another create took this slot at the same moment, so look again.
    if (await wonRace(attempt, () => deps.webhookStore.createWebhook(record))) return { record, signingSecret: secret };
  }
  throw new Error('too much contention on webhook slots');
}

const dedupe = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

export async function listWebhooks(principal: Principal & { accountId: string }, deps: WebhookDeps): Promise<WebhookRecord[]> {
  const all = await deps.webhookStore.listWebhooks(principal.accountId);
  return all.filter((w) => principal.environment !== 'test' || w.environment === 'test').sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}

export async function getWebhook(principal: Principal & { accountId: string }, id: string, deps: WebhookDeps): Promise<WebhookRecord> {
  return loadOwned(principal, id, deps);
}

/** Read–decide–write on one endpoint, retried on a lost race. */
async function mutate(
  principal: Principal & { accountId: string },
  id: string,
  deps: WebhookDeps,
  decide: (record: WebhookRecord, now: number) => Promise<WebhookRecord | null>,
): Promise<WebhookRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const record = await loadOwned(principal, id, deps);
    const next = await decide(record, deps.clock.now());
    if (next === null) return record;
    const written = { ...next, version: record.version + 1 };
    if (await wonRace(attempt, () => deps.webhookStore.updateWebhook(written, record.version))) return written;
  }
  throw new Error('too much contention on one webhook');
}

export interface UpdateWebhookBody {
  readonly url?: string | undefined;
  readonly eventTypes?: readonly PublishedEventType[] | undefined;
  readonly description?: string | undefined;
  readonly enabled?: boolean | undefined;
}

export async function updateWebhook(principal: Principal & { accountId: string }, id: string, body: UpdateWebhookBody, deps: WebhookDeps) {
  if (body.url !== undefined) checkUrl(body.url, deps);
  return mutate(principal, id, deps, async (record) => {
    const next: WebhookRecord = {
      ...record,
      // A new URL starts a new failure run: the old URL's failures say nothing about it.
      ...(body.url !== undefined ? { url: body.url, ...(body.url !== record.url ? { failingSince: null } : {}) } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.eventTypes !== undefined ? { eventTypes: dedupe(body.eventTypes) } : {}),
      // Re-enabling clears the reason and the failure run; disabling by hand says so.
      ...(body.enabled === true && !record.enabled ? { enabled: true, disabledReason: null, failingSince: null } : {}),
      ...(body.enabled === false && record.enabled ? { enabled: false, disabledReason: 'user' as const } : {}),
    };
    return JSON.stringify(next) === JSON.stringify(record) ? null : next;
  });
}

/**
 * Deletes an endpoint, answering it as it was. A notice of its disabling still pending in its
 * outbox moves to the account's outbox (see `WebhookStore.deleteWebhook`). While a dispatcher is
 * performing that notice (a lease of at most `OUTBOX_LEASE_MS`, usually the second an email takes)
 * the answer is `429 too_many_requests` with `retry-after` the rest of that lease: deleting then
 * would send the notice twice.
 */
export async function deleteWebhook(principal: Principal & { accountId: string }, id: string, deps: WebhookDeps): Promise<WebhookRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const record = await loadOwned(principal, id, deps);
    const outcome: { busy: { busyUntil: number } | null } = { busy: null };
    if (await wonRace(attempt, async () => void (outcome.busy = await deps.webhookStore.deleteWebhook(record, record.version, deps.clock.now())))) {
      if (outcome.busy === null) return record;
      const seconds = Math.min(Math.max(1, Math.ceil((outcome.busy.busyUntil - deps.clock.now()) / 1000)), Math.ceil(OUTBOX_LEASE_MS / 1000));
      throw new TooManyRequestsError(`The notice of this endpoint's disabling is being sent right now; retry in ${seconds} s.`, seconds);
    }
  }
  throw new Error('too much contention on one webhook');
}

/**
 * A new current signing secret; the old one keeps signing for `oldSecretExpiresInSeconds`
 * (default 86400, 0 = at once). While an old secret is still valid: `409 rotation_in_progress`.
 */
export async function rotateSigningSecret(
  principal: Principal & { accountId: string },
  id: string,
  body: { oldSecretExpiresInSeconds?: number | undefined },
  deps: WebhookDeps,
) {
  const overlap = body.oldSecretExpiresInSeconds ?? Math.min(DEFAULT_OVERLAP_SECONDS, deps.maxTransitionSeconds);
  if (overlap > deps.maxTransitionSeconds) {
    throw new ValidationError([{ field: 'oldSecretExpiresInSeconds', message: `must be at most ${deps.maxTransitionSeconds}` }]);
  }
  let secret = '';
  const record = await mutate(principal, id, deps, async (current, now) => {
    const active = current.secrets.filter((s) => secretActive(s, now));
    if (active.some((s) => s.expiresAt !== null)) throw new ConflictError('rotation_in_progress', 'A signing-secret rotation is in progress: the old signing secret is still valid.');
    const fresh = await sealedSecret(current.id, now, deps);
    secret = fresh.secret;
    const old = active.find((s) => s.expiresAt === null);
    const kept = old && overlap > 0 ? [{ ...old, expiresAt: now + overlap * 1000 }] : [];
    return { ...current, secrets: [fresh.record, ...kept] };
  });
  return { record, signingSecret: secret };
}

// ---- deliveries ------------------------------------------------------------------------------

/** The Standard Webhooks body: `{type, timestamp, data}`; `data` is the EventBridge detail. */
function payloadOf(type: string, at: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
}

function newDelivery(webhook: WebhookRecord, eventId: string, eventType: string, payload: string, now: number): DeliveryRecord {
  return {
    id: eventId, webhookId: webhook.id, accountId: webhook.accountId, eventId, eventType, payload,
    createdAt: now, status: 'pending', attempts: [], nextAttemptAt: now,
  };
}

/**
 * Outbox step for a published event: one delivery per enabled endpoint of the key's account and
 * environment that subscribes to the type. Idempotent (the delivery id is the event id and the put
 * is conditional; the first attempt is queued by name), so a repeated drain creates nothing twice.
 */
export async function fanOut(event: AuditEvent, deps: WebhookDeps): Promise<number> {
  if (!isPublished(event)) return 0;
  const hooks = (await deps.webhookStore.listWebhooks(event.accountId)).filter((w) => w.enabled && w.eventTypes.includes(event.type));
  if (hooks.length === 0) return 0;
  let environment: Environment = 'live';
  if (event.keyId) {
    const key = await deps.store.getKey(event.keyId);
    if (key) environment = key.environment;
  }
  // Throws `SecretInEventError` (a permanent outbox failure) if a bug ever put a secret in the detail.
  const body = payloadOf(event.type, event.at, JSON.parse(serializeDetail(eventDetail(event))));
  let created = 0;
  for (const hook of hooks.filter((w) => w.environment === environment)) {
    const delivery = newDelivery(hook, event.id, event.type, body, event.at);
    await deps.webhookStore.putDelivery(delivery);
    await deps.attempts.enqueue({ webhookId: hook.id, deliveryId: delivery.id, accountId: hook.accountId, attempt: 0 }, delivery.createdAt);
    created++;
  }
  return created;
}

/** `POST /v1/webhooks/{id}/test`: a `webhook.test` delivery, queued at once. */
export async function sendTestEvent(principal: Principal & { accountId: string }, id: string, deps: WebhookDeps): Promise<{ deliveryId: string }> {
  const hook = await loadOwned(principal, id, deps);
  const now = deps.clock.now();
  const eventId = effectId(deps.ids.sortable(now), 0);
  const data = { id: eventId, type: TEST_EVENT_TYPE, at: new Date(now).toISOString(), accountId: hook.accountId, keyId: null, actorKeyId: principal.actor.type === 'key' ? principal.actor.id : null, data: { webhookId: hook.id } };
  const delivery = newDelivery(hook, eventId, TEST_EVENT_TYPE, payloadOf(TEST_EVENT_TYPE, now, data), now);
  await deps.webhookStore.putDelivery(delivery);
  await deps.attempts.enqueue({ webhookId: hook.id, deliveryId: delivery.id, accountId: hook.accountId, attempt: 0 }, now);
  return { deliveryId: delivery.id };
}

export async function listDeliveries(principal: Principal & { accountId: string }, id: string, page: PageRequest, deps: WebhookDeps): Promise<Page<DeliveryRecord>> {
  await loadOwned(principal, id, deps);
  return deps.webhookStore.listDeliveries(id, page);
}

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'stale';

/**
 * Performs attempt `message.attempt` of a delivery. Acts only while the delivery is pending and has
 * no more attempts than the message's number (a duplicate or stale message is a no-op); a message
 * whose predecessor's record was lost still acts, so a crash costs a retry at worst, never the
 * delivery. The next attempt is queued before this one is recorded for the same reason.
 */
export async function attemptDelivery(message: AttemptMessage, deps: WebhookDeps): Promise<AttemptOutcome> {
  const delivery = await deps.webhookStore.getDelivery(message.webhookId, message.deliveryId);
  if (!delivery || delivery.status !== 'pending' || delivery.attempts.length > message.attempt) return 'stale';
  const hooks = await deps.webhookStore.listWebhooks(delivery.accountId, { consistent: true });
  const hook = hooks.find((w) => w.id === delivery.webhookId);
  const n = delivery.attempts.length;
  const started = deps.clock.now();
  if (!hook || !hook.enabled) {
    const error = hook ? `endpoint disabled (${hook.disabledReason ?? 'user'})` : 'endpoint deleted';
    await deps.webhookStore.recordAttempt(delivery.webhookId, delivery.id, n, { at: started, statusCode: null, error, durationMs: 0 }, 'failed', null);
    return 'failed';
  }

  const key = await dataKey(deps);
  const secrets = hook.secrets.filter((s) => secretActive(s, started)).map((s) => decryptSecret(key, hook.id, s.id, s.enc));
  const msgId = `msg_${delivery.id}`;
  const headers = signatureHeaders(secrets, msgId, Math.floor(started / 1000), delivery.payload);
  let result: SendResult;
  try {
    const target = await resolveTarget(hook.url, deps.urlPolicy, deps.resolve);
    result = await (deps.send ?? sendAttempt)(target, headers, delivery.payload);
  } catch (err) {
    if (!(err instanceof RefusedTargetError)) throw err;
    result = { statusCode: null, error: err.message, durationMs: Math.round(deps.clock.now() - started) };
  }
  const attempt = { at: started, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs };
  const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const now = deps.clock.now();

  // The attempt's outcome changes the endpoint only while it still has the URL that was tried: a
  // PATCH may have pointed it elsewhere meanwhile, and the new URL has not answered anything yet.
  const tried = (h: WebhookRecord) => h.url === hook.url;
  if (ok) {
    await deps.webhookStore.recordAttempt(hook.id, delivery.id, n, attempt, 'delivered', null);
    if (hook.failingSince !== null) await changeHook(hook, deps, (h) => (h.failingSince === null || !tried(h) ? null : { ...h, failingSince: null }));
    return 'delivered';
  }
  const failingSince = hook.failingSince ?? started;
  const disableFor = result.statusCode === 410 ? 'gone' : now - failingSince >= FAILING_DISABLE_MS ? 'failing' : null;
  // Disabled (now, or already): the delivery ends. The URL changed since: retried as any failure.
  if (disableFor && (await disable(hook, disableFor, deps)) !== 'url_changed') {
    await deps.webhookStore.recordAttempt(hook.id, delivery.id, n, attempt, 'failed', null);
    return 'failed';
  }
  if (hook.failingSince === null) await changeHook(hook, deps, (h) => (h.failingSince !== null || !tried(h) ? null : { ...h, failingSince: started }));
  const delay = RETRY_DELAYS_MS[n];
  if (delay === undefined) {
    await deps.webhookStore.recordAttempt(hook.id, delivery.id, n, attempt, 'failed', null);
    return 'failed';
  }
  const nextAt = now + delay;
  await deps.attempts.enqueue({ ...message, attempt: n + 1 }, nextAt);
  await deps.webhookStore.recordAttempt(hook.id, delivery.id, n, attempt, 'pending', nextAt);
  return 'retry';
}

/**
 * A system change of an endpoint (no principal), retried on a lost race; `change` returns `null`
 * for "nothing to do". `effects` of the change that wins are committed in the same conditional write.
 */
async function changeHook(
  hook: WebhookRecord,
  deps: WebhookDeps,
  change: (h: WebhookRecord) => WebhookRecord | null,
  effects: (next: WebhookRecord) => Effect[] = () => [],
): Promise<WebhookRecord | null> {
  let current: WebhookRecord | undefined = hook;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && current; attempt++) {
    const next = change(current);
    if (next === null) return null;
    const written = { ...next, version: current.version + 1 };
    try {
      await deps.webhookStore.updateWebhook(written, current.version, effects(written));
      return written;
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
      current = (await deps.webhookStore.listWebhooks(hook.accountId, { consistent: true })).find((w) => w.id === hook.id);
    }
  }
  return null;
}

/**
 * Disables an endpoint (once). The audit event (`webhook.disabled`) and the alert emails' notice
 * ride in the endpoint's outbox, in the same conditional write as the disable: if the process dies
 * right after it, or the mailer fails, the sweeper / stream consumer still performs them (SPEC §10
 * "either way the account's alert emails are told"). Then they are performed at once (`drain`).
 * Only while the endpoint still has the URL of the attempt that failed (`hook.url`): an endpoint a
 * PATCH pointed elsewhere meanwhile is left enabled (`url_changed`). The effects are built from the
 * record actually written, so the notice names the origin of the endpoint it disabled.
 */
async function disable(hook: WebhookRecord, reason: 'gone' | 'failing', deps: WebhookDeps): Promise<'disabled' | 'already_disabled' | 'url_changed'> {
  // Written by the change callback (TypeScript cannot see that, hence the widening cast).
  let skipped = 'already_disabled' as 'already_disabled' | 'url_changed';
  const changed = await changeHook(
    hook,
    deps,
    (h) => {
      if (h.url !== hook.url) skipped = 'url_changed';
      else if (!h.enabled) skipped = 'already_disabled';
      else return { ...h, enabled: false, disabledReason: reason };
      return null;
    },
    (next) => {
      const now = deps.clock.now();
      const base = deps.ids.sortable(now, next.version);
      const eventId = effectId(base, 0);
      const event: AuditEvent = { id: eventId, type: 'webhook.disabled', at: now, actorKeyId: null, actor: SYSTEM_ACTOR, accountId: next.accountId, keyId: null, data: { webhookId: next.id, reason } };
      return [
        { id: eventId, kind: 'event', event },
        { id: effectId(base, 1), kind: 'webhook_disabled', notice: { accountId: next.accountId, webhookId: next.id, origin: webhookOrigin(next.url), reason } },
      ];
    },
  );
  if (!changed) return skipped;
  deps.log.warn('webhook endpoint disabled', { webhookId: changed.id, accountId: changed.accountId, reason });
  await deps.drain?.({ kind: 'webhook', id: changed.accountId, slot: changed.slot });
  return 'disabled';
}
