/**
 * AWS Signature Version 4 verification for local mode: the admin API (SPEC §9), standing in for API
 * Gateway's `AWS_IAM` authorization, and the local store's guard (SPEC §6, service `dynamodb`).
 * It never canonicalises by hand: it re-signs the request as received with the AWS SDK's own
 * signer (`@smithy/signature-v4`) and the stored secret, and compares the two signatures in constant time. The payload hash is computed here from the body
 * bytes the server received, so a tampered body cannot pass with the original signature.
 *
 * Checks, in order: the `Authorization` header is a SigV4 header (else `missing`, 401); the
 * access key id, credential scope (date, region, service — `execute-api` unless told —,
 * `aws4_request`), signed headers (must include `host` and `x-amz-date`), the clock (±5 minutes) and the signature itself
 * (any failure `invalid`, 403).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';

/** The operator's access key (local mode: `<data dir>/operator.json`). */
export interface OperatorKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** The service name admin requests are signed for, as for API Gateway in AWS. */
export const SIGV4_SERVICE = 'execute-api';
/** Largest difference between the request's `x-amz-date` and the server clock that is accepted. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A request as the server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path as sent (no query string). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header name → values, names as sent (any case). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: Uint8Array;
}

export type SigV4Result =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

const toBytes = (data: SourceData): Uint8Array =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SHA-256 / HMAC-SHA256 for the SDK signer, on `node:crypto` (the signer asks for this interface). */
export class NodeSha256 implements Checksum {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret !== undefined ? createHmac('sha256', toBytes(this.secret)) : createHash('sha256');
  }
  update(data: Uint8Array): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function lower(headers: ReceivedRequest['headers']): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, values] of Object.entries(headers)) {
    const k = name.toLowerCase();
    out.set(k, [...(out.get(k) ?? []), ...values]);
  }
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Equal lengths for timingSafeEqual; a length difference alone reveals nothing secret.
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verifies a SigV4-signed request against the operator key (or the store's key). `now` is the
 * server clock (epoch ms); `signingService` the service the client signs for.
 * Never throws for client input.
 */
export async function verifySigV4(req: ReceivedRequest, key: OperatorKey, now: number, signingService: string = SIGV4_SERVICE): Promise<SigV4Result> {
  const headers = lower(req.headers);
  const authValues = headers.get('authorization') ?? [];
  const auth = authValues.length === 1 ? authValues[0]!.trim() : '';
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return { ok: false, status: 401, reason: 'no signature' };
  const m = AUTH_PATTERN.exec(auth);
  if (!m) return { ok: false, status: 403, reason: 'malformed Authorization header' };
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (!safeEqual(accessKeyId, key.accessKeyId)) return { ok: false, status: 403, reason: 'unknown access key' };
  if (region !== key.region || service !== signingService) return { ok: false, status: 403, reason: 'wrong credential scope' };
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date')) return { ok: false, status: 403, reason: 'host and x-amz-date must be signed' };
  const amzDates = headers.get('x-amz-date') ?? [];
  const d = amzDates.length === 1 ? AMZ_DATE.exec(amzDates[0]!) : null;
  if (!d) return { ok: false, status: 403, reason: 'missing or malformed x-amz-date' };
  const signedAt = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
  if (!Number.isFinite(signedAt) || Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) return { ok: false, status: 403, reason: 'request time outside ±5 minutes' };
  if (scopeDate !== amzDates[0]!.slice(0, 8)) return { ok: false, status: 403, reason: 'credential date differs from x-amz-date' };
  if (headers.has('x-amz-security-token')) return { ok: false, status: 403, reason: 'session tokens are not accepted locally' };

  // The body hash is ours, from the bytes received; a client-supplied hash is only checked.
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const claimed = headers.get('x-amz-content-sha256');
  if (claimed !== undefined && (claimed.length !== 1 || claimed[0] !== bodyHash)) return { ok: false, status: 403, reason: 'payload hash mismatch' };

  // Exactly the headers the client signed, as received (multiple values joined as HTTP does).
  const toSign: Record<string, string> = {};
  for (const name of signed) {
    const values = headers.get(name);
    if (values === undefined) return { ok: false, status: 403, reason: `signed header ${name} is missing` };
    toSign[name] = values.join(',');
  }
  toSign['x-amz-content-sha256'] = bodyHash;
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of req.query) {
    const prev = query[k];
    query[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    region: key.region,
    service: signingService,
    sha256: NodeSha256,
    // The hash header is only used to carry our own body hash; it is signed only if the client signed it.
    applyChecksum: false,
  });
  const host = toSign.host!;
  const resigned = await signer.sign(
    {
      method: req.method.toUpperCase(),
      protocol: 'http:',
      hostname: host,
      path: req.path,
      query,
      headers: toSign,
      body: req.body,
    },
    {
      signingDate: new Date(signedAt),
      // Exactly what the client signed, even headers the SDK would not sign itself (user-agent, …).
      signableHeaders: new Set(signed),
      ...(signed.includes('x-amz-content-sha256') ? {} : { unsignableHeaders: new Set(['x-amz-content-sha256']) }),
    },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers.authorization ?? resigned.headers.Authorization ?? ''))?.[1] ?? '';
  const expectedSigned = /SignedHeaders=([^,]+),/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  if (expectedSigned !== signedList || !safeEqual(expected, signature)) return { ok: false, status: 403, reason: 'signature does not match' };
  return { ok: true, accessKeyId };
}
