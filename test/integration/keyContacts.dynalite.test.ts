/**
 * Key contacts (SPEC §10) over real dynalite through the real handlers: a pending contact receives
 * only its confirmation; once confirmed it receives the key's reminders (and no other key's); a
 * removed contact gets one notice; more than 5 is refused; the operator's contacts are trusted; the
 * environment and rotated-out rules are those of PATCH.
 */
import { describe, expect, it } from 'vitest';
import { ANY_ACCOUNT as OPERATOR } from '../support/world.js';
import { confirmationTokenIn, useHandlerWorld } from '../support/handlerWorld.js';
import { createKey, handleTimer, updateKey } from '../../shared/domain/service.js';
import { planTimers } from '../../shared/domain/timers.js';
import type { Caller } from '../../shared/domain/types.js';

const t = useHandlerWorld('Contacts');
const { call, account, mailsTo } = t;
const linkIn = confirmationTokenIn;

/** Rotates the key (through the API) and fires its rotation reminder. */
async function remind(keyId: string, caller: Caller) {
  expect((await call({ method: 'POST', path: `/v1/keys/${keyId}/rotate`, body: { oldKeyExpiresInSeconds: 86_400 }, caller })).status).toBe(200);
  t.w.clock.advance(86_400 - 7_200);
  const rec = (await t.w.store.getKey(keyId))!;
  await handleTimer(planTimers(rec, t.w.policies).find((t) => t.kind === 'rotation_reminder')!, t.w.rt);
  // Past the old secret's end, so the next rotation is allowed (its own timer is not fired here).
  t.w.clock.advance(7_201);
}

describe('key contacts', () => {
  it('a pending contact receives only its confirmation; confirmed, it receives the key\'s reminders (deduplicated, not other keys\')', async () => {
    const { caller } = await account(['ops@trusted.test']);
    const created = await call({ method: 'POST', path: '/v1/keys', body: { name: 'billing', contacts: ['dev@third.test', 'OPS@trusted.test'] }, caller });
    expect(created.status).toBe(201);
    expect(created.body.key.contacts).toEqual([]);
    expect(created.body.key.pendingEmails).toEqual(['dev@third.test', 'OPS@trusted.test']);
    const id = created.body.key.id as string;
    const other = (await call({ method: 'POST', path: '/v1/keys', body: { name: 'other' }, caller })).body.key.id as string;
    expect(mailsTo('dev@third.test')).toHaveLength(1);
    const token = linkIn(mailsTo('dev@third.test')[0]!.text)!;
    // The contact's confirmation says which key it is about by its name (not in the subject), and
    // tells an address that has not confirmed neither the key's id nor its secret's hint.
    const confirmation = mailsTo('dev@third.test')[0]!;
    expect(confirmation.text).toContain('the API key "billing" of the account');
    expect(confirmation.html).toContain('the API key &quot;billing&quot; of the account');
    expect(confirmation.subject).not.toContain('billing');
    const hint = created.body.key.currentSecret.hint as string;
    for (const part of [confirmation.text, confirmation.html]) {
      expect(part).not.toContain(id);
      expect(part).not.toContain(hint);
    }
    const opsToken = linkIn(mailsTo('OPS@trusted.test')[0]!.text)!;
    expect(token).toBeDefined();

    // Pending: the reminder goes to the alert list only.
    t.w.rec.mails.length = 0;
    await remind(id, caller);
    expect(t.w.rec.mails.flatMap((m) => m.to)).toEqual(['ops@trusted.test']);

    // Confirmed through the same route as alert emails: it moves into contacts.
    expect(await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).toMatchObject({ status: 200, body: { email: 'dev@third.test', confirmed: true } });
    const got = await call({ method: 'GET', path: `/v1/keys/${id}`, caller });
    expect(got.body.key.contacts).toEqual(['dev@third.test']);
    expect(got.body.key.pendingEmails).toEqual(['OPS@trusted.test']);
    const listed = await call({ method: 'GET', path: '/v1/keys', caller });
    expect(listed.body.keys.find((k: { id: string }) => k.id === id).contacts).toEqual(['dev@third.test']);
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).status).toBe(200);

    // A contact that is also on the alert list gets each notice once.
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${opsToken}`, caller: null })).status).toBe(200);
    t.w.rec.mails.length = 0;
    await remind(id, caller);
    expect(t.w.rec.mails.flatMap((m) => m.to).sort()).toEqual(['dev@third.test', 'ops@trusted.test']);
    // Another key's reminder does not go to this key's contact.
    t.w.rec.mails.length = 0;
    await remind(other, caller);
    expect(t.w.rec.mails.flatMap((m) => m.to)).toEqual(['ops@trusted.test']);

    // The audit trail counts, never lists, addresses; the token is nowhere.
    const events = await t.w.store.listEvents({ kind: 'key', id }, { limit: 50 });
    expect(events.items.map((e) => e.type)).toEqual(expect.arrayContaining(['api_key.contacts_updated', 'api_key.contact_confirmed']));
    expect(JSON.stringify(events.items)).not.toContain('dev@third.test');
    expect(t.w.rec.logs.join('\n')).not.toContain(token);
  });

  it('a removed contact receives one notice; > 5 and bad addresses are refused and change nothing', async () => {
    const { caller } = await account([]);
    const id = (await call({ method: 'POST', path: '/v1/keys', body: { name: 'k' }, caller })).body.key.id as string;
    // The operator's contacts are trusted: no confirmation.
    await updateKey(OPERATOR, id, { contacts: ['a@x.test', 'b@x.test'] }, t.w.rt);
    expect(t.w.rec.mails).toHaveLength(0);
    expect((await call({ method: 'GET', path: `/v1/keys/${id}`, caller })).body.key.contacts).toEqual(['a@x.test', 'b@x.test']);

    const six = ['1', '2', '3', '4', '5', '6'].map((n) => `c${n}@x.test`);
    for (const body of [{ contacts: six }, { contacts: ['not an address'] }, { contacts: null }]) {
      const res = await call({ method: 'PATCH', path: `/v1/keys/${id}`, body, caller });
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
      expect(JSON.stringify(res.body.error.details)).toContain('contacts');
    }
    const created = await call({ method: 'POST', path: '/v1/keys', body: { name: 'six', contacts: six }, caller });
    expect([created.status, created.body.error.details[0].field]).toEqual([400, 'contacts']);
    expect(t.w.rec.mails).toHaveLength(0);

    const patched = await call({ method: 'PATCH', path: `/v1/keys/${id}`, body: { contacts: ['a@x.test'] }, caller });
    expect(patched.status).toBe(200);
    expect(patched.body.key.contacts).toEqual(['a@x.test']);
    expect(mailsTo('b@x.test')).toHaveLength(1);
    expect(mailsTo('b@x.test')[0]!.subject).toContain('Removed');
    expect(mailsTo('b@x.test')[0]!.text).toContain(`removed from the contacts of the API key "k" (id ${id}`);
    expect(t.w.rec.mails).toHaveLength(1);
    // The same list again: nothing.
    await call({ method: 'PATCH', path: `/v1/keys/${id}`, body: { contacts: ['a@x.test'] }, caller });
    expect(t.w.rec.mails).toHaveLength(1);
  });

  it('environment, rotated-out and own-key rules are those of PATCH', async () => {
    const { account: a, caller } = await account([]);
    const live = (await createKey(OPERATOR, a.id, { name: 'live', environment: 'live' }, t.w.rt)).record.id;
    const test = (await createKey(OPERATOR, a.id, { name: 'test', environment: 'test' }, t.w.rt)).record.id;
    const testCaller: Caller = { ...caller, keyId: test, environment: 'test' };
    expect((await call({ method: 'PATCH', path: `/v1/keys/${live}`, body: { contacts: ['t@x.test'] }, caller: testCaller })).status).toBe(403);
    expect((await call({ method: 'POST', path: '/v1/keys', body: { name: 'l', environment: 'live', contacts: ['t@x.test'] }, caller: testCaller })).status).toBe(403);
    expect((await call({ method: 'PATCH', path: `/v1/keys/${test}`, body: { contacts: ['t@x.test'] }, caller: testCaller })).status).toBe(200);
    // A rotated-out secret cannot change contacts (PATCH is keys:write).
    const rotatedOut = await call({ method: 'PATCH', path: `/v1/keys/${live}`, body: { contacts: ['r@x.test'] }, caller: { ...caller, slot: 'previous' } });
    expect(rotatedOut.status).toBe(403);
    // A key may set its own contacts (they are not authority).
    const own = await call({ method: 'PATCH', path: `/v1/keys/${caller.keyId}`, body: { contacts: ['own@x.test'] }, caller });
    expect([own.status, own.body.key.pendingEmails]).toEqual([200, ['own@x.test']]);
    // Another account's key is 404.
    const { caller: stranger } = await account([]);
    expect((await call({ method: 'PATCH', path: `/v1/keys/${live}`, body: { contacts: ['s@x.test'] }, caller: stranger })).status).toBe(404);
    expect(mailsTo('r@x.test')).toHaveLength(0);
    expect(mailsTo('s@x.test')).toHaveLength(0);
    expect(mailsTo('t@x.test')).toHaveLength(1);
    expect((await t.w.store.getKeyContacts(live))).toBeNull();
  });
});
