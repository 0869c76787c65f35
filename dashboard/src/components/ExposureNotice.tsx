/**
 * An exposed key, said plainly (SPEC §11): where its secret was found, what rekey did, and what to
 * do next. The details come from the key's `api_key.exposed` audit event; the key object says only
 * `revokedReason: "exposed"`.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RekeyClient } from '../api.js';
import type { EventView, KeyView } from '../types.js';
import { ErrorAlert, useAction, When } from '../ui.js';

/** The newest `api_key.exposed` event among the key's latest 100. */
export function latestExposure(events: readonly EventView[]): EventView | undefined {
  return events.find((e) => e.type === 'api_key.exposed');
}

/** Only plain web links are shown as links; the API already keeps nothing else. */
function safeLink(url: unknown): string | null {
  return typeof url === 'string' && /^https?:\/\/[^\s"'<>]+$/.test(url) ? url : null;
}

export function ExposureNotice({ apiKey: k, client, now }: { apiKey: KeyView; client: RekeyClient; now: number }) {
  const [event, setEvent] = useState<EventView | null | undefined>(undefined);
  const load = useAction();
  useEffect(() => {
    void load.run(async () => setEvent(latestExposure((await client.listKeyEvents(k.id, { limit: 100 })).events) ?? null));
  }, [k.id, k.revokedAt]);
  const data = (event?.data ?? {}) as { url?: unknown; source?: unknown; hint?: unknown; slot?: unknown };
  const url = safeLink(data.url);
  const headingId = `key-${k.id}-exposed`;
  return (
    <section class="revoked exposed" role="alert" aria-labelledby={headingId}>
      <h3 id={headingId}>This key leaked and has been revoked</h3>
      <p>
        <strong>Where it was found: </strong>
        {event === undefined && !load.error
          ? 'loading…'
          : url
            ? (
                <>
                  <a href={url} rel="noopener noreferrer" target="_blank">{url}</a>
                  {data.source === 'github_secret_scanning' ? ' (reported by GitHub secret scanning)' : ''}
                </>
              )
            : data.source === 'github_secret_scanning'
              ? 'reported by GitHub secret scanning.'
              : 'someone who found it reported it to rekey directly.'}
        {typeof data.hint === 'string' ? <> The leaked secret is <code>{data.hint}</code>.</> : null}
      </p>
      <p>
        <strong>What rekey did: </strong>revoked the key <When iso={k.revokedAt} now={now} />. Every secret of it is refused, and it can
        never be reactivated.
      </p>
      <div>
        <strong>What to do next:</strong>
        <ol>
          <li>Create a replacement key and deploy its secret wherever this key was used.</li>
          <li>Remove the leaked secret from where it was found, including its history (commits, logs, tickets).</li>
          <li>Review what was done with this key before it was revoked.</li>
        </ol>
      </div>
      <ErrorAlert error={load.error} />
    </section>
  );
}
