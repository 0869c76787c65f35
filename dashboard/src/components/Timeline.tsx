import { formatDateTime, formatShortDateTime } from '../format.js';

/**
 * The transition window as a bar from the rotation's start to the old secret's expiry. The part
 * still to come is drawn in the old secret's colour (a fresh 24 h window is a full bar, not an
 * empty grey one), the part gone is grey, with a tick at the reminder and a "now" marker whose
 * label sits on the marker itself. Plain HTML positioned in percent through the CSSOM (the page's
 * CSP allows that, not style attributes), so marker and label share one coordinate; the whole is
 * described in one label for screen readers.
 */
export function Timeline({ startedAt, endsAt, reminderAt, now }: { startedAt: string; endsAt: string; reminderAt: string | null; now: number }) {
  const start = Date.parse(startedAt);
  const end = Date.parse(endsAt);
  const span = Math.max(1, end - start);
  const pos = (t: number) => Math.min(100, Math.max(0, ((t - start) / span) * 100));
  const nowPos = pos(now);
  const reminder = reminderAt ? pos(Date.parse(reminderAt)) : null;
  const label = `Transition window from ${formatDateTime(startedAt)} to ${formatDateTime(endsAt)}; ${Math.round(nowPos)}% elapsed.`;
  // Near either end the label is anchored to its marker's side so it never leaves the bar.
  const anchor = nowPos < 12 ? 'start' : nowPos > 88 ? 'end' : 'middle';
  return (
    <figure class="timeline" role="img" aria-label={label}>
      <div class="tl-bar" aria-hidden="true">
        <div class="tl-track">
          <div class="tl-elapsed" style={{ width: `${nowPos}%` }} />
          <div class="tl-remaining" style={{ left: `${nowPos}%`, width: `${100 - nowPos}%` }} />
          {reminder !== null && <div class="tl-reminder" style={{ left: `${reminder}%` }} title="Reminder email" />}
          <div class="tl-now" style={{ left: `${nowPos}%` }} />
        </div>
        <span class={`tl-now-label small anchor-${anchor}`} style={{ left: `${nowPos}%` }}>
          now
        </span>
      </div>
      <figcaption class="tl-labels small" aria-hidden="true">
        <span>
          <span class="muted">Rotated</span> <time dateTime={startedAt}>{formatShortDateTime(startedAt, now)}</time>
        </span>
        <span>
          <span class="muted">Old secret ends</span> <time dateTime={endsAt}>{formatShortDateTime(endsAt, now)}</time>
        </span>
      </figcaption>
    </figure>
  );
}
