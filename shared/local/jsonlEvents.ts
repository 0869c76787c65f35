/** Local-mode event publisher: one JSON line per domain event in `<dataDir>/events.jsonl`. */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EVENT_SOURCE, eventDetail, isPublished, serializeDetail } from '../domain/eventDetail.js';
import type { EventPublisher } from '../domain/ports.js';
import type { AuditEvent } from '../domain/types.js';

/**
 * {@link EventPublisher} appending `{source, detailType, ...detail}` lines, where detail is exactly
 * what EventBridge receives (`{id, type, at, accountId, keyId, actorKeyId, data}`). Audit-only types
 * are skipped, secret-shaped details refused, like the EventBridge adapter. An event id already in
 * the file is not appended again, so a retried outbox effect leaves one line.
 */
export class JsonlEventPublisher implements EventPublisher {
  readonly file: string;
  private seen: Set<string> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: { dataDir: string }) {
    this.file = join(opts.dataDir, 'events.jsonl');
  }

  async publish(event: AuditEvent): Promise<void> {
    if (!isPublished(event)) return;
    // Serialise first: a refused event fails the call without touching the file.
    const line = `${JSON.stringify({ source: EVENT_SOURCE, detailType: event.type, ...JSON.parse(serializeDetail(eventDetail(event))) })}\n`;
    const run = this.queue.then(async () => {
      const seen = await this.loadSeen();
      if (seen.has(event.id)) return;
      await mkdir(this.opts.dataDir, { recursive: true });
      await appendFile(this.file, line);
      seen.add(event.id);
    });
    this.queue = run.catch(() => undefined);
    await run;
  }

  /** Ids already in the file, read once per process. */
  private async loadSeen(): Promise<Set<string>> {
    if (this.seen) return this.seen;
    const seen = new Set<string>();
    try {
      for (const line of (await readFile(this.file, 'utf8')).split('\n')) {
        if (!line.trim()) continue;
        try {
          const id = (JSON.parse(line) as { id?: unknown }).id;
          if (typeof id === 'string') seen.add(id);
        } catch {
          // A torn last line from a crash: ignore it, the event will be appended again.
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.seen = seen;
    return seen;
  }
}
