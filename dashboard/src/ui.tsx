/**
 * Small building blocks shared by the views: the clock, the action runner that never fails
 * silently, the error message, the native modal dialog and time elements.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type ErrorWords } from './api.js';
import { formatDateTime, formatRelative } from './format.js';

/** The current time, re-rendered every second so countdowns stay live. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}

/** Runs one async action at a time and keeps its failure as words to show next to it. */
export function useAction(): {
  busy: boolean;
  error: ErrorWords | null;
  run: <T>(fn: () => Promise<T>) => Promise<T | undefined>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorWords | null>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      setError(describeError(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(null), []);
  return { busy, error, run, clear };
}

/** An error in words, announced by screen readers (`role="alert"`). Renders nothing without an error. */
export function ErrorAlert({ error, id }: { error: ErrorWords | null; id?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert" id={id}>
      <p>{error.summary}</p>
      {error.details.length > 0 && (
        <ul>
          {error.details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      {error.requestId && <p class="muted small">Request id: {error.requestId}</p>}
    </div>
  );
}

/**
 * Where focus goes when a dialog opens: the element marked `data-autofocus`, else the first field
 * or button of its body (not the header's close button), and for a radio group its checked radio.
 */
function target(dialog: HTMLDialogElement): HTMLElement | null {
  const marked = dialog.querySelector<HTMLElement>('[data-autofocus]');
  if (marked) return marked;
  const first = Array.from(dialog.querySelectorAll<HTMLElement>('input:not([type=hidden]), select, textarea, button')).find((el) => !el.closest('.modal-head'));
  if (first instanceof HTMLInputElement && first.type === 'radio' && first.name) {
    return dialog.querySelector<HTMLElement>(`input[type=radio][name="${CSS.escape(first.name)}"]:checked`) ?? first;
  }
  return first ?? null;
}

/**
 * A native modal `<dialog>`: the browser traps focus, closes on Escape and marks the rest of the
 * page inert. Focus goes to the first field (see {@link target}) on open and back to whatever
 * opened it on close.
 */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2)}`).current;
  // Latest onClose without re-running the open/close effect on every render.
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // The opener may be gone when the dialog closes (Rotate is replaced by the rotation's own
    // buttons): then focus its card, or the main region, instead of dropping focus on <body>.
    const fallback = opener?.closest<HTMLElement>('article, main') ?? document.querySelector<HTMLElement>('main');
    if (!dialog.open) dialog.showModal();
    target(dialog)?.focus();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onCloseRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected && opener !== document.body) opener.focus();
      else if (fallback && fallback.isConnected) fallback.focus();
    };
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'modal wide' : 'modal'} aria-labelledby={titleId}>
      <div class="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close dialog" onClick={() => onCloseRef.current()}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** An absolute time with the relative one beside it, in a machine-readable `<time>`. */
export function When({ iso, now, empty = 'never' }: { iso: string | null | undefined; now: number; empty?: string }) {
  if (!iso) return <span class="muted">{empty}</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatDateTime(iso)} <span class="muted">({formatRelative(iso, now)})</span>
    </time>
  );
}

/**
 * A button whose action may be running: while `busy` it says so with `aria-disabled` and ignores
 * clicks, but stays focusable — a `disabled` button drops keyboard focus to `<body>`.
 */
export function ActionButton({
  busy,
  onClick,
  class: className,
  children,
}: {
  busy: boolean;
  onClick: () => void;
  class?: string;
  children: ComponentChildren;
}) {
  return (
    <button type="button" class={className} aria-disabled={busy ? 'true' : undefined} onClick={() => (busy ? undefined : onClick())}>
      {children}
    </button>
  );
}
