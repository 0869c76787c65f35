/**
 * Webhooks end to end (SPEC §10): local mode in a child process, a real HTTP receiver on 127.0.0.1,
 * and every delivery verified with the official `standardwebhooks` package (the reference
 * implementation of the Standard Webhooks specification, not code of this repository).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type CreatedAccount, type LocalInstance } from './harness.js';

interface Received {
  readonly id: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly at: number;
  /** Which signing secrets verify it (by index in `secrets`). */
  readonly verifiedBy: number[];
  answered: number | null;
}

/** What the receiver answers: a status, or `hang` (never answers). */
type Behaviour = number | 'hang';

/**
 * A planned answer for the first delivery that matches `when`. Deliveries of earlier events (the
 * `api_key.created` of a key made just before, a late retry) arrive in any order, so a plan that
 * took "the next request" could be spent on the wrong one.
 */
interface Planned {
  readonly behaviour: Behaviour;
  readonly when: (r: Received) => boolean;
}

class Receiver {
  readonly received: Received[] = [];
  readonly secrets: string[] = [];
  private readonly plan: Planned[] = [];
  private readonly waiters: (() => void)[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/rekey`;
  }

  /** Answer the first delivery matching `when` with `behaviour` (every other one gets 204). */
  then(behaviour: Behaviour, when: (r: Received) => boolean): void {
    this.plan.push({ behaviour, when });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const verifiedBy: number[] = [];
    this.secrets.forEach((secret, i) => {
      try {
        new Webhook(secret).verify(body, headers);
        verifiedBy.push(i);
      } catch {
        // not signed with this secret
      }
    });
    const entry: Received = { id: headers['webhook-id'] ?? '', headers, body, at: Date.now(), verifiedBy, answered: null };
    this.received.push(entry);
    const planned = this.plan.findIndex((p) => p.when(entry));
    const behaviour = planned >= 0 ? this.plan.splice(planned, 1)[0]!.behaviour : 204;
    for (const w of this.waiters.splice(0)) w();
    if (behaviour === 'hang') return; // the socket stays open until the sender dies or gives up
    entry.answered = behaviour;
    res.writeHead(behaviour).end();
  }

  /** Resolves with the first received request matching `pred`. */
  async waitFor(pred: (r: Received) => boolean, timeoutMs = 15_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching delivery within ${timeoutMs} ms; got ${this.received.map((r) => r.body).join('\n')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const typeOf = (r: Received) => (JSON.parse(r.body) as { type: string }).type;
const dataOf = (r: Received) => (JSON.parse(r.body) as { data: { id: string; keyId: string | null; accountId: string } }).data;

let inst: LocalInstance;
let acct: CreatedAccount;
let receiver: Receiver;

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, secret = acct.secret): Promise<{ status: number; body: T }> {
  const res = await fetch(`${inst.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

type WebhookRes = { webhook: { id: string; signingSecretHints: string[] }; signingSecret: string };
type KeyRes = { key: { id: string }; secret: string };
type Deliveries = { deliveries: { id: string; status: string; eventType: string; attempts: { statusCode: number | null }[]; nextAttemptAt: string | null }[] };

let webhookId = '';

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  inst = await startLocal({ env: { REKEY_ACCESS_LOG: 'off' } });
  acct = await inst.createAccount({ name: 'webhooks e2e' });
  const created = await api<WebhookRes>('POST', '/v1/webhooks', { url: receiver.url, description: 'e2e receiver' });
  expect(created.status).toBe(201);
  expect(created.body.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.secrets.push(created.body.signingSecret);
  webhookId = created.body.webhook.id;
}, 60_000);

afterAll(async () => {
  await inst?.dispose();
  await receiver?.close();
});

describe('webhooks against local mode', () => {
  it('a rotation produces a delivery that verifies with the official standardwebhooks library', async () => {
    const key = await api<KeyRes>('POST', '/v1/keys', { name: 'hooked' });
    const rotated = await api<KeyRes>('POST', `/v1/keys/${key.body.key.id}/rotate`, { oldKeyExpiresInSeconds: 60 });
    expect(rotated.status).toBe(200);
    const hit = await receiver.waitFor((r) => typeOf(r) === 'api_key.rotated' && dataOf(r).keyId === key.body.key.id);
    expect(hit.verifiedBy).toEqual([0]);
    expect(dataOf(hit).accountId).toBe(acct.account.id);
    // Neither the new nor the old secret is anywhere in what was sent.
    expect(hit.body).not.toContain(rotated.body.secret);
    expect(hit.body).not.toContain(key.body.secret);
  });

  it('a receiver that fails once gets the retry about 5 s later with the same webhook-id', async () => {
    receiver.then(503, (r) => typeOf(r) === 'webhook.test');
    const sent = await api<{ deliveryId: string }>('POST', `/v1/webhooks/${webhookId}/test`, {});
    expect(sent.status).toBe(202);
    const msgId = `msg_${sent.body.deliveryId}`;
    const first = await receiver.waitFor((r) => r.id === msgId);
    const second = await receiver.waitFor((r) => r.id === msgId && r !== first, 20_000);
    expect(first.answered).toBe(503);
    expect(second.answered).toBe(204);
    const gap = second.at - first.at;
    expect(gap).toBeGreaterThanOrEqual(4_500);
    expect(gap).toBeLessThan(9_000);
    expect(first.verifiedBy).toEqual([0]);
    expect(second.verifiedBy).toEqual([0]);
    const list = await api<Deliveries>('GET', `/v1/webhooks/${webhookId}/deliveries`);
    const d = list.body.deliveries.find((x) => x.id === sent.body.deliveryId)!;
    expect(d.eventType).toBe('webhook.test');
    expect(d.status).toBe('delivered');
    expect(d.attempts.map((a) => a.statusCode)).toEqual([503, 204]);
    expect(d.nextAttemptAt).toBeNull();
  }, 30_000);

  it('during a signing-secret rotation both the old and the new secret verify every delivery', async () => {
    const rotated = await api<WebhookRes>('POST', `/v1/webhooks/${webhookId}/rotate-secret`, { oldSecretExpiresInSeconds: 3600 });
    expect(rotated.status).toBe(200);
    receiver.secrets.push(rotated.body.signingSecret);
    expect(rotated.body.webhook.signingSecretHints).toHaveLength(2);
    const again = await api<{ error: { code: string } }>('POST', `/v1/webhooks/${webhookId}/rotate-secret`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('rotation_in_progress');

    const sent = await api<{ deliveryId: string }>('POST', `/v1/webhooks/${webhookId}/test`, {});
    const hit = await receiver.waitFor((r) => r.id === `msg_${sent.body.deliveryId}`);
    expect(hit.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(hit.verifiedBy).toEqual([0, 1]);
    // Each secret alone verifies (a receiver that only knows one of them).
    expect(() => new Webhook(receiver.secrets[0]!).verify(hit.body, hit.headers)).not.toThrow();
    expect(() => new Webhook(receiver.secrets[1]!).verify(hit.body, hit.headers)).not.toThrow();
  });

  it('local mode killed between commit and delivery delivers after restart, once', async () => {
    const key = await api<KeyRes>('POST', '/v1/keys', { name: 'crash' });
    const isIt = (r: Received) => typeOf(r) === 'api_key.rotated' && dataOf(r).keyId === key.body.key.id;
    receiver.then('hang', isIt);
    const rotated = await api<KeyRes>('POST', `/v1/keys/${key.body.key.id}/rotate`, { oldKeyExpiresInSeconds: 60 });
    expect(rotated.status).toBe(200);
    const inFlight = await receiver.waitFor(isIt);
    // The change is committed; the delivery is on the wire and unanswered: crash now.
    await inst.kill();
    expect(inFlight.answered).toBeNull();
    await inst.restart();
    const redelivered = await receiver.waitFor((r) => isIt(r) && r !== inFlight, 20_000);
    expect(redelivered.id).toBe(inFlight.id);
    expect(redelivered.verifiedBy.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const answered = receiver.received.filter((r) => isIt(r) && r.answered !== null && r.answered < 300);
    expect(answered).toHaveLength(1);
  }, 60_000);

  it('a 410 disables the endpoint and the alert emails get the notice from the outbox (an .eml in local mode), once, origin only', async () => {
    // An account of its own, so its endpoint sees none of the other tests' events.
    const other = await inst.createAccount({ name: 'webhooks e2e 410', alertEmails: ['ops@gone.example'] });
    const created = await api<WebhookRes>('POST', '/v1/webhooks', { url: `${receiver.url}/gone?token=t0k3n` }, other.secret);
    expect(created.status).toBe(201);
    const id = created.body.webhook.id;
    receiver.then(410, (r) => typeOf(r) === 'webhook.test' && r.body.includes(id));
    expect((await api('POST', `/v1/webhooks/${id}/test`, {}, other.secret)).status).toBe(202);
    await receiver.waitFor((r) => typeOf(r) === 'webhook.test' && r.body.includes(id) && r.answered === 410);
    const dir = join(inst.dataDir, 'outbox');
    const notices = () =>
      (existsSync(dir) ? readdirSync(dir) : []).map((f) => readFileSync(join(dir, f), 'utf8')).filter((m) => /^To: ops@gone\.example$/m.test(m) && m.includes('Webhook endpoint disabled'));
    for (const deadline = Date.now() + 8_000; notices().length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(notices()).toHaveLength(1);
    expect(notices()[0]).toContain(id);
    expect(notices()[0]).not.toContain('t0k3n');
    expect(notices()[0]).not.toContain(created.body.signingSecret);
    expect((await api<{ webhook: { enabled: boolean; disabledReason: string } }>('GET', `/v1/webhooks/${id}`, undefined, other.secret)).body.webhook).toMatchObject({ enabled: false, disabledReason: 'gone' });
    // The local sweeper (every 2 s) finds nothing left to send.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(notices()).toHaveLength(1);
  }, 30_000);

  it('measures delivery latency from the change to the receiver (printed, not asserted)', async () => {
    const key = await api<KeyRes>('POST', '/v1/keys', { name: 'latency' });
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      // From just before the change is sent to the moment the receiver has the delivery (and answers 2xx).
      const startedAt = Date.now();
      const r = await api<KeyRes>('POST', `/v1/keys/${key.body.key.id}/rotate`, { oldKeyExpiresInSeconds: 0 });
      expect(r.status).toBe(200);
      const hit = await receiver.waitFor((x) => typeOf(x) === 'api_key.rotated' && dataOf(x).keyId === key.body.key.id && x.at >= startedAt);
      samples.push(hit.at - startedAt);
      // Wait for the receiver's answer to go out before the next change, so samples do not overlap.
      await new Promise((res) => setTimeout(res, 20));
      receiver.received.length = 0;
    }
    samples.sort((a, b) => a - b);
    const q = (p: number) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)]!;
    console.log(`[webhook latency] change → receiver, n=${samples.length}: median ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${samples.at(-1)!.toFixed(0)} ms`);
    expect(samples).toHaveLength(30);
  }, 60_000);
});
