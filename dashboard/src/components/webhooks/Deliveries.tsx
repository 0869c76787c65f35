/**
 * An endpoint's deliveries, newest first (SPEC §10): each with its event, status, every attempt
 * (time, status code or error, duration) and the next retry. While a delivery waits for an attempt
 * due within a minute (`shouldFollow`), the list re-reads itself (1.5 s, 3 s, then every 6 s) so
 * a test event's outcome appears without a click.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RekeyClient } from '../../api.js';
import { formatDateTime } from '../../format.js';
import type { DeliveryView } from '../../types.js';
import { ActionButton, ErrorAlert, useAction, When } from '../../ui.js';
import { attemptWords, deliverySummary, shouldFollow } from '../../webhooks.js';

const PAGE = 10;
/** The first re-read of a followed delivery; later ones double up to 4× this. */
const FOLLOW_FIRST_MS = 1500;

export function Deliveries({ client, webhookId, now, version }: { client: RekeyClient; webhookId: string; now: number; version: number }) {
  const [items, setItems] = useState<DeliveryView[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadedMore, setLoadedMore] = useState(false);
  const load = useAction();
  const first = () =>
    load.run(async () => {
      const page = await client.listWebhookDeliveries(webhookId, { limit: PAGE });
      if (!loadedMore) {
        setItems(page.deliveries);
        setCursor(page.nextCursor);
        return;
      }
      // Pages were added with "Load more": refresh the newest page in place and keep the older ones.
      setItems((prev) => {
        const fresh = new Set(page.deliveries.map((d) => d.id));
        return [...page.deliveries, ...(prev ?? []).filter((d) => !fresh.has(d.id))];
      });
    });
  useEffect(() => {
    void first();
  }, [webhookId, version]);

  // Following: re-read after 1.5 s, then 3 s, then every 6 s while nothing changes; back to 1.5 s
  // when an attempt lands. A hidden tab re-arms the timer without a request.
  const following = (items ?? []).some((d) => shouldFollow(d, now));
  const progress = (items ?? []).map((d) => `${d.id}:${d.status}:${d.attempts.length}`).join(',');
  const polls = useRef(0);
  const [hiddenTick, setHiddenTick] = useState(0);
  useEffect(() => {
    polls.current = 0;
  }, [progress, version]);
  useEffect(() => {
    if (!following) return;
    const id = window.setTimeout(() => {
      polls.current++;
      if (document.hidden) setHiddenTick((t) => t + 1);
      else void first();
    }, FOLLOW_FIRST_MS * 2 ** Math.min(polls.current, 2));
    return () => window.clearTimeout(id);
  }, [following, items, hiddenTick]);

  return (
    <div class="deliveries">
      <div class="section-head small-head">
        <h4>Deliveries</h4>
        <ActionButton busy={load.busy} onClick={() => void first()}>
          Refresh deliveries
        </ActionButton>
      </div>
      <ErrorAlert error={load.error} />
      {items && items.length === 0 && <p class="muted">No deliveries yet. Send a test event to try the endpoint.</p>}
      {items && items.length > 0 && (
        <ol class="delivery-list">
          {items.map((d) => (
            <li key={d.id} class={`delivery st-${d.status}`} data-delivery-id={d.id}>
              <div class="delivery-head">
                <code>{d.eventType}</code>
                <span class={`badge dl-${d.status}`}>{d.status}</span>
                <span class="muted small">
                  <When iso={d.createdAt} now={now} />
                </span>
              </div>
              <p class="small">
                {deliverySummary(d)}
                {d.status === 'pending' && d.nextAttemptAt && (
                  <>
                    {' '}
                    — next attempt <When iso={d.nextAttemptAt} now={now} />
                  </>
                )}
                .
              </p>
              {d.attempts.length > 0 && (
                <ol class="attempts" aria-label="Attempts">
                  {d.attempts.map((a, i) => (
                    <li key={`${a.at}-${i}`}>
                      <time dateTime={a.at}>{formatDateTime(a.at)}</time> · <strong class={a.statusCode !== null && a.statusCode < 300 ? 'ok-text' : 'error-text'}>{attemptWords(a)}</strong>{' '}
                      · {a.durationMs} ms
                    </li>
                  ))}
                </ol>
              )}
              <p class="muted small">
                Delivery <code>{d.id}</code> · event <code>{d.eventId}</code>
              </p>
            </li>
          ))}
        </ol>
      )}
      {cursor && (
        <ActionButton
          busy={load.busy}
          onClick={() =>
            void load.run(async () => {
              const page = await client.listWebhookDeliveries(webhookId, { limit: PAGE, cursor });
              setItems((prev) => [...(prev ?? []), ...page.deliveries.filter((d) => !(prev ?? []).some((p) => p.id === d.id))]);
              setCursor(page.nextCursor);
              setLoadedMore(true);
            })
          }
        >
          Load more deliveries
        </ActionButton>
      )}
    </div>
  );
}
