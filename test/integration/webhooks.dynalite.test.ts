/**
 * Webhooks over real dynalite through the real handlers (middy stack): who may do what, the limit
 * under concurrency, signing-secret rotation, encryption at rest, fan-out by environment and type,
 * and the attempt logic (retries, 410, 3 days of failures) with a controllable clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountWithKey, createWorld, type World } from '../support/world.js';
import { callRoute, loadRouteHandlers, type EventInit, type RouteHandlers } from '../support/apigw.js';
import { setRuntime } from '../../shared/runtime.js';
import type { Caller } from '../../shared/domain/types.js';
import { createDocumentClient } from '../../shared/adapters/dynamoStore.js';
import { DynamoWebhookStore } from '../../shared/adapters/webhookStore.js';
import { attemptDelivery, type WebhookDeps } from '../../shared/webhooks/service.js';
import { RETRY_DELAYS_MS } from '../../shared/webhooks/types.js';
import type { SendResult } from '../../shared/webhooks/sender.js';
import { drainOutbox, sweepOutbox } from '../../shared/domain/outbox.js';
import type { EmailMessage } from '../../shared/domain/ports.js';
import { handler as streamHandler } from '../../functions/outbox-stream.js';

let w: World;
let live: Caller;
let handlers: RouteHandlers;

beforeAll(async () => {
  w = await createWorld();
  setRuntime(w.rt);
  ({ caller: live } = await createAccountWithKey({ name: 'Hooks', alertEmails: ['ops@hooks.test'] }, w.rt));
  handlers = await loadRouteHandlers();
});
afterAll(async () => {
  setRuntime(undefined);
  await w.close();
});

function call(init: EventInit) {
  return callRoute(handlers, { caller: live, ...init });
}

/** A fresh account per test keeps the 10-endpoint limit out of each other's way. */
async function freshAccount(): Promise<Caller> {
  return (await createAccountWithKey({ name: 'Hooks', alertEmails: ['ops@hooks.test'] }, w.rt)).caller;
}

const URL_OK = 'http://127.0.0.1:9/hook';

describe('webhook endpoints: routes and who may call them', () => {
  it('creates an endpoint (201) with the signing secret once; later reads show only hints', async () => {
    const c = await freshAccount();
    const res = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK, eventTypes: ['api_key.rotated'] }, caller: c });
    expect(res.status).toBe(201);
    expect(res.body.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(res.body.webhook).toMatchObject({ url: URL_OK, environment: 'live', eventTypes: ['api_key.rotated'], enabled: true, disabledReason: null, description: '' });
    expect(res.body.webhook.signingSecretHints).toEqual([`whsec_…${res.body.signingSecret.slice(-5, -1)}`]);
    const got = await call({ method: 'GET', path: `/v1/webhooks/${res.body.webhook.id}`, caller: c });
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain(res.body.signingSecret);
    const listed = await call({ method: 'GET', path: '/v1/webhooks', caller: c });
    expect(listed.body.webhooks.map((x: { id: string }) => x.id)).toEqual([res.body.webhook.id]);
  });

  it('stores the signing secret encrypted (AES-256-GCM), never in clear', async () => {
    const c = await freshAccount();
    const res = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
    const client = createDocumentClient({ endpoint: w.dynamo.endpoint });
    const out = await client.send(new QueryCommand({ TableName: w.rt.config.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': `ACCT#${c.accountId}` } }));
    const raw = JSON.stringify(out.Items);
    const b64 = res.body.signingSecret.slice('whsec_'.length);
    expect(raw).not.toContain(b64);
    expect(raw).not.toContain(Buffer.from(b64, 'base64').toString('hex'));
    expect(raw).toContain('"enc"');
  });

  it('the 11th endpoint answers 409 limit_reached, also when 15 are created at once (exactly 10 win)', async () => {
    const c = await freshAccount();
    const results = await Promise.all(Array.from({ length: 15 }, () => call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual(Array(5).fill([409, 'limit_reached']));
    const listed = await call({ method: 'GET', path: '/v1/webhooks', caller: c });
    expect(listed.body.webhooks).toHaveLength(10);
    // Deleting one frees a slot.
    const del = await call({ method: 'DELETE', path: `/v1/webhooks/${listed.body.webhooks[0].id}`, caller: c });
    expect(del.status).toBe(200);
    expect((await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c })).status).toBe(201);
  });

  it('a test key sees and manages only test endpoints; a live endpoint answers it 403', async () => {
    const c = await freshAccount();
    const testCaller: Caller = { ...c, environment: 'test' };
    const liveHook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
    const testHook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: testCaller });
    expect(testHook.body.webhook.environment).toBe('test');
    const id = liveHook.body.webhook.id;
    for (const [method, path, body] of [
      ['GET', `/v1/webhooks/${id}`, undefined],
      ['PATCH', `/v1/webhooks/${id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${id}`, undefined],
      ['POST', `/v1/webhooks/${id}/rotate-secret`, {}],
      ['POST', `/v1/webhooks/${id}/test`, {}],
      ['GET', `/v1/webhooks/${id}/deliveries`, undefined],
    ] as const) {
      const res = await call({ method, path, body, caller: testCaller });
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 403, 'forbidden']);
    }
    const asTest = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK, environment: 'live' }, caller: testCaller });
    expect(asTest.status).toBe(403);
    const listed = await call({ method: 'GET', path: '/v1/webhooks', caller: testCaller });
    expect(listed.body.webhooks.map((x: { id: string }) => x.id)).toEqual([testHook.body.webhook.id]);
    // The live endpoint is untouched.
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: c })).body.webhook.enabled).toBe(true);
  });

  it("another account's endpoint is 404; keys:read cannot write (403); bad input names the field and changes nothing", async () => {
    const a = await freshAccount();
    const b = await freshAccount();
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: a });
    const id = hook.body.webhook.id;
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: b })).status).toBe(404);
    expect((await call({ method: 'DELETE', path: `/v1/webhooks/${id}`, caller: b })).status).toBe(404);
    const readOnly = { ...a, scopes: ['keys:read'] };
    expect((await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: readOnly })).status).toBe(403);
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}/deliveries`, caller: readOnly })).status).toBe(200);
    for (const [body, field] of [
      [{ url: 'ftp://x.example.com/' }, 'url'],
      [{ url: 'https://user:pw@hooks.example.com/' }, 'url'],
      [{ url: 'https://10.0.0.1/hook' }, 'url'],
      [{ url: 'http://hooks.example.com/' }, 'url'],
      [{ url: URL_OK, eventTypes: ['api_key.nope'] }, 'eventTypes.0'],
      [{ url: URL_OK, extra: 1 }, 'extra'],
    ] as const) {
      const res = await call({ method: 'POST', path: '/v1/webhooks', body, caller: a });
      expect([res.status, res.body.error.code, res.body.error.details?.[0]?.field]).toEqual([400, 'validation_error', field]);
    }
    const bad = await call({ method: 'PATCH', path: `/v1/webhooks/${id}`, body: { url: 'https://169.254.169.254/latest' }, caller: a });
    expect(bad.status).toBe(400);
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: a })).body.webhook.url).toBe(URL_OK);
    expect((await call({ method: 'GET', path: '/v1/webhooks', caller: a })).body.webhooks).toHaveLength(1);
  });

  it('rotate-secret keeps the old secret for the overlap; a second rotate during it is 409; 0 drops it at once', async () => {
    const c = await freshAccount();
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
    const id = hook.body.webhook.id;
    const tooLong = await call({ method: 'POST', path: `/v1/webhooks/${id}/rotate-secret`, body: { oldSecretExpiresInSeconds: 259_201 }, caller: c });
    expect([tooLong.status, tooLong.body.error.details[0].field]).toEqual([400, 'oldSecretExpiresInSeconds']);
    const r1 = await call({ method: 'POST', path: `/v1/webhooks/${id}/rotate-secret`, body: {}, caller: c });
    expect(r1.status).toBe(200);
    expect(r1.body.signingSecret).not.toBe(hook.body.signingSecret);
    expect(r1.body.webhook.signingSecretHints).toHaveLength(2);
    const concurrent = await Promise.all([1, 2, 3].map(() => call({ method: 'POST', path: `/v1/webhooks/${id}/rotate-secret`, body: {}, caller: c })));
    expect(concurrent.map((r) => r.body.error?.code)).toEqual(['rotation_in_progress', 'rotation_in_progress', 'rotation_in_progress']);
    w.clock.advance(86_400);
    const r2 = await call({ method: 'POST', path: `/v1/webhooks/${id}/rotate-secret`, body: { oldSecretExpiresInSeconds: 0 }, caller: c });
    expect(r2.status).toBe(200);
    expect(r2.body.webhook.signingSecretHints).toHaveLength(1);
    const r3 = await call({ method: 'POST', path: `/v1/webhooks/${id}/rotate-secret`, body: { oldSecretExpiresInSeconds: 0 }, caller: c });
    expect(r3.status).toBe(200);
  });
});

describe('deliveries', () => {
  let receiver: Server;
  let port = 0;
  const got: { headers: Record<string, string>; body: string }[] = [];
  let answer = 200;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body });
        res.writeHead(answer).end('x'.repeat(100_000));
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  beforeEach(() => {
    got.length = 0;
    answer = 200;
    w.rec.attempts.length = 0;
    w.rec.mails.length = 0;
  });

  const deps = (): WebhookDeps => w.rt.webhooks;
  /** Runs every queued attempt that is due, as the queue would. */
  async function runDue(): Promise<void> {
    const due = w.rec.attempts.filter((a) => a.at <= w.clock.now());
    w.rec.attempts.splice(0, w.rec.attempts.length, ...w.rec.attempts.filter((a) => a.at > w.clock.now()));
    for (const a of due) await attemptDelivery(a.message, deps());
  }

  it('fans a published event out to subscribed, enabled endpoints of the key environment only, signed per Standard Webhooks', async () => {
    // The reference library checks the signed timestamp against the real clock (±5 min).
    w.clock.t = Date.now();
    const c = await freshAccount();
    const all = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/all` }, caller: c });
    await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/revoked-only`, eventTypes: ['api_key.revoked'] }, caller: c });
    await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/test-env`, environment: 'test' }, caller: c });
    const off = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/off` }, caller: c });
    await call({ method: 'PATCH', path: `/v1/webhooks/${off.body.webhook.id}`, body: { enabled: false }, caller: c });
    const key = await call({ method: 'POST', path: '/v1/keys', body: { name: 'k' }, caller: c });
    expect(w.rec.attempts.map((a) => a.message.webhookId)).toEqual([all.body.webhook.id]);
    await runDue();
    expect(got).toHaveLength(1);
    const body = JSON.parse(got[0]!.body);
    expect(body).toMatchObject({ type: 'api_key.created', data: { type: 'api_key.created', keyId: key.body.key.id, accountId: c.accountId } });
    expect(() => new Webhook(all.body.signingSecret).verify(got[0]!.body, got[0]!.headers)).not.toThrow();
    expect(got[0]!.body).not.toContain(key.body.secret);
    const list = await call({ method: 'GET', path: `/v1/webhooks/${all.body.webhook.id}/deliveries`, caller: c });
    expect(list.body.deliveries[0]).toMatchObject({ status: 'delivered', eventType: 'api_key.created', nextAttemptAt: null });
    expect(list.body.deliveries[0].attempts[0]).toMatchObject({ statusCode: 200, error: null });
    // A repeated drain (the sweeper after a crash) creates no second delivery and re-sends nothing.
    const before = got.length;
    await w.rt.effects.afterPublish!(w.rec.published.find((e) => e.keyId === key.body.key.id)!);
    await runDue();
    expect(got.length).toBe(before);
  });

  it('retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h with the same webhook-id, then fails', async () => {
    const c = await freshAccount();
    answer = 500;
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/h` }, caller: c });
    const sent = await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/test`, body: {}, caller: c });
    expect(sent.status).toBe(202);
    const waits: number[] = [];
    await runDue();
    while (w.rec.attempts.length) {
      const next = w.rec.attempts[0]!;
      waits.push(next.at - w.clock.now());
      w.clock.t = next.at;
      await runDue();
    }
    expect(waits).toEqual([...RETRY_DELAYS_MS]);
    expect(new Set(got.map((g) => g.headers['webhook-id']))).toEqual(new Set([`msg_${sent.body.deliveryId}`]));
    const list = await call({ method: 'GET', path: `/v1/webhooks/${hook.body.webhook.id}/deliveries`, caller: c });
    expect(list.body.deliveries[0].status).toBe('failed');
    expect(list.body.deliveries[0].attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual(Array(8).fill(500));
    // A duplicate of an old message changes nothing.
    expect(await attemptDelivery({ webhookId: hook.body.webhook.id, deliveryId: sent.body.deliveryId, accountId: c.accountId, attempt: 3 }, deps())).toBe('stale');
  });

  it('410 Gone disables the endpoint at once and tells the alert emails', async () => {
    const c = await freshAccount();
    answer = 410;
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/gone?token=abc` }, caller: c });
    await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/test`, body: {}, caller: c });
    await runDue();
    expect(w.rec.attempts).toHaveLength(0);
    const after = await call({ method: 'GET', path: `/v1/webhooks/${hook.body.webhook.id}`, caller: c });
    expect(after.body.webhook).toMatchObject({ enabled: false, disabledReason: 'gone' });
    expect(w.rec.mails).toHaveLength(1);
    expect(w.rec.mails[0]!.to).toEqual(['ops@hooks.test']);
    expect(w.rec.mails[0]!.text).toContain(hook.body.webhook.id);
    expect(w.rec.mails[0]!.text).not.toContain('token=abc');
    // Re-enabling clears the reason.
    const on = await call({ method: 'PATCH', path: `/v1/webhooks/${hook.body.webhook.id}`, body: { enabled: true }, caller: c });
    expect(on.body.webhook).toMatchObject({ enabled: true, disabledReason: null });
  });

  it("a 410 from the old URL after a PATCH changed it during the attempt: the new URL is not disabled, no notice, the delivery is retried (to the new URL)", async () => {
    const c = await freshAccount();
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: 'http://127.0.0.1:9/old-a' }, caller: c });
    const id = hook.body.webhook.id as string;
    await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
    const targets: string[] = [];
    const d: WebhookDeps = {
      ...deps(),
      send: async (target): Promise<SendResult> => {
        targets.push(target.url.pathname);
        // While A is being tried, the customer points the endpoint at B; then A answers 410.
        if (targets.length === 1) expect((await call({ method: 'PATCH', path: `/v1/webhooks/${id}`, body: { url: 'http://127.0.0.1:9/new-b' }, caller: c })).status).toBe(200);
        return { statusCode: targets.length === 1 ? 410 : 200, error: null, durationMs: 1 };
      },
    };
    const first = w.rec.attempts.splice(0)[0]!;
    expect(await attemptDelivery(first.message, d)).toBe('retry');
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: c })).body.webhook).toMatchObject({ url: 'http://127.0.0.1:9/new-b', enabled: true, disabledReason: null });
    expect(w.rec.mails).toHaveLength(0);
    const events = await w.store.listEvents({ kind: 'account', id: c.accountId }, { limit: 50 });
    expect(events.items.filter((e) => e.type === 'webhook.disabled')).toHaveLength(0);
    // The retry goes to B, which answers 2xx: delivered; B's failure run was never started by A's answer.
    const retry = w.rec.attempts.splice(0)[0]!;
    expect(await attemptDelivery(retry.message, d)).toBe('delivered');
    expect(targets).toEqual(['/old-a', '/new-b']);
    const [record] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
    expect(record!.failingSince).toBeNull();
  });

  it("a PATCH to a new URL starts a new failure run: the old URL's 2.9 days of failures do not disable the new one", async () => {
    const c = await freshAccount();
    answer = 503;
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/old` }, caller: c });
    const id = hook.body.webhook.id as string;
    await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
    await runDue();
    w.rec.attempts.length = 0;
    expect((await w.webhookStore.listWebhooks(c.accountId, { consistent: true }))[0]!.failingSince).not.toBeNull();
    w.clock.advance(2.9 * 86_400);
    expect((await call({ method: 'PATCH', path: `/v1/webhooks/${id}`, body: { url: `http://127.0.0.1:${port}/new` }, caller: c })).status).toBe(200);
    expect((await w.webhookStore.listWebhooks(c.accountId, { consistent: true }))[0]!.failingSince).toBeNull();
    w.clock.advance(0.2 * 86_400);
    await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
    await runDue();
    w.rec.attempts.length = 0;
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: c })).body.webhook).toMatchObject({ enabled: true, disabledReason: null });
    expect(w.rec.mails).toHaveLength(0);
  });

  it('an endpoint whose deliveries all failed for 3 days is disabled as failing', async () => {
    const c = await freshAccount();
    answer = 503;
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/down` }, caller: c });
    const id = hook.body.webhook.id;
    await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
    await runDue();
    w.rec.attempts.length = 0;
    w.clock.advance(2 * 86_400);
    await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
    await runDue();
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: c })).body.webhook.enabled).toBe(true);
    w.rec.attempts.length = 0;
    w.clock.advance(86_400);
    await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
    await runDue();
    expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: c })).body.webhook).toMatchObject({ enabled: false, disabledReason: 'failing' });
    expect(w.rec.mails).toHaveLength(1);
    // A success in between resets the run (checked on a second endpoint).
    answer = 503;
    const h2 = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/flaky` }, caller: c });
    await call({ method: 'POST', path: `/v1/webhooks/${h2.body.webhook.id}/test`, body: {}, caller: c });
    await runDue();
    w.rec.attempts.length = 0;
    answer = 200;
    w.clock.advance(2 * 86_400);
    await call({ method: 'POST', path: `/v1/webhooks/${h2.body.webhook.id}/test`, body: {}, caller: c });
    await runDue();
    answer = 503;
    w.clock.advance(2 * 86_400);
    await call({ method: 'POST', path: `/v1/webhooks/${h2.body.webhook.id}/test`, body: {}, caller: c });
    await runDue();
    expect((await call({ method: 'GET', path: `/v1/webhooks/${h2.body.webhook.id}`, caller: c })).body.webhook.enabled).toBe(true);
  });

  describe('the disabled notice rides in the endpoint outbox (committed with the disable)', () => {
    const raw = () => createDocumentClient({ endpoint: w.dynamo.endpoint });
    const endpointItem = async (accountId: string) =>
      (await raw().send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${accountId}`, sk: 'WH#00' }, ConsistentRead: true }))).Item!;
    const accountEvents = async (accountId: string) => (await w.store.listEvents({ kind: 'account', id: accountId }, { limit: 50 })).items;
    const noticesTo = (address: string) => w.rec.mails.filter((m) => m.to.includes(address) && m.subject.includes('Webhook endpoint disabled'));
    /** A 410 endpoint of a fresh account, disabled by its test delivery under `d`. */
    async function goneEndpoint(d: WebhookDeps = deps()) {
      const c = await freshAccount();
      answer = 410;
      const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/gone/whsec_not-a-secret?token=abc` }, caller: c });
      await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/test`, body: {}, caller: c });
      const due = w.rec.attempts.splice(0);
      for (const a of due) expect(await attemptDelivery(a.message, d)).toBe('failed');
      return { c, hook: hook.body.webhook as { id: string }, signingSecret: hook.body.signingSecret as string };
    }

    it('a mailer failing on the first send: disabled and audited at once, exactly one notice after the outbox retries, same idempotency key, counted in the daily cap', async () => {
      w.rec.logs.length = 0;
      w.rec.failNext.mail = 1;
      const { c, hook, signingSecret } = await goneEndpoint();
      expect((await call({ method: 'GET', path: `/v1/webhooks/${hook.id}`, caller: c })).body.webhook).toMatchObject({ enabled: false, disabledReason: 'gone' });
      expect(noticesTo('ops@hooks.test')).toHaveLength(0);
      // The audit event came first in commit order and is done; the notice waits in the endpoint's outbox.
      expect((await accountEvents(c.accountId)).filter((e) => e.type === 'webhook.disabled').map((e) => e.data)).toEqual([{ webhookId: hook.id, reason: 'gone' }]);
      const item = await endpointItem(c.accountId);
      const pending = Object.values(item.ob as Record<string, { id: string; kind: string }>);
      expect(pending.map((e) => e.kind)).toEqual(['webhook_disabled']);
      expect(item.obp).toBeTypeOf('number');
      expect(w.rec.logs.join('\n')).toContain('outbox effect failed; it will be retried');
      // The sweeper (local mode's loop; the minute schedule in AWS) performs it: once.
      await sweepOutbox(w.rt);
      await sweepOutbox(w.rt);
      const notices = noticesTo('ops@hooks.test');
      expect(notices).toHaveLength(1);
      expect(notices[0]!.idempotencyKey).toBe(pending[0]!.id);
      expect(notices[0]!.text).toContain(`webhook endpoint ${hook.id} (http://127.0.0.1:${port}) because it answered 410 Gone`);
      expect(notices[0]!.text).not.toContain('token=abc');
      expect(notices[0]!.text).not.toContain('whsec_');
      const after = await endpointItem(c.accountId);
      expect([Object.keys(after.ob as object), after.obp]).toEqual([[], undefined]);
      // Counted against the account's daily cap: the failed try took its quota too (a retried send
      // takes quota again: the cap errs towards sending less, see emailCap.ts).
      const day = new Date(w.clock.now()).toISOString().slice(0, 10);
      const quota = await raw().send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: `MAILDAY#${day}` }, ConsistentRead: true }));
      expect(quota.Item?.sent).toBe(2);
      // No signing secret in the logs, the mail or the outbox.
      const logs = w.rec.logs.join('\n');
      expect(logs).not.toContain(signingSecret);
      expect(logs).not.toContain('whsec_');
      expect(JSON.stringify(w.rec.mails)).not.toContain(signingSecret);
      expect(JSON.stringify(w.rec.mails)).not.toContain('whsec_');
      expect(JSON.stringify(item.ob)).not.toContain('whsec_');
    });

    it('a crash between the disabling write and the send: the stream consumer (AWS) performs the audit event and the notice, once', async () => {
      // No drain after the write: as if the delivery function died right after its conditional write.
      const { c, hook } = await goneEndpoint({ ...deps(), drain: undefined });
      expect(noticesTo('ops@hooks.test')).toHaveLength(0);
      expect((await accountEvents(c.accountId)).filter((e) => e.type === 'webhook.disabled')).toHaveLength(0);
      const item = await endpointItem(c.accountId);
      expect(Object.values(item.ob as Record<string, { kind: string }>).map((e) => e.kind)).toEqual(['event', 'webhook_disabled']);
      // The stream record of that write (the template's filter passes images with `obp`).
      const record = { eventName: 'MODIFY' as const, dynamodb: { Keys: { pk: { S: `ACCT#${c.accountId}` }, sk: { S: 'WH#00' } }, NewImage: { obp: { N: String(item.obp) } }, SequenceNumber: '7' } };
      expect(await streamHandler({ Records: [record, record] })).toEqual({ batchItemFailures: [] });
      expect(await streamHandler({ Records: [record] })).toEqual({ batchItemFailures: [] });
      expect(noticesTo('ops@hooks.test')).toHaveLength(1);
      expect(noticesTo('ops@hooks.test')[0]!.text).toContain(hook.id);
      expect((await accountEvents(c.accountId)).filter((e) => e.type === 'webhook.disabled').map((e) => e.data)).toEqual([{ webhookId: hook.id, reason: 'gone' }]);
      // The account item of the same partition was not mistaken for it: nothing else happened.
      await sweepOutbox(w.rt);
      expect(noticesTo('ops@hooks.test')).toHaveLength(1);
    });

    it('a crash, then the local sweeper: the notice of a 3-days-failing endpoint goes out once', async () => {
      const c = await freshAccount();
      answer = 503;
      const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/down` }, caller: c });
      const id = hook.body.webhook.id as string;
      const crashing = { ...deps(), drain: undefined };
      await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
      for (const a of w.rec.attempts.splice(0)) await attemptDelivery(a.message, crashing);
      w.clock.advance(3 * 86_400);
      await call({ method: 'POST', path: `/v1/webhooks/${id}/test`, body: {}, caller: c });
      for (const a of w.rec.attempts.splice(0).filter((x) => x.at <= w.clock.now())) await attemptDelivery(a.message, crashing);
      expect((await call({ method: 'GET', path: `/v1/webhooks/${id}`, caller: c })).body.webhook).toMatchObject({ enabled: false, disabledReason: 'failing' });
      expect(noticesTo('ops@hooks.test')).toHaveLength(0);
      const swept = await sweepOutbox(w.rt);
      expect(swept.performed).toBeGreaterThanOrEqual(2);
      await sweepOutbox(w.rt);
      expect(noticesTo('ops@hooks.test')).toHaveLength(1);
      expect(noticesTo('ops@hooks.test')[0]!.text).toContain('every delivery to it has failed for 3 days');
      expect((await accountEvents(c.accountId)).filter((e) => e.type === 'webhook.disabled').map((e) => e.data)).toEqual([{ webhookId: id, reason: 'failing' }]);
    });

    it('deleting an endpoint whose notice is still pending moves the notice to the account outbox: still sent, once', async () => {
      w.rec.failNext.mail = 1;
      const { c, hook } = await goneEndpoint();
      expect(noticesTo('ops@hooks.test')).toHaveLength(0);
      expect((await call({ method: 'DELETE', path: `/v1/webhooks/${hook.id}`, caller: c })).status).toBe(200);
      const account = (await raw().send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: 'ACCT' }, ConsistentRead: true }))).Item!;
      expect(Object.values(account.ob as Record<string, { kind: string }>).map((e) => e.kind)).toEqual(['webhook_disabled']);
      await sweepOutbox(w.rt);
      await sweepOutbox(w.rt);
      expect(noticesTo('ops@hooks.test')).toHaveLength(1);
    });

    it('a DELETE while a dispatcher is sending the pending notice: 429 with retry-after, nothing moved; the notice goes out once, the dispatcher ends cleanly, then the delete works', async () => {
      w.rec.failNext.mail = 1;
      const { c, hook } = await goneEndpoint();
      expect(noticesTo('ops@hooks.test')).toHaveLength(0);
      // A dispatcher (the sweeper, the stream consumer) claims the endpoint's outbox and is sending.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inSend = new Promise<void>((r) => (entered = r));
      const slowMailer = { send: async (m: EmailMessage) => { entered(); await gate; w.rec.mails.push(m); } };
      const draining = drainOutbox({ kind: 'webhook', id: c.accountId, slot: 0 }, { ...w.rt, effects: { ...w.rt.effects, mailer: slowMailer } });
      await inSend;
      const del = await call({ method: 'DELETE', path: `/v1/webhooks/${hook.id}`, caller: c });
      expect([del.status, del.body.error?.code]).toEqual([429, 'too_many_requests']);
      expect(Number(del.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(del.headers?.['retry-after'])).toBeLessThanOrEqual(30);
      const account = (await raw().send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: 'ACCT' }, ConsistentRead: true }))).Item!;
      expect(Object.keys((account.ob as object | undefined) ?? {})).toEqual([]);
      release();
      expect(await draining).toMatchObject({ performed: 1, failed: false, busy: false });
      expect((await call({ method: 'DELETE', path: `/v1/webhooks/${hook.id}`, caller: c })).status).toBe(200);
      await sweepOutbox(w.rt);
      await sweepOutbox(w.rt);
      expect(noticesTo('ops@hooks.test')).toHaveLength(1);
    });

    it('a PATCH landing while a delete moves the pending notice: the delete is retried, the notice lives in the account outbox only, sent once', async () => {
      const c = await freshAccount();
      const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
      const [record] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
      const noticeId = w.rt.ids.sortable(w.clock.now(), 2) + '01';
      const notice = { id: noticeId, kind: 'webhook_disabled' as const, notice: { accountId: c.accountId, webhookId: hook.body.webhook.id, origin: 'http://127.0.0.1:9', reason: 'gone' as const } };
      await w.webhookStore.updateWebhook({ ...record!, enabled: false, disabledReason: 'gone', version: 2 }, 1, [notice]);
      // A store whose final delete is preceded by a customer's PATCH (the endpoint changes under the claim).
      const client = createDocumentClient({ endpoint: w.dynamo.endpoint });
      const racing = new DynamoWebhookStore({
        tableName: w.rt.config.tableName,
        client: new Proxy(client, {
          get: (target, prop) =>
            prop === 'send'
              ? async (cmd: { input: { ConditionExpression?: string } }) => {
                  if (cmd instanceof DeleteCommand && cmd.input.ConditionExpression?.includes('obt')) {
                    const [now] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
                    await w.webhookStore.updateWebhook({ ...now!, description: 'patched', version: now!.version + 1 }, now!.version);
                  }
                  return target.send(cmd as never);
                }
              : Reflect.get(target, prop),
        }) as typeof client,
      });
      const [v2] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
      await expect(racing.deleteWebhook(v2!, v2!.version, w.clock.now())).rejects.toThrow(/version conflict/);
      const item = await endpointItem(c.accountId);
      expect([item.description, Object.keys(item.ob as object), item.obl, item.obt]).toEqual(['patched', [], undefined, undefined]);
      const account = (await raw().send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: 'ACCT' }, ConsistentRead: true }))).Item!;
      expect(Object.keys(account.ob as object)).toEqual([noticeId]);
      // The caller decides again: now nothing is pending on the endpoint, one conditional delete.
      expect((await call({ method: 'DELETE', path: `/v1/webhooks/${hook.body.webhook.id}`, caller: c })).status).toBe(200);
      await sweepOutbox(w.rt);
      await sweepOutbox(w.rt);
      expect(noticesTo('ops@hooks.test').filter((m) => m.text.includes(hook.body.webhook.id))).toHaveLength(1);
    });

    it('a dispatcher whose item was deleted under it (its lease ran out) releases without throwing', async () => {
      const c = await freshAccount();
      await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
      const [record] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
      const effect = { id: w.rt.ids.sortable(w.clock.now(), 2) + '00', kind: 'event' as const, event: { id: 'e1', type: 'webhook.disabled' as const, at: 0, actorKeyId: null, actor: { type: 'system' as const, id: null }, accountId: c.accountId, keyId: null, data: {} } };
      await w.webhookStore.updateWebhook({ ...record!, version: 2 }, 1, [effect]);
      const ref = { kind: 'webhook' as const, id: c.accountId, slot: 0 };
      const claim = await w.store.claimOutbox(ref, w.clock.now(), 30_000);
      expect(claim).toMatchObject({ effects: [expect.objectContaining({ id: effect.id })] });
      await raw().send(new DeleteCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: 'WH#00' } }));
      await expect(w.store.releaseOutbox(ref, (claim as { token: string }).token, [effect.id])).resolves.toBeUndefined();
      const gone = await raw().send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: 'WH#00' }, ConsistentRead: true }));
      expect(gone.Item).toBeUndefined();
    });

    it('a sweep goes on past an item whose drain throws, logs and counts it, and reports it', async () => {
      const a = await freshAccount();
      const b = await freshAccount();
      const hookIds: string[] = [];
      for (const c of [a, b]) {
        const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
        hookIds.push(hook.body.webhook.id);
        const [record] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
        const base = w.rt.ids.sortable(w.clock.now(), 2);
        await w.webhookStore.updateWebhook({ ...record!, enabled: false, disabledReason: 'gone', version: 2 }, 1, [
          { id: base + '00', kind: 'webhook_disabled', notice: { accountId: c.accountId, webhookId: hook.body.webhook.id, origin: 'http://127.0.0.1:9', reason: 'gone' } },
        ]);
      }
      const noticesOf = (id: string) => noticesTo('ops@hooks.test').filter((m) => m.text.includes(id));
      w.rec.logs.length = 0;
      const counted: string[] = [];
      // The store fails under the drain of a's endpoint only.
      const store = Object.create(w.rt.store, {
        claimOutbox: { value: (ref: { kind: string; id: string }, now: number, lease: number) => (ref.kind === 'webhook' && ref.id === a.accountId ? Promise.reject(new Error('store unavailable')) : w.rt.store.claimOutbox(ref as never, now, lease)) },
      });
      const result = await sweepOutbox({ ...w.rt, store, metrics: { count: (m: string) => void counted.push(m) } });
      expect(result.errors).toBe(1);
      expect([noticesOf(hookIds[0]!).length, noticesOf(hookIds[1]!).length]).toEqual([0, 1]);
      expect(counted).toContain('OutboxSweepErrors');
      expect(w.rec.logs.join('\n')).toContain('outbox drain failed during a sweep');
      // The next sweep, with the store back, sends the other one.
      await sweepOutbox(w.rt);
      expect([noticesOf(hookIds[0]!).length, noticesOf(hookIds[1]!).length]).toEqual([1, 1]);
    });

    it('at the daily cap the notice is skipped, audited (email.skipped) and not retried', async () => {
      const c = await freshAccount();
      const day = new Date(w.clock.now()).toISOString().slice(0, 10);
      await w.rt.effects.emailQuota!.take(c.accountId, day, 200, 200);
      answer = 410;
      const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/capped` }, caller: c });
      await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/test`, body: {}, caller: c });
      await runDue();
      expect(noticesTo('ops@hooks.test')).toHaveLength(0);
      const skipped = (await accountEvents(c.accountId)).filter((e) => e.type === 'email.skipped');
      expect(skipped.map((e) => e.data)).toEqual([expect.objectContaining({ email: 'webhook_disabled', skippedRecipients: 1, reason: 'daily_cap' })]);
      expect((await endpointItem(c.accountId)).obp).toBeUndefined();
    });

    it('an endpoint stored before endpoints had an outbox map still takes the effects of its disabling', async () => {
      const c = await freshAccount();
      await call({ method: 'POST', path: '/v1/webhooks', body: { url: URL_OK }, caller: c });
      const [record] = await w.webhookStore.listWebhooks(c.accountId, { consistent: true });
      await raw().send(new UpdateCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${c.accountId}`, sk: 'WH#00' }, UpdateExpression: 'REMOVE ob' }));
      const effect = { id: w.rt.ids.sortable(w.clock.now(), 2) + '00', kind: 'event' as const, event: { id: 'x', type: 'webhook.disabled' as const, at: 0, actorKeyId: null, actor: { type: 'system' as const, id: null }, accountId: c.accountId, keyId: null, data: {} } };
      await w.webhookStore.updateWebhook({ ...record!, enabled: false, disabledReason: 'gone', version: 2 }, 1, [effect]);
      const item = await endpointItem(c.accountId);
      expect([Object.keys(item.ob as object), item.enabled, item.version]).toEqual([[effect.id], false, 2]);
      // A stale version is still refused on that path.
      await expect(w.webhookStore.updateWebhook({ ...record!, version: 2 }, 1, [effect])).rejects.toThrow(/conflict|version/i);
    });
  });

  it('a URL refused at delivery time is recorded as a failed attempt without any connection', async () => {
    const c = await freshAccount();
    const sends: unknown[] = [];
    const d: WebhookDeps = {
      ...deps(),
      urlPolicy: { allowLocalHttp: false },
      resolve: async () => [{ address: '10.1.2.3', family: 4 }],
      send: async (...args): Promise<SendResult> => {
        sends.push(args);
        return { statusCode: 200, error: null, durationMs: 1 };
      },
    };
    // Created while public; by delivery time the name resolves privately.
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: 'http://127.0.0.1:1/x' }, caller: c });
    await w.rt.webhooks.webhookStore.updateWebhook(
      { ...(await w.rt.webhooks.webhookStore.listWebhooks(c.accountId, { consistent: true }))[0]!, url: 'https://hooks.example.com/x', version: 2 },
      1,
    );
    const sent = await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/test`, body: {}, caller: c });
    const msg = w.rec.attempts.pop()!.message;
    expect(await attemptDelivery(msg, d)).toBe('retry');
    expect(sends).toHaveLength(0);
    const item = await w.rt.webhooks.webhookStore.getDelivery(hook.body.webhook.id, sent.body.deliveryId);
    expect(item!.attempts[0]).toMatchObject({ statusCode: null, error: 'host resolves to an address that is not public' });
  });

  it('never logs a signing secret', async () => {
    const c = await freshAccount();
    w.rec.logs.length = 0;
    answer = 410;
    const hook = await call({ method: 'POST', path: '/v1/webhooks', body: { url: `http://127.0.0.1:${port}/l` }, caller: c });
    const rot = await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/rotate-secret`, body: {}, caller: c });
    await call({ method: 'POST', path: `/v1/webhooks/${hook.body.webhook.id}/test`, body: {}, caller: c });
    await runDue();
    const logs = w.rec.logs.join('\n');
    expect(logs).toContain('webhook endpoint disabled');
    for (const s of [hook.body.signingSecret, rot.body.signingSecret]) {
      expect(logs).not.toContain(s);
      expect(JSON.stringify(w.rec.mails)).not.toContain(s);
    }
    const raw = await createDocumentClient({ endpoint: w.dynamo.endpoint }).send(
      new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `WH#${hook.body.webhook.id}`, sk: `DLV#${w.rec.published.at(-1)?.id ?? 'none'}` } }),
    );
    expect(JSON.stringify(raw.Item ?? {})).not.toContain('whsec_');
  });
});
