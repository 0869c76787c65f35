import { describe, expect, it } from 'vitest';
import { displayName, escapeHtml, humanDuration, humanUtc, renderEmail, rfc3339, singleLine } from '../../shared/domain/emails.js';
import { renderRecipientNotice } from '../../shared/domain/recipients.js';
import { SECRET_LIKE } from '../../shared/domain/keyFormat.js';
import { checkWindow } from '../../shared/domain/keys.js';
import { DEFAULT_POLICIES } from '../../shared/domain/policies.js';
import type { EmailRequest, EmailTemplate } from '../../shared/domain/types.js';

const EXPIRES = Date.parse('2026-03-02T08:00:00Z');
const base: EmailRequest = {
  template: 'rotation_reminder',
  accountId: 'Acct000000000000',
  keyId: 'K3yId0123456789a',
  keyName: 'billing-worker',
  hint: 'rekey_live_…9fQa',
  expiresAt: EXPIRES,
};
const ctx = { accountName: 'Acme', apiUrl: 'https://api.example.com/prod/', dashboardUrl: 'https://keys.example.com/' };
const TEMPLATES: EmailTemplate[] = ['rotation_reminder', 'old_secret_expired', 'key_expiring', 'key_expired'];

describe('renderEmail', () => {
  it('reminder names the key, the old secret hint, the exact UTC expiry, how to extend and cancel, and the dashboard', () => {
    const { subject, text, html } = renderEmail(base, ctx);
    expect(subject).toBe('[rekey] Old secret of API key "billing-worker" expires at 2026-03-02T08:00:00Z (Acme)');
    for (const body of [text, html]) {
      expect(body).toContain('billing-worker');
      expect(body).toContain('K3yId0123456789a');
      expect(body).toContain('rekey_live_…9fQa');
      expect(body).toContain('2026-03-02T08:00:00Z');
      expect(body).toContain('Monday 2 March 2026, 08:00:00 UTC');
      expect(body).toContain('https://keys.example.com/');
    }
    expect(text).toContain('curl -X PATCH "https://api.example.com/prod/v1/keys/K3yId0123456789a/rotation"');
    expect(text).toContain('-d \'{"oldKeyExpiresInSeconds": 86400}\'');
    expect(text).toContain('curl -X DELETE "https://api.example.com/prod/v1/keys/K3yId0123456789a/rotation"');
    expect(text).toContain('Authorization: Bearer $REKEY_API_KEY');
    expect(html).toContain('Authorization: Bearer $REKEY_API_KEY');
    expect(html).toContain('<a href="https://keys.example.com/">');
  });

  it("builds every command's window from the deployment's policies: a pasted command never asks for more than the maximum", () => {
    const transition = { maxTransitionSeconds: 3600, defaultTransitionSeconds: 3600 };
    const policies = { ...DEFAULT_POLICIES, ...transition };
    for (const template of TEMPLATES) {
      const { text, html } = renderEmail({ ...base, template }, { ...ctx, transition });
      expect(text).not.toContain('86400');
      expect(text).not.toMatch(/24 (more )?hours/);
      expect(html).not.toContain('86400');
      for (const m of text.matchAll(/"(oldKeyExpiresInSeconds|newKeyExpiresInSeconds)": (\d+)/g)) {
        expect(() => checkWindow(Number(m[2]), policies, m[1]!)).not.toThrow();
      }
    }
    const reminder = renderEmail(base, { ...ctx, transition }).text;
    expect(reminder).toContain('-d \'{"oldKeyExpiresInSeconds": 3600}\'');
    expect(reminder).toContain('for 1 hour, the longest window this deployment allows, counted from when you run it');
    expect(renderEmail({ ...base, template: 'old_secret_expired' }, { ...ctx, transition }).text).toContain('stays valid for 1 hour by default');
    expect(renderEmail({ ...base, template: 'key_expiring' }, { ...ctx, transition: { maxTransitionSeconds: 7200, defaultTransitionSeconds: 5400 } }).text).toContain(
      '{"oldKeyExpiresInSeconds": 5400}',
    );
    // With the defaults, a day.
    expect(renderEmail(base, ctx).text).toContain('for 24 hours, counted from when you run it');
  });

  it('humanDuration writes exact durations in the largest unit', () => {
    expect([86400, 3600, 5400, 90, 60, 1, 259200].map(humanDuration)).toEqual(['24 hours', '1 hour', '90 minutes', '90 seconds', '1 minute', '1 second', '72 hours']);
  });

  it.each(TEMPLATES)('%s: single-line subject, both parts carry key, hint and expiry', (template) => {
    const { subject, text, html } = renderEmail({ ...base, template }, ctx);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toContain('billing-worker');
    expect(subject).toContain('2026-03-02T08:00:00Z');
    for (const body of [text, html]) {
      expect(body).toContain('billing-worker');
      expect(body).toContain('rekey_live_…9fQa');
      expect(body).toContain('2026-03-02T08:00:00Z');
      expect(body).not.toMatch(SECRET_LIKE);
    }
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });

  it('says "expires" before and "expired" after, per template', () => {
    expect(renderEmail({ ...base, template: 'key_expiring' }, ctx).subject).toMatch(/API key "billing-worker" expires at/);
    expect(renderEmail({ ...base, template: 'key_expired' }, ctx).subject).toMatch(/API key "billing-worker" expired at/);
    expect(renderEmail({ ...base, template: 'old_secret_expired' }, ctx).subject).toMatch(/Old secret of API key "billing-worker" expired at/);
  });

  it('escapes user-controlled names in HTML and keeps hostile names on one subject line', () => {
    const evil = { ...base, keyName: '<script>alert("x")</script> & \'co\'\r\nBcc: victim@example.com' };
    const { subject, text, html } = renderEmail(evil, { ...ctx, accountName: '<b>Acme</b>\n' });
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toContain('Bcc: victim@example.com'); // flattened into the subject, not a header
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>Acme</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(html).toContain('&lt;b&gt;Acme&lt;/b&gt;');
    expect(text).toContain('<script>alert("x")</script>'); // plain text needs no escaping
  });

  it('falls back to $REKEY_API_URL and omits the dashboard link when URLs are unset or unsafe', () => {
    const { text, html } = renderEmail(base, { accountName: 'Acme', apiUrl: 'javascript:alert(1)', dashboardUrl: 'javascript:alert(1)' });
    expect(text).toContain('curl -X PATCH "$REKEY_API_URL/v1/keys/K3yId0123456789a/rotation"');
    expect(text).toContain('$REKEY_API_URL the base URL of your rekey API');
    expect(html).not.toContain('javascript:');
    expect(text).not.toContain('dashboard:');
  });

  it('never interpolates a secret: the only credential is the $REKEY_API_KEY variable', () => {
    for (const template of TEMPLATES) {
      const { text } = renderEmail({ ...base, template }, ctx);
      const bearer = [...text.matchAll(/Bearer (\S+?)"/g)].map((m) => m[1]);
      expect(bearer.length).toBeGreaterThan(0);
      expect(new Set(bearer)).toEqual(new Set(['$REKEY_API_KEY']));
    }
  });
});

describe('email helpers', () => {
  it('formats RFC 3339 and a human UTC form', () => {
    expect(rfc3339(EXPIRES)).toBe('2026-03-02T08:00:00Z');
    expect(rfc3339(EXPIRES + 250)).toBe('2026-03-02T08:00:00.250Z');
    expect(humanUtc(Date.parse('2026-12-31T23:59:09Z'))).toBe('Thursday 31 December 2026, 23:59:09 UTC');
  });

  it('escapes the five HTML metacharacters and flattens control characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(singleLine('a\r\nb\u2028c\td')).toBe('a b c d');
  });
});

describe('verified-recipient notices (SPEC §10)', () => {
  const key = { id: 'K3yId0123456789abcdefg', name: 'billing-worker', hint: 'rekey_live_…9fQa' };
  const link = 'https://api.example.com/prod/v1/email-confirmations/' + 'a'.repeat(43);
  // CR/LF with a header, a right-to-left override that would show "moc.evil" reversed, a zero-width
  // space, and 300 characters in all.
  const hostile = 'Pay\r\nBcc: victim@example.com\r\n\r\n\u202Eevil.com\u200B ' + 'x'.repeat(300);

  it("a key contact's confirmation names the key by its name only (no id, no hint to an address that has not confirmed); the subject names only the account", () => {
    const m = renderRecipientNotice('email_confirmation', { accountName: 'Acme', address: 'dev@example.com', link, expiresAt: EXPIRES, key });
    expect(m.text).toContain('the API key "billing-worker" of the account "Acme" to dev@example.com');
    expect(m.html).toContain('the API key &quot;billing-worker&quot; of the account');
    for (const part of [m.text, m.html, m.subject]) {
      expect(part).not.toContain('K3yId0123456789abcdefg');
      expect(part).not.toContain('9fQa');
    }
    const unnamed = renderRecipientNotice('email_confirmation', { accountName: 'Acme', address: 'dev@example.com', link, expiresAt: EXPIRES, key: { ...key, name: '' } });
    expect(unnamed.text).toContain('of an API key of the account "Acme"');
    expect(m.text).toContain(link);
    expect(m.subject).toBe('[rekey] Confirm your address for "Acme"');
    expect(m.subject).not.toContain('billing-worker');
  });

  it("a key contact's removal notice names the key; an alert address's notices stay account-wide", () => {
    const removed = renderRecipientNotice('email_removed', { accountName: 'Acme', address: 'dev@example.com', key });
    expect(removed.text).toContain('dev@example.com was removed from the contacts of the API key "billing-worker" (id K3yId0123456789abcdefg, secret rekey_live_…9fQa)');
    expect(removed.text).toContain('the last email it receives about this key');
    const alert = renderRecipientNotice('email_confirmation', { accountName: 'Acme', address: 'ops@example.com', link, expiresAt: EXPIRES });
    expect(alert.text).toContain('key reminders and notices of the account "Acme" to ops@example.com');
    expect(alert.text).not.toContain('API key "');
    const alertRemoved = renderRecipientNotice('email_removed', { accountName: 'Acme', address: 'ops@example.com' });
    expect(alertRemoved.text).toContain('about this account');
  });

  it('a hostile key or account name (CR/LF, U+202E, zero-width, 300 characters) adds no header, no subject and no hidden text', () => {
    for (const template of ['email_confirmation', 'email_removed'] as const) {
      const m = renderRecipientNotice(template, { accountName: hostile, address: 'dev@example.com', link, expiresAt: EXPIRES, key: { ...key, name: hostile } });
      expect(m.subject).not.toMatch(/[\r\n\u202E\u200B]/);
      expect(m.subject).not.toContain('x'.repeat(64)); // the account name is cut at 64 characters in the subject
      expect(m.subject.length).toBeLessThan(110);
      // The body has exactly the template's lines: the name's CR/LF became spaces inside one line.
      const line = m.text.split('\n').find((l) => l.includes('Bcc:'))!;
      expect(line).toContain('"Pay Bcc: victim@example.com evil.com ');
      expect(m.text).not.toMatch(/^Bcc:/m);
      expect(m.text).not.toMatch(/[\r\u202E\u200B]/);
      expect(m.html).not.toMatch(/[\r\u202E\u200B]/);
      // The key name is cut to 128 characters ("…" included) and the account name to 64.
      const quoted = [...line.matchAll(/"([^"]*)"/g)].map((q) => q[1]!);
      expect(quoted.map((q) => [...q].length).sort((a, b) => a - b)).toEqual([64, 128]);
      expect(quoted.every((q) => q.endsWith('…'))).toBe(true);
    }
  });

  it('displayName removes format characters but keeps joiners, and never cuts a surrogate pair in half', () => {
    expect(displayName('a\u202Eb\u2066c\uFEFFd\u00ADe')).toBe('abcde');
    expect(displayName('\u{1F469}\u200D\u{1F4BB} dev')).toBe('\u{1F469}\u200D\u{1F4BB} dev');
    const cut = displayName('\u{1F600}'.repeat(10), 5);
    expect([...cut]).toHaveLength(5);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(displayName('  a\r\n\r\nb  ')).toBe('a b');
  });
});
