/**
 * Requests per minute by the old and the new secret during a rotation (SPEC §12): the traffic
 * moving over. Drawn by the app as inline SVG (no chart library, nothing from another host); the
 * numbers behind it are in the figure's label and in a small table for screen readers.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RekeyClient } from '../api.js';

type Usage = Awaited<ReturnType<RekeyClient['getKeyUsage']>>;

/** Minutes shown: the rotation so far, at most the last hour. */
const MAX_MINUTES = 60;
const REFRESH_MS = 30_000;
const MINUTE = 60_000;

/** Per-minute series of the current (new) and previous (old) secret over `[first, last]` minutes. */
export function usageSeries(usage: Usage, firstMinute: number, lastMinute: number): { at: number; old: number; fresh: number }[] {
  const out: { at: number; old: number; fresh: number }[] = [];
  const index = new Map<number, { at: number; old: number; fresh: number }>();
  for (let at = firstMinute; at <= lastMinute; at += MINUTE) {
    const row = { at, old: 0, fresh: 0 };
    out.push(row);
    index.set(at, row);
  }
  for (const s of usage.secrets) {
    if (s.slot === 'retired') continue;
    for (const m of s.minutes) {
      const row = index.get(Date.parse(m.at));
      if (!row) continue;
      if (s.slot === 'previous') row.old += m.count;
      else row.fresh += m.count;
    }
  }
  return out;
}

/** `refresh`: changes when the key's last use does (a refreshed key view), so the chart loads again at once. */
export function UsageChart({ client, keyId, startedAt, now, refresh }: { client: RekeyClient; keyId: string; startedAt: string; now: number; refresh: string }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [failed, setFailed] = useState(false);
  const lastMinute = now - (now % MINUTE);
  const start = Math.max(Date.parse(startedAt) - (Date.parse(startedAt) % MINUTE), lastMinute - (MAX_MINUTES - 1) * MINUTE);

  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const u = await client.getKeyUsage(keyId, { from: new Date(start).toISOString() });
        if (live) {
          setUsage(u);
          setFailed(false);
        }
      } catch {
        if (live) setFailed(true);
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, keyId, startedAt, refresh]);

  if (failed && !usage) return <p class="muted small">Traffic per secret could not be loaded.</p>;
  if (!usage) return <p class="muted small">Loading traffic per secret…</p>;

  const rows = usageSeries(usage, start, lastMinute);
  const oldTotal = rows.reduce((n, r) => n + r.old, 0);
  const newTotal = rows.reduce((n, r) => n + r.fresh, 0);
  const peak = Math.max(1, ...rows.map((r) => Math.max(r.old, r.fresh)));
  const W = 600;
  const H = 120;
  const slot = W / rows.length;
  const bar = Math.max(1, slot / 2 - 1);
  const y = (v: number) => H - (v / peak) * (H - 4);
  const minutes = rows.length;
  const label = `Requests per minute over the last ${minutes} minute${minutes === 1 ? '' : 's'}: old secret ${oldTotal}, new secret ${newTotal}.`;
  const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <figure class="usage-chart" data-testid="usage-chart">
      <figcaption class="small">
        Requests per minute <span class="legend old">old secret: {oldTotal}</span> <span class="legend new">new secret: {newTotal}</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label} focusable="false">
        <line class="axis" x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} />
        {rows.map((r, i) => (
          <g key={r.at}>
            {r.old > 0 && <rect class="bar-old" x={i * slot} y={y(r.old)} width={bar} height={H - y(r.old)} data-count={r.old} />}
            {r.fresh > 0 && <rect class="bar-new" x={i * slot + bar + 1} y={y(r.fresh)} width={bar} height={H - y(r.fresh)} data-count={r.fresh} />}
          </g>
        ))}
      </svg>
      <div class="usage-axis small muted" aria-hidden="true">
        <span>{time(start)}</span>
        <span>peak {peak}/min</span>
        <span>{time(lastMinute)}</span>
      </div>
      <table class="visually-hidden">
        <caption>Requests per minute by secret</caption>
        <thead>
          <tr><th scope="col">Minute</th><th scope="col">Old secret</th><th scope="col">New secret</th></tr>
        </thead>
        <tbody>
          {rows.filter((r) => r.old > 0 || r.fresh > 0).map((r) => (
            <tr key={r.at}><td>{time(r.at)}</td><td>{r.old}</td><td>{r.fresh}</td></tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
