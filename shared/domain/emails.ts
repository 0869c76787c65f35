/**
 * Alert emails: the reminder before an old secret expires, "old secret expired", key-expiry notices
 * and "key expired". Pure rendering, no I/O. Each template is built once as a small document
 * (paragraphs, facts, commands) and written out twice, as plain text and as HTML, so both parts
 * always say the same thing. Every interpolated value is escaped in the HTML part (key and account
 * names are user input), subjects are single-line, and no secret is ever interpolated: the only
 * credential in a command is the shell variable `$REKEY_API_KEY`.
 */
import { DEFAULT_POLICIES } from './policies.js';
import type { EmailRequest, EmailTemplate } from './types.js';

/** Deployment facts the templates need. */
export interface EmailContext {
  readonly accountName: string;
  /** Base URL of the management API (`https://…/prod`); commands use `$REKEY_API_URL` when unset. */
  readonly apiUrl?: string | undefined;
  /** Dashboard URL, linked when set. */
  readonly dashboardUrl?: string | undefined;
  /**
   * The deployment's window policy: every command in an email asks only for what this deployment
   * accepts (a pasted "extend by 24 h" must not answer `validation_error` where the maximum is 1 h).
   * @default DEFAULT_POLICIES' values
   */
  readonly transition?: TransitionPolicy | undefined;
}

/** The two window policies the email commands are built from. */
export interface TransitionPolicy {
  readonly maxTransitionSeconds: number;
  readonly defaultTransitionSeconds: number;
}

/** How long the reminder's "extend" example asks for: a day, or the deployment's maximum if shorter. */
export const REMINDER_EXTENSION_SECONDS = 86_400;

/** `86400` → `24 hours`, `5400` → `90 minutes`, `45` → `45 seconds`: exact, in the largest unit that divides. */
export function humanDuration(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds >= 3600 && seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds >= 60 && seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

type Block =
  | { readonly kind: 'p'; readonly text: string }
  | { readonly kind: 'facts'; readonly rows: readonly (readonly [string, string])[] }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'link'; readonly label: string; readonly href: string };

interface Doc {
  readonly subject: string;
  readonly blocks: readonly Block[];
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `2026-01-02T03:04:05Z` (milliseconds only when not zero). */
export function rfc3339(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

/**
 * `Friday 2 January 2026, 03:04:05 UTC`. Written by hand rather than with `Intl`, whose output
 * changes with the ICU version and would make the mails differ between Node releases.
 */
export function humanUtc(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Control characters (CR and LF included) and Unicode line/paragraph separators become spaces. */
export function singleLine(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * A user-chosen name (of a key or an account) made safe to show in an email: control characters
 * and line separators become spaces, format characters (Unicode Cf: bidirectional overrides such
 * as U+202E, zero-width and invisible characters) and lone surrogates are removed, except the
 * joiners U+200C and U+200D that some scripts need; the result is one line of at most `max`
 * characters (cut with "…"). The API refuses such names already; this holds for names stored
 * before that rule and for every path that renders one, so a name can never add a header line or
 * disguise what an email says.
 */
export function displayName(s: string, max = 128): string {
  const visible = s.replace(/[\p{Cf}\p{Cs}]/gu, (c) => (c === '\u200C' || c === '\u200D' ? c : ''));
  // Counted and cut in code points, so a cut never leaves half a surrogate pair.
  const chars = [...singleLine(visible)];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

/** Names are user input: keep them on one line and bounded wherever they are interpolated. */
const name = displayName;

// Only plain http(s) URLs without shell or HTML metacharacters are interpolated into commands and
// links; anything else falls back to a placeholder rather than producing a broken or unsafe line.
const SAFE_URL = /^https?:\/\/[^\s"'`$\\<>]+$/;

function apiBase(ctx: EmailContext): string {
  const url = ctx.apiUrl?.trim();
  return url && SAFE_URL.test(url) ? url.replace(/\/+$/, '') : '$REKEY_API_URL';
}

function curl(method: string, url: string, body?: string): string {
  const lines = [`curl -X ${method} "${url}"`, `  -H "Authorization: Bearer $REKEY_API_KEY"`];
  if (body !== undefined) lines.push(`  -H "Content-Type: application/json"`, `  -d '${body}'`);
  return lines.join(' \\\n');
}

function credentialNote(ctx: EmailContext): Block {
  const base = apiBase(ctx) === '$REKEY_API_URL' ? ' and $REKEY_API_URL the base URL of your rekey API' : '';
  return {
    kind: 'p',
    text: `In these commands, $REKEY_API_KEY is a key of this account with the keys:write scope${base}. This message never contains a secret.`,
  };
}

function dashboard(ctx: EmailContext): Block[] {
  const url = ctx.dashboardUrl?.trim();
  return url && SAFE_URL.test(url) ? [{ kind: 'link', label: 'Open the rekey dashboard', href: url }] : [];
}

function subjectOf(ctx: EmailContext, text: string): string {
  return singleLine(`[rekey] ${text}${ctx.accountName.trim() ? ` (${name(ctx.accountName, 64)})` : ''}`);
}

function build(req: EmailRequest, ctx: EmailContext): Doc {
  const keyName = name(req.keyName);
  const hint = singleLine(req.hint);
  const at = rfc3339(req.expiresAt);
  const when = `${at} (${humanUtc(req.expiresAt)})`;
  const keyPath = `${apiBase(ctx)}/v1/keys/${encodeURIComponent(req.keyId)}`;
  const account = name(ctx.accountName, 128);
  const transition = ctx.transition ?? DEFAULT_POLICIES;
  const extendBy = Math.min(REMINDER_EXTENSION_SECONDS, transition.maxTransitionSeconds);
  const extendNote = extendBy < REMINDER_EXTENSION_SECONDS ? `, the longest window this deployment allows` : '';
  // A cancel after expiry keeps the new secret this long unless the body says otherwise (keys.ts).
  const restoreKeeps = Math.min(86_400, transition.maxTransitionSeconds);
  const rotateWindow = Math.min(transition.defaultTransitionSeconds, transition.maxTransitionSeconds);
  const facts: Block = {
    kind: 'facts',
    rows: [
      ['Account', account],
      ['Key', `${keyName} (id ${req.keyId})`],
      [req.template === 'rotation_reminder' || req.template === 'old_secret_expired' ? 'Old secret' : 'Secret', hint],
      [
        req.template === 'key_exposed' ? 'Reported at' : req.template === 'key_expiring' || req.template === 'rotation_reminder' ? 'Expires at' : 'Expired at',
        when,
      ],
    ],
  };

  const templates: Record<EmailTemplate, () => Doc> = {
    key_exposed: () => exposedDoc(req, ctx, keyName, hint, when, facts, keyPath),
    rotation_reminder: () => ({
      subject: subjectOf(ctx, `Old secret of API key "${keyName}" expires at ${at}`),
      blocks: [
        { kind: 'p', text: `The old secret of the API key "${keyName}" stops working at ${when}.` },
        facts,
        {
          kind: 'p',
          text: 'After that moment every request that presents the old secret is rejected. Make sure every client has switched to the new secret before then.',
        },
        {
          kind: 'p',
          text: `Need more time? Extend the window; this example keeps the old secret working for ${humanDuration(extendBy)}${extendNote}, counted from when you run it:`,
        },
        { kind: 'code', text: curl('PATCH', `${keyPath}/rotation`, `{"oldKeyExpiresInSeconds": ${extendBy}}`) },
        {
          kind: 'p',
          text: 'Changed your mind? Cancel the rotation: the old secret becomes the current secret again and the new secret stops working at once (add the body {"newKeyExpiresInSeconds": 3600} to keep it for an hour):',
        },
        { kind: 'code', text: curl('DELETE', `${keyPath}/rotation`) },
        credentialNote(ctx),
        ...dashboard(ctx),
      ],
    }),
    old_secret_expired: () => ({
      subject: subjectOf(ctx, `Old secret of API key "${keyName}" expired at ${at}`),
      blocks: [
        { kind: 'p', text: `The old secret of the API key "${keyName}" expired at ${when}. Requests that present it are now rejected; the new secret keeps working.` },
        facts,
        {
          kind: 'p',
          text: `If a client still depended on the old secret, you may be able to restore it as the current secret while the restore window lasts (see rotation.restorableUntil of the key). The new secret then stays valid for ${humanDuration(restoreKeeps)} by default:`,
        },
        { kind: 'code', text: curl('DELETE', `${keyPath}/rotation`) },
        credentialNote(ctx),
        ...dashboard(ctx),
      ],
    }),
    key_expiring: () => ({
      subject: subjectOf(ctx, `API key "${keyName}" expires at ${at}`),
      blocks: [
        { kind: 'p', text: `The API key "${keyName}" expires at ${when}. After that moment every request that presents it is rejected.` },
        facts,
        {
          kind: 'p',
          text: `To keep the key working, rotate it and deploy the new secret; here the current secret keeps working for ${humanDuration(rotateWindow)} after the rotation (you can give the new secret its own expiresAt):`,
        },
        { kind: 'code', text: curl('POST', `${keyPath}/rotate`, `{"oldKeyExpiresInSeconds": ${rotateWindow}}`) },
        { kind: 'p', text: "Or move the current secret's expiry, within your deployment's maximum key lifetime:" },
        { kind: 'code', text: curl('PATCH', keyPath, '{"expiresAt": "YYYY-MM-DDThh:mm:ssZ"}') },
        credentialNote(ctx),
        ...dashboard(ctx),
      ],
    }),
    key_expired: () => ({
      subject: subjectOf(ctx, `API key "${keyName}" expired at ${at}`),
      blocks: [
        { kind: 'p', text: `The API key "${keyName}" expired at ${when}. Requests that present it are now rejected.` },
        facts,
        { kind: 'p', text: 'To restore access, create a new key (in the dashboard or with POST /v1/keys) and deploy its secret:' },
        { kind: 'code', text: curl('POST', `${apiBase(ctx)}/v1/keys`, `{"name": "replacement key"}`) },
        credentialNote(ctx),
        ...dashboard(ctx),
      ],
    }),
  };
  return templates[req.template]();
}

/** Only a plain http(s) URL is shown as where the secret was found; anything else is described. */
function foundWhere(url: string | null): string {
  if (url === null) return 'Someone reported it to rekey directly (POST /v1/leaks).';
  const one = singleLine(url);
  return SAFE_URL.test(one) && one.length <= 2048 ? `It was found at ${one}` : 'It was found by GitHub secret scanning.';
}

function exposedDoc(req: EmailRequest, ctx: EmailContext, keyName: string, hint: string, when: string, facts: Block, keyPath: string): Doc {
  const e = req.exposure ?? { slot: 'current' as const, action: 'revoked' as const, url: null };
  const which = e.slot === 'previous' ? 'old (rotated-out) secret' : 'current secret';
  const did: Record<typeof e.action, string> = {
    revoked: 'rekey revoked the key: every secret of it stopped working. A key revoked because it leaked cannot be reactivated.',
    previous_expired: 'rekey expired that old secret at once; the key keeps working with its current secret. A cancel can no longer bring the old secret back.',
    notified: "Your account is set to be notified only (leakResponse \"notify\"), so rekey changed nothing: the secret still works. Act now.",
  };
  const next: Block[] =
    e.action === 'revoked'
      ? [
          { kind: 'p', text: 'What to do next: create a replacement key, deploy its secret where the old one was used, and remove the leaked secret from where it was found (and from its history):' },
          { kind: 'code', text: curl('POST', `${apiBase(ctx)}/v1/keys`, `{"name": "replacement for ${keyName.replace(/["'\\$`]/g, '')}"}`) },
        ]
      : e.action === 'previous_expired'
        ? [{ kind: 'p', text: 'What to do next: make sure no client still uses the old secret, and remove it from where it was found (and from its history).' }]
        : [
            { kind: 'p', text: 'What to do next: rotate the key with an immediate expiry of the leaked secret (or revoke it), then remove the secret from where it was found:' },
            { kind: 'code', text: curl('POST', `${keyPath}/rotate`, '{"oldKeyExpiresInSeconds": 0}') },
          ];
  return {
    subject: subjectOf(ctx, `A secret of API key "${keyName}" was leaked`),
    blocks: [
      { kind: 'p', text: `The ${which} of the API key "${keyName}" (${hint}) was found where others can read it. ${foundWhere(e.url)}` },
      facts,
      { kind: 'p', text: did[e.action] },
      ...next,
      credentialNote(ctx),
      ...dashboard(ctx),
    ],
  };
}

function toText(doc: Doc): string {
  const parts = doc.blocks.map((b) => {
    switch (b.kind) {
      case 'p':
        return b.text;
      case 'facts': {
        const width = Math.max(...b.rows.map(([k]) => k.length)) + 1;
        return b.rows.map(([k, v]) => `  ${`${k}:`.padEnd(width)} ${v}`).join('\n');
      }
      case 'code':
        return b.text
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n');
      case 'link':
        return `${b.label}: ${b.href}`;
    }
  });
  return `${['Hello,', ...parts, '— rekey'].join('\n\n')}\n`;
}

function toHtml(doc: Doc): string {
  const parts = doc.blocks.map((b) => {
    switch (b.kind) {
      case 'p':
        return `<p>${escapeHtml(b.text)}</p>`;
      case 'facts':
        return `<table role="presentation" cellpadding="4" style="border-collapse:collapse">${b.rows
          .map(([k, v]) => `<tr><th align="left" style="padding-right:12px">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
          .join('\n')}</table>`;
      case 'code':
        return `<pre style="background:#f4f4f4;padding:8px;white-space:pre-wrap"><code>${escapeHtml(b.text)}</code></pre>`;
      case 'link':
        return `<p><a href="${escapeHtml(b.href)}">${escapeHtml(b.label)}</a></p>`;
    }
  });
  return [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(doc.subject)}</title></head>`,
    '<body style="font-family:sans-serif;line-height:1.4;color:#111">',
    '<p>Hello,</p>',
    ...parts,
    '<p>— rekey</p>',
    '</body></html>',
    '',
  ].join('\n');
}

/** Renders one alert email: a single-line subject and matching plain-text and HTML bodies. */
export function renderEmail(req: EmailRequest, ctx: EmailContext): RenderedEmail {
  const doc = build(req, ctx);
  return { subject: doc.subject, text: toText(doc), html: toHtml(doc) };
}
