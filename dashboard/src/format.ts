/**
 * Pure formatting and parsing helpers of the dashboard: durations, countdowns, relative times.
 * No DOM access, so they are unit-testable in Node.
 */

/** Transition-window presets of SPEC §2, in seconds, in the order the UI offers them. */
export const WINDOW_PRESETS: readonly { readonly seconds: number; readonly label: string }[] = [
  { seconds: 0, label: 'Immediately' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 3 * 3600, label: '3 hours' },
  { seconds: 24 * 3600, label: '24 hours' },
  { seconds: 48 * 3600, label: '48 hours' },
  { seconds: 72 * 3600, label: '72 hours' },
];

/** The API's default transition window (24 h) and maximum when the deployment does not say otherwise (72 h). */
export const DEFAULT_WINDOW_SECONDS = 86_400;
export const DEFAULT_MAX_TRANSITION_SECONDS = 259_200;

/**
 * Parses a custom window typed by a person: plain seconds (`90`), `h:m` (`1:30`), or units
 * (`45s`, `15m`, `2h`, `1h30m`, `1d`). Returns whole seconds, or an error sentence.
 */
export function parseDuration(input: string, max: number): { seconds: number } | { error: string } {
  const text = input.trim().toLowerCase();
  if (text === '') return { error: 'Enter a duration, for example 90 (seconds), 1:30 (hours:minutes) or 2h.' };
  let seconds: number;
  const hm = /^(\d{1,3}):([0-5]?\d)$/.exec(text);
  if (/^\d+$/.test(text)) {
    seconds = Number(text);
  } else if (hm) {
    seconds = Number(hm[1]) * 3600 + Number(hm[2]) * 60;
  } else {
    const units = /^(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?$/.exec(text);
    if (!units || units.slice(1).every((u) => u === undefined)) {
      return { error: `"${input.trim()}" is not a duration. Use seconds (90), hours:minutes (1:30) or units (2h 30m).` };
    }
    const [d, h, m, s] = units.slice(1).map((u) => Number(u ?? 0)) as [number, number, number, number];
    seconds = d * 86_400 + h * 3600 + m * 60 + s;
  }
  if (!Number.isSafeInteger(seconds)) return { error: 'That duration is too long.' };
  if (seconds > max) return { error: `The longest allowed window is ${formatDuration(max)}.` };
  return { seconds };
}

/** `90061` → `1 d 1 h 1 min 1 s`; zero parts are left out; `0` → `0 s`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (sec || parts.length === 0) parts.push(`${sec} s`);
  return parts.join(' ');
}

/**
 * A countdown that changes every second: `1 d 02:03:04`, `02:03:04`, `03:04`. Rounds up so that
 * `00:00` is shown only once the deadline has passed. `withHours` keeps the hours field for the
 * whole countdown (pass it when the full span is an hour or more), so a one-hour countdown reads
 * `01:00:00`, `00:59:59`, … rather than changing shape to `59:59` after its first second.
 */
export function formatCountdown(ms: number, withHours = false): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  const clock = h || d || withHours ? `${pad(h)}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
  return d ? `${d} d ${clock}` : clock;
}

/** `5 minutes ago`, `in 3 hours`, `just now` — coarse, for "last used" style facts. */
export function formatRelative(iso: string, now: number): string {
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  if (abs < 5_000) return 'just now';
  const steps: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [unit, name] of steps) {
    if (abs >= unit) {
      const n = Math.floor(abs / unit);
      const label = `${n} ${name}${n === 1 ? '' : 's'}`;
      return diff < 0 ? `${label} ago` : `in ${label}`;
    }
  }
  return 'just now';
}

/** Absolute local date and time, to the second (windows can be seconds long). */
export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/**
 * A short absolute time for tight places (the timeline's ends): the time alone when it falls on
 * the same local day as `now`, else the date and time without the year.
 */
export function formatShortDateTime(iso: string, now: number): string {
  const d = new Date(iso);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return d.toLocaleString(undefined, sameDay ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The window a rotation without a body gets: 24 h, or the deployment's maximum when that is shorter (README). */
export function defaultWindowSeconds(max: number): number {
  return Math.min(DEFAULT_WINDOW_SECONDS, max);
}

/** Splits a free-text list (commas, spaces, new lines) into trimmed, non-empty, unique items. */
export function splitList(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((t) => t.trim()).filter(Boolean))];
}

