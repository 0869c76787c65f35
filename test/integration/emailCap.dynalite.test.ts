/**
 * The per-account daily email cap (SPEC §10) over real dynalite: reminders and notices go out to at
 * most `maxEmailsPerAccountPerDay` recipients per account per UTC day, also under concurrency; the
 * rest are skipped, audited (`email.skipped`) and counted; the next day the quota is fresh.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_ACCOUNT as OPERATOR, createAccountWithKey, createWorld, type World } from '../support/world.js';
import { createDocumentClient } from '../../shared/adapters/dynamoStore.js';
import { DynamoEmailQuota } from '../../shared/adapters/emailQuota.js';
import { sendWithinCap, utcDay } from '../../shared/domain/emailCap.js';
import { createKey, handleTimer, rotateKey } from '../../shared/domain/service.js';
import { planTimers } from '../../shared/domain/timers.js';

let w: World;
beforeAll(async () => {
  w = await createWorld({ policies: { maxEmailsPerAccountPerDay: 10 } });
});
afterAll(() => w.close());

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@cap.test`);

describe('daily email cap', () => {
  it('sends reminders to at most the cap of recipients per day, skips, audits and counts the rest', async () => {
    const { account } = await createAccountWithKey({ name: 'Cap', alertEmails: addresses(4) }, w.rt);
    w.rec.mails.length = 0;
    // 3 keys with a reminder each = 12 recipient-emails against a cap of 10.
    const keys = [];
    for (let i = 0; i < 3; i++) {
      const { record } = await createKey(OPERATOR, account.id, { name: `k${i}`, environment: 'live' }, w.rt);
      await rotateKey(OPERATOR, record.id, { oldKeyExpiresInSeconds: 86_400 }, w.rt);
      keys.push(record.id);
    }
    w.clock.advance(86_400 - 7_200);
    for (const id of keys) {
      const rec = (await w.store.getKey(id))!;
      const reminder = planTimers(rec, w.policies).find((t) => t.kind === 'rotation_reminder')!;
      expect(await handleTimer(reminder, w.rt)).toBe('acted');
    }
    const sent = w.rec.mails.reduce((n, m) => n + m.to.length, 0);
    expect(sent).toBe(10);
    expect(w.rec.mails.map((m) => m.to.length)).toEqual([4, 4, 2]);
    const skipped = await w.store.listEvents({ kind: 'key', id: keys[2]! }, { limit: 20 });
    const skip = skipped.items.find((e) => e.type === 'email.skipped')!;
    expect(skip.data).toMatchObject({ email: 'rotation_reminder', skippedRecipients: 2, reason: 'daily_cap', maxEmailsPerAccountPerDay: 10 });
    const client = createDocumentClient({ endpoint: w.dynamo.endpoint });
    const counter = await client.send(new GetCommand({ TableName: w.rt.config.tableName, Key: { pk: `ACCT#${account.id}`, sk: `MAILDAY#${utcDay(w.clock.now())}` } }));
    expect(counter.Item).toMatchObject({ sent: 10, skipped: 2 });
  });

  it('holds under 30 concurrent senders, and the quota is fresh the next UTC day', async () => {
    const quota = new DynamoEmailQuota({ client: createDocumentClient({ endpoint: w.dynamo.endpoint }), tableName: w.rt.config.tableName });
    const delivered: string[][] = [];
    const deps = { ...w.rt, mailer: { send: async (m: { to: readonly string[] }) => void delivered.push([...m.to]) }, quota, maxPerDay: 10 };
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => sendWithinCap({ to: [`c${i}@cap.test`], subject: 's', text: 't', html: 'h', idempotencyKey: `k${i}` }, { accountId: 'AcctConcurrent01', keyId: null, kind: 'test' }, deps)),
    );
    expect(results.reduce((a, b) => a + b, 0)).toBe(10);
    expect(delivered.flat()).toHaveLength(10);
    w.clock.advance(86_400);
    expect(await sendWithinCap({ to: ['next@cap.test'], subject: 's', text: 't', html: 'h', idempotencyKey: 'n' }, { accountId: 'AcctConcurrent01', keyId: null, kind: 'test' }, deps)).toBe(1);
  });
});
