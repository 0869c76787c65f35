/**
 * The embedded DynamoDB of local mode: dynalite on 127.0.0.1 (never another interface), persisted
 * with LevelDB under the data directory.
 *
 * dynalite itself accepts any request and answers every origin with `Access-Control-Allow-Origin: *`.
 * With a `key` (local mode always passes one) its server's request listener is replaced by a guard
 * that hands dynalite's handler only requests signed (AWS Signature Version 4, service `dynamodb`) with that key,
 * verified by re-signing with the AWS SDK's own signer. Anything with an `Origin` header (a web page)
 * and every `OPTIONS` preflight is refused before the signature is even looked at, and no answer
 * carries a CORS header: a page in the user's browser can neither read nor change the store, and no
 * other local user can without the key file (SPEC §6).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import dynalite from 'dynalite';
import { verifySigV4 } from '../adapters/sigv4.js';
import type { StoreKey } from './storeKey.js';

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Stops accepting requests and closes the LevelDB store (flushes it). */
  close(): Promise<void>;
}

/** The SigV4 service name DynamoDB clients sign for. */
const DYNAMODB_SERVICE = 'dynamodb';
/** dynalite's own request limit (DynamoDB's is 16 MiB for a batch); the guard reads no more. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Starts dynalite on a free port of 127.0.0.1.
 * @param path LevelDB directory; omit for an in-memory store (tests).
 * @param opts.key when given, only requests signed with it are served (see the module comment).
 */
export async function startDynalite(path?: string, opts: { key?: StoreKey } = {}): Promise<LocalDynamo> {
  // Table state changes are instant: local mode must be ready in well under a second.
  const store = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const server: Server = opts.key ? guard(store, opts.key) : store;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        // Keep-alive sockets of SDK clients would hold close() open until they time out.
        server.closeIdleConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return closing;
    },
  };
}

/** An answer in DynamoDB's error shape, without any CORS header. */
function refuse(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Header name → values, from the raw pairs (so repeated headers are all seen). */
function headerValues(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) (out[raw[i]!] ??= []).push(raw[i + 1]!);
  return out;
}

/**
 * Puts the guard in place of dynalite's request listener, on dynalite's own server (so its close()
 * still flushes and closes LevelDB); dynalite's handler only ever sees verified requests.
 */
function guard(server: Server, key: StoreKey): Server {
  const handle = server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Any browser request carries Origin (a preflight always): refused, whatever else it carries.
    if (req.headers.origin !== undefined || req.method === 'OPTIONS') {
      req.resume();
      return refuse(res, 403, 'AccessDeniedException', 'The local store answers no cross-origin request.');
    }
    void (async () => {
      const body = await readBody(req);
      if (body === null) return refuse(res, 413, 'RequestEntityTooLarge', 'Request too large.');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const verdict = await verifySigV4(
        { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: headerValues(req.rawHeaders), body },
        key,
        Date.now(),
        DYNAMODB_SERVICE,
      );
      if (!verdict.ok) {
        return verdict.status === 401
          ? refuse(res, 400, 'MissingAuthenticationTokenException', 'Requests to the local store must be signed with its key (<data dir>/store.json).')
          : refuse(res, 403, 'UnrecognizedClientException', 'The request signature is not valid for the local store.');
      }
      // dynalite reads the body from the request stream: hand it the bytes already read.
      const replay = Object.assign(new PassThrough(), { headers: req.headers, method: req.method, url: req.url, httpVersion: req.httpVersion });
      handle(replay as unknown as IncomingMessage, res);
      replay.end(body);
    })().catch(() => {
      if (!res.headersSent) refuse(res, 500, 'InternalServerError', 'The local store failed.');
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}
