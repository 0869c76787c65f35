/**
 * One key as a card: the current secret's hint up front, both secrets with a live countdown during
 * a rotation, the window's timeline, the actions the signed-in key may take and the audit trail.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RekeyClient } from '../api.js';
import { formatCountdown, formatDateTime } from '../format.js';
import { oldSecretQuiet, rotationPhase, type KeyView } from '../types.js';
import { ErrorAlert, useAction, When } from '../ui.js';
import { AuditTimeline } from './AuditTimeline.js';
import { ExposureNotice } from './ExposureNotice.js';
import { CancelDialog, ConfirmDialog, ContactsDialog, RotateDialog, WindowDialog } from './dialogs.js';
import { Timeline } from './Timeline.js';
import { UsageChart } from './UsageChart.js';

/** `ip · user agent` of a secret's last recorded use, or `null` when unknown. */
function origin(from: { ip: string | null; userAgent: string | null } | null | undefined): string | null {
  if (!from) return null;
  const parts = [from.ip, from.userAgent].filter((p): p is string => !!p);
  return parts.length ? parts.join(' · ') : null;
}

type DialogName = 'rotate' | 'window' | 'expire' | 'cancel' | 'restore' | 'revoke' | 'end-parked' | 'contacts' | null;

export function KeyCard({
  apiKey,
  now,
  client,
  canWrite,
  signedInKeyId,
  maxTransitionSeconds,
  keyName,
  onChanged,
  onSecret,
}: {
  apiKey: KeyView;
  now: number;
  client: RekeyClient;
  canWrite: boolean;
  signedInKeyId: string;
  maxTransitionSeconds: number;
  /** Names of the keys the dashboard knows, for the audit trail's sentences. */
  keyName: (id: string) => string | undefined;
  onChanged: (key: KeyView) => void;
  onSecret: (title: string, keyName: string, secret: string, note?: string) => void;
}) {
  const [dialog, setDialog] = useState<DialogName>(null);
  const [showAudit, setShowAudit] = useState(false);
  const action = useAction();
  const k = apiKey;
  // `now` ticks once a second; a render caused by an action can come up to a second after the last
  // tick, so countdowns read the clock itself and never show more than the window.
  const clock = Math.max(now, Date.now());
  const phase = rotationPhase(k, now);
  const revoked = k.status === 'revoked';
  const reactivatable = revoked && k.reactivatableUntil !== null && Date.parse(k.reactivatableUntil) > now;
  const isSelf = k.id === signedInKeyId;
  // After a cancel (or a restore) the rotation's new secret may still work for a while, parked in
  // the previous slot so clients can switch back: say so, and offer to end it (a new rotation waits for it).
  const parkedUntil = !revoked && k.rotation?.state === 'cancelled' && k.rotation.newKeyExpiresAt && Date.parse(k.rotation.newKeyExpiresAt) > now ? k.rotation.newKeyExpiresAt : null;
  const headingId = `key-${k.id}-name`;

  // When a window runs out on screen, fetch the key again so the card shows the server's view
  // (rotation completed, previous secret gone) rather than only the local clock's.
  const lastPhase = useRef(phase);
  useEffect(() => {
    if (lastPhase.current === 'in_progress' && phase !== 'in_progress') {
      void action.run(async () => onChanged((await client.getKey(k.id)).key));
    }
    lastPhase.current = phase;
  }, [phase]);

  const done = (key: KeyView) => {
    setDialog(null);
    onChanged(key);
  };
  const version = [k.status, k.lastRotatedAt, k.rotation?.state, k.rotation?.oldKeyExpiresAt, k.rotation?.newKeyExpiresAt, k.revokedAt, k.currentSecret.hint, k.contacts.join(','), k.pendingEmails.join(',')].join('|');
  const oldExpiresAt = k.previousSecret?.expiresAt ?? k.rotation?.oldKeyExpiresAt ?? null;
  const oldLastUsedAt = k.previousSecret?.lastUsedAt ?? k.rotation?.oldKeyLastUsedAt ?? null;
  const oldFrom = origin(k.previousSecret?.lastUsedFrom ?? k.rotation?.oldKeyLastUsedFrom);
  const quiet = oldSecretQuiet(k, now);
  const idle = k.rotation?.idleCutover ?? null;

  return (
    <article class={`card status-${k.status}`} aria-labelledby={headingId} data-key-id={k.id} tabIndex={-1}>
      <header class="card-head">
        <h3 id={headingId}>{k.name}</h3>
        <span class={`badge env-${k.environment}`}>{k.environment}</span>
        <span class={`badge st-${k.status}`}>{k.status}</span>
        {k.revokedReason === 'exposed' && <span class="badge st-revoked">leaked</span>}
        {phase === 'in_progress' && <span class="badge st-rotating">rotating</span>}
        {isSelf && <span class="badge self">signed in</span>}
      </header>

      <div class={`secret-block ${revoked ? 'refused' : 'current'}`}>
        <div class="secret-label">{revoked ? 'Secret (refused while revoked)' : phase === 'in_progress' ? 'New secret (current)' : 'Current secret'}</div>
        <code class="hint" data-testid="current-hint">{k.currentSecret.hint}</code>
        {/* Per-secret use only while two secrets work; otherwise the key's facts below say it once. */}
        {phase === 'in_progress' && !revoked && (
          <dl class="facts compact">
            <dt>Last used</dt>
            <dd><When iso={k.currentSecret.lastUsedAt} now={now} /></dd>
            {origin(k.currentSecret.lastUsedFrom) && (
              <>
                <dt>Last used from</dt>
                <dd><code class="origin">{origin(k.currentSecret.lastUsedFrom)}</code></dd>
              </>
            )}
          </dl>
        )}
      </div>

      {phase === 'in_progress' && oldExpiresAt && k.rotation && (
        <section class="rotation" aria-label="Rotation in progress">
          <div class="secret-block old" data-testid="old-secret">
            <div class="secret-label">Old secret (still working)</div>
            <code class="hint">{k.rotation.oldKeyHint}</code>
            <p class="countdown-line">
              Stops working in{' '}
              <strong class="countdown" role="timer" aria-atomic="true" data-testid="countdown">
                {formatCountdown(Date.parse(oldExpiresAt) - clock, Date.parse(oldExpiresAt) - Date.parse(k.rotation.startedAt) >= 3_600_000)}
              </strong>{' '}
              <span class="muted small">at {formatDateTime(oldExpiresAt)}</span>
            </p>
            <dl class="facts compact">
              <dt>Last used</dt>
              <dd><When iso={oldLastUsedAt} now={now} empty="not since the rotation" /></dd>
              {oldFrom && (
                <>
                  <dt>Last used from</dt>
                  <dd data-testid="old-last-used-from"><code class="origin">{oldFrom}</code></dd>
                </>
              )}
              {idle && (
                <>
                  <dt>Idle cut-over</dt>
                  <dd data-testid="idle-cutover">
                    {idle.at ? (
                      <>expires once unused for {Math.round(idle.expireWhenIdleSeconds / 60)} min: <When iso={idle.at} now={now} /></>
                    ) : (
                      <>after {Math.round(idle.expireWhenIdleSeconds / 60)} min unused, once the new secret has been used</>
                    )}
                  </dd>
                </>
              )}
              {k.rotation.reminderAt && (
                <>
                  <dt>Reminder email</dt>
                  <dd><When iso={k.rotation.reminderAt} now={now} /></dd>
                </>
              )}
            </dl>
          </div>
          <Timeline startedAt={k.rotation.startedAt} endsAt={oldExpiresAt} reminderAt={k.rotation.reminderAt} now={now} />
          <UsageChart client={client} keyId={k.id} startedAt={k.rotation.startedAt} now={now} refresh={`${k.currentSecret.lastUsedAt}|${oldLastUsedAt}`} />
          {quiet?.quiet && (
            <p class="quiet" role="status" data-testid="old-quiet">
              The old secret has not been used for {Math.floor((now - quiet.since) / 60_000)} minutes
              {quiet.usedSinceRotation ? '' : ' (not since the rotation began)'}. Nothing seems to depend on it any more: you can expire it now.
            </p>
          )}
          {canWrite && !revoked && (
            <div class="actions">
              <button type="button" onClick={() => setDialog('window')}>Extend or shorten</button>
              <button type="button" class="danger-outline" onClick={() => setDialog('expire')}>Expire old secret now</button>
              <button type="button" onClick={() => setDialog('cancel')}>Cancel rotation</button>
            </div>
          )}
        </section>
      )}

      {parkedUntil && k.previousSecret && (
        <section class="parked" aria-label="Secret of the cancelled rotation" data-testid="parked-secret">
          <p>
            The rotation was cancelled, but its new secret <code>{k.previousSecret.hint}</code> still works until <When iso={parkedUntil} now={now} />, so
            clients can switch back. A new rotation waits until it ends.
          </p>
          {canWrite && (
            <div class="actions">
              <button type="button" class="danger-outline" onClick={() => setDialog('end-parked')}>End it now</button>
            </div>
          )}
        </section>
      )}

      {phase === 'restorable' && !revoked && k.rotation?.restorableUntil && (
        <section class="restore" aria-label="Restore possible">
          <p>
            The old secret <code>{k.rotation.oldKeyHint}</code> expired <When iso={k.rotation.oldKeyExpiresAt} now={now} />. It can be restored until{' '}
            <When iso={k.rotation.restorableUntil} now={now} />.
          </p>
          {canWrite && (
            <div class="actions">
              <button type="button" onClick={() => setDialog('restore')}>Restore old secret</button>
            </div>
          )}
        </section>
      )}

      {revoked && k.revokedReason === 'exposed' && <ExposureNotice apiKey={k} client={client} now={now} />}

      {revoked && k.revokedReason !== 'exposed' && (
        <section class="revoked" aria-label="Revoked">
          <p>
            Revoked <When iso={k.revokedAt} now={now} />. Every secret of this key is refused.{' '}
            {reactivatable ? (
              <>
                It can be reactivated, with the same secrets, for{' '}
                <strong role="timer">
                  {formatCountdown(Date.parse(k.reactivatableUntil!) - clock, Date.parse(k.reactivatableUntil!) - Date.parse(k.revokedAt ?? k.reactivatableUntil!) >= 3_600_000)}
                </strong>
                .
              </>
            ) : (
              'The reactivation window has passed.'
            )}
          </p>
        </section>
      )}

      <dl class="facts">
        <dt>Key id</dt>
        <dd><code>{k.id}</code></dd>
        <dt>Scopes</dt>
        <dd>{k.scopes.length ? k.scopes.join(' ') : <span class="muted">none</span>}</dd>
        {phase !== 'in_progress' && (
          <>
            <dt>Last used</dt>
            <dd><When iso={k.lastUsedAt} now={now} /></dd>
          </>
        )}
        <dt>Last rotated</dt>
        <dd><When iso={k.lastRotatedAt} now={now} /></dd>
        <dt>Expires</dt>
        <dd><When iso={k.expiresAt} now={now} /></dd>
        <dt>Created</dt>
        <dd><When iso={k.createdAt} now={now} /></dd>
        <dt>Contacts</dt>
        <dd data-testid="contacts">
          {k.contacts.length ? k.contacts.join(', ') : <span class="muted">none — notices go to the account&apos;s alert emails</span>}
          {k.pendingEmails.length > 0 && (
            <span class="pending" data-testid="pending-contacts">
              Waiting for confirmation: {k.pendingEmails.join(', ')}
            </span>
          )}
        </dd>
      </dl>

      {canWrite && (
        <div class="actions card-actions">
          {!revoked && k.status === 'active' && phase !== 'in_progress' && !parkedUntil && (
            <button type="button" class="primary" onClick={() => setDialog('rotate')}>Rotate</button>
          )}
          {k.status === 'active' && (
            <button type="button" onClick={() => setDialog('contacts')}>Edit contacts</button>
          )}
          {!revoked && (
            <button type="button" class="danger-outline" onClick={() => setDialog('revoke')}>Revoke</button>
          )}
          {reactivatable && (
            <button type="button" class="primary" disabled={action.busy} onClick={() => action.run(async () => onChanged((await client.reactivateKey(k.id)).key))}>
              {action.busy ? 'Reactivating…' : 'Reactivate'}
            </button>
          )}
        </div>
      )}
      <ErrorAlert error={action.error} />

      <div class="audit-toggle">
        <button type="button" class="link" aria-expanded={showAudit} aria-controls={`audit-${k.id}`} onClick={() => setShowAudit(!showAudit)}>
          {showAudit ? 'Hide activity' : 'Show activity'}
        </button>
        <div id={`audit-${k.id}`} hidden={!showAudit}>
          {showAudit && <AuditTimeline client={client} keyId={k.id} version={version} now={now} keyName={keyName} />}
        </div>
      </div>

      {dialog === 'rotate' && (
        <RotateDialog
          client={client}
          apiKey={k}
          max={maxTransitionSeconds}
          onClose={() => setDialog(null)}
          onRotated={(key, secret) => {
            done(key);
            onSecret('Your new secret', key.name, secret, isSelf ? 'You are signed in with this key: sign in again with the new secret before the old one expires.' : undefined);
          }}
        />
      )}
      {dialog === 'contacts' && <ContactsDialog client={client} apiKey={k} onClose={() => setDialog(null)} onDone={done} />}
      {dialog === 'window' && <WindowDialog client={client} apiKey={k} max={maxTransitionSeconds} onClose={() => setDialog(null)} onDone={done} />}
      {(dialog === 'cancel' || dialog === 'restore') && (
        <CancelDialog client={client} apiKey={k} mode={dialog} max={maxTransitionSeconds} onClose={() => setDialog(null)} onDone={done} />
      )}
      {dialog === 'expire' && (
        <ConfirmDialog
          title="Expire the old secret now?"
          confirmLabel="Expire old secret now"
          perform={() => client.updateRotation(k.id, { oldKeyExpiresInSeconds: 0 })}
          onClose={() => setDialog(null)}
          onDone={(r) => done(r.key)}
        >
          <p>
            Clients still sending <code>{k.rotation?.oldKeyHint}</code> will be refused from now on. Last used:{' '}
            <When iso={oldLastUsedAt} now={now} empty="not since the rotation" />
            {oldFrom && <> from <code class="origin">{oldFrom}</code></>}.
          </p>
        </ConfirmDialog>
      )}
      {dialog === 'end-parked' && (
        <ConfirmDialog
          title="End the cancelled rotation's secret now?"
          confirmLabel="End it now"
          perform={() => client.updateRotation(k.id, { oldKeyExpiresInSeconds: 0 })}
          onClose={() => setDialog(null)}
          onDone={(r) => done(r.key)}
        >
          <p>
            Clients still sending <code>{k.previousSecret?.hint}</code> will be refused from now on. Last used:{' '}
            <When iso={k.previousSecret?.lastUsedAt} now={now} empty="never" />. The key can be rotated again right after.
          </p>
        </ConfirmDialog>
      )}
      {dialog === 'revoke' && (
        <ConfirmDialog title={`Revoke “${k.name}”?`} confirmLabel="Revoke key" perform={() => client.revokeKey(k.id)} onClose={() => setDialog(null)} onDone={(r) => done(r.key)}>
          <p>Every secret of this key stops working. You can reactivate it, with the same secrets, for a limited time afterwards.</p>
          {isSelf && (
            <p class="warning">
              <strong>This is the key you are signed in with.</strong> The dashboard will stop working until you sign in with another key.
            </p>
          )}
        </ConfirmDialog>
      )}
    </article>
  );
}
