/**
 * Sanitizing a request's origin before it is stored (SPEC §12): the user agent loses its control
 * characters and is cut to 512 characters; the address is kept only if it looks like one. Called at
 * flush time, never on the authorizer's warm path.
 */
import type { UseOrigin } from './types.js';

/** Longest user agent stored. */
export const MAX_USER_AGENT_LENGTH = 512;

// C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides: none of them
// belongs in a user agent, and each could spoof what a dashboard or a log line shows.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const IP = /^[0-9A-Fa-f.:]{2,45}$/;

/** `userAgent` without control characters, at most 512 characters (never splitting a surrogate pair); `null` when empty. */
export function cleanUserAgent(userAgent: string | null | undefined): string | null {
  if (typeof userAgent !== 'string') return null;
  // Bound the work first: nothing beyond a few times the limit can survive the cut.
  let ua = userAgent.length > MAX_USER_AGENT_LENGTH * 4 ? userAgent.slice(0, MAX_USER_AGENT_LENGTH * 4) : userAgent;
  ua = ua.replace(CONTROL, '');
  if (ua.length > MAX_USER_AGENT_LENGTH) {
    ua = ua.slice(0, MAX_USER_AGENT_LENGTH);
    const last = ua.charCodeAt(ua.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) ua = ua.slice(0, -1);
  }
  ua = ua.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  return ua.trim() === '' ? null : ua;
}

/** An IPv4 or IPv6 address as API Gateway reports it, or `null`. */
export function cleanIp(ip: string | null | undefined): string | null {
  return typeof ip === 'string' && IP.test(ip) ? ip : null;
}

export function cleanOrigin(origin: UseOrigin | null | undefined): UseOrigin {
  return { ip: cleanIp(origin?.ip), userAgent: cleanUserAgent(origin?.userAgent) };
}
