/**
 * The rotation-aware fallback: during a transition window a caller holds two secrets of one key, the
 * *active* (new) one and the *old* one. Each call is made with the active secret; only when that
 * answers `401` is it made once more with the old secret. Which secret worked is reported, so the
 * caller can alert while the old one is still needed (the new one not yet deployed or not yet valid).
 *
 * Works with plain `fetch` against any API behind the rekey authorizer, and with {@link RekeyClient}
 * through {@link FallbackClient}. Browser-safe; nothing here logs, and no error message holds a secret.
 */
import { RekeyClient, type RekeyClientOptions } from './index.js';

/** Which of the two secrets a call used. */
export type KeySlot = 'active' | 'old';

/** The two secrets. `old` is absent outside a transition window. */
export interface KeyPair {
  readonly active: string;
  readonly old?: string | undefined;
}

/** Where the secrets come from; read before every call, so a source may cache and refresh. */
export interface KeySource {
  load(): Promise<KeyPair>;
  /** Drop any cached secrets: called when every secret was rejected, so the next call reloads. */
  invalidate?(): void;
}

/** What {@link FallbackOptions.onOldKeyUsed} receives. Holds no secret. */
export interface OldKeyUsedInfo {
  /** The status the active secret got (always 401). */
  readonly activeStatus: 401;
  /** The status the call with the old secret got; `undefined` when it resolved to a value with no status (a {@link RekeyClient} success). */
  readonly oldStatus: number | undefined;
}

export interface FallbackOptions {
  /**
   * Called each time the active secret was rejected and the old one was accepted (its call was
   * authenticated, whatever its status). Use it to alert: the old secret is still needed. An
   * exception thrown here is ignored, so an alerting failure never fails the caller's request.
   */
  readonly onOldKeyUsed?: (info: OldKeyUsedInfo) => void;
}

/** The outcome of a call: its result and which secret it used. */
export interface FallbackResult<T> {
  readonly result: T;
  readonly used: KeySlot;
}

/** Every secret there was to try was rejected with `401`. */
export class KeyFallbackError extends Error {
  readonly status = 401;
  readonly code = 'unauthorized';
  /** The secrets that were tried, in order. */
  readonly tried: readonly KeySlot[];
  /** The last `Response` when the call returns responses (its body is unread). */
  readonly response: Response | undefined;

  constructor(tried: readonly KeySlot[], opts: { response?: Response; cause?: unknown } = {}) {
    super(
      tried.length === 2
        ? 'Both the active and the old secret were rejected (401).'
        : 'The active secret was rejected (401) and there is no old secret to try.',
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'KeyFallbackError';
    this.tried = tried;
    this.response = opts.response;
  }
}

/**
 * Runs `attempt` with the active secret and, when it gets `401`, once more with the old secret.
 *
 * `attempt` either resolves to a `Response`-like value (its `status` is read) or throws an error
 * with a `status` (as {@link RekeyApiError} does); either way only `401` leads to the second try.
 * Any other status, an exception without status, or a network failure is handed back as it came.
 * When the last secret tried is rejected too, it throws {@link KeyFallbackError}.
 *
 * ```ts
 * const { result: res, used } = await withKeyFallback(fromEnv(), (secret) =>
 *   fetch('https://api.example.com/reports', { headers: { authorization: `Bearer ${secret}` } }));
 * ```
 */
export async function withKeyFallback<T>(
  keys: KeyPair | KeySource,
  attempt: (secret: string, slot: KeySlot) => Promise<T>,
  opts: FallbackOptions = {},
): Promise<FallbackResult<T>> {
  const source = isSource(keys) ? keys : undefined;
  const pair = source ? await source.load() : (keys as KeyPair);
  if (!pair.active) throw new Error('withKeyFallback: the active secret is empty');
  // Same string twice would only repeat the rejected call.
  const old = pair.old && pair.old !== pair.active ? pair.old : undefined;

  const first = await run(attempt, pair.active, 'active');
  if (!first.unauthorized) return settle(first, 'active');
  if (old === undefined) {
    source?.invalidate?.();
    throw new KeyFallbackError(['active'], first.evidence);
  }
  await discard(first);

  const second = await run(attempt, old, 'old');
  if (second.unauthorized) {
    source?.invalidate?.();
    throw new KeyFallbackError(['active', 'old'], second.evidence);
  }
  try {
    opts.onOldKeyUsed?.({ activeStatus: 401, oldStatus: second.status });
  } catch {
    // Documented: an alerting hook must not break the request it reports on.
  }
  return settle(second, 'old');
}

type Outcome<T> =
  | { ok: true; value: T; status: number | undefined; unauthorized: boolean; evidence: { response?: Response } }
  | { ok: false; error: unknown; status: number | undefined; unauthorized: boolean; evidence: { cause?: unknown } };

async function run<T>(attempt: (secret: string, slot: KeySlot) => Promise<T>, secret: string, slot: KeySlot): Promise<Outcome<T>> {
  try {
    const value = await attempt(secret, slot);
    const status = statusOf(value);
    return { ok: true, value, status, unauthorized: status === 401, evidence: isResponse(value) ? { response: value } : {} };
  } catch (error) {
    const status = statusOf(error);
    return { ok: false, error, status, unauthorized: status === 401, evidence: { cause: error } };
  }
}

function settle<T>(o: Outcome<T>, used: KeySlot): FallbackResult<T> {
  if (!o.ok) throw o.error;
  return { result: o.value, used };
}

/** Frees the connection behind a rejected response before the second try. */
async function discard<T>(o: Outcome<T>): Promise<void> {
  if (o.ok && isResponse(o.value) && o.value.body && !o.value.bodyUsed) {
    await o.value.body.cancel().catch(() => undefined);
  }
}

function statusOf(v: unknown): number | undefined {
  const s = (v as { status?: unknown } | null | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

function isResponse(v: unknown): v is Response {
  return typeof Response !== 'undefined' && v instanceof Response;
}

function isSource(k: KeyPair | KeySource): k is KeySource {
  return typeof (k as KeySource).load === 'function';
}

/**
 * Secrets from two environment variables, read at each call (so a process manager that updates the
 * environment is followed). The active one must be set; an empty old one means none.
 */
export function fromEnv(opts: { activeVar?: string; oldVar?: string; env?: Record<string, string | undefined> } = {}): KeySource {
  const activeVar = opts.activeVar ?? 'REKEY_API_KEY';
  const oldVar = opts.oldVar ?? 'REKEY_API_KEY_OLD';
  return {
    load: async () => {
      const env = opts.env ?? (typeof process !== 'undefined' ? process.env : {});
      const active = env[activeVar]?.trim();
      // The message names the variable, never a value.
      if (!active) throw new Error(`environment variable ${activeVar} is not set`);
      const old = env[oldVar]?.trim() || undefined;
      return { active, old };
    },
  };
}

/** Options of {@link FallbackClient}: those of {@link RekeyClient} with the secrets as a pair or a source. */
export interface FallbackClientOptions extends Omit<RekeyClientOptions, 'secret'>, FallbackOptions {
  readonly keys: KeyPair | KeySource;
}

/**
 * {@link RekeyClient} calls with the active/old fallback:
 *
 * ```ts
 * const rekey = new FallbackClient({ baseUrl, keys: fromEnv(), onOldKeyUsed: () => metrics.count('rekey.old_key') });
 * const { result, used } = await rekey.call((c) => c.whoami());
 * ```
 */
export class FallbackClient {
  readonly #opts: FallbackClientOptions;

  constructor(opts: FallbackClientOptions) {
    this.#opts = opts;
  }

  /** Runs `fn` with a client holding the active secret, and on `401` once with the old one. */
  call<T>(fn: (client: RekeyClient) => Promise<T>): Promise<FallbackResult<T>> {
    const { keys, onOldKeyUsed, ...clientOpts } = this.#opts;
    return withKeyFallback(keys, (secret) => fn(new RekeyClient({ ...clientOpts, secret })), { onOldKeyUsed });
  }
}
