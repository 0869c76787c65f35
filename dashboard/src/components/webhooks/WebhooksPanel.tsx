/**
 * Webhook endpoints of the signed-in key's account and environment (SPEC §10): add one (its signing
 * secret shown once), see where each stands, send a test event, rotate the signing secret with an
 * overlap, pause, enable, edit or delete it, and read its deliveries with every attempt.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RekeyClient } from '../../api.js';
import type { WebhookView, Whoami } from '../../types.js';
import { ActionButton, ErrorAlert, useAction, When } from '../../ui.js';
import { disabledWords, endpointState, eventTypeWords, receivesAll, shortUrl } from '../../webhooks.js';
import { ConfirmDialog, type SecretKind } from '../dialogs.js';
import { Deliveries } from './Deliveries.js';
import { EndpointDialog, RotateSigningSecretDialog } from './WebhookDialogs.js';

/** SPEC §10: at most 10 endpoints per account. */
const MAX_ENDPOINTS = 10;

/** How the panel asks the page to show a signing secret once (the page owns the one secret dialog). */
export type ShowSecret = (shown: { title: string; keyName: string; secret: string; note?: string; kind: SecretKind }) => void;

/** What an endpoint is called on screen: its description, else its URL (shortened). */
const labelOf = (hook: WebhookView) => hook.description.trim() || shortUrl(hook.url);

export function WebhooksPanel({
  client,
  whoami,
  canWrite,
  maxTransitionSeconds,
  now,
  onSecret,
}: {
  client: RekeyClient;
  whoami: Whoami;
  canWrite: boolean;
  maxTransitionSeconds: number;
  now: number;
  onSecret: ShowSecret;
}) {
  const [hooks, setHooks] = useState<WebhookView[] | null>(null);
  const [adding, setAdding] = useState(false);
  const load = useAction();
  const refresh = () =>
    load.run(async () => {
      setHooks((await client.listWebhooks()).webhooks);
    });
  useEffect(() => {
    void refresh();
  }, [client]);
  const replace = (hook: WebhookView) => setHooks((prev) => (prev ?? []).map((h) => (h.id === hook.id ? hook : h)));
  const full = (hooks?.length ?? 0) >= MAX_ENDPOINTS;

  return (
    <section class="webhooks" aria-labelledby="webhooks-title">
      <div class="section-head">
        <h2 id="webhooks-title">Webhook endpoints</h2>
        <div class="actions">
          <ActionButton busy={load.busy} onClick={() => void refresh()}>
            Refresh endpoints
          </ActionButton>
          {canWrite && (
            <button type="button" class="primary" onClick={() => setAdding(true)} disabled={full} aria-describedby={full ? 'webhooks-full' : undefined}>
              Add endpoint
            </button>
          )}
        </div>
      </div>
      <p class="muted section-intro">
        rekey sends key events to these URLs as signed POST requests (Standard Webhooks), retrying for about 28 hours when an endpoint fails. A live
        endpoint receives the events of live keys, a test endpoint those of test keys
        {whoami.environment === 'test' ? ' (signed in with a test key, you see and manage test endpoints only)' : ''}. An account has at most{' '}
        {MAX_ENDPOINTS}, live and test together.
        {full && <span id="webhooks-full"> This account has reached that maximum; delete one to add another.</span>}
      </p>
      <ErrorAlert error={load.error} />
      {hooks === null && load.busy && <p class="muted">Loading endpoints…</p>}
      {hooks && hooks.length === 0 && <p class="muted">No endpoints yet.{canWrite ? ' Add one to receive key events where you work.' : ''}</p>}
      <div class="cards">
        {hooks?.map((h) => (
          <WebhookCard
            key={h.id}
            hook={h}
            client={client}
            canWrite={canWrite}
            maxTransitionSeconds={maxTransitionSeconds}
            now={now}
            onChanged={replace}
            onDeleted={() => setHooks((prev) => (prev ?? []).filter((x) => x.id !== h.id))}
            onSecret={onSecret}
          />
        ))}
      </div>
      {adding && (
        <EndpointDialog
          client={client}
          callerEnvironment={whoami.environment}
          onClose={() => setAdding(false)}
          onSaved={(hook, secret) => {
            setAdding(false);
            setHooks((prev) => [...(prev ?? []).filter((x) => x.id !== hook.id), hook]);
            if (secret) {
              onSecret({ title: 'Endpoint added', keyName: labelOf(hook), secret, kind: 'signing', note: 'Verify each delivery with it, for example with the standardwebhooks library (docs/webhooks.md).' });
            }
          }}
        />
      )}
    </section>
  );
}

type DialogName = 'edit' | 'rotate' | 'delete' | null;

function WebhookCard({
  hook,
  client,
  canWrite,
  maxTransitionSeconds,
  now,
  onChanged,
  onDeleted,
  onSecret,
}: {
  hook: WebhookView;
  client: RekeyClient;
  canWrite: boolean;
  maxTransitionSeconds: number;
  now: number;
  onChanged: (hook: WebhookView) => void;
  onDeleted: () => void;
  onSecret: ShowSecret;
}) {
  const [dialog, setDialog] = useState<DialogName>(null);
  const [showDeliveries, setShowDeliveries] = useState(false);
  // Bumped by "Send test event" so the open deliveries list loads the new one at once.
  const [deliveriesVersion, setDeliveriesVersion] = useState(0);
  const [testQueued, setTestQueued] = useState<string | null>(null);
  const action = useAction();
  const state = endpointState(hook);
  const why = disabledWords(hook);
  const headingId = `hook-${hook.id}-name`;
  const label = labelOf(hook);

  const sendTest = () =>
    action.run(async () => {
      setTestQueued(null);
      const { deliveryId } = await client.testWebhook(hook.id);
      setTestQueued(deliveryId);
      setShowDeliveries(true);
      setDeliveriesVersion((v) => v + 1);
    });
  const setEnabled = (enabled: boolean) => action.run(async () => onChanged((await client.updateWebhook(hook.id, { enabled })).webhook));

  return (
    <article class={`card webhook state-${state}`} aria-labelledby={headingId} data-webhook-id={hook.id} tabIndex={-1}>
      <header class="card-head">
        <h3 id={headingId}>{label}</h3>
        <span class={`badge env-${hook.environment}`}>{hook.environment}</span>
        <span class={`badge wh-${state}`}>{state}</span>
      </header>
      {why && (
        <p class={state === 'disabled' ? 'error' : 'warning'} data-testid="disabled-reason">
          {why}
        </p>
      )}
      <dl class="facts">
        <dt>URL</dt>
        <dd>
          {hook.url.length > shortUrl(hook.url).length ? (
            <details class="full-url">
              <summary><code>{shortUrl(hook.url)}</code></summary>
              <code>{hook.url}</code>
            </details>
          ) : (
            <code>{hook.url}</code>
          )}
        </dd>
        <dt>Events</dt>
        <dd>
          {receivesAll(hook) ? (
            'all key events'
          ) : (
            <span title={hook.eventTypes.map((t) => `when ${eventTypeWords(t)}`).join('; ')}>{hook.eventTypes.join(', ')}</span>
          )}
        </dd>
        <dt>Signing secret</dt>
        <dd>
          <code class="signing-hint" data-testid="signing-hint">{hook.signingSecretHints[0]}</code>
        </dd>
        {hook.signingSecretHints.length > 1 && (
          <>
            <dt>Old signing secret</dt>
            <dd data-testid="old-signing-hint">
              <code>{hook.signingSecretHints.slice(1).join(', ')}</code> <span class="muted">still signs every delivery too, until its overlap ends</span>
            </dd>
          </>
        )}
        <dt>Endpoint id</dt>
        <dd><code>{hook.id}</code></dd>
        <dt>Added</dt>
        <dd><When iso={hook.createdAt} now={now} /></dd>
      </dl>
      {canWrite && (
        <div class="actions card-actions">
          <ActionButton class="primary" busy={action.busy} onClick={() => void sendTest()}>
            Send test event
          </ActionButton>
          <button type="button" onClick={() => setDialog('rotate')}>Rotate signing secret</button>
          <button type="button" onClick={() => setDialog('edit')}>Edit</button>
          {/* One element whose label flips, so keyboard focus stays on it after the change. */}
          <ActionButton busy={action.busy} onClick={() => void setEnabled(!hook.enabled)}>
            {hook.enabled ? 'Pause' : 'Enable'}
          </ActionButton>
          <button type="button" class="danger-outline" onClick={() => setDialog('delete')}>Delete</button>
        </div>
      )}
      <p role="status" class="ok-text small">
        {testQueued ? `Test event queued (delivery ${testQueued}); its outcome appears under Deliveries.` : ''}
      </p>
      <ErrorAlert error={action.error} />
      <div class="audit-toggle">
        <button
          type="button"
          class="link"
          aria-expanded={showDeliveries}
          aria-controls={`deliveries-${hook.id}`}
          onClick={() => setShowDeliveries(!showDeliveries)}
        >
          {showDeliveries ? 'Hide deliveries' : 'Show deliveries'}
        </button>
        <div id={`deliveries-${hook.id}`} hidden={!showDeliveries}>
          {showDeliveries && <Deliveries client={client} webhookId={hook.id} now={now} version={deliveriesVersion} />}
        </div>
      </div>

      {dialog === 'edit' && (
        <EndpointDialog
          client={client}
          callerEnvironment={hook.environment}
          hook={hook}
          onClose={() => setDialog(null)}
          onSaved={(h) => {
            setDialog(null);
            onChanged(h);
          }}
        />
      )}
      {dialog === 'rotate' && (
        <RotateSigningSecretDialog
          client={client}
          hook={hook}
          max={maxTransitionSeconds}
          onClose={() => setDialog(null)}
          onRotated={(h, secret) => {
            setDialog(null);
            onChanged(h);
            onSecret({
              title: 'New signing secret',
              keyName: labelOf(h),
              secret,
              kind: 'signing',
              note: 'Until the overlap ends every delivery carries a signature of each secret: give your receiver the new one now.',
            });
          }}
        />
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={`Delete the endpoint “${label}”?`}
          confirmLabel="Delete endpoint"
          perform={() => client.deleteWebhook(hook.id)}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            onDeleted();
          }}
        >
          <p>
            rekey stops sending events to <code>{shortUrl(hook.url)}</code> at once, including retries still waiting. Its signing secrets are destroyed. This cannot
            be undone.
          </p>
        </ConfirmDialog>
      )}
    </article>
  );
}
