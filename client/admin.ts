/**
 * Typed client for rekey's admin API (SPEC §9): the provider's backend creates and manages
 * accounts and acts on any account's keys. Requests are signed with AWS Signature Version 4 by the
 * AWS SDK's own signer (`@smithy/signature-v4`) for service `execute-api`, with credentials from
 * the AWS SDK's default chain (environment, `AWS_PROFILE`, SSO, container or instance role) unless
 * given. The same client works against a deployed stack (IAM: `execute-api:Invoke`, see the
 * `OperatorPolicyArn` output) and against local mode (the operator key in `<data dir>/operator.json`).
 * Node.js only: never ship AWS credentials to a browser.
 *
 * ```ts
 * const admin = new RekeyAdminClient({ baseUrl: process.env.REKEY_API_URL! });
 * const { account, secret } = await admin.createAccount({ name: 'Acme', alertEmails: ['ops@acme.example'], firstKey: {} });
 * ```
 */
import type { z } from 'zod';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256, SIGV4_SERVICE } from '../shared/adapters/sigv4.js';
import type * as s from '../shared/http/schemas.js';
import {
  describe,
  everyItem,
  parseJson,
  RekeyNetworkError,
  seg,
  toApiError,
  type AccountResult,
  type AlertEmailsInput,
  type CancelRotationInput,
  type CreateKeyInput,
  type EventList,
  type KeyList,
  type KeyResult,
  type KeyWithSecret,
  type PageInput,
  type RotateKeyInput,
  type UpdateKeyInput,
  type UpdateRotationInput,
} from './index.js';

export type CreateAccountInput = z.input<typeof s.CreateAccountBody>;
export type UpdateAccountInput = z.input<typeof s.UpdateAccountBody>;
export type CreatedAccount = z.output<typeof s.CreatedAccountResponse>;
export type AccountList = z.output<typeof s.AccountListResponse>;
export type AdminAccount = z.output<typeof s.AccountView>;

/** Options of {@link RekeyAdminClient}. */
export interface RekeyAdminClientOptions {
  /** The API's base URL (stack output `ApiUrl`, or `http://127.0.0.1:3000` locally). */
  readonly baseUrl: string;
  /**
   * Region the requests are signed for. @default the region in an `execute-api` URL, else
   * `AWS_REGION` / `AWS_DEFAULT_REGION`
   */
  readonly region?: string;
  /** Credentials or a provider of them. @default the AWS SDK's default credential chain */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** A `fetch` implementation. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Abort a request after this many milliseconds; 0 disables. @default 30000 */
  readonly timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

/** The region of an API Gateway URL (`https://id.execute-api.<region>.amazonaws.com/…`), if it is one. */
export function regionOfApiUrl(url: string): string | undefined {
  return /^https:\/\/[^./]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?(\/|$)/.exec(url)?.[1];
}

/** One method per admin operation (`operationId` in the OpenAPI document, without `admin`). */
export class RekeyAdminClient {
  readonly #baseUrl: URL;
  readonly #signer: SignatureV4;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(opts: RekeyAdminClientOptions) {
    this.#baseUrl = new URL(opts.baseUrl.replace(/\/+$/, ''));
    const region = opts.region ?? regionOfApiUrl(opts.baseUrl) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('RekeyAdminClient: no region; pass `region` or set AWS_REGION');
    this.#signer = new SignatureV4({
      service: SIGV4_SERVICE,
      region,
      sha256: NodeSha256,
      // Loaded on first use so that passing credentials never touches the default chain.
      credentials: opts.credentials ?? (async () => (await import('@aws-sdk/credential-provider-node')).defaultProvider()()),
    });
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** `POST /admin/v1/accounts` — with `firstKey`, the answer holds the first key and its secret, once. */
  createAccount(body: CreateAccountInput): Promise<CreatedAccount> {
    return this.#request('POST', '/admin/v1/accounts', { body });
  }

  /** `GET /admin/v1/accounts` — one page, newest first. */
  listAccounts(q?: PageInput): Promise<AccountList> {
    return this.#request('GET', '/admin/v1/accounts', { query: { limit: q?.limit, cursor: q?.cursor } });
  }

  /** Every account, following `nextCursor`. */
  iterateAccounts(pageSize?: number): AsyncGenerator<AdminAccount, void, undefined> {
    return everyItem((cursor) => this.listAccounts({ limit: pageSize, cursor }), (page) => page.accounts);
  }

  /** `GET /admin/v1/accounts/{accountId}` */
  getAccount(accountId: string): Promise<AccountResult> {
    return this.#request('GET', `/admin/v1/accounts/${seg(accountId)}`);
  }

  /** `PATCH /admin/v1/accounts/{accountId}` — name, alert emails (trusted), allowed scopes, leak response. */
  updateAccount(accountId: string, body: UpdateAccountInput): Promise<AccountResult> {
    return this.#request('PATCH', `/admin/v1/accounts/${seg(accountId)}`, { body });
  }

  /** `POST /admin/v1/accounts/{accountId}/suspend` — the account's keys are refused within the auth cache TTL. */
  suspendAccount(accountId: string): Promise<AccountResult> {
    return this.#request('POST', `/admin/v1/accounts/${seg(accountId)}/suspend`);
  }

  /** `POST /admin/v1/accounts/{accountId}/resume` — the keys work again on the next request. */
  resumeAccount(accountId: string): Promise<AccountResult> {
    return this.#request('POST', `/admin/v1/accounts/${seg(accountId)}/resume`);
  }

  /** `DELETE /admin/v1/accounts/{accountId}` — every key revoked; the id is never reused. */
  deleteAccount(accountId: string): Promise<AccountResult> {
    return this.#request('DELETE', `/admin/v1/accounts/${seg(accountId)}`);
  }

  /** `POST …/keys` — a key for the account (environment default `live`); the secret is in the answer once. */
  createKey(accountId: string, body: CreateKeyInput): Promise<KeyWithSecret> {
    return this.#request('POST', `${acct(accountId)}/keys`, { body });
  }

  /** `GET …/keys` — one page of the account's keys (both environments), newest first. */
  listKeys(accountId: string, q?: PageInput): Promise<KeyList> {
    return this.#request('GET', `${acct(accountId)}/keys`, { query: { limit: q?.limit, cursor: q?.cursor } });
  }

  /** `GET …/keys/{id}` */
  getKey(accountId: string, id: string): Promise<KeyResult> {
    return this.#request('GET', `${acct(accountId)}/keys/${seg(id)}`);
  }

  /** `PATCH …/keys/{id}` — name, scopes or expiry (the operator is not bound by delegation). */
  updateKey(accountId: string, id: string, body: UpdateKeyInput): Promise<KeyResult> {
    return this.#request('PATCH', `${acct(accountId)}/keys/${seg(id)}`, { body });
  }

  /** `POST …/keys/{id}/rotate` */
  rotateKey(accountId: string, id: string, body?: RotateKeyInput): Promise<KeyWithSecret> {
    return this.#request('POST', `${acct(accountId)}/keys/${seg(id)}/rotate`, { body: body ?? {} });
  }

  /** `PATCH …/keys/{id}/rotation` */
  updateRotation(accountId: string, id: string, body: UpdateRotationInput): Promise<KeyResult> {
    return this.#request('PATCH', `${acct(accountId)}/keys/${seg(id)}/rotation`, { body });
  }

  /** `DELETE …/keys/{id}/rotation` */
  cancelRotation(accountId: string, id: string, body?: CancelRotationInput): Promise<KeyResult> {
    return this.#request('DELETE', `${acct(accountId)}/keys/${seg(id)}/rotation`, body === undefined ? {} : { body });
  }

  /** `POST …/keys/{id}/revoke` — idempotent. */
  revokeKey(accountId: string, id: string): Promise<KeyResult> {
    return this.#request('POST', `${acct(accountId)}/keys/${seg(id)}/revoke`);
  }

  /** `POST …/keys/{id}/reactivate` */
  reactivateKey(accountId: string, id: string): Promise<KeyResult> {
    return this.#request('POST', `${acct(accountId)}/keys/${seg(id)}/reactivate`);
  }

  /** `GET …/keys/{id}/events` — the audit trail, newest first; each event names its `actor`. */
  listKeyEvents(accountId: string, id: string, q?: PageInput): Promise<EventList> {
    return this.#request('GET', `${acct(accountId)}/keys/${seg(id)}/events`, { query: { limit: q?.limit, cursor: q?.cursor } });
  }

  /** `GET …/account` — the account as its own keys see it. */
  getCustomerAccount(accountId: string): Promise<AccountResult> {
    return this.#request('GET', `${acct(accountId)}/account`);
  }

  /** `PUT …/account/alert-emails` — replaces the list; operator-set addresses are trusted. */
  putAlertEmails(accountId: string, body: AlertEmailsInput): Promise<AccountResult> {
    return this.#request('PUT', `${acct(accountId)}/account/alert-emails`, { body });
  }

  async #request<T>(method: string, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<T> {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query[k] = String(v);
    const base = this.#baseUrl;
    const fullPath = `${base.pathname.replace(/\/+$/, '')}${path}`;
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { host: base.host, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let signed;
    try {
      signed = await this.#signer.sign({ method, protocol: base.protocol, hostname: base.hostname, ...(base.port ? { port: Number(base.port) } : {}), path: fullPath, query, headers, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      throw new RekeyNetworkError(`${method} ${path}: could not sign the request: ${describe(err)}`, { cause: err });
    }
    const qs = new URLSearchParams(query).toString();
    const url = `${base.origin}${fullPath}${qs ? `?${qs}` : ''}`;
    // `host` is set by fetch itself (a forbidden header there); it was signed with the same value.
    const { host: _host, ...send } = signed.headers as Record<string, string>;
    const init: RequestInit = { method, headers: send, ...(body !== undefined ? { body } : {}) };
    if (this.#timeoutMs > 0) init.signal = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (err) {
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

const acct = (accountId: string) => `/admin/v1/accounts/${seg(accountId)}`;
