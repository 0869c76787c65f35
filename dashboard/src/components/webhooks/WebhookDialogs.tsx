/**
 * The dialogs of webhook endpoints (SPEC §10): add or edit an endpoint (URL, description, event
 * types, environment) and rotate its signing secret with an overlap. Each shows its API error in words.
 */
import { useState } from 'preact/hooks';
import type { RekeyClient } from '../../api.js';
import { defaultWindowSeconds } from '../../format.js';
import type { PublishedEventType } from '../../../../shared/domain/types.js';
import type { WebhookView } from '../../types.js';
import { Modal, useAction } from '../../ui.js';
import { FormFooter } from '../dialogs.js';
import { endpointFormError, eventTypeWords, WEBHOOK_EVENT_TYPES } from '../../webhooks.js';
import { ConfirmAtOnce, DurationPicker, useWindowForm } from '../DurationPicker.js';

/** Add an endpoint (`hook` absent) or edit one. Creating answers with the signing secret, shown once by the caller. */
export function EndpointDialog({
  client,
  callerEnvironment,
  hook,
  onSaved,
  onClose,
}: {
  client: RekeyClient;
  /** The signed-in key's environment: the default, and a test key may add test endpoints only. */
  callerEnvironment: 'live' | 'test';
  hook?: WebhookView;
  onSaved: (hook: WebhookView, signingSecret: string | null) => void;
  onClose: () => void;
}) {
  const [url, setUrl] = useState(hook?.url ?? '');
  const [description, setDescription] = useState(hook?.description ?? '');
  const [environment, setEnvironment] = useState<'live' | 'test'>(hook?.environment ?? callerEnvironment);
  const [types, setTypes] = useState<readonly PublishedEventType[]>(() => (hook ? WEBHOOK_EVENT_TYPES.filter((t) => hook.eventTypes.includes(t)) : WEBHOOK_EVENT_TYPES));
  const [localError, setLocalError] = useState<string | null>(null);
  const action = useAction();
  const all = types.length === WEBHOOK_EVENT_TYPES.length;
  const toggle = (type: PublishedEventType, on: boolean) => {
    setLocalError(null);
    setTypes((prev) => WEBHOOK_EVENT_TYPES.filter((t) => (t === type ? on : prev.includes(t))));
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = endpointFormError(url, types);
    // The newest problem only: an earlier answer of the API would contradict it.
    if (problem) return (action.clear(), setLocalError(problem));
    setLocalError(null);
    if (hook) {
      const res = await action.run(() => client.updateWebhook(hook.id, { url: url.trim(), description, eventTypes: [...types] }));
      if (res) onSaved(res.webhook, null);
    } else {
      // Every type is the API's default: leave it out so the endpoint says "all" in its own terms.
      const res = await action.run(() =>
        client.createWebhook({ url: url.trim(), environment, ...(description ? { description } : {}), ...(all ? {} : { eventTypes: [...types] }) }),
      );
      if (res) onSaved(res.webhook, res.signingSecret);
    }
  };
  return (
    <Modal title={hook ? 'Edit the endpoint' : 'Add a webhook endpoint'} onClose={onClose} wide>
      <form onSubmit={submit} class="stack" noValidate>
        <label for="hook-url" class="field-label">URL</label>
        <input
          id="hook-url"
          type="url"
          inputMode="url"
          required
          maxLength={2048}
          value={url}
          placeholder="https://hooks.example.com/rekey"
          autoComplete="off"
          spellcheck={false}
          aria-describedby="hook-url-help"
          onInput={(e) => (setUrl(e.currentTarget.value), setLocalError(null))}
        />
        <p id="hook-url-help" class="muted small">
          rekey POSTs each event there, signed with the Standard Webhooks headers. Public https:// addresses only; redirects are not followed.
        </p>
        <label for="hook-description" class="field-label">
          Description <span class="muted">(optional)</span>
        </label>
        <input id="hook-description" maxLength={256} value={description} autoComplete="off" onInput={(e) => setDescription(e.currentTarget.value)} />
        {!hook && (
          <>
            <label for="hook-env" class="field-label">Environment</label>
            <select id="hook-env" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value as 'live' | 'test')}>
              {callerEnvironment === 'live' && <option value="live">live — events of live keys</option>}
              <option value="test">test — events of test keys</option>
            </select>
          </>
        )}
        <fieldset class="event-types">
          <legend>Events</legend>
          <div class="actions">
            <button type="button" class="link" onClick={() => (setTypes(WEBHOOK_EVENT_TYPES), setLocalError(null))} disabled={all}>
              Select all
            </button>
            <button type="button" class="link" onClick={() => setTypes([])} disabled={types.length === 0}>
              Clear
            </button>
          </div>
          <div class="type-choices">
            {WEBHOOK_EVENT_TYPES.map((t) => (
              <label class="choice" key={t}>
                <input type="checkbox" checked={types.includes(t)} onChange={(e) => toggle(t, e.currentTarget.checked)} />
                <span>
                  <code>{t}</code> <span class="muted small">— when {eventTypeWords(t)}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <FormFooter localError={localError} error={action.error} busy={action.busy} onClose={onClose}>
          {action.busy ? 'Saving…' : hook ? 'Save endpoint' : 'Add endpoint'}
        </FormFooter>
      </form>
    </Modal>
  );
}

/** A new signing secret; the old one keeps signing (a second signature on every delivery) for the overlap chosen here. */
export function RotateSigningSecretDialog({
  client,
  hook,
  max,
  onRotated,
  onClose,
}: {
  client: RekeyClient;
  hook: WebhookView;
  max: number;
  onRotated: (hook: WebhookView, signingSecret: string) => void;
  onClose: () => void;
}) {
  const form = useWindowForm(max, 'Stopping the old signing secret at once fails every receiver that has not switched yet. Tick the confirmation box to go ahead.');
  const { action, atOnce } = form;
  const submit = async (e: Event) => {
    e.preventDefault();
    const seconds = form.resolve();
    if (seconds === undefined) return;
    const res = await action.run(() => client.rotateWebhookSecret(hook.id, { oldSecretExpiresInSeconds: seconds }));
    if (res) onRotated(res.webhook, res.signingSecret);
  };
  return (
    <Modal title="Rotate the signing secret" onClose={onClose}>
      <form onSubmit={submit} class="stack">
        <p>
          A new signing secret is issued now. The current one <strong>{hook.signingSecretHints[0]}</strong> keeps signing for the overlap you choose:
          every delivery carries both signatures, so your receiver can switch without missing one.
        </p>
        <DurationPicker
          legend="How long should the old signing secret keep signing?"
          name="signing-overlap"
          value={form.value}
          onChange={form.setValue}
          max={max}
          includeZero
          zeroLabel="Stop at once"
          defaultSeconds={defaultWindowSeconds(max)}
        />
        {atOnce && (
          <ConfirmAtOnce checked={form.confirmed} onChange={form.setConfirmed}>
            I understand receivers that still verify with the old signing secret will reject deliveries from now on.
          </ConfirmAtOnce>
        )}
        <FormFooter localError={form.localError} error={action.error} busy={action.busy} submitClass={atOnce ? 'danger' : 'primary'} onClose={onClose}>
          {action.busy ? 'Rotating…' : 'Rotate signing secret'}
        </FormFooter>
      </form>
    </Modal>
  );
}
