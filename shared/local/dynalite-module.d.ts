/** dynalite ships no types; this is the part of its API local mode and the tests use. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  export interface DynaliteOptions {
    /** LevelDB directory; in memory when omitted. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  /** An `http.Server` speaking the DynamoDB JSON protocol; `close()` also closes the store. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
