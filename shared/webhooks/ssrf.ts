/**
 * Server-side request forgery defences for webhook URLs (SPEC §10).
 *
 * - At creation and change: `https://` only (local mode also `http://127.0.0.1:<port>` and
 *   `http://localhost:<port>`), no credentials in the URL, and an IP literal must be public. The URL
 *   is parsed with the WHATWG parser, which is what the sender uses too, so decimal (`2130706433`),
 *   octal (`0177.0.0.1`) and hex spellings of an IPv4 address are normalised before the check.
 * - At every delivery: the host is resolved, every address it resolves to must be public, and the
 *   connection is made to the address that was checked (no second lookup a rebinding DNS server
 *   could answer differently).
 */
import { BlockList, isIP } from 'node:net';

/** Ranges a webhook may never reach. Sources: IANA special-purpose registries (RFC 6890 and updates). */
const BLOCKED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 (instance metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
];
const BLOCKED_V6: readonly [string, number][] = [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['64:ff9b::', 96], // NAT64 (reaches IPv4 space through a translator)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, incl. Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (embeds an IPv4 address)
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const blocked = new BlockList();
for (const [a, p] of BLOCKED_V4) blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of BLOCKED_V6) blocked.addSubnet(a, p, 'ipv6');

/** `::ffff:a.b.c.d` / `::ffff:hhhh:hhhh` → `a.b.c.d`; otherwise `null`. */
export function mappedIpv4(address: string): string | null {
  const a = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted && isIP(dotted[1]!) === 4) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** Whether an IP address (v4 or v6, no brackets) is a public unicast address a webhook may reach. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family === 6) {
    const v4 = mappedIpv4(address);
    if (v4 !== null) return isPublicAddress(v4);
    return !blocked.check(address, 'ipv6');
  }
  return false;
}

export interface UrlPolicy {
  /** Local mode: also `http://127.0.0.1:<port>` and `http://localhost:<port>`. */
  readonly allowLocalHttp: boolean;
}

/** The host of a parsed URL without IPv6 brackets. */
export const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Local mode's loopback exception: exactly these two hosts, plain http, an explicit port. */
export function isLocalLoopbackUrl(url: URL): boolean {
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost') && url.port !== '';
}

/** Checks a URL as given by a customer; returns the reason it is refused, or `null`. */
export function urlProblem(raw: string, policy: UrlPolicy): string | null {
  // The URL parser forgives surrounding blanks and would store them as typed: refuse instead.
  if (/\s/.test(raw)) return 'must not contain spaces';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  // Port 0 can be written but never connected to: every delivery would fail.
  if (url.port === '0') return 'must not use port 0';
  if (policy.allowLocalHttp && isLocalLoopbackUrl(url)) return null;
  if (url.protocol !== 'https:') {
    return policy.allowLocalHttp ? 'must be https:// (or http://127.0.0.1:<port> / http://localhost:<port> in local mode)' : 'must be https://';
  }
  const host = bareHost(url);
  if (isIP(host) !== 0) return isPublicAddress(host) ? null : 'must not point to a private, loopback, link-local or reserved address';
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) return 'must name a public host';
  return null;
}

/** Resolves a host to all its addresses (`dns.lookup(host, {all: true})` in production). */
export type Resolve = (host: string) => Promise<readonly { address: string; family: number }[]>;

/** A checked destination: connect to `address`, present `url`'s host for TLS and `Host`. */
export interface Target {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

/** Thrown when a URL may not be delivered to right now; the attempt is recorded as failed. */
export class RefusedTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedTargetError';
  }
}

/**
 * Delivery-time check: resolves the host once and returns the address to connect to. Every address
 * the name resolves to must be public (a name that also resolves privately is refused whole).
 */
export async function resolveTarget(raw: string, policy: UrlPolicy, resolve: Resolve): Promise<Target> {
  const problem = urlProblem(raw, policy);
  if (problem) throw new RefusedTargetError(`url ${problem}`);
  const url = new URL(raw);
  if (policy.allowLocalHttp && isLocalLoopbackUrl(url)) return { url, address: '127.0.0.1', family: 4 };
  const host = bareHost(url);
  const literal = isIP(host);
  if (literal !== 0) return { url, address: host, family: literal as 4 | 6 };
  let addresses: readonly { address: string; family: number }[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new RefusedTargetError('host did not resolve');
  }
  if (addresses.length === 0) throw new RefusedTargetError('host did not resolve');
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad) throw new RefusedTargetError('host resolves to an address that is not public');
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
