import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalScheduler } from '../../shared/local/localScheduler.js';
import { FileMailer, encodeHeader } from '../../shared/local/fileMailer.js';
import { JsonlEventPublisher } from '../../shared/local/jsonlEvents.js';
import { FilePepper } from '../../shared/local/filePepper.js';
import { SecretInEventError } from '../../shared/domain/eventDetail.js';
import { generateSecret } from '../../shared/domain/keyFormat.js';
import type { AuditEvent, Timer } from '../../shared/domain/types.js';
import type { EmailMessage } from '../../shared/domain/ports.js';

let dir: string;
const started: LocalScheduler[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rekey-local-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

const timer = (id: string, at: number): Timer => ({ id, keyId: 'K3yId0123456789a', kind: 'old_secret_expired', at });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}
function scheduler(opts: Partial<ConstructorParameters<typeof LocalScheduler>[0]> = {}) {
  const s = new LocalScheduler({ dataDir: dir, log: () => undefined, ...opts });
  started.push(s);
  return s;
}

describe('LocalScheduler', () => {
  it('fires a timer within a second of its due time and then forgets it', async () => {
    const s = scheduler();
    const fired: { timer: Timer; at: number }[] = [];
    s.start(async (t) => {
      fired.push({ timer: t, at: Date.now() });
    });
    const due = Date.now() + 600;
    await s.schedule(timer('t1', due));
    await waitFor(() => fired.length === 1);
    const lateness = fired[0]!.at - due;
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(1000);
    expect(fired[0]!.timer).toEqual(timer('t1', due));
    await sleep(50);
    expect(await s.list()).toEqual([]);
  });

  it('persists timers, and a new instance on the same directory fires the ones that came due while down', async () => {
    const first = scheduler();
    await first.schedule(timer('overdue', Date.now() + 100));
    await first.schedule(timer('later', Date.now() + 60_000));
    await first.stop();
    await sleep(200);
    const second = scheduler();
    const fired: string[] = [];
    const t0 = Date.now();
    second.start(async (t) => {
      fired.push(t.id);
    });
    await waitFor(() => fired.length === 1);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(fired).toEqual(['overdue']);
    expect((await second.list()).map((t) => t.id)).toEqual(['later']);
    const onDisk = JSON.parse(await readFile(join(dir, 'timers.json'), 'utf8'));
    expect(Object.keys(onDisk.timers)).toEqual(['K3yId0123456789a-later']);
  });

  it('cancel prevents firing; schedule and cancel are idempotent by name', async () => {
    const s = scheduler();
    const fired: string[] = [];
    s.start(async (t) => {
      fired.push(t.id);
    });
    const t = timer('c1', Date.now() + 300);
    await s.schedule(t);
    await s.schedule(t);
    expect(await s.list()).toHaveLength(1);
    await s.cancel(t);
    await s.cancel(t);
    await sleep(800);
    expect(fired).toEqual([]);
  });

  it('rescheduling a name moves its due time', async () => {
    const s = scheduler();
    await s.schedule(timer('m', Date.now() + 60_000));
    const soon = Date.now() + 100;
    await s.schedule(timer('m', soon));
    expect(await s.list()).toEqual([timer('m', soon)]);
    const fired: Timer[] = [];
    s.start(async (t) => {
      fired.push(t);
    });
    await waitFor(() => fired.length === 1);
    expect(fired[0]!.at).toBe(soon);
  });

  it('keeps a timer whose handler fails and retries it with backoff until it succeeds', async () => {
    const lines: string[] = [];
    const s = scheduler({ retryBaseMs: 100, log: (l) => lines.push(l) });
    const attempts: number[] = [];
    s.start(async () => {
      attempts.push(Date.now());
      if (attempts.length < 3) throw new Error('store unavailable');
    });
    await s.schedule(timer('r1', Date.now()));
    await waitFor(() => attempts.length === 3);
    await sleep(100);
    expect(await s.list()).toEqual([]);
    // Backoff doubles: ~100 ms, then ~200 ms (plus up to one poll interval).
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(100);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(200);
    expect(lines.filter((l) => l.includes('timer K3yId0123456789a-r1'))).toHaveLength(2);
  });

  it('persists the retry state of a failing timer across a restart', async () => {
    const first = scheduler({ retryBaseMs: 60_000 });
    first.start(async () => {
      throw new Error('down');
    });
    await first.schedule(timer('p1', Date.now()));
    await sleep(600);
    await first.stop();
    const onDisk = JSON.parse(await readFile(join(dir, 'timers.json'), 'utf8'));
    const entry = onDisk.timers['K3yId0123456789a-p1'];
    expect(entry.attempts).toBe(1);
    expect(entry.nextAttemptAt).toBeGreaterThan(Date.now() + 50_000);
    expect(entry.lastError).toBe('Error: down');
  });

  it('moves an unreadable timers file aside instead of crashing', async () => {
    await writeFile(join(dir, 'timers.json'), '{not json');
    const s = scheduler();
    expect(await s.list()).toEqual([]);
    expect((await readdir(dir)).some((f) => f.startsWith('timers.json.corrupt-'))).toBe(true);
  });
});

const message: EmailMessage = {
  to: ['ops@example.com', 'dev@example.org'],
  subject: '[rekey] Old secret of API key "billing – ü" expires at 2026-03-02T08:00:00Z',
  text: 'Plain body with rekey_live_…9fQa\n',
  html: '<p>HTML body</p>\n',
  idempotencyKey: '0m7f3k2a1Ab3dE5fG7hJ',
};

function decodeHeader(v: string): string {
  return v.replace(/=\?UTF-8\?B\?([^?]+)\?=(\r\n )?/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

describe('FileMailer', () => {
  it('writes a multipart/alternative .eml to <dataDir>/outbox and logs one line', async () => {
    const lines: string[] = [];
    const now = Date.parse('2026-03-02T06:00:00.123Z');
    await new FileMailer({ dataDir: dir, clock: { now: () => now }, log: (l) => lines.push(l) }).send(message);
    const files = await readdir(join(dir, 'outbox'));
    expect(files).toEqual(['20260302T060000123Z-0m7f3k2a1Ab3dE5fG7hJ.eml']);
    const eml = await readFile(join(dir, 'outbox', files[0]!), 'utf8');
    const [head, ...rest] = eml.split('\r\n\r\n');
    expect(head).toContain('From: rekey <rekey@localhost>');
    expect(head).toContain('To: ops@example.com, dev@example.org');
    expect(head).toContain('Date: Mon, 02 Mar 2026 06:00:00 +0000');
    expect(head).toContain('MIME-Version: 1.0');
    expect(head).toMatch(/Content-Type: multipart\/alternative; boundary="(rekey-[0-9a-f]+)"/);
    const subject = /Subject: (.*(?:\r\n .*)*)/.exec(head!)![1]!;
    expect(decodeHeader(subject)).toBe(message.subject);
    const boundary = /boundary="([^"]+)"/.exec(head!)![1]!;
    const body = rest.join('\r\n\r\n');
    expect(body).toContain(`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit`);
    expect(body).toContain('Plain body with rekey_live_…9fQa');
    expect(body).toContain('Content-Type: text/html; charset=utf-8');
    expect(body).toContain('<p>HTML body</p>');
    expect(body.trimEnd().endsWith(`--${boundary}--`)).toBe(true);
    expect(eml.split('\r\n').every((l) => Buffer.byteLength(l) <= 998)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ops@example.com, dev@example.org');
    expect(lines[0]).toContain(message.subject);
  });

  it('a retried send overwrites its file rather than adding a copy', async () => {
    let now = Date.parse('2026-03-02T06:00:00Z');
    const m = new FileMailer({ dataDir: dir, clock: { now: () => now }, log: () => undefined });
    await m.send(message);
    now += 5_000;
    await m.send({ ...message, text: 'second attempt\n' });
    await m.send({ ...message, idempotencyKey: 'another' });
    const files = (await readdir(join(dir, 'outbox'))).sort();
    expect(files).toEqual(['20260302T060000000Z-0m7f3k2a1Ab3dE5fG7hJ.eml', '20260302T060005000Z-another.eml']);
    expect(await readFile(join(dir, 'outbox', files[0]!), 'utf8')).toContain('second attempt');
  });

  it('base64-encodes a part whose lines exceed 998 octets', async () => {
    await new FileMailer({ dataDir: dir, log: () => undefined }).send({ ...message, html: `<p>${'x'.repeat(2000)}</p>` });
    const [file] = await readdir(join(dir, 'outbox'));
    const eml = await readFile(join(dir, 'outbox', file!), 'utf8');
    expect(eml).toContain('Content-Transfer-Encoding: base64');
    expect(eml.split('\r\n').every((l) => l.length <= 998)).toBe(true);
  });

  it('encodes non-ASCII headers as RFC 2047 words of whole characters', () => {
    expect(encodeHeader('plain')).toBe('plain');
    const long = 'ü'.repeat(60);
    const encoded = encodeHeader(long);
    expect(encoded.split('\r\n ').every((w) => w.length <= 75)).toBe(true);
    expect(decodeHeader(encoded)).toBe(long);
  });
});

const event: AuditEvent = {
  id: '0m7f3k2a1Ab3dE5fG7hJ',
  type: 'api_key.rotation_reminder',
  at: Date.parse('2026-03-02T06:00:00Z'),
  actorKeyId: null,
  actor: { type: 'system', id: null },
  accountId: 'Acct000000000000',
  keyId: 'K3yId0123456789a',
  data: { rotationId: 'rot1abcdEFGH' },
};

describe('JsonlEventPublisher', () => {
  it('appends one JSON line per event with the EventBridge detail plus detailType, once per event id', async () => {
    const p = new JsonlEventPublisher({ dataDir: dir });
    await p.publish(event);
    await p.publish(event);
    await p.publish({ ...event, id: 'second', type: 'api_key.old_secret_expired' });
    await p.publish({ ...event, id: 'audit-only', type: 'api_key.secrets_purged' });
    // A new process appending to the same file also skips ids already there.
    await new JsonlEventPublisher({ dataDir: dir }).publish(event);
    const lines = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        source: 'rekey',
        detailType: 'api_key.rotation_reminder',
        id: event.id,
        type: 'api_key.rotation_reminder',
        at: '2026-03-02T06:00:00.000Z',
        accountId: 'Acct000000000000',
        keyId: 'K3yId0123456789a',
        actorKeyId: null,
        data: { rotationId: 'rot1abcdEFGH' },
      },
      expect.objectContaining({ id: 'second', detailType: 'api_key.old_secret_expired' }),
    ]);
  });

  it('refuses an event carrying a secret and writes nothing', async () => {
    const secret = generateSecret('rekey', 'test', 'K3yId0123456789a');
    await expect(new JsonlEventPublisher({ dataDir: dir }).publish({ ...event, data: { secret } })).rejects.toBeInstanceOf(SecretInEventError);
    await expect(stat(join(dir, 'events.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('FilePepper', () => {
  it('generates 32 random bytes once, mode 0600, and reuses them in a new instance', async () => {
    const a = await new FilePepper({ dataDir: join(dir, 'nested') }).get();
    const b = await new FilePepper({ dataDir: join(dir, 'nested') }).get();
    expect(a).toHaveLength(32);
    expect(b.equals(a)).toBe(true);
    expect((await stat(join(dir, 'nested', 'pepper'))).mode & 0o777).toBe(0o600);
    expect((await readdir(join(dir, 'nested'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('two instances racing to create the pepper agree on one value', async () => {
    const peppers = await Promise.all(Array.from({ length: 8 }, () => new FilePepper({ dataDir: dir }).get()));
    expect(new Set(peppers.map((p) => p.toString('hex'))).size).toBe(1);
  });

  it('refuses a truncated pepper file rather than silently replacing it, and tightens loose permissions', async () => {
    await writeFile(join(dir, 'pepper'), Buffer.alloc(10));
    await expect(new FilePepper({ dataDir: dir }).get()).rejects.toThrow(/10 bytes; expected 32/);
    await writeFile(join(dir, 'pepper'), Buffer.alloc(32, 3));
    await chmod(join(dir, 'pepper'), 0o644);
    expect((await new FilePepper({ dataDir: dir }).get()).equals(Buffer.alloc(32, 3))).toBe(true);
    expect((await stat(join(dir, 'pepper'))).mode & 0o777).toBe(0o600);
  });
});
