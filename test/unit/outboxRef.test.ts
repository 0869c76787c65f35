import { describe, expect, it } from 'vitest';
import { outboxRefOf } from '../../shared/adapters/dynamoStore.js';

describe('outboxRefOf: which item a stream record or a sweeper index entry names', () => {
  it('tells a webhook endpoint from its account, which share the partition key', () => {
    expect(outboxRefOf('ACCT#a1', 'ACCT')).toEqual({ kind: 'account', id: 'a1' });
    expect(outboxRefOf('ACCT#a1', 'WH#07')).toEqual({ kind: 'webhook', id: 'a1', slot: 7 });
    expect(outboxRefOf('KEY#k1', 'KEY')).toEqual({ kind: 'key', id: 'k1' });
    expect(outboxRefOf('KCON#k1', 'KCON')).toEqual({ kind: 'contacts', id: 'k1' });
  });

  it('names no outbox for the other items of an account partition or unknown keys', () => {
    for (const sk of ['MAILDAY#2026-11-26', 'EVT#0m7f3k2a1', 'WH#7', 'WH#x1', 'WH#001']) expect(outboxRefOf('ACCT#a1', sk), sk).toBeNull();
    expect(outboxRefOf('WH#hook', 'DLV#d1')).toBeNull();
    expect(outboxRefOf(undefined, 'KEY')).toBeNull();
  });
});
