/**
 * The outbox stream consumer (functions/outbox-stream.ts) against dynalite: an item another
 * dispatcher is draining is not reported as failed (Lambda's ten immediate stream retries would
 * otherwise send a healthy item to the dead-letter queue), while an item whose effect failed is.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/outbox-stream.js';
import { OUTBOX_LEASE_MS } from '../../shared/domain/outbox.js';
import { createKey, rotateKey } from '../../shared/domain/service.js';
import { setRuntime } from '../../shared/runtime.js';
import { ANY_ACCOUNT as OPERATOR, createAccountWithKey, createWorld, useDynalite } from '../support/world.js';

const dynalite = useDynalite();
afterAll(() => {
  setRuntime(undefined);
});

const streamEvent = (keyId: string, seq: string): DynamoDBStreamEvent => ({
  Records: [{ eventName: 'MODIFY', dynamodb: { Keys: { pk: { S: `KEY#${keyId}` }, sk: { S: 'KEY' } }, SequenceNumber: seq } }],
});

describe('outbox stream consumer', () => {
  it('eleven quick deliveries of an item a live dispatcher holds report no failure; the effect is not lost', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    setRuntime(w.rt);
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: [] }, w.rt);
    const { record } = await createKey(OPERATOR, account.id, { name: 'k' }, w.rt);
    w.rec.failNext.publish = 1; // the rotation's event stays pending after the handler's own drain
    await rotateKey(OPERATOR, record.id, { oldKeyExpiresInSeconds: 3600 }, w.rt);
    // Another dispatcher (a handler draining before it answers) holds the item.
    const claim = await w.store.claimOutbox({ kind: 'key', id: record.id }, w.clock.now(), OUTBOX_LEASE_MS);
    expect(claim).not.toBe('busy');
    expect(claim).not.toBeNull();
    // Lambda's first attempt and its ten immediate retries, all while the claim holds.
    for (let i = 0; i < 11; i++) expect(await handler(streamEvent(record.id, '100'))).toEqual({ batchItemFailures: [] });
    expect(w.rec.published.filter((e) => e.type === 'api_key.rotated')).toHaveLength(0);
    // The holder died: once its lease is over, the next delivery (or the minute sweep) performs it.
    w.clock.advance(OUTBOX_LEASE_MS / 1000 + 1);
    expect(await handler(streamEvent(record.id, '101'))).toEqual({ batchItemFailures: [] });
    expect(w.rec.published.filter((e) => e.type === 'api_key.rotated')).toHaveLength(1);
  });

  it('reports an item whose effect failed, so Lambda retries it', async () => {
    const w = await createWorld({ dynamo: dynalite() });
    setRuntime(w.rt);
    const { account } = await createAccountWithKey({ name: 'A', alertEmails: [] }, w.rt);
    const { record } = await createKey(OPERATOR, account.id, { name: 'k' }, w.rt);
    w.rec.failNext.publish = 2; // the handler's drain and the stream's first attempt
    await rotateKey(OPERATOR, record.id, { oldKeyExpiresInSeconds: 3600 }, w.rt);
    expect(await handler(streamEvent(record.id, '200'))).toEqual({ batchItemFailures: [{ itemIdentifier: '200' }] });
    expect(await handler(streamEvent(record.id, '200'))).toEqual({ batchItemFailures: [] });
    expect(w.rec.published.filter((e) => e.type === 'api_key.rotated')).toHaveLength(1);
  });
});
