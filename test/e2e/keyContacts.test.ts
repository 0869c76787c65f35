/**
 * Key contacts (SPEC §10) end to end: local mode in a child process over real HTTP, reading the
 * emails it writes to `<data dir>/outbox/*.eml`. A contact added through the API gets only its
 * confirmation; after following the link it gets the key's rotation reminder; removed, one notice.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyViewT } from '../../shared/http/schemas.js';
import { startLocal, type LocalInstance } from './harness.js';

let inst: LocalInstance;
let root: string;

beforeAll(async () => {
  inst = await startLocal({ env: { REMINDER_LEAD_SECONDS: '2' } });
  root = (await inst.createAccount({ name: 'Contacts e2e', alertEmails: ['ops@acme.example'] })).secret;
}, 60_000);
afterAll(async () => {
  await inst?.dispose();
});

async function call<T>(secret: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = secret ? { authorization: `Bearer ${secret}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${inst.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as T };
}

/** The `.eml` files addressed to `address` (their `To:` header), oldest first. */
function mailsTo(address: string): string[] {
  const dir = join(inst.dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((m) => (/^To: (.*)$/m.exec(m)?.[1] ?? '').split(', ').includes(address));
}

async function waitFor(check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

describe('key contacts over HTTP (local mode)', () => {
  it('pending gets only the confirmation; confirmed gets the reminder; removed gets one notice', async () => {
    const dev = 'dev@contact.example';
    const created = await call<{ key: KeyViewT }>(root, 'POST', '/v1/keys', { name: 'billing-worker', contacts: [dev] });
    expect(created.status).toBe(201);
    expect([created.body.key.contacts, created.body.key.pendingEmails]).toEqual([[], [dev]]);
    const id = created.body.key.id;
    await waitFor(() => mailsTo(dev).length > 0);
    const confirmation = mailsTo(dev);
    expect(confirmation).toHaveLength(1);
    const token = /\/v1\/email-confirmations\/([A-Za-z0-9_-]{43})/.exec(confirmation[0]!)![1]!;

    // While pending, the key's reminder goes to the alert list only.
    expect((await call(root, 'POST', `/v1/keys/${id}/rotate`, { oldKeyExpiresInSeconds: 3 })).status).toBe(200);
    await waitFor(() => mailsTo('ops@acme.example').some((m) => m.includes('billing-worker')));
    await new Promise((r) => setTimeout(r, 3_500)); // the old secret's expiry passes, its notice too
    expect(mailsTo('ops@acme.example').some((m) => m.includes('billing-worker'))).toBe(true);
    expect(mailsTo(dev)).toHaveLength(1);

    // The link needs no authentication.
    const confirmed = await call<{ email: string; confirmed: boolean }>(null, 'GET', `/v1/email-confirmations/${token}`);
    expect(confirmed).toEqual({ status: 200, body: { email: dev, confirmed: true } });
    const key = await call<{ key: KeyViewT }>(root, 'GET', `/v1/keys/${id}`);
    expect([key.body.key.contacts, key.body.key.pendingEmails]).toEqual([[dev], []]);

    expect((await call(root, 'POST', `/v1/keys/${id}/rotate`, { oldKeyExpiresInSeconds: 3 })).status).toBe(200);
    await waitFor(() => mailsTo(dev).length >= 2);
    const reminder = mailsTo(dev)[1]!;
    expect(reminder).toContain('billing-worker');
    expect(/^To: (.*)$/m.exec(reminder)![1]!.split(', ').sort()).toEqual([dev, 'ops@acme.example']);

    await new Promise((r) => setTimeout(r, 3_500));
    const before = mailsTo(dev).length;
    const removed = await call<{ key: KeyViewT }>(root, 'PATCH', `/v1/keys/${id}`, { contacts: [] });
    expect([removed.status, removed.body.key.contacts]).toEqual([200, []]);
    await waitFor(() => mailsTo(dev).length > before);
    const after = mailsTo(dev);
    expect(after).toHaveLength(before + 1);
    expect(after[after.length - 1]).toMatch(/Subject: .*Removed/);
  }, 40_000);
});
