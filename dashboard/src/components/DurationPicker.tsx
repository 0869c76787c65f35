import { formatDuration, parseDuration, WINDOW_PRESETS } from '../format.js';

/** What the person picked: a preset's seconds as a string, or `custom` with free text. */
export interface DurationChoice {
  readonly choice: string;
  readonly custom: string;
}

/** Seconds for a choice, or an error sentence for an unusable custom value. */
export function resolveDuration(value: DurationChoice, max: number): { seconds: number } | { error: string } {
  if (value.choice === 'custom') return parseDuration(value.custom, max);
  const seconds = Number(value.choice);
  if (seconds > max) return { error: `The longest allowed window is ${formatDuration(max)}.` };
  return { seconds };
}

/** A preset when `seconds` is one, else "Custom" filled with it: a dialog never opens on an empty choice. */
export function initialChoice(seconds: number): DurationChoice {
  return WINDOW_PRESETS.some((p) => p.seconds === seconds) ? { choice: String(seconds), custom: '' } : { choice: 'custom', custom: String(seconds) };
}

/**
 * Radio presets plus "Custom", as one labelled fieldset; the custom field shows only once "Custom"
 * is chosen. Presets longer than the deployment's maximum are not offered. `defaultSeconds` marks
 * the preset the API would use without a value (rotate only: elsewhere "default" means nothing).
 */
export function DurationPicker({
  legend,
  name,
  value,
  onChange,
  max,
  includeZero,
  zeroLabel,
  hint,
  defaultSeconds,
}: {
  legend: string;
  name: string;
  value: DurationChoice;
  onChange: (v: DurationChoice) => void;
  max: number;
  includeZero: boolean;
  zeroLabel?: string;
  hint?: string;
  defaultSeconds?: number;
}) {
  const presets = WINDOW_PRESETS.filter((p) => p.seconds <= max && (includeZero || p.seconds > 0));
  const customId = `${name}-custom`;
  return (
    <fieldset class="duration">
      <legend>{legend}</legend>
      {hint && <p class="muted small">{hint}</p>}
      <div class="choices">
        {presets.map((p) => (
          <label key={p.seconds} class="choice">
            <input
              type="radio"
              name={name}
              value={String(p.seconds)}
              checked={value.choice === String(p.seconds)}
              onChange={() => onChange({ ...value, choice: String(p.seconds) })}
            />
            {/* One inline box: a flex item would drop the space before "(default)". */}
            <span class="choice-text">
              {p.seconds === 0 ? (zeroLabel ?? p.label) : p.label}
              {p.seconds === defaultSeconds && <span class="muted"> (default)</span>}
            </span>
          </label>
        ))}
        <label class="choice">
          <input type="radio" name={name} value="custom" checked={value.choice === 'custom'} onChange={() => onChange({ ...value, choice: 'custom' })} />
          <span class="choice-text">Custom</span>
        </label>
      </div>
      {value.choice === 'custom' && (
        <>
          <label for={customId} class="field-label">
            Custom duration <span class="muted">(up to {formatDuration(max)})</span>
          </label>
          <input
            id={customId}
            type="text"
            inputMode="text"
            autoComplete="off"
            placeholder="e.g. 2h 30m"
            aria-describedby={`${customId}-help`}
            value={value.custom}
            onInput={(e) => onChange({ choice: 'custom', custom: (e.currentTarget as HTMLInputElement).value })}
          />
          <p id={`${customId}-help`} class="muted small">
            90 = seconds · 1:30 = h:min · 2h 30m
          </p>
        </>
      )}
    </fieldset>
  );
}
