/** Sources of the HMAC pepper: AWS Secrets Manager in AWS, a fixed value in tests. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PepperSource } from '../domain/ports.js';
import { retryableOnce } from '../domain/once.js';

/** A pepper shorter than the HMAC-SHA256 block of security we want (256 bits) is refused. */
export const MIN_PEPPER_BYTES = 32;

/** `SecretString` values with this prefix are base64; any other string is used as its UTF-8 bytes. */
export const BASE64_PREFIX = 'base64:';

let defaultClient: SecretsManagerClient | undefined;
/** One client per process, built on first use. */
function sharedClient(): SecretsManagerClient {
  defaultClient ??= new SecretsManagerClient({});
  return defaultClient;
}

/** The pepper is missing, too short or unreadable. The message never contains the value. */
export class PepperError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PepperError';
  }
}

function checked(bytes: Buffer, where: string): Buffer {
  if (bytes.length < MIN_PEPPER_BYTES) {
    throw new PepperError(`pepper from ${where} is ${bytes.length} bytes; at least ${MIN_PEPPER_BYTES} are required`);
  }
  return bytes;
}

/**
 * Decodes a secret value into pepper bytes.
 * - `SecretBinary`: the raw bytes.
 * - `SecretString` starting with `base64:`: the base64 (or base64url) decoding of the rest.
 * - any other `SecretString`: its UTF-8 bytes, as is. Secrets Manager's generated passwords
 *   (e.g. 64 printable characters) therefore work without any encoding step.
 * An explicit prefix instead of guessing: a random alphanumeric string is also valid base64, and a
 * guess that changed between versions would silently change every digest.
 */
export function decodePepper(value: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined }, where: string): Buffer {
  if (value.SecretBinary && value.SecretBinary.length > 0) return checked(Buffer.from(value.SecretBinary), where);
  const s = value.SecretString;
  if (s === undefined || s === '') throw new PepperError(`pepper secret ${where} has no value`);
  if (s.startsWith(BASE64_PREFIX)) {
    const body = s.slice(BASE64_PREFIX.length).trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(body)) throw new PepperError(`pepper secret ${where} has a base64: prefix but is not base64`);
    return checked(Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64'), where);
  }
  return checked(Buffer.from(s, 'utf8'), where);
}

export interface SecretsManagerPepperOptions {
  /** Injected in tests; defaults to one module-level client. */
  readonly client?: SecretsManagerClient;
  /** Secret ARN or name. */
  readonly secretId: string;
}

/**
 * {@link PepperSource} reading one Secrets Manager secret once per process (one cold start = one
 * `GetSecretValue`). Concurrent callers share the in-flight request; a failure clears the cache so
 * the next call tries again instead of failing until the process is recycled.
 */
export class SecretsManagerPepper implements PepperSource {
  private readonly client: SecretsManagerClient;
  private readonly cached = retryableOnce(() => this.load());

  constructor(private readonly opts: SecretsManagerPepperOptions) {
    this.client = opts.client ?? sharedClient();
  }

  get(): Promise<Buffer> {
    return this.cached();
  }

  private async load(): Promise<Buffer> {
    let out;
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: this.opts.secretId }));
    } catch (err) {
      throw new PepperError(`reading pepper secret failed: ${err instanceof Error ? err.name : 'UnknownError'}`, { cause: err });
    }
    return decodePepper(out, 'Secrets Manager');
  }
}

/** A constant pepper, for tests and tools. */
export class FixedPepper implements PepperSource {
  private readonly pepper: Promise<Buffer>;

  /** @param pepper bytes, or a string used as its UTF-8 bytes; at least 32 bytes. */
  constructor(pepper: Buffer | string) {
    const bytes = typeof pepper === 'string' ? Buffer.from(pepper, 'utf8') : Buffer.from(pepper);
    this.pepper = Promise.resolve(checked(bytes, 'FixedPepper'));
  }

  get(): Promise<Buffer> {
    return this.pepper;
  }
}
