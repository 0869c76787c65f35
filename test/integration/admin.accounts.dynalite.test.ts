import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../shared/admin/accounts.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { createWorld, type World } from '../support/world.js';

let w: World;
const op = { id: 'local-operator' };

beforeAll(async () => {
  w = await createWorld({ policies: { maxKeyLifetimeSeconds: 86_400 } });
});
afterAll(async () => {
  await w.close();
});

describe('admin account creation: bad input changes nothing', () => {
  it.each([
    ['in the past', '2020-01-01T00:00:00Z', 'must be in the future'],
    ['beyond the maximum lifetime', '2099-01-01T00:00:00Z', 'maximum key lifetime'],
    ['null under a maximum lifetime', null, 'must not be null'],
  ])('a first key expiring %s is refused naming firstKey.expiresAt, and no account is written', async (_what, expiresAt, words) => {
    const before = await w.store.listAccounts({ limit: 100 });
    const err = await createAccount(op, { name: 'Refused', firstKey: { expiresAt } }, w.rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual([{ field: 'firstKey.expiresAt', message: expect.stringContaining(words) }]);
    const after = await w.store.listAccounts({ limit: 100 });
    expect(after.items.map((a) => a.id)).toEqual(before.items.map((a) => a.id));
  });

  it('a valid first key still creates the account and the key', async () => {
    const made = await createAccount(op, { name: 'Accepted', firstKey: { name: 'first' } }, w.rt);
    expect(made.key?.accountId).toBe(made.account.id);
    expect(made.secret).toBeTypeOf('string');
  });
});
