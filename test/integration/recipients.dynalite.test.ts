/**
 * Verified recipients (SPEC §10) over real dynalite through the real handlers: an address added
 * through the API gets only its confirmation until it confirms; the link works once and then answers
 * 200 again; unknown and expired links are 404; removed addresses get one notice; operator-set
 * addresses are trusted.
 */
import { describe, expect, it } from 'vitest';
import { ANY_ACCOUNT as OPERATOR, TEST_OPERATOR } from '../support/world.js';
import { confirmationTokenIn, useHandlerWorld } from '../support/handlerWorld.js';
import { createKey, handleTimer, rotateKey, updateAccount, updateKey } from '../../shared/domain/service.js';
import { planTimers } from '../../shared/domain/timers.js';

const t = useHandlerWorld('Recipients');
const { call, account, mailsTo } = t;
const linkIn = confirmationTokenIn;

async function fireReminder(accountId: string) {
  const { record } = await createKey(OPERATOR, accountId, { name: 'k', environment: 'live' }, t.w.rt);
  await rotateKey(OPERATOR, record.id, { oldKeyExpiresInSeconds: 86_400 }, t.w.rt);
  const saved = t.w.clock.t;
  t.w.clock.advance(86_400 - 7_200);
  const rec = (await t.w.store.getKey(record.id))!;
  await handleTimer(planTimers(rec, t.w.policies).find((t) => t.kind === 'rotation_reminder')!, t.w.rt);
  t.w.clock.t = saved;
}

describe('verified recipients', () => {
  it('an address added through the API receives nothing but its confirmation until it confirms', async () => {
    const { account: a, caller } = await account(['ops@trusted.test']);
    const put = await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['ops@trusted.test', 'victim@third.test'] }, caller });
    expect(put.status).toBe(200);
    expect(put.body.account.alertEmails).toEqual(['ops@trusted.test']);
    expect(put.body.account.pendingEmails).toEqual(['victim@third.test']);
    const confirmation = mailsTo('victim@third.test');
    expect(confirmation).toHaveLength(1);
    expect(confirmation[0]!.to).toEqual(['victim@third.test']);
    expect(confirmation[0]!.subject).toContain('Confirm');
    const token = linkIn(confirmation[0]!.text)!;
    expect(token).toBeDefined();
    // A reminder now goes to the confirmed address only.
    t.w.rec.mails.length = 0;
    await fireReminder(a.id);
    expect(t.w.rec.mails.flatMap((m) => m.to)).toEqual(['ops@trusted.test']);
    // Setting the same list again sends no second confirmation while the link works.
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['ops@trusted.test', 'victim@third.test'] }, caller });
    expect(mailsTo('victim@third.test')).toHaveLength(0);

    // Confirm: no authentication; the address joins the list; the link answers 200 again.
    const first = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
    expect(first).toMatchObject({ status: 200, body: { email: 'victim@third.test', confirmed: true } });
    const acct = await call({ method: 'GET', path: '/v1/account', caller });
    expect(acct.body.account.alertEmails).toEqual(['ops@trusted.test', 'victim@third.test']);
    expect(acct.body.account.pendingEmails).toEqual([]);
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).status).toBe(200);
    t.w.rec.mails.length = 0;
    await fireReminder(a.id);
    expect(t.w.rec.mails.flatMap((m) => m.to).sort()).toEqual(['ops@trusted.test', 'victim@third.test']);
  });

  it('unknown, malformed and expired links are 404, and an expired one adds nothing', async () => {
    const { caller } = await account(['a@trusted.test']);
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${'A'.repeat(43)}`, caller: null })).status).toBe(404);
    expect((await call({ method: 'GET', path: '/v1/email-confirmations/short', caller: null })).status).toBe(404);
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['late@third.test'] }, caller });
    const token = linkIn(mailsTo('late@third.test')[0]!.text)!;
    const saved = t.w.clock.t;
    t.w.clock.advance(7 * 86_400 + 1);
    const res = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
    expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
    const acct = await call({ method: 'GET', path: '/v1/account', caller });
    t.w.clock.t = saved;
    expect(acct.body.account.alertEmails).toEqual([]);
    expect(acct.body.account.pendingEmails).toEqual([]);
  });

  it('a removed address receives one notice; the addresses the operator sets are trusted', async () => {
    const { account: a, caller } = await account(['one@trusted.test', 'two@trusted.test']);
    const put = await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['one@trusted.test'] }, caller });
    expect(put.body.account.alertEmails).toEqual(['one@trusted.test']);
    const notices = mailsTo('two@trusted.test');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.subject).toContain('Removed');
    expect(mailsTo('one@trusted.test')).toHaveLength(0);
    t.w.rec.mails.length = 0;
    const updated = await updateAccount({ type: 'operator', id: TEST_OPERATOR }, a.id, { alertEmails: ['one@trusted.test', 'ops@operator.test'] }, t.w.rt);
    expect(updated.alertEmails).toEqual(['one@trusted.test', 'ops@operator.test']);
    expect(updated.pendingEmails).toEqual([]);
    expect(t.w.rec.mails).toHaveLength(0);
  });

  it('a test key cannot change the list, and the token never appears in the audit trail or logs', async () => {
    const { account: a, caller } = await account([]);
    expect((await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['x@third.test'] }, caller: { ...caller, environment: 'test' } })).status).toBe(403);
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['x@third.test'] }, caller });
    const token = linkIn(mailsTo('x@third.test')[0]!.text)!;
    const events = await t.w.store.listEvents({ kind: 'account', id: a.id }, { limit: 50 });
    expect(JSON.stringify(events.items)).not.toContain(token);
    expect(JSON.stringify(events.items)).not.toContain('x@third.test');
    expect(t.w.rec.logs.join('\n')).not.toContain(token);
  });
  it('a link that cannot add its address because the list is full says so, is audited and logged, and works once there is room', async () => {
    const { account: a, caller } = await account([]);
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['late@third.test'] }, caller });
    const token = linkIn(mailsTo('late@third.test')[0]!.text)!;
    // The operator fills the list (trusted addresses) while the customer's address waits.
    const twenty = Array.from({ length: 20 }, (_, i) => `ops${i}@operator.test`);
    await updateAccount({ type: 'operator', id: TEST_OPERATOR }, a.id, { alertEmails: twenty }, t.w.rt);
    t.w.rec.logs.length = 0;
    const full = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
    expect(full).toMatchObject({ status: 200, body: { email: 'late@third.test', confirmed: false, reason: 'list_full' } });
    let acct = (await call({ method: 'GET', path: '/v1/account', caller })).body.account;
    expect([acct.alertEmails.length, acct.pendingEmails]).toEqual([20, ['late@third.test']]);
    const events = await t.w.store.listEvents({ kind: 'account', id: a.id }, { limit: 50 });
    const refused = events.items.filter((e) => e.type === 'email.confirmation_not_applied');
    expect(refused.map((e) => e.data)).toEqual([{ list: 'alertEmails', reason: 'list_full', limit: 20 }]);
    expect(JSON.stringify(refused)).not.toContain('late@third.test');
    expect(t.w.rec.logs.join('\n')).toContain('email confirmation not applied');
    expect(t.w.rec.logs.join('\n')).not.toContain(token);
    // Asking again while full answers the same; once the operator frees a place, the same link adds it.
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).body).toMatchObject({ confirmed: false, reason: 'list_full' });
    await updateAccount({ type: 'operator', id: TEST_OPERATOR }, a.id, { alertEmails: twenty.slice(1) }, t.w.rt);
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).body).toEqual({ email: 'late@third.test', confirmed: true });
    acct = (await call({ method: 'GET', path: '/v1/account', caller })).body.account;
    expect([acct.alertEmails.length, acct.alertEmails.at(-1), acct.pendingEmails]).toEqual([20, 'late@third.test', []]);
    // Used: it answers 200 again.
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).body).toEqual({ email: 'late@third.test', confirmed: true });
  });

  it('a link whose address was withdrawn answers confirmed: false (withdrawn), audited, and adds nothing on any later use', async () => {
    const { account: a, caller } = await account([]);
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['gone@third.test'] }, caller });
    const token = linkIn(mailsTo('gone@third.test')[0]!.text)!;
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: [] }, caller });
    for (let i = 0; i < 2; i++) {
      const res = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
      expect(res).toMatchObject({ status: 200, body: { email: 'gone@third.test', confirmed: false, reason: 'withdrawn' } });
    }
    expect((await call({ method: 'GET', path: '/v1/account', caller })).body.account.alertEmails).toEqual([]);
    const events = await t.w.store.listEvents({ kind: 'account', id: a.id }, { limit: 50 });
    expect(events.items.filter((e) => e.type === 'email.confirmation_not_applied').map((e) => e.data)).toEqual([{ list: 'alertEmails', reason: 'withdrawn' }]);
  });

  it('a list_full link clicked again and again (a link scanner) records one audit event and one log line, sequentially and concurrently', async () => {
    const { account: a, caller } = await account([]);
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['scan@third.test'] }, caller });
    const token = linkIn(mailsTo('scan@third.test')[0]!.text)!;
    await updateAccount({ type: 'operator', id: TEST_OPERATOR }, a.id, { alertEmails: Array.from({ length: 20 }, (_, i) => `ops${i}@operator.test`) }, t.w.rt);
    t.w.rec.logs.length = 0;
    for (let i = 0; i < 30; i++) {
      expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).body).toEqual({ email: 'scan@third.test', confirmed: false, reason: 'list_full' });
    }
    const answers = await Promise.all(Array.from({ length: 8 }, () => call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })));
    expect(answers.map((r) => [r.status, r.body.reason])).toEqual(Array.from({ length: 8 }, () => [200, 'list_full']));
    const events = await t.w.store.listEvents({ kind: 'account', id: a.id }, { limit: 100 });
    expect(events.items.filter((e) => e.type === 'email.confirmation_not_applied').map((e) => e.data)).toEqual([{ list: 'alertEmails', reason: 'list_full', limit: 20 }]);
    expect(t.w.rec.logs.filter((l) => l.includes('email confirmation not applied'))).toHaveLength(1);
    // Withdrawn afterwards: a new reason, recorded once more, and the link is used up.
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: [] }, caller });
    for (let i = 0; i < 3; i++) expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).body).toMatchObject({ confirmed: false, reason: 'withdrawn' });
    const after = await t.w.store.listEvents({ kind: 'account', id: a.id }, { limit: 100 });
    expect(after.items.filter((e) => e.type === 'email.confirmation_not_applied').map((e) => e.data.reason).sort()).toEqual(['list_full', 'withdrawn']);
  });

  it('a used link answers what it did from its own record (not the list as it is now), and 404 once expired', async () => {
    const { caller } = await account([]);
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: ['o@third.test'] }, caller });
    const token = linkIn(mailsTo('o@third.test')[0]!.text)!;
    const saved = t.w.clock.t;
    expect((await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null })).body).toEqual({ email: 'o@third.test', confirmed: true });
    // The address is removed: the used link still answers what it did, so it tells nobody the list changed.
    await call({ method: 'PUT', path: '/v1/account/alert-emails', body: { alertEmails: [] }, caller });
    expect((await call({ method: 'GET', path: '/v1/account', caller })).body.account.alertEmails).toEqual([]);
    const again = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
    expect([again.status, again.body]).toEqual([200, { email: 'o@third.test', confirmed: true }]);
    // Expired (7 days after the change that asked for it): 404 like any expired token, used or not.
    t.w.clock.advance(7 * 86_400 + 1);
    const late = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
    t.w.clock.t = saved;
    expect([late.status, late.body.error?.code]).toEqual([404, 'not_found']);
  });

  it("a key contact's link says list_full when the key already has 5 contacts, on the key's audit trail", async () => {
    const { caller } = await account([]);
    const created = await call({ method: 'POST', path: '/v1/keys', body: { name: 'k', contacts: ['dev@third.test'] }, caller });
    const id = created.body.key.id as string;
    const token = linkIn(mailsTo('dev@third.test')[0]!.text)!;
    await updateKey(OPERATOR, id, { contacts: ['1', '2', '3', '4', '5'].map((n) => `c${n}@operator.test`) }, t.w.rt);
    const res = await call({ method: 'GET', path: `/v1/email-confirmations/${token}`, caller: null });
    expect(res).toMatchObject({ status: 200, body: { email: 'dev@third.test', confirmed: false, reason: 'list_full' } });
    const key = (await call({ method: 'GET', path: `/v1/keys/${id}`, caller })).body.key;
    expect([key.contacts.length, key.pendingEmails]).toEqual([5, ['dev@third.test']]);
    const events = await t.w.store.listEvents({ kind: 'key', id }, { limit: 50 });
    expect(events.items.filter((e) => e.type === 'email.confirmation_not_applied').map((e) => e.data)).toEqual([{ list: 'contacts', reason: 'list_full', limit: 5 }]);
  });
});
