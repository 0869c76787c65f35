/**
 * The store's layout against dynalite: keys-only, sharded indexes (no hot partition, no index write
 * on a transition or last-use write), the account list merged over its partitions, audit retention
 * through TTL, and the timer index that the reconciliation reads (SPEC §5: no notice is lost).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import { createDocumentClient, DynamoKeyStore } from '../../shared/adapters/dynamoStore.js';
import { OUTBOX_SHARDS, shardOf } from '../../shared/adapters/tableSchema.js';
import { StoreUnavailableError } from '../../shared/domain/errors.js';
import { createKey, RECONCILE_GRACE_MS, reconcileTimers, rotateKey } from '../../shared/domain/service.js';
import { planTimers } from '../../shared/domain/timers.js';
import type { KeyStore } from '../../shared/domain/ports.js';
import { setRuntime } from '../../shared/runtime.js';
import { handler as timerHandler } from '../../functions/timer.js';
import { ANY_ACCOUNT, createAccountWithKey, createWorld, useDynalite } from '../support/world.js';
import { listKeyEvents, changeRotationWindow } from '../../shared/domain/service.js';
import { drainOutbox, EMAILS_NOT_SENT_METRIC } from '../../shared/domain/outbox.js';

const dynalite = useDynalite();
afterAll(() => {
  setRuntime(undefined);
});

const raw = (w: Awaited<ReturnType<typeof createWorld>>, pk: string, sk: string) =>
  createDocumentClient({ endpoint: dynalite().endpoint }).send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk, sk }, ConsistentRead: true }));

describe('sharded work indexes', () => {
  it('spreads items over every outbox shard, the same shard every time for one item', () => {
    const counts = new Array<number>(OUTBOX_SHARDS).fill(0);
    for (let i = 0; i < 4_000; i++) counts[shardOf(`KEY#k${i}`, OUTBOX_SHARDS)]!++;
    // Uniform would be 250 each; no shard takes more than 1.3× its share.
    expect(Math.min(...counts)).toBeGreaterThan(180);
    expect(Math.max(...counts)).toBeLessThan(325);
    expect(shardOf('KEY#abc', OUTBOX_SHARDS)).toBe(shardOf('KEY#abc', OUTBOX_SHARDS));
  });

  it('an item with pending effects carries its own shard in obp and the sweep finds it in that shard', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: [] }, w.rt);
    const { record } = await createKey(ANY_ACCOUNT, account.id, { name: 'k' }, w.rt);
    w.rec.failNext.publish = 1; // the rotation's event stays pending
    await rotateKey(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 3600 }, w.rt);
    const item = (await raw(w, `KEY#${record.id}`, 'KEY')).Item!;
    expect(item.obp).toBe(shardOf(`KEY#${record.id}`, OUTBOX_SHARDS));
    expect(await w.store.itemsWithPendingEffects()).toContainEqual({ kind: 'key', id: record.id });
  });

  it('a usage write (the authorizer\'s only write) leaves the key item untouched and sets no index attribute', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const { key } = await createAccountWithKey({ name: 'A', alertEmails: [] }, w.rt);
    const before = (await raw(w, `KEY#${key.id}`, 'KEY')).Item!;
    const minute = w.clock.now() - (w.clock.now() % 60_000);
    const flush = { keyId: key.id, sid: key.current.sid, hint: key.current.hint, minute, count: 3, firstAt: minute + 1, lastAt: minute + 2, from: { ip: '192.0.2.1', userAgent: 'ua' } };
    await w.usage.add(flush);
    await w.usage.add({ ...flush, count: 4, firstAt: minute + 5, lastAt: minute + 9 });
    expect((await raw(w, `KEY#${key.id}`, 'KEY')).Item!).toEqual(before);
    const item = (await raw(w, `USAGE#${key.id}`, `${key.current.sid}#${minute.toString().padStart(13, '0')}`)).Item!;
    expect(item).toMatchObject({ n: 7, fa: minute + 1, la: minute + 9, ttl: minute / 1000 + 8 * 86_400 });
    for (const a of ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'obp', 'tdp', 'tdue']) expect(item[a], a).toBeUndefined();
  });
});

describe('listings over keys-only indexes', () => {
  it('lists 23 accounts newest first across the account partitions, every page exact, each account once', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      w.clock.advance(1);
      ids.push((await createAccountWithKey({ name: `acct ${i}`, alertEmails: [] }, w.rt)).account.id);
    }
    const partitions = new Set<unknown>();
    for (const id of ids) partitions.add((await raw(w, `ACCT#${id}`, 'ACCT')).Item!.gsi1pk);
    expect(partitions.size).toBeGreaterThan(5);
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await w.store.listAccounts({ limit: 7, cursor });
      sizes.push(page.items.length);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([7, 7, 7, 2]);
    expect(seen).toEqual([...ids].reverse());
    expect((await w.store.listAccounts({ limit: 23 })).nextCursor).toBeNull();
  });

  it('lists keys with whole records read through BatchGetItem', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const { account, key } = await createAccountWithKey({ name: 'A', alertEmails: [] }, w.rt);
    const page = await w.store.listKeys(account.id, { limit: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toEqual(await w.store.getKey(key.id));
  });
});

describe('audit retention', () => {
  it('gives audit events a ttl auditRetentionDays after they happened, and none by default', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const client = createDocumentClient({ endpoint: dynalite().endpoint });
    const keeping = new DynamoKeyStore({ client, tableName: w.rt.config.tableName, auditRetentionDays: 30 });
    const event = { id: '0000000000000000000a', type: 'account.created' as const, at: Date.UTC(2026, 0, 1), actorKeyId: null, actor: { type: 'system' as const, id: null }, accountId: 'acct1', keyId: null, data: {} };
    await keeping.putEvent(event);
    expect((await raw(w, 'ACCT#acct1', `EVT#${event.id}`)).Item!.ttl).toBe(Date.UTC(2026, 0, 31) / 1000);
    await w.store.putEvent({ ...event, id: '0000000000000000000b' });
    expect((await raw(w, 'ACCT#acct1', 'EVT#0000000000000000000b')).Item!.ttl).toBeUndefined();
  });
});

describe('timer reconciliation', () => {
  const scheduled: ScheduledEvent = {
    version: '0', id: 'e', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '', region: 'us-east-1', resources: [], detail: {},
  };

  it('indexes each key by its earliest unfired timer, and moves the entry as timers fire', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: ['ops@a.test'] }, w.rt);
    const { record } = await createKey(ANY_ACCOUNT, account.id, { name: 'k' }, w.rt);
    expect((await raw(w, `KEY#${record.id}`, 'KEY')).Item!.tdue).toBeUndefined(); // no expiry: nothing planned
    await rotateKey(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 3 * 3600 }, w.rt);
    const rotated = (await w.store.getKey(record.id, { consistent: true }))!;
    const reminder = planTimers(rotated, w.policies).find((t) => t.kind === 'rotation_reminder')!;
    expect((await raw(w, `KEY#${record.id}`, 'KEY')).Item!.tdue).toBe(reminder.at);
    expect(await w.store.keysWithTimersDue(reminder.at - 1)).not.toContain(record.id);
    expect(await w.store.keysWithTimersDue(reminder.at)).toContain(record.id);
  });

  it('a timer whose handler fails three times still yields exactly one notice: the reconciliation performs it once', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: ['ops@a.test'] }, w.rt);
    const { record } = await createKey(ANY_ACCOUNT, account.id, { name: 'k' }, w.rt);
    await rotateKey(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 3 * 3600 }, w.rt);
    const reminder = planTimers((await w.store.getKey(record.id, { consistent: true }))!, w.policies).find((t) => t.kind === 'rotation_reminder')!;

    // DynamoDB throttles every write of the timer function: the first attempt and Lambda's two retries fail.
    let failures = 3;
    const store: KeyStore = Object.create(w.store) as KeyStore;
    store.updateKey = async (...args) => {
      if (failures > 0) {
        failures--;
        throw new StoreUnavailableError('DynamoDB request failed: ProvisionedThroughputExceededException');
      }
      return w.store.updateKey(...args);
    };
    setRuntime({ ...w.rt, store });
    w.clock.t = reminder.at;
    for (let i = 0; i < 3; i++) await expect(timerHandler(reminder)).rejects.toThrow(StoreUnavailableError);
    expect(w.rec.mails).toHaveLength(0);

    // Within the grace period the reconciliation leaves the timer to Scheduler…
    w.clock.t = reminder.at + RECONCILE_GRACE_MS - 1_000;
    expect(await timerHandler(scheduled)).toMatchObject({ acted: 0 });
    // …after it, performs it: one notice.
    w.clock.t = reminder.at + RECONCILE_GRACE_MS + 60_000;
    expect(await timerHandler(scheduled)).toMatchObject({ keys: 1, acted: 1, failed: 0 });
    // A late delivery of the same timer and the next reconciliation change nothing.
    expect(await timerHandler(reminder)).toEqual({ outcome: 'stale' });
    expect(await timerHandler(scheduled)).toMatchObject({ acted: 0 });
    expect(w.rec.mails.map((m) => m.subject).filter((s) => /remind|expires/i.test(s))).toHaveLength(1);
    expect(w.rec.published.filter((e) => e.type === 'api_key.rotation_reminder')).toHaveLength(1);
    setRuntime(undefined);
  });

  it('a reminder whose old secret has already expired is marked fired without a word; the expiry is announced', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: ['ops@a.test'] }, w.rt);
    const { record } = await createKey(ANY_ACCOUNT, account.id, { name: 'k' }, w.rt);
    await rotateKey(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 3 * 3600 }, w.rt);
    // Every timer invocation was dropped; the reconciliation runs long after.
    w.clock.advance(4 * 3600);
    expect(await reconcileTimers(w.rt)).toMatchObject({ keys: 1, failed: 0 });
    const types = w.rec.published.map((e) => e.type);
    expect(types).not.toContain('api_key.rotation_reminder');
    expect(types.filter((t) => t === 'api_key.old_secret_expired')).toHaveLength(1);
    expect(w.rec.mails).toHaveLength(1);
    expect(await reconcileTimers(w.rt)).toMatchObject({ acted: 0 });
  });
});

describe('no email silently lost', () => {
  it('an address SES rejects is audited on the key, naming the recipient and the reason, and counted; the others still get it', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const counted: { metric: string; dimensions: Record<string, string> | undefined }[] = [];
    const sent: string[] = [];
    const rt = {
      ...w.rt,
      metrics: { count: (metric: string, dimensions?: Readonly<Record<string, string>>) => void counted.push({ metric, dimensions: { ...dimensions } }) },
      effects: {
        ...w.rt.effects,
        mailer: {
          send: async (m: { to: readonly string[] }) => {
            sent.push(...m.to.filter((t) => t !== 'unverified@a.test'));
            return { rejected: m.to.includes('unverified@a.test') ? [{ recipient: 'unverified@a.test', reason: 'MessageRejected: Email address is not verified.' }] : [] };
          },
        },
      },
    };
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: ['ops@a.test', 'unverified@a.test'] }, rt);
    const { record } = await createKey(ANY_ACCOUNT, account.id, { name: 'k' }, rt);
    await rotateKey(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 3600 }, rt);
    await changeRotationWindow(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 0 }, rt); // announces old_secret_expired by email
    expect(sent).toEqual(['ops@a.test']);
    const events = (await listKeyEvents(ANY_ACCOUNT, record.id, { limit: 50 }, rt)).items.filter((e) => e.type === 'email.not_sent');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ recipient: 'unverified@a.test', reason: 'MessageRejected: Email address is not verified.', template: 'old_secret_expired' });
    expect(counted).toEqual([{ metric: EMAILS_NOT_SENT_METRIC, dimensions: { Reason: 'MessageRejected' } }]);
    // Draining again (a repeated delivery) records nothing twice.
    await drainOutbox({ kind: 'key', id: record.id }, rt);
    expect((await listKeyEvents(ANY_ACCOUNT, record.id, { limit: 50 }, rt)).items.filter((e) => e.type === 'email.not_sent')).toHaveLength(1);
  });

  it('a notice for an account with no alert emails is audited and counted as skipped', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    const counted: string[] = [];
    const rt = { ...w.rt, metrics: { count: (_m: string, d?: Readonly<Record<string, string>>) => void counted.push(d?.Reason ?? '') } };
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: [] }, rt);
    const { record } = await createKey(ANY_ACCOUNT, account.id, { name: 'k' }, rt);
    await rotateKey(ANY_ACCOUNT, record.id, { oldKeyExpiresInSeconds: 0 }, rt);
    expect(w.rec.mails).toHaveLength(0);
    const events = (await listKeyEvents(ANY_ACCOUNT, record.id, { limit: 50 }, rt)).items.filter((e) => e.type === 'email.not_sent');
    expect(events.map((e) => e.data)).toEqual([expect.objectContaining({ recipient: null, reason: 'no_recipients: neither alert emails nor key contacts' })]);
    expect(counted).toEqual(['no_recipients']);
  });
});
