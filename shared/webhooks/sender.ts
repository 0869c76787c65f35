/**
 * One HTTP attempt to a checked target: POST, connected to the checked address (the `lookup` hook
 * returns it, so no second DNS query happens, while TLS still verifies the certificate against the
 * URL's host), 15 s for the whole exchange, redirects not followed (Node's client never follows
 * them; a 3xx is a failure), at most 64 KiB of the response read.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { DELIVERY_TIMEOUT_MS, MAX_RESPONSE_BYTES } from './types.js';
import type { Target } from './ssrf.js';

export interface SendResult {
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export interface SendOptions {
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** For tests: extra CA certificates. */
  readonly ca?: string | Buffer;
}

/** Sends one attempt. Never throws: failures are a result with `statusCode: null` and a short `error`. */
export function sendAttempt(target: Target, headers: Record<string, string>, body: string, opts: SendOptions = {}): Promise<SendResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const cap = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const pinned: LookupFunction = (_host, options, cb) => {
    const o = options as { all?: boolean };
    if (o?.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const { url } = target;
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ statusCode, error, durationMs: Math.round(performance.now() - started) });
    };
    const req = requestFn(
      url,
      {
        method: 'POST',
        lookup: pinned,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'rekey-webhooks/1',
        },
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res: IncomingMessage) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // Enough read to know the outcome; the rest is not our business (and could be endless).
          if (read > cap) {
            res.destroy();
            finish(res.statusCode ?? null, null);
          }
        });
        res.on('end', () => finish(res.statusCode ?? null, null));
        res.on('error', () => finish(res.statusCode ?? null, null));
        res.on('close', () => finish(res.statusCode ?? null, null));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(null, `timeout after ${Math.round(timeoutMs / 1000)} s`);
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish(null, shortError(err)));
    req.end(body);
  });
}

function shortError(err: NodeJS.ErrnoException): string {
  // A code (ECONNREFUSED, CERT_HAS_EXPIRED…) says enough and never echoes the URL or a header.
  return (err.code ?? err.name ?? 'request failed').slice(0, 64);
}
