/**
 * The embedded DynamoDB of local mode: dynalite on 127.0.0.1 (never another interface), persisted
 * with LevelDB under the data directory.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Stops accepting requests and closes the LevelDB store (flushes it). */
  close(): Promise<void>;
}

/**
 * Starts dynalite on a free port of 127.0.0.1.
 * @param path LevelDB directory; omit for an in-memory store (tests).
 */
export async function startDynalite(path?: string): Promise<LocalDynamo> {
  // Table state changes are instant: local mode must be ready in well under a second.
  const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
