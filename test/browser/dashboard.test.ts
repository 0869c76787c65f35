/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core, never a browser
 * download) against local mode on a free port: sign in, create, copy, rotate, watch the window,
 * cancel, rotate again, see the old secret go at expiry, revoke and reactivate, errors in words,
 * read-only keys, keyboard use, contrast, and layout at 375 px and 1280 px (screenshots saved to
 * `test-results/screenshots/`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RekeyClient } from '../../client/index.js';
import { PUBLISHED_EVENT_TYPES } from '../../shared/domain/types.js';
import { startLocal } from '../e2e/harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST_INDEX = join(ROOT, 'dashboard', 'dist', 'index.html');
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

type Local = Awaited<ReturnType<typeof startLocal>>;

/** Newest modification time of the dashboard's inputs (its sources and the client it bundles). */
function newestSourceMtime(): number {
  let newest = 0;
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['dashboard/src', 'dashboard/index.html', 'dashboard/vite.config.ts', 'client']) {
    if (existsSync(join(ROOT, p))) walk(join(ROOT, p));
  }
  return newest;
}

/** Builds `dashboard/dist` when it is missing or older than its sources, so the test sees this checkout. */
function ensureDashboardBuilt(): void {
  if (existsSync(DIST_INDEX) && statSync(DIST_INDEX).mtimeMs >= newestSourceMtime()) return;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dashboard build failed:\n${r.stdout}\n${r.stderr}`);
}

/** The card of the webhook endpoint described as `description`. */
const hookCard = (description: string): Locator => page.locator('section.webhooks article.card', { has: page.getByRole('heading', { name: description, exact: true }) });

/** The webhook endpoints section. */
const panelOf = (): Locator => page.locator('section.webhooks');

/** A client signed in with the account's first key, to check what the page did from outside. */
const admin = () => new RekeyClient({ baseUrl: local.baseUrl, secret: adminSecret });

/** The `.eml` files local mode wrote to `address` (their `To:` header), oldest first. */
function mailsTo(address: string): string[] {
  const dir = join(local.dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((m) => (/^To: (.*)$/m.exec(m)?.[1] ?? '').split(', ').includes(address));
}

interface Hit {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly status: number;
}

/** A webhook receiver on 127.0.0.1 that records every request and answers 500 `failNext` times, then 200. */
interface Receiver {
  readonly url: string;
  readonly hits: Hit[];
  failNext: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const hits: Hit[] = [];
  const headersOf = (h: IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
  const r: Receiver = {
    url: '',
    hits,
    failNext: 0,
    close: () => new Promise((done) => server.close(() => done())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = r.failNext > 0 ? 500 : 200;
      if (r.failNext > 0) r.failNext--;
      hits.push({ headers: headersOf(req.headers), body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver failing on purpose');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  Object.assign(r, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/rekey` });
  return r;
}

let local: Local;
let context: BrowserContext;
let page: Page;
let profileDir: string;
let adminSecret: string;
const requested: string[] = [];
const consoleErrors: string[] = [];
let receiver: Receiver;
const signingSecrets: string[] = [];

/** The card of the key named `name`. */
const card = (name: string): Locator => page.locator('article.card', { has: page.getByRole('heading', { name, exact: true }) });

async function whoamiStatus(secret: string): Promise<{ status: number; slot?: string }> {
  const res = await fetch(`${local.baseUrl}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } });
  const body = (await res.json()) as { slot?: string };
  return { status: res.status, ...(body.slot ? { slot: body.slot } : {}) };
}

/** Polls until `fn` holds: access taken away reaches the authorizer within its cache TTL, not at once. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Saves a screenshot at `width`: the full page, just the viewport while a modal dialog is open
 * (`fullPage` false), or one region (`region`) so a narrow page's part can be read at full size.
 */
async function shot(name: string, width: number, fullPage = true, region?: Locator): Promise<void> {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: width < 600 ? 812 : 900 });
  await page.waitForTimeout(150);
  if (region) await region.screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
  else await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage });
  // Nothing may force sideways scrolling at either width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `horizontal overflow at ${width}px in ${name}`).toBeLessThanOrEqual(0);
  if (before) await page.setViewportSize(before);
}

/** Text whose colour contrast with its background is below WCAG AA (4.5:1, 3:1 for large text). */
async function contrastFailures(): Promise<string[]> {
  return page.evaluate(() => {
    type RGBA = { r: number; g: number; b: number; a: number };
    const parse = (c: string): RGBA => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      const p = (m?.[1] ?? '0,0,0,0').split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0] ?? 0, g: p[1] ?? 0, b: p[2] ?? 0, a: p[3] ?? 1 };
    };
    const channel = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    const lum = (c: RGBA) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
    const background = (el: Element | null): RGBA => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (!(el as HTMLElement).checkVisibility?.()) continue;
      if ((el as HTMLButtonElement).disabled) continue;
      const ownText = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
      if (!ownText) continue;
      const cs = getComputedStyle(el);
      const l1 = lum(parse(cs.color));
      const l2 = lum(background(el));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) out.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent ?? '').trim().slice(0, 40)}" ${ratio.toFixed(2)}:1`);
    }
    return out;
  });
}

beforeAll(async () => {
  ensureDashboardBuilt();
  mkdirSync(SHOTS, { recursive: true });
  local = await startLocal({
    env: {
      // Short policies so windows run out while the test watches.
      REMINDER_LEAD_SECONDS: '2',
      AUTH_CACHE_TTL_SECONDS: '1',
      // Usage is written within a second instead of a minute, so the traffic chart fills while the test watches.
      USAGE_FLUSH_SECONDS: '1',
      // The harness turns the dashboard off by default; this test is about it.
      REKEY_DASHBOARD: 'auto',
    },
  });
  adminSecret = (await local.createAccount({ allowScopes: ['reports:export'] })).secret;
  profileDir = mkdtempSync(join(tmpdir(), 'rekey-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: local.baseUrl });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => {
    // Chromium logs every non-2xx answer ("Failed to load resource"); the test provokes 400s and
    // 401s on purpose and config.json is optional, so only other errors count.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  // Local mode serves config.json like a deployment does: the page must never fail to load it.
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/config.json' && r.status() !== 200) consoleErrors.push(`config.json answered ${r.status()}`);
  });
});

afterAll(async () => {
  if (receiver) await receiver.close();
  await context?.close();
  await local?.dispose();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe('dashboard', () => {
  let firstSecret = '';
  let secondSecret = '';
  let thirdSecret = '';

  it('refuses an unknown key in words and signs in with a valid one kept only in sessionStorage', async () => {
    await page.goto(`${local.baseUrl}/`);
    const input = page.getByLabel('API key');
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await input.getAttribute('type')).toBe('password');
    await page.keyboard.type('rekey_live_0000000000000000_nope');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/not accepted/i);
    // A well-formed secret the API refuses: explained once, not twice.
    await input.fill(`rekey_live_${'A'.repeat(22)}_${'b'.repeat(49)}`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/unknown, mistyped, expired or revoked/);
    expect(await page.getByRole('alert').innerText()).not.toMatch(/Missing or invalid API key/);
    await shot('signin-error', 375);
    await shot('signin-error', 1280);

    await input.fill(adminSecret);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('rekey.dashboard.secret'))).toBe(adminSecret);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(adminSecret);
    // The header names the signed-in key, not its id.
    expect(await page.locator('.who').innerText()).toMatch(/Signed in as\s+Initial key/);
    // Focus moves to the key list after signing in.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // A reload keeps the session (sessionStorage) and the first Tab stop is the skip link, which
    // moves focus to the main region.
    await page.reload();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // The signing-in key's card is there, its hint shown prominently.
    await expect.poll(() => page.locator('[data-testid="current-hint"]').first().innerText()).toMatch(new RegExp(`…${adminSecret.slice(-4)}$`));
  });

  it('shows a validation error in words, then creates a key and shows its secret once with a working copy button', async () => {
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a key' });
    await dialog.waitFor();
    expect(await page.evaluate(() => !!document.activeElement?.closest('dialog'))).toBe(true);
    await dialog.getByLabel('Name').fill('billing-worker');
    await dialog.getByLabel(/Other scopes/).fill('Not A Scope!');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const alert = dialog.getByRole('alert');
    await expect.poll(() => alert.innerText()).toMatch(/not accepted/i);
    expect(await alert.innerText()).toMatch(/scopes/);

    await dialog.getByLabel(/Other scopes/).fill('reports:export');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Key created' });
    await secretDialog.waitFor();
    expect(await secretDialog.innerText()).toMatch(/will not be shown again/);
    firstSecret = await secretDialog.getByLabel('New secret').inputValue();
    expect(firstSecret).toMatch(/^rekey_live_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$/);
    await secretDialog.getByRole('button', { name: 'Copy secret' }).click();
    await expect.poll(() => secretDialog.getByRole('status').innerText()).toMatch(/Copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(firstSecret);
    await shot('secret-shown', 375, false);
    await shot('secret-shown', 1280, false);

    await secretDialog.getByRole('button', { name: /close/i }).first().click();
    await secretDialog.waitFor({ state: 'detached' });
    // Shown once: after closing, the secret is nowhere in the page.
    expect(await page.content()).not.toContain(firstSecret);
    expect(await whoamiStatus(firstSecret)).toEqual({ status: 200, slot: 'current' });
    expect(await card('billing-worker').getByTestId('current-hint').innerText()).toBe(`rekey_live_…${firstSecret.slice(-4)}`);
  });

  it('rotates with a short custom window and shows both secrets, a live countdown and the timeline', async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: /Rotate/ });
    await dialog.waitFor();
    expect(await dialog.getByLabel(/24 hours/).isChecked()).toBe(true);
    expect(await dialog.locator('label.choice', { hasText: '24 hours' }).innerText()).toBe('24 hours (default)');
    // The custom field appears only once "Custom" is chosen.
    expect(await dialog.getByLabel(/Custom duration/).count()).toBe(0);
    await shot('rotate-dialog', 375, false);
    await shot('rotate-dialog', 1280, false);
    await dialog.getByLabel('Custom', { exact: true }).check();
    await shot('rotate-dialog-custom', 375, false);
    // At 375 px no preset label wraps onto a second line.
    await page.setViewportSize({ width: 375, height: 812 });
    for (const h of await dialog.locator('label.choice .choice-text').evaluateAll((els) => els.map((e) => e.getClientRects().length))) expect(h).toBe(1);
    // The custom field's placeholder and its help fit too (one line each).
    const custom = dialog.getByLabel(/Custom duration/);
    const placeholderFits = await custom.evaluate((el: HTMLInputElement) => {
      const ctx = document.createElement('canvas').getContext('2d')!;
      const cs = getComputedStyle(el);
      ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
      return ctx.measureText(el.placeholder).width <= el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    });
    expect(placeholderFits).toBe(true);
    expect(await dialog.locator('#rotate-window-custom-help').evaluate((el) => el.getBoundingClientRect().height < parseFloat(getComputedStyle(el).lineHeight) * 1.5)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    await dialog.getByLabel(/Custom duration/).fill('40');
    expect(await dialog.getByLabel('Custom', { exact: true }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Your new secret' });
    await secretDialog.waitFor();
    secondSecret = await secretDialog.getByLabel('New secret').inputValue();
    await secretDialog.getByRole('button', { name: /I have stored it/ }).click();

    const old = c.getByTestId('old-secret');
    await old.waitFor();
    expect(await c.getByTestId('current-hint').innerText()).toBe(`rekey_live_…${secondSecret.slice(-4)}`);
    expect(await old.innerText()).toContain(`…${firstSecret.slice(-4)}`);
    const first = await old.getByTestId('countdown').innerText();
    expect(first).toMatch(/^00:(3\d|40)$/);
    // Live: it ticks down on its own, without any reload.
    await expect.poll(() => old.getByTestId('countdown').innerText(), { timeout: 2_500 }).not.toBe(first);
    expect(await c.getByRole('img', { name: /Transition window/ }).count()).toBe(1);
    // The "now" label sits on its marker, and the end labels stay on one line each.
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      const marker = (await c.locator('.tl-now').boundingBox())!;
      const label = (await c.locator('.tl-now-label').boundingBox())!;
      expect(label.x, `now label at ${width}px`).toBeLessThanOrEqual(marker.x + marker.width);
      expect(label.x + label.width, `now label at ${width}px`).toBeGreaterThanOrEqual(marker.x);
      for (const n of await c.locator('.tl-labels time').evaluateAll((els) => els.map((e) => e.getClientRects().length))) expect(n, `end label at ${width}px`).toBe(1);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await c.getByRole('timer').count()).toBe(1);
    // Both secrets really work during the window.
    expect(await whoamiStatus(secondSecret)).toEqual({ status: 200, slot: 'current' });
    expect(await whoamiStatus(firstSecret)).toEqual({ status: 200, slot: 'previous' });
    await shot('rotation-in-progress', 1280);
    await shot('rotation-in-progress', 375);
  });

  it('extends the window from the card', async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Extend or shorten' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the transition window' });
    // It opens on a preset, and "(default)" means nothing here.
    expect(await dialog.getByLabel(/24 hours/).isChecked()).toBe(true);
    expect(await dialog.innerText()).not.toContain('default');
    await dialog.getByLabel('Custom', { exact: true }).check();
    await dialog.getByLabel(/Custom duration/).fill('1:00');
    await dialog.getByRole('button', { name: 'Change window' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await c.getByTestId('countdown').innerText()).toMatch(/^(00:59:5\d|01:00:0\d)$/);
  });

  it('cancels the rotation: the old secret is current again and the new one stops working', async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Cancel rotation' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel the rotation' });
    expect(await dialog.getByLabel('Stops working now').isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel rotation' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await c.getByTestId('old-secret').count()).toBe(0);
    // Focus came back to the card (its buttons were replaced); that must not look like a selection.
    expect(await page.evaluate(() => (document.activeElement instanceof HTMLElement && document.activeElement.matches('article.card') ? getComputedStyle(document.activeElement).outlineStyle : 'none'))).toBe('none');
    expect(await c.getByTestId('current-hint').innerText()).toBe(`rekey_live_…${firstSecret.slice(-4)}`);
    expect((await eventually(() => whoamiStatus(secondSecret), (r) => r.status === 401)).status).toBe(401);
    expect(await whoamiStatus(firstSecret)).toEqual({ status: 200, slot: 'current' });
  });

  it('asks for explicit confirmation before rotating immediately, and Escape closes the dialog back to its button', async () => {
    const c = card('billing-worker');
    const rotate = c.getByRole('button', { name: 'Rotate' });
    await rotate.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: /Rotate/ });
    await dialog.waitFor();
    await dialog.getByLabel(/Immediately/).check();
    await dialog.getByRole('button', { name: 'Rotate immediately' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/confirmation/i);
    expect(await whoamiStatus(firstSecret)).toEqual({ status: 200, slot: 'current' });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus returns in the frame after the dialog unmounts: poll rather than read it once.
    await expect.poll(() => rotate.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('rotates again and the old secret disappears from the card when its window ends', async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: /Rotate/ });
    await dialog.getByLabel('Custom', { exact: true }).check();
    await dialog.getByLabel(/Custom duration/).fill('5');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Your new secret' });
    thirdSecret = await secretDialog.getByLabel('New secret').inputValue();
    await secretDialog.getByRole('button', { name: /I have stored it/ }).click();
    await c.getByTestId('old-secret').waitFor();
    await c.getByTestId('old-secret').waitFor({ state: 'detached', timeout: 15_000 });
    // After expiry the card offers the restore (restore window 24 h) and the old secret is refused.
    await c.getByRole('button', { name: 'Restore old secret' }).waitFor();
    expect(await c.getByTestId('current-hint').innerText()).toBe(`rekey_live_…${thirdSecret.slice(-4)}`);
    expect((await whoamiStatus(firstSecret)).status).toBe(401);
  });

  it('revokes after confirmation and reactivates within the window', async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: /Revoke/ });
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await c.locator('.badge.st-revoked').waitFor();
    expect((await eventually(() => whoamiStatus(thirdSecret), (r) => r.status === 401)).status).toBe(401);
    // No blue "current secret … expires never" above "every secret is refused", and no restore offer.
    expect(await c.locator('.secret-block.current').count()).toBe(0);
    expect(await c.locator('.secret-block.refused').innerText()).toMatch(/refused while revoked/i);
    expect(await c.getByText(/can be restored/).count()).toBe(0);
    // The reactivation countdown keeps its hours from the first second (01:00:00, 00:59:59…).
    expect(await c.locator('section.revoked [role="timer"]').innerText()).toMatch(/^(01:00:00|00:59:5\d)$/);
    await shot('revoked', 375);
    await shot('revoked', 1280);
    await c.getByRole('button', { name: 'Reactivate' }).click();
    await c.locator('.badge.st-active').waitFor();
    expect(await c.getByRole('button', { name: 'Reactivate' }).count()).toBe(0);
    expect(await whoamiStatus(thirdSecret)).toEqual({ status: 200, slot: 'current' });
  });

  it("lists the key's audit trail newest first and loads more on request", async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Show activity' }).click();
    const items = c.locator('ol.events > li');
    await items.first().waitFor();
    // Newest first: the reactivation leads, right after its revocation. An expiry announcement that
    // came due while the key was revoked is made on reactivation, so it may lead instead.
    const newest = await items.allInnerTexts();
    const reactivated = newest.findIndex((t) => /reactivated/i.test(t));
    expect(reactivated).toBeGreaterThanOrEqual(0);
    expect(reactivated).toBeLessThanOrEqual(1);
    if (reactivated === 1) expect(newest[0]).toMatch(/old secret .* stopped working/i);
    expect(newest[reactivated + 1]).toMatch(/revoked the key/i);
    // Sentences with key names, not ids or field dumps; the raw event one click away.
    expect(newest[reactivated]).toMatch(/^The key “Initial key” reactivated the key/);
    expect(newest.join('\n')).not.toMatch(/rotation id|by key [0-9A-Za-z]{6}/);
    const raw = items.nth(reactivated).locator('details.event-raw');
    expect(await raw.locator('pre').isVisible()).toBe(false);
    await raw.locator('summary').click();
    expect(JSON.parse(await raw.locator('pre').innerText())).toMatchObject({ type: 'api_key.reactivated' });
    await shot('audit', 375);
    const before = await items.count();
    await c.getByRole('button', { name: 'Load more events' }).click();
    await expect.poll(() => items.count()).toBeGreaterThan(before);
    const all = (await items.allInnerTexts()).join('\n');
    expect(all).toMatch(/created/i);
    expect(all).toMatch(/cancel/i);
    expect(all).toMatch(/revoked/i);
  });

  it('after a restore, says which secret still works and until when, and ends it on request so the key can rotate', async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Restore old secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore the old secret' });
    await dialog.getByRole('button', { name: 'Restore old secret' }).click();
    await dialog.waitFor({ state: 'detached' });
    const parked = c.getByTestId('parked-secret');
    await parked.waitFor();
    expect(await parked.innerText()).toMatch(new RegExp(`rekey_live_…${thirdSecret.slice(-4)} still works until`));
    expect(await c.getByRole('button', { name: 'Rotate' }).count()).toBe(0);
    await shot('restored', 375);
    await shot('restored', 1280);
    await parked.getByRole('button', { name: 'End it now' }).click();
    const confirm = page.getByRole('dialog', { name: /End the cancelled rotation/ });
    await confirm.getByRole('button', { name: 'End it now' }).click();
    await confirm.waitFor({ state: 'detached' });
    await parked.waitFor({ state: 'detached' });
    await c.getByRole('button', { name: 'Rotate' }).waitFor();
    expect(await c.getByTestId('current-hint').innerText()).toBe(`rekey_live_…${firstSecret.slice(-4)}`);
    expect((await eventually(() => whoamiStatus(thirdSecret), (r) => r.status === 401)).status).toBe(401);
  });

  it('edits the alert emails and explains an invalid address in words', async () => {
    const box = page.getByLabel(/Alert emails/);
    await box.fill('ops@example.com\nnot-an-email');
    await page.getByRole('button', { name: 'Save alert emails' }).click();
    const account = page.locator('section.account');
    await expect.poll(() => account.getByRole('alert').innerText()).toMatch(/not accepted/i);
    expect(await account.getByRole('alert').innerText()).toMatch(/alertEmails: “not-an-email”/);
    await box.fill('ops@example.com\nsecurity@example.com');
    await page.getByRole('button', { name: 'Save alert emails' }).click();
    await expect.poll(() => account.getByRole('status').innerText()).toBe('Saved.');
    const res = await new RekeyClient({ baseUrl: local.baseUrl, secret: adminSecret }).getAccount();
    // A new address waits for its confirmation (SPEC §10); the dashboard says so.
    expect([...res.account.alertEmails, ...res.account.pendingEmails].sort()).toEqual(['ops@example.com', 'security@example.com']);
    expect(res.account.pendingEmails).toContain('security@example.com');
    await expect.poll(() => account.getByTestId('pending-emails').innerText()).toMatch(/security@example\.com/);
    await shot('keys', 1280);
    await shot('keys', 375);
  });

  it('shows a leaked key plainly: where it was found, what rekey did, what to do next, and no reactivation', async () => {
    const admin = new RekeyClient({ baseUrl: local.baseUrl, secret: adminSecret });
    const { key, secret } = await admin.createKey({ name: 'leaked-key' });
    // Anyone who finds the secret reports it (no API key): the key is revoked for good.
    expect((await admin.reportLeaks({ secrets: [secret] })).results).toEqual([{ hint: key.currentSecret.hint, outcome: 'revoked' }]);
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    const c = card('leaked-key');
    await c.locator('.badge', { hasText: 'leaked' }).waitFor();
    const notice = c.getByRole('alert').filter({ hasText: 'This key leaked and has been revoked' });
    await notice.waitFor();
    await notice.getByText(/reported it to rekey directly/).waitFor();
    expect(await notice.innerText()).toMatch(/can\s+never be reactivated/);
    expect(await notice.innerText()).toMatch(/Create a replacement key/);
    expect(await notice.innerText()).toContain(key.currentSecret.hint);
    expect(await notice.innerText()).not.toContain(secret);
    expect(await c.getByRole('button', { name: 'Reactivate' }).count()).toBe(0);
    await shot('leaked', 375);
  });

  it('during a rotation charts requests per minute by old and new secret, says where the old one was last used from, and offers the idle cut-over', async () => {
    const admin = new RekeyClient({ baseUrl: local.baseUrl, secret: adminSecret });
    const { secret: oldSecret } = await admin.createKey({ name: 'orders-feed', scopes: [] });
    const hit = async (secret: string, userAgent: string) => {
      const res = await fetch(`${local.baseUrl}/v1/whoami`, { headers: { authorization: `Bearer ${secret}`, 'user-agent': userAgent } });
      expect(res.status).toBe(200);
    };
    for (let i = 0; i < 3; i++) await hit(oldSecret, 'legacy-cron/0.9');
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    const c = card('orders-feed');
    await c.waitFor();
    await c.getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: /Rotate/ });
    await dialog.waitFor();
    await dialog.getByLabel(/Expire the old secret early/).check();
    await dialog.getByLabel('Quiet time in minutes').fill('5');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    await dialog.getByText(/from 10 up to the window/).waitFor(); // refused in words, nothing sent
    await shot('rotate-dialog-idle', 375, false);
    await dialog.getByLabel('Quiet time in minutes').fill('20');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Your new secret' });
    await secretDialog.waitFor();
    const newSecret = await secretDialog.getByLabel('New secret').inputValue();
    await secretDialog.getByRole('button', { name: /I have stored it/ }).click();
    expect(await c.getByTestId('idle-cutover').innerText()).toMatch(/after 20 min unused, once the new secret has been used/);

    for (let i = 0; i < 2; i++) await hit(oldSecret, 'legacy-cron/0.9');
    for (let i = 0; i < 4; i++) await hit(newSecret, 'orders-worker/2.0');
    const chart = c.getByRole('img', { name: /Requests per minute/ });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh', exact: true }).click();
          await page.waitForTimeout(300);
          return (await chart.count()) ? await chart.getAttribute('aria-label') : '';
        },
        { timeout: 15_000 },
      )
      .toMatch(/old secret [25], new secret 4\.$/);
    // Drawn by the app as SVG bars: the old secret's and the new secret's, side by side.
    expect(await c.locator('svg rect.bar-new').count()).toBeGreaterThan(0);
    expect(await c.locator('svg rect.bar-old').count()).toBeGreaterThan(0);
    expect(await c.getByTestId('old-last-used-from').innerText()).toBe('127.0.0.1 · legacy-cron/0.9');
    await expect.poll(() => c.getByTestId('idle-cutover').innerText(), { timeout: 5_000 }).toMatch(/expires once unused for 20 min/);
    // Used a moment ago: no "quiet" statement yet (it appears after 15 minutes without use).
    expect(await c.getByTestId('old-quiet').count()).toBe(0);
    await shot('rotation-traffic', 1280);
    await shot('rotation-traffic', 375);
  });

  it('adds a webhook endpoint: a bad URL is explained, the signing secret is shown once, and a test event reaches a receiver that verifies it with standardwebhooks', async () => {
    receiver = await startReceiver();
    const panel = panelOf();
    await panel.getByText('No endpoints yet.').waitFor();
    await panel.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
    await dialog.waitFor();
    // Every event type is offered, all chosen by default, each with a sentence.
    expect(await dialog.getByRole('checkbox').count()).toBe(PUBLISHED_EVENT_TYPES.length);
    expect(await dialog.getByRole('checkbox', { checked: false }).count()).toBe(0);
    await dialog.getByLabel('URL').fill('hooks.example.com/rekey');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/^URL: .* is not a web address/);
    // A URL the API refuses (SSRF rules, SPEC §10) is explained with its field.
    await dialog.getByLabel('URL').fill('http://10.0.0.7/hook');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/url/i);
    expect((await admin().listWebhooks()).webhooks).toEqual([]);
    await shot('webhook-dialog', 375, false);
    await shot('webhook-dialog', 1280, false);

    await dialog.getByLabel('URL').fill(receiver.url);
    await dialog.getByLabel(/Description/).fill('Ops receiver');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Endpoint added' });
    await secretDialog.waitFor();
    expect(await secretDialog.innerText()).toMatch(/will not be shown again/);
    expect(await secretDialog.innerText()).toMatch(/Signing secret for\s+Ops receiver/);
    signingSecrets.push(await secretDialog.getByLabel('Signing secret').inputValue());
    expect(signingSecrets[0]).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await shot('webhook-secret', 375, false);
    await secretDialog.getByRole('button', { name: /I have stored it/ }).click();
    await secretDialog.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(signingSecrets[0]!.slice(6));

    const c = hookCard('Ops receiver');
    expect(await c.locator('.badge.wh-enabled').innerText()).toBe('enabled');
    expect(await c.getByTestId('signing-hint').innerText()).toBe(`whsec_…${signingSecrets[0]!.slice(-5, -1)}`);
    expect(await c.innerText()).toMatch(/all key events/);
    await c.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => c.getByRole('status').innerText()).toMatch(/Test event queued/);
    // The deliveries list opens and follows the delivery until the receiver's 2xx.
    const delivery = c.locator('li.delivery').first();
    await expect.poll(() => delivery.locator('.badge').innerText(), { timeout: 10_000 }).toBe('delivered');
    expect(await delivery.innerText()).toMatch(/webhook\.test/);
    expect(await delivery.locator('ol.attempts > li').innerText()).toMatch(/ · 200 · \d+ ms$/);
    expect(receiver.hits).toHaveLength(1);
    const hit = receiver.hits[0]!;
    expect(() => new Webhook(signingSecrets[0]!).verify(hit.body, hit.headers)).not.toThrow();
    expect(JSON.parse(hit.body)).toMatchObject({ type: 'webhook.test' });
    await shot('webhooks', 1280, true, panelOf());
    await shot('webhooks', 375, true, panelOf());
  });

  it("shows a failing delivery's status code and next retry, then the retry delivered with the same webhook-id", async () => {
    const c = hookCard('Ops receiver');
    receiver.failNext = 1;
    await c.getByRole('button', { name: 'Send test event' }).click();
    const queued = await eventually(() => c.getByRole('status').innerText(), (t) => /delivery \S+\)/.test(t));
    const deliveryId = /delivery (\S+)\)/.exec(queued)![1]!;
    const delivery = c.locator(`li.delivery[data-delivery-id="${deliveryId}"]`);
    // Newest first: the new delivery leads the list.
    await expect.poll(() => c.locator('li.delivery').first().getAttribute('data-delivery-id')).toBe(deliveryId);
    await expect.poll(() => delivery.locator('ol.attempts > li').count(), { timeout: 10_000 }).toBe(1);
    expect(await delivery.locator('.badge').innerText()).toBe('pending');
    expect(await delivery.locator('ol.attempts > li').innerText()).toMatch(/ · 500 · \d+ ms$/);
    expect(await delivery.innerText()).toMatch(/1 attempt failed so far; retrying — next attempt .*\((in \d+ seconds|just now)\)/);
    await shot('webhook-retry', 375, true, c);
    // No click: the list follows a retry due within a minute (about 5 s here); a keyboard user
    // parked on its Refresh button keeps focus through every re-read.
    await c.getByRole('button', { name: 'Refresh deliveries' }).focus();
    await expect.poll(() => delivery.locator('.badge').innerText(), { timeout: 15_000 }).toBe('delivered');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Refresh deliveries');
    expect(await delivery.innerText()).toMatch(/Delivered after 2 attempts/);
    const [failed, retried] = receiver.hits.slice(-2);
    expect(failed!.status).toBe(500);
    expect(retried!.headers['webhook-id']).toBe(failed!.headers['webhook-id']);
  });

  it('rotates the signing secret with an overlap: the new one shown once, both hints listed, both verify, a second rotation refused in words', async () => {
    const c = hookCard('Ops receiver');
    await c.getByRole('button', { name: 'Rotate signing secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret' });
    expect(await dialog.getByLabel(/24 hours/).isChecked()).toBe(true);
    // Stopping the old signing secret at once needs an explicit confirmation; nothing is sent without it.
    await dialog.getByLabel('Stop at once').check();
    await dialog.getByRole('button', { name: 'Rotate signing secret' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/Tick the confirmation box/);
    expect((await admin().getWebhook((await c.getAttribute('data-webhook-id'))!)).webhook.signingSecretHints).toHaveLength(1);
    await dialog.getByLabel('1 hour').check();
    await dialog.getByRole('button', { name: 'Rotate signing secret' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'New signing secret' });
    signingSecrets.push(await secretDialog.getByLabel('Signing secret').inputValue());
    expect(signingSecrets[1]).toMatch(/^whsec_/);
    expect(signingSecrets[1]).not.toBe(signingSecrets[0]);
    await secretDialog.getByRole('button', { name: /I have stored it/ }).click();
    expect(await c.getByTestId('signing-hint').innerText()).toBe(`whsec_…${signingSecrets[1]!.slice(-5, -1)}`);
    expect(await c.getByTestId('old-signing-hint').innerText()).toContain(`whsec_…${signingSecrets[0]!.slice(-5, -1)}`);
    const before = receiver.hits.length;
    await c.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => receiver.hits.length, { timeout: 10_000 }).toBe(before + 1);
    const hit = receiver.hits.at(-1)!;
    expect(hit.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of signingSecrets) expect(() => new Webhook(secret).verify(hit.body, hit.headers)).not.toThrow();
    // While the old one still signs, a second rotation is refused and says why.
    await c.getByRole('button', { name: 'Rotate signing secret' }).click();
    const again = page.getByRole('dialog', { name: 'Rotate the signing secret' });
    await again.getByRole('button', { name: 'Rotate signing secret' }).click();
    await expect.poll(() => again.getByRole('alert').innerText()).toMatch(/old signing secret is still valid/);
    await page.keyboard.press('Escape');
    await again.waitFor({ state: 'detached' });
    expect((await admin().getWebhook((await c.getAttribute('data-webhook-id'))!)).webhook.signingSecretHints).toHaveLength(2);
  });

  it('edits the event types (none is refused in words), pauses and enables, and deletes an endpoint after confirmation', async () => {
    const c = hookCard('Ops receiver');
    const id = (await c.getAttribute('data-webhook-id'))!;
    await c.getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the endpoint' });
    await dialog.getByRole('button', { name: 'Clear' }).click();
    await dialog.getByRole('button', { name: 'Save endpoint' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/^Events: choose at least one/);
    await dialog.getByRole('checkbox', { name: /api_key\.rotated/ }).check();
    await dialog.getByRole('checkbox', { name: /api_key\.exposed/ }).check();
    await dialog.getByRole('button', { name: 'Save endpoint' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await admin().getWebhook(id)).webhook.eventTypes).toEqual(['api_key.rotated', 'api_key.exposed']);
    expect(await c.locator('dd', { hasText: 'api_key.rotated' }).innerText()).toBe('api_key.rotated, api_key.exposed');

    // From the keyboard: focus stays on the button, whose label flips (a disabled or replaced button would drop it to <body>).
    await c.getByRole('button', { name: 'Pause' }).focus();
    await page.keyboard.press('Enter');
    await c.locator('.badge.wh-paused').waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Enable');
    expect(await c.getByTestId('disabled-reason').innerText()).toMatch(/Paused: no events are sent/);
    expect((await admin().getWebhook(id)).webhook).toMatchObject({ enabled: false, disabledReason: 'user' });
    await shot('webhook-paused', 375, true, c);
    await c.getByRole('button', { name: 'Enable' }).click();
    await c.locator('.badge.wh-enabled').waitFor();
    expect((await admin().getWebhook(id)).webhook).toMatchObject({ enabled: true, disabledReason: null });

    await c.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: /Delete the endpoint/ });
    // The safe choice has the focus: Enter alone does not delete.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
    await confirm.waitFor({ state: 'detached' });
    await c.waitFor({ state: 'detached' });
    expect((await admin().listWebhooks()).webhooks).toEqual([]);
  });

  it('keeps dialogs and cards within the screen for the longest description and URL the API accepts', async () => {
    const long = await admin().createWebhook({ url: `http://127.0.0.1:9/${'u'.repeat(2000)}`, description: 'D'.repeat(256) });
    await panelOf().getByRole('button', { name: 'Refresh endpoints' }).click();
    const c = page.locator(`article[data-webhook-id="${long.webhook.id}"]`);
    await c.waitFor();
    await page.setViewportSize({ width: 375, height: 812 });
    // A 2 KB URL is shortened on the card (the full one behind a disclosure), not a screen-high column.
    expect((await c.boundingBox())!.height).toBeLessThan(1000);
    await c.locator('details.full-url summary').click();
    expect(await c.locator('details.full-url').innerText()).toContain('u'.repeat(2000));
    await shot('webhook-long', 375, true, c);
    await c.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: /Delete the endpoint/ });
    await confirm.waitFor();
    const fits = () => confirm.evaluate((el) => el.scrollWidth <= el.clientWidth);
    expect(await fits()).toBe(true);
    // The close button stays on screen.
    const close = (await confirm.getByRole('button', { name: 'Close dialog' }).boundingBox())!;
    expect(close.x + close.width).toBeLessThanOrEqual(375);
    await shot('webhook-delete-long', 375, false);
    await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
    await c.waitFor({ state: 'detached' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("edits a key's contacts: a bad address is explained with its field, a new one waits for confirmation on the card and joins after the link", async () => {
    const c = card('billing-worker');
    await c.getByRole('button', { name: 'Edit contacts' }).click();
    const dialog = page.getByRole('dialog', { name: /Contacts of “billing-worker”/ });
    // Focus starts in the field, not on the dialog's close button.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('contacts-text');
    await dialog.getByLabel(/Contacts/).fill('ana@example.com\nnot-an-address');
    await dialog.getByRole('button', { name: 'Save contacts' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/contacts: “not-an-address” must be an email address/);
    const keyId = (await c.getAttribute('data-key-id'))!;
    expect((await admin().getKey(keyId)).key).toMatchObject({ contacts: [], pendingEmails: [] });
    await dialog.getByLabel(/Contacts/).fill(['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `${x}@example.com`).join('\n'));
    await dialog.getByRole('button', { name: 'Save contacts' }).click();
    await expect.poll(() => dialog.getByRole('alert').innerText()).toMatch(/contacts: .*5/);
    await shot('contacts-dialog', 375, false);
    await dialog.getByLabel(/Contacts/).fill('ana@example.com');
    await dialog.getByRole('button', { name: 'Save contacts' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await c.getByTestId('pending-contacts').innerText()).toBe('Waiting for confirmation: ana@example.com');
    expect(await c.getByTestId('contacts').innerText()).toMatch(/^none/);
    // The address got its confirmation link (local mode writes emails to <data dir>/outbox).
    const linkIn = () => /http:\/\/\S+\/v1\/email-confirmations\/[A-Za-z0-9_-]{43}/.exec(mailsTo('ana@example.com').join('\n'))?.[0];
    const link = await eventually(async () => linkIn(), (l) => l !== undefined);
    expect(link).toBeDefined();
    expect((await fetch(link!)).status).toBe(200);
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await expect.poll(() => c.getByTestId('contacts').innerText()).toBe('ana@example.com');
    expect(await c.getByTestId('pending-contacts').count()).toBe(0);
    await shot('contacts', 375, true, c);
  });

  it('keeps text contrast at WCAG AA and loads nothing from any other host', async () => {
    expect(await contrastFailures()).toEqual([]);
    const foreign = requested.filter((u) => !u.startsWith(local.baseUrl) && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('shows a read-only key no write actions at all', async () => {
    const admin = new RekeyClient({ baseUrl: local.baseUrl, secret: adminSecret });
    const { secret } = await admin.createKey({ name: 'auditor', scopes: ['keys:read'] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate(() => sessionStorage.getItem('rekey.dashboard.secret'))).toBeNull();
    await page.getByLabel('API key').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await card('billing-worker').waitFor();
    await page.getByText('read-only').first().waitFor();
    const writes = page.getByRole('button', { name: /create|rotate|revoke|reactivate|save|cancel rotation|extend|expire|restore|contacts|add endpoint|send test|pause|enable|edit|delete/i });
    expect(await page.locator('section.webhooks').getByRole('heading', { name: 'Webhook endpoints' }).count()).toBe(1);
    expect(await writes.count()).toBe(0);
    expect(await page.getByLabel(/Alert emails/).getAttribute('readonly')).not.toBeNull();
    // Reading still works: the audit trail opens.
    await card('billing-worker').getByRole('button', { name: 'Show activity' }).click();
    await card('billing-worker').locator('ol.events > li').first().waitFor();
    await shot('read-only', 375);
  });
});
