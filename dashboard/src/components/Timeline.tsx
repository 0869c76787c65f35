import { formatDateTime } from '../format.js';

/**
 * The transition window as a bar from the rotation's start to the old secret's expiry, with the
 * elapsed part filled, a tick at the reminder and a "now" marker. Drawn in SVG with no text inside
 * (the viewBox stretches), so the labels are HTML beneath it and the whole is described for screen readers.
 */
export function Timeline({ startedAt, endsAt, reminderAt, now }: { startedAt: string; endsAt: string; reminderAt: string | null; now: number }) {
  const start = Date.parse(startedAt);
  const end = Date.parse(endsAt);
  const span = Math.max(1, end - start);
  const pos = (t: number) => Math.min(100, Math.max(0, ((t - start) / span) * 100));
  const nowPos = pos(now);
  const reminder = reminderAt ? pos(Date.parse(reminderAt)) : null;
  const label = `Transition window from ${formatDateTime(startedAt)} to ${formatDateTime(endsAt)}; ${Math.round(nowPos)}% elapsed.`;
  return (
    <figure class="timeline">
      <div class="tl-bar">
      <svg viewBox="0 0 100 20" preserveAspectRatio="none" role="img" aria-label={label} focusable="false">
        <rect x="0" y="7" width="100" height="6" rx="1" class="tl-track" />
        <rect x="0" y="7" width={nowPos} height="6" rx="1" class="tl-elapsed" />
        {reminder !== null && <rect x={Math.max(0, reminder - 0.4)} y="4" width="0.8" height="12" class="tl-reminder" />}
        <rect x={Math.min(99.2, Math.max(0, nowPos - 0.6))} y="1" width="1.2" height="18" class="tl-now" />
      </svg>
      {/* Positioned through the CSSOM (not a style attribute), which the page's CSP allows. */}
      <span class="tl-now-label small" aria-hidden="true" style={{ left: `${Math.min(92, Math.max(8, nowPos))}%` }}>
        now
      </span>
      </div>
      <figcaption class="tl-labels small">
        <span>Rotated {formatDateTime(startedAt)}</span>
        <span>Old secret ends {formatDateTime(endsAt)}</span>
      </figcaption>
    </figure>
  );
}
