/**
 * The dashboard's link to the management API: where the API lives (`config.json` or same origin),
 * the typed client, and turning every failure into a sentence a person can act on.
 */
import { looksLikeSecret, RekeyApiError, RekeyClient, RekeyNetworkError, type RekeyErrorCode } from '../../client/index.js';

export { looksLikeSecret, RekeyClient };

/** Settings read from `config.json` next to `index.html` (written by the CDK deployment). */
export interface DashboardConfig {
  /** Base URL of the management API (without `/v1`). Same origin when absent. */
  readonly apiUrl: string;
  /** Largest transition window the UI offers, when the deployment states it. */
  readonly maxTransitionSeconds?: number;
}

/**
 * Loads `config.json` relative to the page. A missing or unreadable file is normal (local mode
 * serves API and page from one origin), so it falls back to the page's own origin.
 */
export async function loadConfig(): Promise<DashboardConfig> {
  const sameOrigin = { apiUrl: window.location.origin };
  try {
    const res = await fetch(new URL('config.json', window.location.href), { cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return sameOrigin;
    const body: unknown = await res.json();
    if (!body || typeof body !== 'object') return sameOrigin;
    const { apiUrl, maxTransitionSeconds } = body as Record<string, unknown>;
    const url = typeof apiUrl === 'string' && /^https?:\/\//.test(apiUrl) ? apiUrl.replace(/\/+$/, '') : sameOrigin.apiUrl;
    const max = typeof maxTransitionSeconds === 'number' && Number.isInteger(maxTransitionSeconds) && maxTransitionSeconds >= 0 ? maxTransitionSeconds : undefined;
    return max === undefined ? { apiUrl: url } : { apiUrl: url, maxTransitionSeconds: max };
  } catch {
    return sameOrigin;
  }
}

/** A new client for one signed-in secret. */
export function makeClient(apiUrl: string, secret: string): RekeyClient {
  // Bind fetch: calling an unbound window.fetch from inside an object throws "Illegal invocation".
  return new RekeyClient({ baseUrl: apiUrl, secret, fetch: window.fetch.bind(window) });
}

/**
 * Reads the deployment's maximum transition window from the OpenAPI document when it publishes one
 * (`maximum` on `oldKeyExpiresInSeconds`); `undefined` when it does not.
 */
export function maxFromOpenApi(doc: unknown): number | undefined {
  const schemas = (doc as { components?: { schemas?: Record<string, unknown> } } | undefined)?.components?.schemas;
  const rotate = schemas?.['RotateKeyRequest'] as { properties?: Record<string, { maximum?: unknown }> } | undefined;
  const max = rotate?.properties?.['oldKeyExpiresInSeconds']?.maximum;
  return typeof max === 'number' && Number.isInteger(max) && max >= 0 ? max : undefined;
}

const CODE_WORDS: Record<RekeyErrorCode, string> = {
  unauthorized: 'The key was not accepted: it is unknown, mistyped, expired or revoked.',
  forbidden: 'This key is not allowed to do that (a scope is missing, or a test key tried to act on a live key).',
  not_found: 'It no longer exists in this account: it may have been deleted. Refresh to see the current state.',
  validation_error: 'Some input was not accepted.',
  invalid_json: 'The request could not be read by the API.',
  rotation_in_progress: 'A rotation is already in progress for this key. Change its window or cancel it first.',
  no_rotation_in_progress: 'There is no rotation in progress: the old secret has already expired.',
  nothing_to_cancel: 'There is nothing to cancel or restore for this key any more.',
  key_revoked: 'This key is revoked. Reactivate it first.',
  key_expired: 'This key has expired.',
  key_not_revoked: 'This key is not revoked.',
  reactivation_window_passed: 'The reactivation window has passed; this key can no longer be reactivated.',
  limit_reached: 'This account has reached a limit (for example 10 webhook endpoints). Remove one first.',
  key_exposed: 'This key was revoked because its secret leaked; it can never be reactivated. Create a new key instead.',
  too_many_requests: 'Too many requests; wait a minute and try again.',
  payload_too_large: 'The request was too large.',
  internal_error: 'The API had an internal error. Try again in a moment.',
};

/** A failure described in words, with the request id when the API gave one (for support). */
export interface ErrorWords {
  readonly summary: string;
  readonly details: readonly string[];
  readonly requestId?: string;
  readonly status?: number;
}

/** Turns anything thrown by the client (API error, network failure, bug) into words. */
export function describeError(err: unknown): ErrorWords {
  if (err instanceof RekeyApiError) {
    const words = CODE_WORDS[err.code];
    const summary = words ? summaryOf(err.code, words, err.message) : sentence(err.message || `The API answered ${err.status}.`);
    const details = (err.details ?? []).map((d) => `${d.field ? `${d.field}: ` : ''}${d.message}`);
    return { summary, details, status: err.status, ...(err.requestId ? { requestId: err.requestId } : {}) };
  }
  if (err instanceof RekeyNetworkError || err instanceof TypeError) {
    // The client's message names the method and path (never the secret); say what to check first.
    return { summary: 'Could not reach the API. Check your connection and that the service is running.', details: [err.message] };
  }
  return { summary: err instanceof Error && err.message ? sentence(err.message) : 'Something went wrong.', details: [] };
}

/**
 * One summary per error, never the same thing twice ("…expired or revoked. Missing or invalid API
 * key."). Most API messages restate their code, so our words stand alone (validation errors list
 * their fields in `details`). Some say more: a refused rotation names the secret that blocks it,
 * until when and how to end it, and a 429 how long to wait (both shown as the API wrote them); a
 * 403 names the refused scope; a 404 names what is gone.
 */
function summaryOf(code: string, words: string, message: string | undefined): string {
  const msg = message?.trim();
  if (!msg || msg === words) return words;
  // Both say what blocks the action and for how long (a busy endpoint delete names its seconds).
  if (code === 'rotation_in_progress' || code === 'too_many_requests') return sentence(msg);
  // "No such webhook." / "No such key.": say which kind of thing is gone, then what to do.
  if (code === 'not_found') return `${sentence(msg)} ${words}`;
  if (code === 'forbidden') return `${words} ${sentence(msg)}`;
  return words;
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/**
 * Names the item a validation detail is about: the API says `contacts.1: must be an email
 * address`; a person typed a list, so this says `contacts: “not-an-address” must be an email
 * address`. `items` is the list as it was sent; other details stay as they are.
 */
export function nameListItems(error: ErrorWords | null, field: string, items: readonly string[]): ErrorWords | null {
  if (!error) return null;
  const prefix = `${field}.`;
  return {
    ...error,
    details: error.details.map((line) => {
      if (!line.startsWith(prefix)) return line;
      const m = /^(\d+): (.*)$/s.exec(line.slice(prefix.length));
      const item = m ? items[Number(m[1])] : undefined;
      return m && item !== undefined ? `${field}: “${item.length > 80 ? `${item.slice(0, 79)}…` : item}” ${m[2]}` : line;
    }),
  };
}
