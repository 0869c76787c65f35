/**
 * Local-mode mailer: every email becomes an RFC 5322 `.eml` file (multipart/alternative, text and
 * HTML) in `<dataDir>/outbox/`, openable in any mail client, and one line is logged per email.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Clock, EmailMessage, Mailer } from '../domain/ports.js';
import { writeFileAtomic } from './localScheduler.js';

export interface FileMailerOptions {
  readonly dataDir: string;
  /** @default 'rekey <rekey@localhost>' */
  readonly from?: string;
  /** @default the system clock */
  readonly clock?: Clock;
  /** One line per email. @default console.error */
  readonly log?: (line: string) => void;
}

/** File-name-safe form of an idempotency key. */
export function fileKey(idempotencyKey: string): string {
  const clean = idempotencyKey.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  return clean === '' ? '_' : clean;
}

/** `20260102T030405123Z`: sorts by time as text. */
function compactTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:.]/g, '');
}

/** RFC 5322 date, e.g. `Fri, 02 Jan 2026 03:04:05 +0000`. */
function mailDate(epochMs: number): string {
  return new Date(epochMs).toUTCString().replace(/GMT$/, '+0000');
}

/** RFC 2047 encoded words for non-ASCII header text; whole characters per word, words ≤ 75 chars. */
export function encodeHeader(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/**
 * A body part. 8bit keeps the file readable and greppable (the usual way to inspect local mail);
 * a part with a line longer than RFC 5322's 998 octets is base64-encoded instead.
 */
function part(contentType: string, body: string): string {
  const lines = body.replace(/\r?\n/g, '\n').split('\n');
  const tooLong = lines.some((l) => Buffer.byteLength(l, 'utf8') > 998);
  const encoded = tooLong
    ? (Buffer.from(body, 'utf8')
        .toString('base64')
        .match(/.{1,76}/g) ?? []
      ).join('\r\n')
    : lines.join('\r\n');
  return [`Content-Type: ${contentType}; charset=utf-8`, `Content-Transfer-Encoding: ${tooLong ? 'base64' : '8bit'}`, '', encoded].join('\r\n');
}

/** Builds the full `.eml` text of a message. */
export function toEml(message: EmailMessage, opts: { from: string; date: number }): string {
  const boundary = `rekey-${createHash('sha256').update(message.idempotencyKey).digest('hex').slice(0, 24)}`;
  const headers = [
    `From: ${opts.from}`,
    `To: ${message.to.join(', ')}`,
    `Subject: ${encodeHeader(message.subject.replace(/[\r\n]+/g, ' '))}`,
    `Date: ${mailDate(opts.date)}`,
    `Message-ID: <${fileKey(message.idempotencyKey)}@rekey.local>`,
    `X-Rekey-Idempotency-Key: ${fileKey(message.idempotencyKey)}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  return [
    ...headers,
    '',
    `--${boundary}`,
    part('text/plain', message.text),
    `--${boundary}`,
    part('text/html', message.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/**
 * {@link Mailer} writing `.eml` files. File name `<UTC time of first send>-<idempotency key>.eml`:
 * sorted by time, and a retried send finds the existing file for its key and overwrites it instead
 * of adding a second copy.
 */
export class FileMailer implements Mailer {
  readonly dir: string;
  private readonly from: string;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;

  constructor(opts: FileMailerOptions) {
    this.dir = join(opts.dataDir, 'outbox');
    this.from = opts.from ?? 'rekey <rekey@localhost>';
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.log = opts.log ?? ((line) => console.error(line));
  }

  async send(message: EmailMessage): Promise<void> {
    if (message.to.length === 0) return;
    await mkdir(this.dir, { recursive: true });
    const key = fileKey(message.idempotencyKey);
    const suffix = `-${key}.eml`;
    const existing = (await readdir(this.dir)).find((f) => f.endsWith(suffix));
    const now = this.clock.now();
    const file = existing ?? `${compactTime(now)}${suffix}`;
    const path = join(this.dir, file);
    await writeFileAtomic(path, toEml(message, { from: this.from, date: now }));
    this.log(`[rekey] email to ${message.to.join(', ')}: ${message.subject} (${path})`);
  }
}
