/**
 * The dialogs behind every write action: create, show-secret-once, rotate, change window, cancel or
 * restore, and a generic confirmation (revoke, expire now). Each shows its API error in words.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { nameListItems, type RekeyClient } from '../api.js';
import { defaultWindowSeconds, formatDateTime, splitList } from '../format.js';
import type { KeyView, Whoami } from '../types.js';
import { ErrorAlert, Modal, useAction } from '../ui.js';
import { ConfirmAtOnce, DurationPicker, useWindowForm } from './DurationPicker.js';

/** The end of every write form: the form's own and the API's errors in words, then submit and dismiss. */
export function FormFooter({
  localError = null,
  error,
  busy,
  submitClass = 'primary',
  dismiss = 'Cancel',
  onClose,
  children,
}: {
  localError?: string | null;
  error: Parameters<typeof ErrorAlert>[0]['error'];
  busy: boolean;
  submitClass?: string;
  dismiss?: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  return (
    <>
      {localError && (
        <p class="error" role="alert">
          {localError}
        </p>
      )}
      <ErrorAlert error={error} />
      <div class="actions">
        <button type="submit" class={submitClass} disabled={busy}>
          {children}
        </button>
        <button type="button" onClick={onClose}>
          {dismiss}
        </button>
      </div>
    </>
  );
}

/** Create a key: name, environment, scopes, optional expiry. */
export function CreateKeyDialog({
  client,
  whoami,
  onCreated,
  onClose,
}: {
  client: RekeyClient;
  whoami: Whoami;
  onCreated: (key: KeyView, secret: string) => void;
  onClose: () => void;
}) {
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState<'live' | 'test'>(whoami.environment);
  const [read, setRead] = useState(false);
  const [write, setWrite] = useState(false);
  const [other, setOther] = useState('');
  const [expires, setExpires] = useState('');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const scopes = [...(read ? ['keys:read'] : []), ...(write ? ['keys:write'] : []), ...splitList(other)];
    const body: { name: string; environment: 'live' | 'test'; scopes: string[]; expiresAt?: string } = { name, environment, scopes };
    // datetime-local is local wall time without a zone; Date parses it as local and toISOString makes it UTC.
    if (expires) body.expiresAt = new Date(expires).toISOString();
    const res = await action.run(() => client.createKey(body));
    if (res) onCreated(res.key, res.secret);
  };
  return (
    <Modal title="Create a key" onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <label for="create-name" class="field-label">Name</label>
        <input id="create-name" required maxLength={128} value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" />
        <label for="create-env" class="field-label">Environment</label>
        <select id="create-env" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value as 'live' | 'test')}>
          {whoami.environment === 'live' && <option value="live">live</option>}
          <option value="test">test (sandbox)</option>
        </select>
        <fieldset>
          <legend>Management scopes</legend>
          <label class="choice">
            <input type="checkbox" checked={read} onChange={(e) => setRead(e.currentTarget.checked)} /> keys:read — view keys, events and the account
          </label>
          <label class="choice">
            <input type="checkbox" checked={write} onChange={(e) => setWrite(e.currentTarget.checked)} /> keys:write — create, rotate and revoke keys
          </label>
        </fieldset>
        <label for="create-scopes" class="field-label">Other scopes <span class="muted">(space or comma separated)</span></label>
        <input id="create-scopes" value={other} onInput={(e) => setOther(e.currentTarget.value)} autoComplete="off" placeholder="reports:export billing:read" />
        <label for="create-expires" class="field-label">Expires <span class="muted">(optional, your local time)</span></label>
        <input id="create-expires" type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        <FormFooter error={action.error} busy={action.busy} onClose={onClose}>
          {action.busy ? 'Creating…' : 'Create key'}
        </FormFooter>
      </form>
    </Modal>
  );
}

/** Copies text: the async Clipboard API where allowed, else a selected field and `execCommand`. */
async function copyText(text: string, field: HTMLTextAreaElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied or unavailable: fall through to the legacy path.
  }
  if (!field) return false;
  field.focus();
  field.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/**
 * What a shown secret is: an API key's secret (rekey keeps only a digest) or a webhook endpoint's
 * signing secret (rekey keeps it encrypted, to sign deliveries). The words differ, not the rule.
 */
export type SecretKind = 'key' | 'signing';

const SECRET_WORDS: Record<SecretKind, { warning: string; label: string; owner: string }> = {
  key: { warning: 'It will not be shown again — rekey keeps only a one-way digest of it.', label: 'New secret', owner: 'Secret for' },
  signing: {
    warning: 'It will not be shown again — rekey keeps it encrypted and uses it only to sign deliveries. Give it to your receiver to verify the webhook-signature header.',
    label: 'Signing secret',
    owner: 'Signing secret for',
  },
};

/** The one and only time a secret is shown. Closing forgets it. */
export function SecretDialog({
  title,
  keyName,
  secret,
  note,
  kind = 'key',
  onClose,
}: {
  title: string;
  /** What the secret belongs to: the key's name, or the endpoint's description or URL. */
  keyName: string;
  secret: string;
  note?: string;
  kind?: SecretKind;
  onClose: () => void;
}) {
  const words = SECRET_WORDS[kind];
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');
  let field: HTMLTextAreaElement | null = null;
  return (
    <Modal title={title} onClose={onClose} wide>
      <div class="stack">
        <p class="warning" role="note">
          <strong>Copy this secret now.</strong> {words.warning}
        </p>
        <p>
          {words.owner} <strong>{keyName}</strong>:
        </p>
        <label for="secret-value" class="visually-hidden">{words.label}</label>
        <textarea
          id="secret-value"
          class="secret"
          readOnly
          rows={3}
          value={secret}
          ref={(el) => {
            field = el;
          }}
          onFocus={(e) => e.currentTarget.select()}
          spellcheck={false}
        />
        {note && <p class="muted">{note}</p>}
        <div class="actions">
          <button
            type="button"
            class="primary"
            data-autofocus
            onClick={async () => setStatus((await copyText(secret, field)) ? 'copied' : 'failed')}
          >
            Copy secret
          </button>
          <button type="button" onClick={onClose}>I have stored it — close</button>
        </div>
        <p role="status" class={status === 'failed' ? 'error-text' : 'ok-text'}>
          {status === 'copied' ? 'Copied to the clipboard.' : status === 'failed' ? 'Could not copy automatically: select the secret above and copy it by hand.' : ''}
        </p>
      </div>
    </Modal>
  );
}

/** Rotate: presets, custom window, and an explicit confirmation for "immediately". */
export function RotateDialog({
  client,
  apiKey,
  max,
  onRotated,
  onClose,
}: {
  client: RekeyClient;
  apiKey: KeyView;
  max: number;
  onRotated: (key: KeyView, secret: string) => void;
  onClose: () => void;
}) {
  const form = useWindowForm(max, 'Rotating immediately stops the old secret at once. Tick the confirmation box to go ahead.');
  const { action, atOnce: immediate } = form;
  const [idleOn, setIdleOn] = useState(false);
  const [idleMinutes, setIdleMinutes] = useState('30');
  const submit = async (e: Event) => {
    e.preventDefault();
    const seconds = form.resolve();
    if (seconds === undefined) return;
    let expireWhenIdleSeconds: number | undefined;
    if (idleOn && seconds > 0) {
      const minutes = Number(idleMinutes.trim());
      if (!/^\d+$/.test(idleMinutes.trim()) || minutes < 10 || minutes * 60 > seconds) {
        return form.refuse(`Quiet time: a whole number of minutes from 10 up to the window (${Math.floor(seconds / 60)} minutes).`);
      }
      expireWhenIdleSeconds = minutes * 60;
    }
    const res = await action.run(() =>
      client.rotateKey(apiKey.id, { oldKeyExpiresInSeconds: seconds, ...(expireWhenIdleSeconds !== undefined ? { expireWhenIdleSeconds } : {}) }),
    );
    if (res) onRotated(res.key, res.secret);
  };
  return (
    <Modal title={`Rotate “${apiKey.name}”`} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <p>
          A new secret becomes current at once. The old secret <strong>{apiKey.currentSecret.hint}</strong> keeps working for the window you choose, so
          clients can switch over without downtime.
        </p>
        <DurationPicker
          legend="How long should the old secret keep working?"
          name="rotate-window"
          value={form.value}
          onChange={form.setValue}
          max={max}
          includeZero
          zeroLabel="Immediately (emergency)"
          defaultSeconds={defaultWindowSeconds(max)}
        />
        {immediate && (
          <ConfirmAtOnce checked={form.confirmed} onChange={form.setConfirmed}>
            I understand every client still using the old secret will be refused from now on.
          </ConfirmAtOnce>
        )}
        {!immediate && (
          <fieldset class="idle-option">
            <legend>Cut over when the old secret goes quiet</legend>
            <label class="choice">
              <input type="checkbox" checked={idleOn} onChange={(e) => { setIdleOn(e.currentTarget.checked); form.clearError(); }} />
              Expire the old secret early, once the new one is in use and the old one has not been used for
            </label>
            {idleOn && (
              <label class="inline-field">
                <input
                  type="text"
                  inputMode="numeric"
                  size={4}
                  aria-label="Quiet time in minutes"
                  value={idleMinutes}
                  onInput={(e) => { setIdleMinutes(e.currentTarget.value); form.clearError(); }}
                />{' '}
                minutes (at least 10; never later than the window)
              </label>
            )}
          </fieldset>
        )}
        <FormFooter localError={form.localError} error={action.error} busy={action.busy} submitClass={immediate ? 'danger' : 'primary'} onClose={onClose}>
          {action.busy ? 'Rotating…' : immediate ? 'Rotate immediately' : 'Rotate key'}
        </FormFooter>
      </form>
    </Modal>
  );
}


/** Extend or shorten the old secret's window, counted from now. */
export function WindowDialog({ client, apiKey, max, onDone, onClose }: { client: RekeyClient; apiKey: KeyView; max: number; onDone: (key: KeyView) => void; onClose: () => void }) {
  // Opens on the usual window (24 h, or the maximum when shorter): one click to extend by a day.
  const form = useWindowForm(max);
  const { action } = form;
  const expiresAt = apiKey.previousSecret?.expiresAt ?? apiKey.rotation?.oldKeyExpiresAt;
  const submit = async (e: Event) => {
    e.preventDefault();
    const seconds = form.resolve();
    if (seconds === undefined) return;
    const res = await action.run(() => client.updateRotation(apiKey.id, { oldKeyExpiresInSeconds: seconds }));
    if (res) onDone(res.key);
  };
  return (
    <Modal title="Change the transition window" onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <p>
          The old secret <strong>{apiKey.rotation?.oldKeyHint}</strong> currently expires {expiresAt ? formatDateTime(expiresAt) : 'soon'}. Pick its new
          remaining life, counted from now — longer extends the window, shorter shortens it.
        </p>
        <DurationPicker legend="Old secret keeps working for" name="window" value={form.value} onChange={form.setValue} max={max} includeZero={false} />
        <FormFooter localError={form.localError} error={action.error} busy={action.busy} onClose={onClose}>
          {action.busy ? 'Saving…' : 'Change window'}
        </FormFooter>
      </form>
    </Modal>
  );
}

/** Cancel a rotation in progress, or restore the old secret after it expired (within the restore window). */
export function CancelDialog({
  client,
  apiKey,
  mode,
  max,
  onDone,
  onClose,
}: {
  client: RekeyClient;
  apiKey: KeyView;
  mode: 'cancel' | 'restore';
  max: number;
  onDone: (key: KeyView) => void;
  onClose: () => void;
}) {
  // The API's defaults: a cancelled rotation discards the new secret at once; a restore keeps it
  // 24 h, or the deployment's maximum when shorter (the API refuses more than the maximum).
  const [keepNew, setKeepNew] = useState(mode === 'restore');
  const form = useWindowForm(max);
  const { action } = form;
  const submit = async (e: Event) => {
    e.preventDefault();
    const seconds = keepNew ? form.resolve() : 0;
    if (seconds === undefined) return;
    form.clearError();
    const res = await action.run(() => client.cancelRotation(apiKey.id, { newKeyExpiresInSeconds: seconds }));
    if (res) onDone(res.key);
  };
  const oldHint = apiKey.rotation?.oldKeyHint ?? 'the old secret';
  return (
    <Modal title={mode === 'cancel' ? 'Cancel the rotation' : 'Restore the old secret'} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <p>
          The old secret <strong>{oldHint}</strong> becomes the current secret again. The new secret <strong>{apiKey.currentSecret.hint}</strong>:
        </p>
        <fieldset>
          <legend>What happens to the new secret</legend>
          <label class="choice">
            <input type="radio" name="keep-new" checked={!keepNew} onChange={() => setKeepNew(false)} /> Stops working now
          </label>
          <label class="choice">
            <input type="radio" name="keep-new" checked={keepNew} onChange={() => setKeepNew(true)} /> Keeps working for a while
          </label>
        </fieldset>
        {keepNew && (
          <DurationPicker legend="New secret keeps working for" name="keep-for" value={form.value} onChange={form.setValue} max={max} includeZero={false} />
        )}
        <FormFooter localError={form.localError} error={action.error} busy={action.busy} dismiss="Keep as is" onClose={onClose}>
          {action.busy ? 'Working…' : mode === 'cancel' ? 'Cancel rotation' : 'Restore old secret'}
        </FormFooter>
      </form>
    </Modal>
  );
}

/** A yes/no confirmation for actions that take something away (revoke, expire now, delete an endpoint). */
export function ConfirmDialog<T>({
  title,
  children,
  confirmLabel,
  perform,
  onDone,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  perform: () => Promise<T>;
  onDone: (result: T) => void;
  onClose: () => void;
}) {
  const action = useAction();
  const go = async () => {
    const res = await action.run(perform);
    if (res) onDone(res);
  };
  return (
    <Modal title={title} onClose={onClose}>
      <div class="stack">
        {children}
        <ErrorAlert error={action.error} />
        <div class="actions">
          <button type="button" class="danger" onClick={go} disabled={action.busy}>
            {action.busy ? 'Working…' : confirmLabel}
          </button>
          <button type="button" onClick={onClose} data-autofocus>
            Cancel
          </button>
        </div>
      </div>
    </Modal>
  );
}

/**
 * A key's contacts (SPEC §10): up to 5 addresses that get this key's reminders and notices besides
 * the account's alert emails. Saving replaces the list; the API sends each new address one
 * confirmation link and lists it as pending until it confirms, and tells a removed one.
 */
export function ContactsDialog({ client, apiKey, onDone, onClose }: { client: RekeyClient; apiKey: KeyView; onDone: (key: KeyView) => void; onClose: () => void }) {
  const [text, setText] = useState(() => [...apiKey.contacts, ...apiKey.pendingEmails].join('\n'));
  const [sent, setSent] = useState<string[]>([]);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const contacts = splitList(text);
    setSent(contacts);
    const res = await action.run(() => client.updateKey(apiKey.id, { contacts }));
    if (res) onDone(res.key);
  };
  return (
    <Modal title={`Contacts of “${apiKey.name}”`} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <p>
          These people get this key&apos;s rotation reminders and expiry notices, as well as the account&apos;s alert emails. A new address first gets one
          email with a confirmation link and receives nothing else until it confirms; a removed address gets one notice.
        </p>
        <label for="contacts-text" class="field-label">
          Contacts <span class="muted">(one per line, at most 5)</span>
        </label>
        <textarea id="contacts-text" rows={5} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} autoComplete="off" />
        <FormFooter error={nameListItems(action.error, 'contacts', sent)} busy={action.busy} onClose={onClose}>
          {action.busy ? 'Saving…' : 'Save contacts'}
        </FormFooter>
      </form>
    </Modal>
  );
}
