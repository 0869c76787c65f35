/**
 * Typed client for the rekey management API. Browser-safe: it uses only `fetch`, `URL` and
 * `AbortSignal`, and its types come from the server's zod schemas as type-only imports, so a bundle
 * that uses it carries no zod and no Node module.
 *
 * ```ts
 * const rekey = new RekeyClient({ baseUrl: 'https://api.example.com/prod', secret: process.env.REKEY_API_KEY! });
 * const { key, secret } = await rekey.rotateKey(keyId, { oldKeyExpiresInSeconds: 3600 });
 * ```
 */
import type { z } from 'zod';
import type { ConflictCode, ErrorCode } from '../shared/domain/errors.js';
import type * as s from '../shared/http/schemas.js';

// ---- secret format ----------------------------------------------------------------------------

/**
 * The shape of every rekey secret, whatever the deployment's prefix:
 * `<prefix>_<live|test>_<22-character key id>_<43 random characters + 6-character checksum>`.
 * Useful to check configuration early and for secret scanners. README publishes the same expression
 * for the default prefix (`^rekey_(live|test)_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$`).
 */
export const SECRET_PATTERN = /^[a-z][a-z0-9]{0,15}_(live|test)_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$/;

/** Whether `value` has the shape of a rekey secret (a shape check only: the checksum and the key id's tag are the server's). */
export function looksLikeSecret(value: string): boolean {
  return SECRET_PATTERN.test(value);
}

// ---- types ------------------------------------------------------------------------------------

/** A key as the API returns it (SPEC §3 "Key object"). */
export type Key = z.output<typeof s.KeyView>;
/** One audit event of a key. */
export type KeyEvent = z.output<typeof s.EventView>;
/** The caller's account. */
export type Account = z.output<typeof s.AccountView>;
/** The public part of one secret (hint, times). */
export type SecretInfo = z.output<typeof s.SecretView>;
/** The latest rotation of a key. */
export type Rotation = z.output<typeof s.RotationView>;

export type CreateKeyInput = z.input<typeof s.CreateKeyBody>;
export type UpdateKeyInput = z.input<typeof s.UpdateKeyBody>;
export type RotateKeyInput = z.input<typeof s.RotateBody>;
export type UpdateRotationInput = z.input<typeof s.UpdateRotationBody>;
export type CancelRotationInput = z.input<typeof s.CancelRotationBody>;
export type AlertEmailsInput = z.input<typeof s.AlertEmailsBody>;
/** Paging of list routes: `limit` 1–100 (server default 20), `cursor` from the previous page's `nextCursor`. */
export interface PageInput {
  readonly limit?: number;
  readonly cursor?: string;
}

export type KeyWithSecret = z.output<typeof s.KeyWithSecretResponse>;
/** A webhook endpoint (SPEC §10). */
export type WebhookEndpoint = z.output<typeof s.WebhookView>;
/** One delivery of an event to an endpoint, with its attempts. */
export type WebhookDelivery = z.output<typeof s.DeliveryView>;
export type CreateWebhookInput = z.input<typeof s.CreateWebhookBody>;
export type UpdateWebhookInput = z.input<typeof s.UpdateWebhookBody>;
export type RotateWebhookSecretInput = z.input<typeof s.RotateWebhookSecretBody>;
export type WebhookWithSecret = z.output<typeof s.WebhookWithSecretResponse>;
export type WebhookResult = z.output<typeof s.WebhookResponse>;
export type WebhookList = z.output<typeof s.WebhookListResponse>;
export type WebhookDeliveryList = z.output<typeof s.DeliveryListResponse>;
export type WebhookTestResult = z.output<typeof s.TestDeliveryResponse>;
export type EmailConfirmationResult = z.output<typeof s.EmailConfirmationResponse>;
export type KeyResult = z.output<typeof s.KeyResponse>;
export type KeyList = z.output<typeof s.KeyListResponse>;
export type EventList = z.output<typeof s.EventListResponse>;
export type AccountResult = z.output<typeof s.AccountResponse>;
export type Whoami = z.output<typeof s.WhoamiResponse>;
export type OpenApiDocument = z.output<typeof s.OpenApiResponse>;
/** Verified requests per secret per minute (SPEC §12). */
export type Usage = z.output<typeof s.UsageResponse>;
/** Where a secret was last used from. */
export type UseOrigin = z.output<typeof s.UseOriginView>;
/** `from`/`to` of the usage route: RFC 3339 strings or `Date`s; `to` defaults to now, `from` to 24 h before `to` (at most 7 days). */
export interface UsageRangeInput {
  readonly from?: string | Date;
  readonly to?: string | Date;
}
export type LeakReportInput = z.input<typeof s.LeakReportBody>;
export type LeakReportResult = z.output<typeof s.LeakReportResponse>;

/** Every error code of SPEC §3. */
export type RekeyErrorCode = ErrorCode;
export type RekeyConflictCode = ConflictCode;
/** One field that failed validation (`validation_error`). */
export interface RekeyErrorDetail {
  readonly field: string;
  readonly message: string;
}

/**
 * Every code of SPEC §3, as a record so the compiler refuses a code added to the server's
 * {@link RekeyErrorCode} but not here (a missing one used to turn `409 limit_reached`,
 * `409 key_exposed` and `429 too_many_requests` into `internal_error`).
 */
const CODES: Record<RekeyErrorCode, true> = {
  validation_error: true,
  invalid_json: true,
  unauthorized: true,
  forbidden: true,
  not_found: true,
  payload_too_large: true,
  too_many_requests: true,
  internal_error: true,
  rotation_in_progress: true,
  no_rotation_in_progress: true,
  nothing_to_cancel: true,
  key_revoked: true,
  key_expired: true,
  key_not_revoked: true,
  reactivation_window_passed: true,
  limit_reached: true,
  key_exposed: true,
};
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(CODES));

// ---- errors -----------------------------------------------------------------------------------

/**
 * A non-2xx answer of the API. `code` is one of the SPEC §3 codes; an answer that did not come from
 * rekey itself (a proxy's 502, a gateway's own message) gets the code that matches its status.
 */
export class RekeyApiError extends Error {
  /** The code as the server sent it, when it was not one of {@link RekeyErrorCode}. */
  readonly rawCode: string | undefined;

  constructor(
    readonly status: number,
    readonly code: RekeyErrorCode,
    message: string,
    readonly requestId: string,
    readonly details?: readonly RekeyErrorDetail[],
    rawCode?: string,
  ) {
    super(message);
    this.name = 'RekeyApiError';
    this.rawCode = rawCode;
  }

  /** True for the 409 codes: the key's state does not allow the change. */
  isConflict(): this is RekeyApiError & { code: RekeyConflictCode } {
    return this.status === 409;
  }
}

/** The request never got an HTTP answer (DNS, connection, TLS, timeout, abort) or the answer was not JSON. */
export class RekeyNetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RekeyNetworkError';
  }
}

// ---- client -----------------------------------------------------------------------------------

/** Options of {@link RekeyClient}. */
export interface RekeyClientOptions {
  /** The API's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod` or `http://127.0.0.1:3000`. */
  readonly baseUrl: string;
  /** The key secret sent as `Authorization: Bearer …`. Never logged, never put in an error. */
  readonly secret: string;
  /** A `fetch` implementation. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Abort a request after this many milliseconds (a {@link RekeyNetworkError}); 0 disables. @default 30000 */
  readonly timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

/** One method per operation of the management API (`operationId` in the OpenAPI document). */
export class RekeyClient {
  readonly #baseUrl: string;
  readonly #secret: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(opts: RekeyClientOptions) {
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#secret = opts.secret;
    // Bound so a browser's window.fetch is not called with the client as `this`.
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** `POST /v1/keys` — creates a key; the secret is in the answer once. Scope `keys:write`. */
  createKey(body: CreateKeyInput): Promise<KeyWithSecret> {
    return this.#request('POST', '/v1/keys', { body });
  }

  /** `GET /v1/keys` — one page of keys, newest first, revoked included. Scope `keys:read`. */
  listKeys(q?: PageInput): Promise<KeyList> {
    return this.#request('GET', '/v1/keys', { query: { limit: q?.limit, cursor: q?.cursor } });
  }

  /** Every key, following `nextCursor` until the last page. */
  iterateKeys(pageSize?: number): AsyncGenerator<Key, void, undefined> {
    return everyItem((cursor) => this.listKeys({ limit: pageSize, cursor }), (page) => page.keys);
  }

  /** `GET /v1/keys/{id}`. Scope `keys:read`. */
  getKey(id: string): Promise<KeyResult> {
    return this.#request('GET', `/v1/keys/${seg(id)}`);
  }

  /** `PATCH /v1/keys/{id}` — name, scopes or expiry. Scope `keys:write`. */
  updateKey(id: string, body: UpdateKeyInput): Promise<KeyResult> {
    return this.#request('PATCH', `/v1/keys/${seg(id)}`, { body });
  }

  /** `POST /v1/keys/{id}/rotate` — a new secret now; the old one works for the window (default 24 h). */
  rotateKey(id: string, body?: RotateKeyInput): Promise<KeyWithSecret> {
    return this.#request('POST', `/v1/keys/${seg(id)}/rotate`, { body: body ?? {} });
  }

  /** `PATCH /v1/keys/{id}/rotation` — new life of the previous secret from now; `0` expires it now. */
  updateRotation(id: string, body: UpdateRotationInput): Promise<KeyResult> {
    return this.#request('PATCH', `/v1/keys/${seg(id)}/rotation`, { body });
  }

  /** `DELETE /v1/keys/{id}/rotation` — cancel the rotation, or restore the old secret after expiry. */
  cancelRotation(id: string, body?: CancelRotationInput): Promise<KeyResult> {
    return this.#request('DELETE', `/v1/keys/${seg(id)}/rotation`, body === undefined ? {} : { body });
  }

  /** `POST /v1/keys/{id}/revoke` — every secret stops working. Idempotent. */
  revokeKey(id: string): Promise<KeyResult> {
    return this.#request('POST', `/v1/keys/${seg(id)}/revoke`);
  }

  /** `POST /v1/keys/{id}/reactivate` — within the reactivation window, same secrets. */
  reactivateKey(id: string): Promise<KeyResult> {
    return this.#request('POST', `/v1/keys/${seg(id)}/reactivate`);
  }

  /** `GET /v1/keys/{id}/events` — one page of the audit trail, newest first. Scope `keys:read`. */
  listKeyEvents(id: string, q?: PageInput): Promise<EventList> {
    return this.#request('GET', `/v1/keys/${seg(id)}/events`, { query: { limit: q?.limit, cursor: q?.cursor } });
  }

  /**
   * `GET /v1/keys/{id}/usage` — per-minute counts of verified requests for each secret the key had
   * in the range (`current`, `previous`, `retired`). Scope `keys:read`. Counts are written by the
   * authorizer about once a minute, so the last minute or two may still grow.
   */
  getKeyUsage(id: string, range?: UsageRangeInput): Promise<Usage> {
    const iso = (v: string | Date | undefined) => (v instanceof Date ? v.toISOString() : v);
    return this.#request('GET', `/v1/keys/${seg(id)}/usage`, { query: { from: iso(range?.from), to: iso(range?.to) } });
  }

  /** `GET /v1/account`. Scope `keys:read`. */
  getAccount(): Promise<AccountResult> {
    return this.#request('GET', '/v1/account');
  }

  /** `PUT /v1/account/alert-emails` — replaces the list (at most 20). Scope `keys:write`. */
  putAlertEmails(body: AlertEmailsInput): Promise<AccountResult> {
    return this.#request('PUT', '/v1/account/alert-emails', { body });
  }

  /** `POST /v1/webhooks` — a new endpoint; its `whsec_` signing secret is in the answer once. Scope `keys:write`. */
  createWebhook(body: CreateWebhookInput): Promise<WebhookWithSecret> {
    return this.#request('POST', '/v1/webhooks', { body });
  }

  /** `GET /v1/webhooks` — every endpoint the caller's environment may see. Scope `keys:read`. */
  listWebhooks(): Promise<WebhookList> {
    return this.#request('GET', '/v1/webhooks');
  }

  /** `GET /v1/webhooks/{id}`. Scope `keys:read`. */
  getWebhook(id: string): Promise<WebhookResult> {
    return this.#request('GET', `/v1/webhooks/${seg(id)}`);
  }

  /** `PATCH /v1/webhooks/{id}` — URL, event types, description, or `enabled`. Scope `keys:write`. */
  updateWebhook(id: string, body: UpdateWebhookInput): Promise<WebhookResult> {
    return this.#request('PATCH', `/v1/webhooks/${seg(id)}`, { body });
  }

  /** `DELETE /v1/webhooks/{id}`. Scope `keys:write`. */
  deleteWebhook(id: string): Promise<WebhookResult> {
    return this.#request('DELETE', `/v1/webhooks/${seg(id)}`);
  }

  /** `POST /v1/webhooks/{id}/rotate-secret` — a new signing secret; the old one keeps signing for the overlap. */
  rotateWebhookSecret(id: string, body?: RotateWebhookSecretInput): Promise<WebhookWithSecret> {
    return this.#request('POST', `/v1/webhooks/${seg(id)}/rotate-secret`, { body: body ?? {} });
  }

  /** `POST /v1/webhooks/{id}/test` — queues a `webhook.test` delivery (202). Scope `keys:write`. */
  testWebhook(id: string): Promise<WebhookTestResult> {
    return this.#request('POST', `/v1/webhooks/${seg(id)}/test`);
  }

  /** `GET /v1/webhooks/{id}/deliveries` — one page of deliveries with their attempts, newest first. */
  listWebhookDeliveries(id: string, q?: PageInput): Promise<WebhookDeliveryList> {
    return this.#request('GET', `/v1/webhooks/${seg(id)}/deliveries`, { query: { limit: q?.limit, cursor: q?.cursor } });
  }

  /** `GET /v1/whoami` — which key, and which of its secrets (`slot`), authenticated this call. */
  whoami(): Promise<Whoami> {
    return this.#request('GET', '/v1/whoami');
  }

  /** `GET /v1/email-confirmations/{token}` — confirm an address (the link of a confirmation email). Sent without the secret. */
  confirmEmail(token: string): Promise<EmailConfirmationResult> {
    return this.#request('GET', `/v1/email-confirmations/${seg(token)}`, { anonymous: true });
  }

  /** `GET /v1/openapi.json` — the OpenAPI document. Sent without the secret (the route needs none). */
  getOpenApi(): Promise<OpenApiDocument> {
    return this.#request('GET', '/v1/openapi.json', { anonymous: true });
  }

  /**
   * `POST /v1/leaks` — report secrets you found (at most 100; no API key is sent). Each result has
   * the secret's hint and what rekey did: `revoked`, `previous_expired`, `notified` or `unknown`.
   */
  reportLeaks(input: LeakReportInput): Promise<LeakReportResult> {
    return this.#request('POST', '/v1/leaks', { body: input, anonymous: true });
  }

  async #request<T>(method: string, path: string, opts: { body?: unknown; query?: Query; anonymous?: boolean } = {}): Promise<T> {
    let url = this.#baseUrl + path;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;

    const headers: Record<string, string> = { accept: 'application/json' };
    if (!opts.anonymous) headers.authorization = `Bearer ${this.#secret}`;
    const init: RequestInit = { method, headers };
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    if (this.#timeoutMs > 0) init.signal = AbortSignal.timeout(this.#timeoutMs);

    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (err) {
      // The cause is kept for debugging; it holds the URL and never the headers.
      throw new RekeyNetworkError(`${method} ${path} failed: ${describe(err)}`, { cause: err });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new RekeyNetworkError(`${method} ${path}: reading the response failed: ${describe(err)}`, { cause: err });
    }
    const payload = parseJson(text);
    if (!res.ok) throw toApiError(res, payload);
    if (payload === undefined) throw new RekeyNetworkError(`${method} ${path}: the response (status ${res.status}) is not JSON`);
    return payload as T;
  }
}

/** @internal Every item of a paged list, one page after another until `nextCursor` is `null` (shared with the admin client). */
export async function* everyItem<P extends { readonly nextCursor: string | null }, T>(
  load: (cursor: string | undefined) => Promise<P>,
  items: (page: P) => readonly T[],
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await load(cursor);
    yield* items(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** @internal One path segment (shared with the admin client). */
export function seg(id: string): string {
  // An id with `/`, `?` or `#` must stay one path segment and never address another route.
  return encodeURIComponent(id);
}

/** @internal */
export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const CODE_BY_STATUS: Record<number, RekeyErrorCode> = {
  400: 'validation_error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
};

/** @internal Turns a non-2xx answer into a {@link RekeyApiError} (shared with the admin client). */
export function toApiError(res: Response, payload: unknown): RekeyApiError {
  const err = (payload as { error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown } } | undefined)?.error;
  const raw = typeof err?.code === 'string' ? err.code : undefined;
  const code: RekeyErrorCode = raw !== undefined && KNOWN_CODES.has(raw) ? (raw as RekeyErrorCode) : (CODE_BY_STATUS[res.status] ?? 'internal_error');
  // API Gateway's own answers are `{"message": "..."}`.
  const gatewayMessage = (payload as { message?: unknown } | undefined)?.message;
  const message =
    typeof err?.message === 'string' ? err.message : typeof gatewayMessage === 'string' ? gatewayMessage : `HTTP ${res.status} ${res.statusText}`.trim();
  const requestId =
    typeof err?.requestId === 'string' ? err.requestId : (res.headers.get('x-request-id') ?? res.headers.get('x-amzn-requestid') ?? '');
  const details = Array.isArray(err?.details) ? (err.details as RekeyErrorDetail[]) : undefined;
  return new RekeyApiError(res.status, code, message, requestId, details, raw !== undefined && raw !== code ? raw : undefined);
}

/** @internal */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    if (err.name === 'AbortError') return 'aborted';
    const cause = (err as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === 'string' ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

export { withKeyFallback, FallbackClient, fromEnv, KeyFallbackError } from './fallback.js';
export type { KeyPair, KeySource, KeySlot, FallbackResult, FallbackOptions, FallbackClientOptions, OldKeyUsedInfo } from './fallback.js';
