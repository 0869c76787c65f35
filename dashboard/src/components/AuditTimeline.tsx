import { useEffect, useState } from 'preact/hooks';
import type { RekeyClient } from '../api.js';
import { formatDateTime, formatDuration, formatRelative } from '../format.js';
import type { EventView } from '../types.js';
import { ErrorAlert, useAction } from '../ui.js';

const PAGE = 5;

/** `api_key.rotation_updated` → `Rotation updated`. */
export function eventTitle(type: string): string {
  const words = type.replace(/^(api_key|key)\./, '').replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `oldKeyExpiresAt` → `old key expires at`. */
function fieldWords(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** One event's data in words: times as dates (events carry epoch ms or ISO strings), seconds as durations. */
export function dataSummary(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => {
      let text = String(v);
      if (/At$|Until$/.test(k) && (typeof v === 'number' || (typeof v === 'string' && !Number.isNaN(Date.parse(v))))) {
        text = formatDateTime(new Date(v as number | string).toISOString());
      } else if (/Seconds$/.test(k) && typeof v === 'number') {
        text = formatDuration(v);
      }
      return `${fieldWords(k)}: ${text}`;
    })
    .join(' · ');
}

/** The key's audit trail, newest first, a page at a time. Reloads when `version` changes. */
export function AuditTimeline({ client, keyId, version, now }: { client: RekeyClient; keyId: string; version: string; now: number }) {
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
            <span class="event-type">{eventTitle(e.type)}</span>{' '}
            <time dateTime={e.at} class="muted">
              {formatDateTime(e.at)} ({formatRelative(e.at, now)})
            </time>
            <div class="small muted">
              {e.actorKeyId ? `by key ${e.actorKeyId}` : 'by the system'}
              {dataSummary(e.data) && ` · ${dataSummary(e.data)}`}
            </div>
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
