import { useEffect, useState } from 'preact/hooks';
import type { RekeyClient } from '../api.js';
import { describeEvent, eventTitle } from '../auditSentences.js';
import { formatDateTime, formatRelative } from '../format.js';
import type { EventView } from '../types.js';
import { ErrorAlert, useAction } from '../ui.js';

const PAGE = 5;

export { eventTitle };

/**
 * The key's audit trail, newest first, a page at a time, each event as a sentence with key names
 * (`auditSentences.ts`); the event's raw record is one click away. Reloads when `version` changes.
 */
export function AuditTimeline({
  client,
  keyId,
  version,
  now,
  keyName,
}: {
  client: RekeyClient;
  keyId: string;
  version: string;
  now: number;
  keyName: (id: string) => string | undefined;
}) {
  const [events, setEvents] = useState<EventView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const action = useAction();
  useEffect(() => {
    void action.run(async () => {
      const page = await client.listKeyEvents(keyId, { limit: PAGE });
      setEvents(page.events);
      setCursor(page.nextCursor);
      setLoaded(true);
    });
  }, [keyId, version]);
  const more = () =>
    action.run(async () => {
      if (!cursor) return;
      const page = await client.listKeyEvents(keyId, { limit: PAGE, cursor });
      setEvents((prev) => [...prev, ...page.events]);
      setCursor(page.nextCursor);
    });
  return (
    <div class="audit">
      {!loaded && action.busy && <p class="muted">Loading activity…</p>}
      {loaded && events.length === 0 && <p class="muted">No events yet.</p>}
      <ol class="events">
        {events.map((e) => (
          <li key={e.id}>
            <p class="event-sentence">{describeEvent(e, { keyName, subjectKeyId: keyId })}</p>
            <time dateTime={e.at} class="muted small">
              {formatDateTime(e.at)} ({formatRelative(e.at, now)})
            </time>
            <details class="event-raw">
              <summary class="small">Raw event</summary>
              {/* The event exactly as the API returned it (ids, hints and times; never a secret). */}
              <pre class="small">{JSON.stringify(e, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
      <ErrorAlert error={action.error} />
      {cursor && (
        <button type="button" onClick={more} disabled={action.busy}>
          {action.busy ? 'Loading…' : 'Load more events'}
        </button>
      )}
    </div>
  );
}
