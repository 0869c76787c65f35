/**
 * The per-address limit of `POST /v1/leaks` (SPEC §11): at most `leakReportsPerMinute` requests
 * (default 10, each up to 100 secrets) per source address per fixed one-minute window.
 *
 * It holds across Lambda instances because the count lives in DynamoDB, not in memory: one counter
 * item per address per window (`RATE#leaks#<address>` / `W#<window start>`), incremented with one
 * conditional `UpdateItem … ADD hits :one IF hits < :limit`, which is atomic whoever sends it. The
 * item expires through the table's TTL after the window.
 */
import { isIP } from 'node:net';
import type { Clock, KeyStore } from '../domain/ports.js';

export const LEAK_RATE_WINDOW_MS = 60_000;
/** Default of `leakReportsPerMinute` / `LEAK_REPORTS_PER_MINUTE`. */
export const DEFAULT_LEAK_REPORTS_PER_MINUTE = 10;

/**
 * The address a limit is counted against. An IPv6 client usually holds a whole /64, so IPv6 is
 * counted per /64 (otherwise each of its 2^64 addresses would get its own allowance).
 */
export function rateLimitSubject(sourceIp: string | null): string {
  const ip = (sourceIp ?? '').trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIP(ip) === 4) return ip;
  if (isIP(ip) === 6) return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
  return 'unknown';
}

function expandIpv6(ip: string): string[] {
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** Counts one request from `sourceIp`; `false` when its window is already full. */
export async function allowLeakReport(
  sourceIp: string | null,
  limit: number,
  deps: { readonly store: Pick<KeyStore, 'hitCounter'>; readonly clock: Clock },
): Promise<boolean> {
  const now = deps.clock.now();
  const windowStart = now - (now % LEAK_RATE_WINDOW_MS);
  return deps.store.hitCounter(`leaks#${rateLimitSubject(sourceIp)}`, windowStart, limit, windowStart + 2 * LEAK_RATE_WINDOW_MS);
}

/** Seconds until the current window ends (the `retry-after` of a 429). */
export function retryAfterSeconds(now: number): number {
  return Math.ceil((LEAK_RATE_WINDOW_MS - (now % LEAK_RATE_WINDOW_MS)) / 1000);
}
