/**
 * GitHub secret scanning signatures (SPEC §11): each request carries `Github-Public-Key-Identifier`
 * and `Github-Public-Key-Signature`, a base64 DER ECDSA P-256 / SHA-256 signature over the raw body
 * bytes, made with one of the keys GitHub publishes at
 * `https://api.github.com/meta/public_keys/secret_scanning` as
 * `{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}`.
 *
 * The keys come from that URL, cached, or from a file in the same format
 * (`secretScanningKeysFile` / `SECRET_SCANNING_KEYS_FILE`: local mode, tests, staging). A key id
 * this process does not know makes it fetch again (at most once per `minRefetchMs`), so a key
 * rotation on GitHub's side needs no redeploy; the cache is also refreshed after `maxAgeMs`.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export const GITHUB_SECRET_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';
export const KEY_ID_HEADER = 'github-public-key-identifier';
export const SIGNATURE_HEADER = 'github-public-key-signature';

/** Thrown when the keys document is not in GitHub's format; names what is wrong, never key material. */
export class KeysDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeysDocumentError';
  }
}

/** Parses GitHub's keys document into key id → P-256 public key. */
export function parseKeysDocument(doc: unknown): Map<string, KeyObject> {
  const list = (doc as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list)) throw new KeysDocumentError('public_keys must be an array');
  const out = new Map<string, KeyObject>();
  list.forEach((entry: unknown, i) => {
    const e = entry as { key_identifier?: unknown; key?: unknown };
    if (typeof e?.key_identifier !== 'string' || e.key_identifier === '') throw new KeysDocumentError(`public_keys.${i}.key_identifier must be a string`);
    if (typeof e.key !== 'string') throw new KeysDocumentError(`public_keys.${i}.key must be a PEM string`);
    let key: KeyObject;
    try {
      key = createPublicKey(e.key);
    } catch {
      throw new KeysDocumentError(`public_keys.${i}.key is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new KeysDocumentError(`public_keys.${i}.key must be an ECDSA P-256 key`);
    }
    out.set(e.key_identifier, key);
  });
  return out;
}

/** Strict base64 (GitHub's encoding of the DER signature); anything else is not a signature. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Verifies GitHub's signature over the exact bytes received. Never throws on bad input. */
export function verifyGithubSignature(body: Buffer, signature: string, key: KeyObject): boolean {
  const sig = signature.trim();
  if (sig.length === 0 || sig.length > 256 || !BASE64.test(sig)) return false;
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

export interface GithubKeySourceOptions {
  /** A keys file to use instead of GitHub's endpoint. */
  readonly file?: string | undefined;
  /** @default GITHUB_SECRET_SCANNING_KEYS_URL */
  readonly url?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Least time between two loads caused by unknown key ids. @default 60 s */
  readonly minRefetchMs?: number;
  /** Keys older than this are reloaded on next use (GitHub may withdraw a key). @default 1 h */
  readonly maxAgeMs?: number;
}

/** GitHub's secret scanning public keys, loaded lazily and cached per process. */
export class GithubKeySource {
  private keys: Map<string, KeyObject> | null = null;
  private loadedAt = 0;
  /** When the last load started, successful or not: reloads are paced by it. */
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<Map<string, KeyObject>> | null = null;
  private readonly now: () => number;
  private readonly minRefetchMs: number;
  private readonly maxAgeMs: number;

  constructor(private readonly opts: GithubKeySourceOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.minRefetchMs = opts.minRefetchMs ?? 60_000;
    this.maxAgeMs = opts.maxAgeMs ?? 3_600_000;
  }

  /** The key with this id, or `null` when neither the cache nor a (rate-limited) reload knows it. */
  async get(keyId: string): Promise<KeyObject | null> {
    const now = this.now();
    if (!this.keys || (now - this.loadedAt >= this.maxAgeMs && now - this.attemptedAt >= this.minRefetchMs)) {
      try {
        await this.reload();
      } catch (err) {
        // Keep verifying with the keys already known when a refresh fails; with none, fail.
        if (!this.keys) throw err;
      }
    }
    let key = this.keys!.get(keyId);
    if (!key && this.now() - this.attemptedAt >= this.minRefetchMs) {
      // A key id we do not know: GitHub may have rotated its keys since we loaded them.
      await this.reload().catch(() => undefined);
      key = this.keys!.get(keyId);
    }
    return key ?? null;
  }

  private reload(): Promise<Map<string, KeyObject>> {
    // One load at a time: a burst of requests with an unknown id causes one fetch, not one each.
    if (!this.loading) this.attemptedAt = this.now();
    this.loading ??= this.load()
      .then((keys) => {
        this.keys = keys;
        this.loadedAt = this.now();
        return keys;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  private async load(): Promise<Map<string, KeyObject>> {
    if (this.opts.file) return parseKeysDocument(JSON.parse(await readFile(this.opts.file, 'utf8')));
    const res = await (this.opts.fetch ?? fetch)(this.opts.url ?? GITHUB_SECRET_SCANNING_KEYS_URL, {
      headers: { accept: 'application/vnd.github+json', 'user-agent': 'rekey-secret-scanning' },
      signal: AbortSignal.timeout(5_000),
      redirect: 'error',
    });
    if (!res.ok) throw new KeysDocumentError(`GitHub answered ${res.status} for its secret scanning keys`);
    return parseKeysDocument(await res.json());
  }
}
