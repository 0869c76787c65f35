import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { defaultWindowSeconds, formatDuration, parseDuration, WINDOW_PRESETS } from '../format.js';
import { useAction } from '../ui.js';

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
function initialChoice(seconds: number): DurationChoice {
  return WINDOW_PRESETS.some((p) => p.seconds === seconds) ? { choice: String(seconds), custom: '' } : { choice: 'custom', custom: String(seconds) };
}

/**
 * The state every window dialog shares (rotate a key, change its window, cancel or restore, rotate
 * a signing secret): the choice, opened on the usual window (24 h, or the maximum when shorter);
 * the confirmation an "at once" choice needs when `atOnceRefusal` is given; the form's own error
 * (only the newest problem is shown, so an earlier API answer is cleared with it); and the action.
 */
export function useWindowForm(max: number, atOnceRefusal?: string) {
  const [value, setChoice] = useState<DurationChoice>(() => initialChoice(defaultWindowSeconds(max)));
  const [confirmed, setConfirmed] = useState(false);
  const [localError, setLocalError] = useState<string | null>(null);
  const action = useAction();
  /** Shows `problem` as the form's only error. */
  const refuse = (problem: string): undefined => {
    action.clear();
    setLocalError(problem);
    return undefined;
  };
  return {
    value,
    setValue: (v: DurationChoice) => (setChoice(v), setLocalError(null)),
    atOnce: value.choice === '0',
    confirmed,
    setConfirmed: (on: boolean) => (setConfirmed(on), setLocalError(null)),
    localError,
    clearError: () => setLocalError(null),
    action,
    refuse,
    /** The chosen seconds, or `undefined` after saying why they cannot be sent. */
    resolve: (): number | undefined => {
      const resolved = resolveDuration(value, max);
      if ('error' in resolved) return refuse(resolved.error);
      if (resolved.seconds === 0 && atOnceRefusal && !confirmed) return refuse(atOnceRefusal);
      setLocalError(null);
      return resolved.seconds;
    },
  };
}

/** The explicit confirmation an "at once" choice needs, as a warning with a checkbox. */
export function ConfirmAtOnce({ checked, onChange, children }: { checked: boolean; onChange: (on: boolean) => void; children: ComponentChildren }) {
  return (
    <div class="warning">
      <label class="choice">
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} />
        {children}
      </label>
    </div>
  );
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
