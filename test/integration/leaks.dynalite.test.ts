import { describe, expect, it } from 'vitest';
import { ANY_ACCOUNT as OPERATOR, createAccountWithKey, createWorld, TEST_OPERATOR, TEST_PEPPER, useDynalite, codeOf } from '../support/world.js';
import {
  cancelRotation, createKey, handleTimer, listKeyEvents, principalOf, reactivateKey,
  revokeKey, rotateKey, updateAccount,
} from '../../shared/domain/service.js';
import { digestSecret } from '../../shared/domain/digest.js';
import { authenticKeyId, deriveIdKey, generateSecret, newKeyIdRandom, randomBase62 } from '../../shared/domain/keyFormat.js';
import { keyView } from '../../shared/domain/view.js';
import { planTimers } from '../../shared/domain/timers.js';
import { createDocumentClient, DynamoKeyStore } from '../../shared/adapters/dynamoStore.js';
import { reportLeaks } from '../../shared/leaks/service.js';
import { allowLeakReport, LEAK_RATE_WINDOW_MS } from '../../shared/leaks/rateLimit.js';
import { createWebhook, listDeliveries } from '../../shared/webhooks/service.js';

const dynalite = useDynalite();

async function setup(leakResponse?: 'revoke' | 'notify') {
  const w = await createWorld({ dynamo: dynalite() });
  const { account, secret, caller } = await createAccountWithKey({ name: 'Acme', alertEmails: ['ops@acme.test'], leakResponse }, w.rt);
  const p = principalOf(caller);
  const made = await createKey(p, account.id, { name: 'billing-worker' }, w.rt);
  return { w, account, p, adminSecret: secret, key: made.record, secret: made.secret };
}

const URL_FOUND = 'https://github.com/octocat/hello/blob/abc123/config.env';

describe('leaked secrets against dynalite', () => {
  it('a leaked current secret revokes the key as exposed: never reactivated, one api_key.exposed event with the source URL, one email', async () => {
    const { w, p, key, secret } = await setup();
    w.rec.published.length = 0;
    w.rec.mails.length = 0;
    const [r] = await reportLeaks([{ token: secret, url: URL_FOUND }], 'github_secret_scanning', w.rt);
    expect(r).toEqual({ hint: key.current.hint, outcome: 'revoked' });
    const after = (await w.store.getKey(key.id, { consistent: true }))!;
    expect(after.status).toBe('revoked');
    expect(after.revokedReason).toBe('exposed');
    const view = keyView(after, w.clock.now());
    expect(view.revokedReason).toBe('exposed');
    expect(view.reactivatableUntil).toBeNull();
    expect(await codeOf(reactivateKey(p, key.id, w.rt))).toBe('key_exposed');

    const exposed = w.rec.published.filter((e) => e.type === 'api_key.exposed');
    expect(exposed).toHaveLength(1);
    expect(exposed[0]!.data).toMatchObject({ slot: 'current', hint: key.current.hint, action: 'revoked', source: 'github_secret_scanning', url: URL_FOUND });
    expect(exposed[0]!.actorKeyId).toBeNull();
    expect(w.rec.published.map((e) => e.type)).toContain('api_key.revoked');
    expect(w.rec.mails).toHaveLength(1);
    expect(w.rec.mails[0]!.to).toEqual(['ops@acme.test']);
    expect(w.rec.mails[0]!.subject).toContain('was leaked');
    expect(w.rec.mails[0]!.text).toContain(URL_FOUND);
    expect(w.rec.mails[0]!.text).toContain('cannot be reactivated');

    // The digests are purged at once (nothing can bring the key back), yet a repeat is still recognised.
    const purge = planTimers(after, w.policies).find((t) => t.kind === 'purge_revoked')!;
    expect(await handleTimer(purge, w.rt)).toBe('acted');
    expect((await w.store.getKey(key.id, { consistent: true }))!.current.digest).toBeNull();
    const version = (await w.store.getKey(key.id, { consistent: true }))!.version;
    const again = await reportLeaks([{ token: secret, url: null }], 'leak_report', w.rt);
    expect(again[0]).toEqual({ hint: key.current.hint, outcome: 'revoked' });
    expect((await w.store.getKey(key.id, { consistent: true }))!.version).toBe(version);
    expect(w.rec.published.filter((e) => e.type === 'api_key.exposed')).toHaveLength(1);
    expect(w.rec.mails).toHaveLength(1);
  });

  it('api_key.exposed reaches the account\'s webhook endpoints subscribed to it, like every api_key.* event', async () => {
    const { w, p, key, secret } = await setup();
    const principal = { ...p, accountId: p.accountId! };
    const { record: webhook } = await createWebhook(principal, { url: 'http://127.0.0.1:9/hook', eventTypes: ['api_key.exposed'] }, w.rt.webhooks);
    w.rec.attempts.length = 0;
    await reportLeaks([{ token: secret, url: URL_FOUND }], 'github_secret_scanning', w.rt);
    const deliveries = (await listDeliveries(principal, webhook.id, { limit: 10 }, w.rt.webhooks)).items;
    expect(deliveries.map((d) => d.eventType)).toEqual(['api_key.exposed']);
    expect(w.rec.attempts.map((a) => a.message.webhookId)).toEqual([webhook.id]);
    expect((await w.store.getKey(key.id, { consistent: true }))!.revokedReason).toBe('exposed');
  });

  it('a leaked previous secret expires at once and cannot be restored; the current secret keeps working', async () => {
    const { w, p, key, secret: oldSecret } = await setup();
    const rotated = await rotateKey(p, key.id, { oldKeyExpiresInSeconds: 7200 }, w.rt);
    w.rec.published.length = 0;
    const [r] = await reportLeaks([{ token: oldSecret, url: null }], 'leak_report', w.rt);
    expect(r!.outcome).toBe('previous_expired');
    const after = (await w.store.getKey(key.id, { consistent: true }))!;
    const now = w.clock.now();
    expect(after.status).toBe('active');
    expect(after.previous!.expiresAt).toBe(now);
    expect(after.current.digest).toBe(digestSecret(TEST_PEPPER, rotated.secret!));
    expect(keyView(after, now).rotation!.state).toBe('completed');
    expect(keyView(after, now).rotation!.restorableUntil).toBeNull();
    expect(await codeOf(cancelRotation(p, key.id, {}, w.rt))).toBe('nothing_to_cancel');
    const types = w.rec.published.map((e) => e.type);
    expect(types).toEqual(['api_key.exposed', 'api_key.old_secret_expired']);
    expect(w.rec.published[0]!.data).toMatchObject({ slot: 'previous', action: 'previous_expired', url: null });
    // Reported again: nothing more.
    const again = await reportLeaks([{ token: oldSecret, url: null }], 'leak_report', w.rt);
    expect(again[0]!.outcome).toBe('previous_expired');
    expect((await w.store.getKey(key.id, { consistent: true }))!.version).toBe(after.version);
  });

  it('an expired but still restorable previous secret is made unrestorable', async () => {
    const { w, p, key, secret: oldSecret } = await setup();
    await rotateKey(p, key.id, { oldKeyExpiresInSeconds: 60 }, w.rt);
    w.clock.advance(120);
    const [r] = await reportLeaks([{ token: oldSecret, url: null }], 'leak_report', w.rt);
    expect(r!.outcome).toBe('previous_expired');
    expect(await codeOf(cancelRotation(p, key.id, {}, w.rt))).toBe('nothing_to_cancel');
  });

  it('leakResponse "notify": the key keeps working, the account is told once', async () => {
    const { w, account, key, secret } = await setup('notify');
    w.rec.mails.length = 0;
    w.rec.published.length = 0;
    const first = await reportLeaks([{ token: secret, url: URL_FOUND }, { token: secret, url: URL_FOUND }], 'github_secret_scanning', w.rt);
    expect(first.map((r) => r.outcome)).toEqual(['notified', 'notified']);
    const after = (await w.store.getKey(key.id, { consistent: true }))!;
    expect(after.status).toBe('active');
    expect(after.current.digest).not.toBeNull();
    expect(w.rec.published.filter((e) => e.type === 'api_key.exposed')).toHaveLength(1);
    expect(w.rec.published[0]!.data).toMatchObject({ action: 'notified' });
    expect(w.rec.mails).toHaveLength(1);
    expect(w.rec.mails[0]!.text).toContain('changed nothing');
    // Switching the account back to revoke does not re-open a secret already handled.
    await updateAccount({ type: 'operator', id: TEST_OPERATOR }, account.id, { leakResponse: 'revoke' }, w.rt);
    expect((await reportLeaks([{ token: secret, url: null }], 'leak_report', w.rt))[0]!.outcome).toBe('notified');
    expect((await w.store.getAccount(account.id))!.leakResponse).toBe('revoke');
  });

  it('the operator sets leakResponse (default revoke), audited as account.updated; the same value again writes nothing', async () => {
    const { w, account } = await setup();
    expect(account.leakResponse).toBe('revoke');
    const updated = await updateAccount({ type: 'operator', id: TEST_OPERATOR }, account.id, { leakResponse: 'notify' }, w.rt);
    expect(updated.leakResponse).toBe('notify');
    expect((await w.store.getAccount(account.id, { consistent: true }))!.leakResponse).toBe('notify');
    const events = await w.store.listEvents({ kind: 'account', id: account.id }, { limit: 10 });
    expect(events.items[0]!.type).toBe('account.updated');
    expect(events.items[0]!.data).toEqual({ fields: ['leakResponse'], leakResponse: 'notify' });
    const again = await updateAccount({ type: 'operator', id: TEST_OPERATOR }, account.id, { leakResponse: 'notify' }, w.rt);
    expect(again.version).toBe(updated.version);
  });

  it('unknown, garbage, expired, owner-revoked-past-window and wrong secrets change nothing and answer unknown', async () => {
    const { w, p, key, secret } = await setup();
    const other = await createKey(p, key.accountId, { name: 'x', expiresAt: new Date(w.clock.now() + 60_000).toISOString() }, w.rt);
    w.clock.advance(120); // `other` has expired
    const forgedSameId = generateSecret('rekey', 'live', key.id); // right id and checksum, not its secret
    const unknownId = generateSecret('rekey', 'live', authenticKeyId(deriveIdKey(TEST_PEPPER), newKeyIdRandom()));
    const before = (await w.store.getKey(key.id, { consistent: true }))!;
    const results = await reportLeaks(
      [{ token: 'not a secret', url: null }, { token: forgedSameId, url: null }, { token: unknownId, url: null }, { token: other.secret, url: null }],
      'leak_report',
      w.rt,
    );
    expect(results.map((r) => r.outcome)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    expect(results[0]!.hint).toBe('…cret');
    expect((await w.store.getKey(key.id, { consistent: true }))!.version).toBe(before.version);
    // A key its owner revoked, once the reactivation window has passed, cannot come back: nothing to do.
    await revokeKey(p, key.id, w.rt);
    w.clock.advance(3601);
    expect((await reportLeaks([{ token: secret, url: null }], 'leak_report', w.rt))[0]!.outcome).toBe('unknown');
  });

  it('forged ids (valid checksum, no valid tag) and garbage cost no read; an unknown authentic id costs one', async () => {
    const { w } = await setup();
    let reads = 0;
    const getKey = w.store.getKey.bind(w.store);
    w.store.getKey = async (...args) => {
      reads++;
      return getKey(...args);
    };
    const forged = Array.from({ length: 200 }, () => ({ token: generateSecret('rekey', 'live', randomBase62(22)), url: null }));
    const results = await reportLeaks([...forged, { token: 'x', url: null }], 'leak_report', w.rt);
    expect(results.every((r) => r.outcome === 'unknown')).toBe(true);
    expect(reads).toBe(0);
    await reportLeaks([{ token: generateSecret('rekey', 'live', authenticKeyId(deriveIdKey(TEST_PEPPER), newKeyIdRandom())), url: null }], 'leak_report', w.rt);
    expect(reads).toBe(1);
  });

  it('a key its owner revoked but could still reactivate is marked exposed, so it never comes back', async () => {
    const { w, p, key, secret } = await setup();
    await revokeKey(p, key.id, w.rt);
    expect((await reportLeaks([{ token: secret, url: null }], 'leak_report', w.rt))[0]!.outcome).toBe('revoked');
    expect(await codeOf(reactivateKey(p, key.id, w.rt))).toBe('key_exposed');
  });

  it('the same secret reported 20 times at once is acted on exactly once', async () => {
    const { w, key, secret } = await setup();
    w.rec.published.length = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => reportLeaks([{ token: secret, url: null }], 'leak_report', w.rt)));
    expect(results.flat().map((r) => r.outcome)).toEqual(Array(20).fill('revoked'));
    expect(w.rec.published.filter((e) => e.type === 'api_key.exposed')).toHaveLength(1);
    expect((await listKeyEvents(OPERATOR, key.id, { limit: 100 }, w.rt)).items.filter((e) => e.type === 'api_key.exposed')).toHaveLength(1);
  });

  it('no secret or digest reaches a log line, an event or an email', async () => {
    const { w, p, key, secret, adminSecret } = await setup();
    const rotated = await rotateKey(p, key.id, { oldKeyExpiresInSeconds: 7200 }, w.rt);
    const notifyWorld = await setup('notify');
    await reportLeaks([{ token: secret, url: URL_FOUND }, { token: rotated.secret!, url: null }, { token: 'garbage-token', url: null }], 'github_secret_scanning', w.rt);
    await reportLeaks([{ token: notifyWorld.secret, url: URL_FOUND }], 'leak_report', notifyWorld.w.rt);
    const forbidden = [secret, rotated.secret!, adminSecret, notifyWorld.secret].flatMap((s) => [s, digestSecret(TEST_PEPPER, s)]);
    for (const world of [w, notifyWorld.w]) {
      const haystack = [
        ...world.rec.logs,
        ...world.rec.published.map((e) => JSON.stringify(e)),
        ...world.rec.mails.map((m) => JSON.stringify(m)),
      ].join('\n');
      expect(world.rec.logs.some((l) => l.includes('leak report processed'))).toBe(true);
      expect(world.rec.published.some((e) => e.type === 'api_key.exposed')).toBe(true);
      expect(world.rec.mails.length).toBeGreaterThan(0);
      for (const s of forbidden) expect(haystack).not.toContain(s);
    }
  });
});

describe('leak report rate limit against dynalite', () => {
  it('holds across processes: two stores (two Lambda instances) on one table share the count, and concurrent hits never pass the limit', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const second = new DynamoKeyStore({ client: createDocumentClient({ endpoint: dynalite().endpoint }), tableName: w.rt.config.tableName });
    const hits = await Promise.all(
      Array.from({ length: 30 }, (_, i) => allowLeakReport('203.0.113.9', 10, { store: i % 2 ? second : w.store, clock: w.clock })),
    );
    expect(hits.filter(Boolean)).toHaveLength(10);
    // Another address has its own allowance; the next window starts afresh.
    expect(await allowLeakReport('203.0.113.10', 10, { store: second, clock: w.clock })).toBe(true);
    w.clock.advance(LEAK_RATE_WINDOW_MS / 1000);
    expect(await allowLeakReport('203.0.113.9', 10, { store: w.store, clock: w.clock })).toBe(true);
  });

  it('counts an IPv6 client per /64', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    expect(await allowLeakReport('2001:db8:1:2::1', 2, w.rt)).toBe(true);
    expect(await allowLeakReport('2001:db8:1:2:ffff::9', 2, w.rt)).toBe(true);
    expect(await allowLeakReport('2001:0db8:0001:0002:abcd::1', 2, w.rt)).toBe(false);
    expect(await allowLeakReport('2001:db8:1:3::1', 2, w.rt)).toBe(true);
  });
});
