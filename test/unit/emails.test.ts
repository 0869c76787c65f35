import { describe, expect, it } from 'vitest';
import { escapeHtml, humanDuration, humanUtc, renderEmail, rfc3339, singleLine } from '../../shared/domain/emails.js';
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
