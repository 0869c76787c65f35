/**
 * The dashboard shell: sign-in, then the account (alert emails) and the key cards. The signed-in
 * secret lives in memory and in this tab's sessionStorage only — never localStorage, never a URL.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { looksLikeSecret, makeClient, maxFromOpenApi, nameListItems, type DashboardConfig, type RekeyClient } from './api.js';
import { CreateKeyDialog, SecretDialog, type SecretKind } from './components/dialogs.js';
import { WebhooksPanel } from './components/webhooks/WebhooksPanel.js';
import { KeyCard } from './components/KeyCard.js';
import { DEFAULT_MAX_TRANSITION_SECONDS, formatDateTime, splitList } from './format.js';
import type { AccountView, KeyView, Whoami } from './types.js';
import { ErrorAlert, useAction, useNow } from './ui.js';

const SESSION_KEY = 'rekey.dashboard.secret';

interface Session {
  readonly client: RekeyClient;
  readonly whoami: Whoami;
  /** The signed-in key's name, for the header (its id when the name cannot be read). */
  readonly keyName: string | null;
}

interface ShownSecret {
  readonly title: string;
  /** What the secret belongs to: a key's name, or a webhook endpoint's description or URL. */
  readonly keyName: string;
  readonly secret: string;
  readonly note?: string;
  readonly kind?: SecretKind;
}

function readStoredSecret(): string | null {
  try {
    return window.sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

export function App({ config }: { config: DashboardConfig }) {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => readStoredSecret() !== null);
  const signIn = useAction();
  // After a sign-in from the form, the form is gone: put focus on the main region so keyboard and
  // screen-reader users continue from the key list rather than from <body>.
  const focusMain = useRef(false);
  useEffect(() => {
    if (session && focusMain.current) {
      focusMain.current = false;
      document.getElementById('main')?.focus();
    }
  }, [session]);

  const start = async (secret: string) => {
    if (!looksLikeSecret(secret)) {
      // Checked here so a typo or a truncated paste is explained without a round trip.
      throw new Error('This key was not accepted: a rekey API key looks like rekey_live_ followed by 22 letters or digits, an underscore and 49 more');
    }
    const client = makeClient(config.apiUrl, secret);
    const whoami = (await client.whoami()) as Whoami;
    if (!whoami.scopes.includes('keys:read') && !whoami.scopes.includes('keys:write')) {
      throw new Error('This key has neither the keys:read nor the keys:write scope, so it cannot manage keys. Sign in with a management key');
    }
    // Every management key may read itself (keys:write implies keys:read); the id is the fallback.
    const keyName = await client.getKey(whoami.keyId).then(
      (r) => r.key.name,
      () => null,
    );
    try {
      window.sessionStorage.setItem(SESSION_KEY, secret);
    } catch {
      // Storage disabled: the session simply lasts as long as this page.
    }
    setSession({ client, whoami, keyName });
  };

  useEffect(() => {
    const stored = readStoredSecret();
    if (!stored) return;
    void signIn.run(() => start(stored)).finally(() => setRestoring(false));
  }, []);

  const signOut = () => {
    try {
      window.sessionStorage.removeItem(SESSION_KEY);
    } catch {
      // Nothing stored.
    }
    setSession(null);
    signIn.clear();
  };

  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true">⟳</span> rekey <span class="muted">keys dashboard</span>
        </div>
        {session && (
          <div class="who">
            <span>
              Signed in as {session.keyName !== null ? <strong class="who-name">{session.keyName}</strong> : <code>{session.whoami.keyId}</code>}{' '}
              <span class={`badge env-${session.whoami.environment}`}>{session.whoami.environment}</span>
              {!session.whoami.scopes.includes('keys:write') && <span class="badge readonly">read-only</span>}
            </span>
            <button type="button" onClick={signOut}>Sign out</button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {session ? (
          <Dashboard session={session} config={config} />
        ) : restoring ? (
          <p class="muted">Signing in…</p>
        ) : (
          <SignIn
            busy={signIn.busy}
            error={signIn.error}
            onSubmit={(secret) => {
              focusMain.current = true;
              void signIn.run(() => start(secret));
            }}
          />
        )}
      </main>
    </>
  );
}

function SignIn({ busy, error, onSubmit }: { busy: boolean; error: ReturnType<typeof useAction>['error']; onSubmit: (secret: string) => void }) {
  const [secret, setSecret] = useState('');
  return (
    <section class="signin card" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p>
        Paste an API key with the <code>keys:read</code> or <code>keys:write</code> scope. It stays in this browser tab only (sessionStorage) and is
        sent only to the rekey API.
      </p>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const s = secret.trim();
          if (s) onSubmit(s);
        }}
      >
        <label for="signin-secret" class="field-label">API key</label>
        <input
          id="signin-secret"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
          aria-describedby={error ? 'signin-error' : undefined}
          autoFocus
        />
        <ErrorAlert error={error} id="signin-error" />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </div>
      </form>
    </section>
  );
}

function Dashboard({ session, config }: { session: Session; config: DashboardConfig }) {
  const { client, whoami } = session;
  // A rotated-out (previous) secret keeps its read rights only (SPEC §2): no write buttons for it.
  const canWrite = whoami.scopes.includes('keys:write') && whoami.slot === 'current';
  const now = useNow();
  const [keys, setKeys] = useState<KeyView[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [maxTransition, setMaxTransition] = useState(config.maxTransitionSeconds ?? DEFAULT_MAX_TRANSITION_SECONDS);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const load = useAction();

  const loadFirst = () =>
    load.run(async () => {
      const page = await client.listKeys({ limit: 50 });
      setKeys(page.keys);
      setCursor(page.nextCursor);
    });

  useEffect(() => {
    void loadFirst();
    if (config.maxTransitionSeconds === undefined) {
      // The OpenAPI document is public and may state the deployment's maximum; the 72 h default otherwise.
      client
        .getOpenApi()
        .then((doc: unknown) => {
          const max = maxFromOpenApi(doc);
          if (max !== undefined) setMaxTransition(max);
        })
        .catch(() => undefined);
    }
  }, [client]);

  const replace = (key: KeyView) => setKeys((prev) => (prev ?? []).map((k) => (k.id === key.id ? key : k)));
  const names = new Map((keys ?? []).map((k) => [k.id, k.name]));
  const keyName = (id: string) => names.get(id);

  return (
    <div class="dashboard">
      <section aria-labelledby="keys-title" class="keys">
        <div class="section-head">
          <h1 id="keys-title">API keys</h1>
          <div class="actions">
            <button type="button" onClick={() => void loadFirst()} disabled={load.busy}>
              {load.busy ? 'Refreshing…' : 'Refresh'}
            </button>
            {canWrite && (
              <button type="button" class="primary" onClick={() => setCreating(true)}>Create key</button>
            )}
          </div>
        </div>
        {whoami.slot === 'previous' && (
          <p class="warning" role="note">
            You signed in with the <strong>old</strong> secret of key <code>{whoami.keyId}</code>
            {whoami.secretExpiresAt ? `, which stops working at ${formatDateTime(whoami.secretExpiresAt)}` : ''}. A rotated-out secret can only read; sign in
            with the new secret to make changes.
          </p>
        )}
        <ErrorAlert error={load.error} />
        {keys === null && load.busy && <p class="muted">Loading keys…</p>}
        {keys && keys.length === 0 && <p class="muted">No keys yet.</p>}
        <div class="cards">
          {keys?.map((k) => (
            <KeyCard
              key={k.id}
              apiKey={k}
              now={now}
              client={client}
              canWrite={canWrite}
              signedInKeyId={whoami.keyId}
              maxTransitionSeconds={maxTransition}
              keyName={keyName}
              onChanged={replace}
              onSecret={(title, keyName, secret, note) => setShown({ title, keyName, secret, ...(note ? { note } : {}) })}
            />
          ))}
        </div>
        {cursor && (
          <button
            type="button"
            disabled={load.busy}
            onClick={() =>
              load.run(async () => {
                const page = await client.listKeys({ limit: 50, cursor });
                setKeys((prev) => [...(prev ?? []), ...page.keys]);
                setCursor(page.nextCursor);
              })
            }
          >
            Load more keys
          </button>
        )}
      </section>
      <AccountPanel client={client} canWrite={canWrite} />
      <WebhooksPanel client={client} whoami={whoami} canWrite={canWrite} maxTransitionSeconds={maxTransition} now={now} onSecret={setShown} />
      {creating && (
        <CreateKeyDialog
          client={client}
          whoami={whoami}
          onClose={() => setCreating(false)}
          onCreated={(key, secret) => {
            setCreating(false);
            setKeys((prev) => [key, ...(prev ?? []).filter((k) => k.id !== key.id)]);
            setShown({ title: 'Key created', keyName: key.name, secret });
          }}
        />
      )}
      {shown && (
        <SecretDialog
          title={shown.title}
          keyName={shown.keyName}
          secret={shown.secret}
          kind={shown.kind ?? 'key'}
          onClose={() => setShown(null)}
          {...(shown.note ? { note: shown.note } : {})}
        />
      )}
    </div>
  );
}

function AccountPanel({ client, canWrite }: { client: RekeyClient; canWrite: boolean }) {
  const [account, setAccount] = useState<AccountView | null>(null);
  const [text, setText] = useState('');
  const [saved, setSaved] = useState(false);
  const [sent, setSent] = useState<string[]>([]);
  const load = useAction();
  const save = useAction();
  useEffect(() => {
    void load.run(async () => {
      const { account } = await client.getAccount();
      setAccount(account);
      setText([...account.alertEmails, ...account.pendingEmails].join('\n'));
    });
  }, [client]);
  return (
    <section class="account card" aria-labelledby="account-title">
      <h2 id="account-title">Account{account ? `: ${account.name}` : ''}</h2>
      <ErrorAlert error={load.error} />
      {account && (
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            setSaved(false);
            const alertEmails = splitList(text);
            setSent(alertEmails);
            const res = await save.run(() => client.putAlertEmails({ alertEmails }));
            if (res) {
              setAccount(res.account);
              setText([...res.account.alertEmails, ...res.account.pendingEmails].join('\n'));
              setSaved(true);
            }
          }}
        >
          <label for="alert-emails" class="field-label">
            Alert emails <span class="muted">(one per line; they receive rotation reminders and expiry notices)</span>
          </label>
          <textarea
            id="alert-emails"
            rows={3}
            value={text}
            readOnly={!canWrite}
            aria-readonly={!canWrite}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setSaved(false);
            }}
          />
          {account.pendingEmails.length > 0 && (
            <p class="muted" data-testid="pending-emails">
              Waiting for confirmation (each got a link by email and receives nothing else until it confirms): {account.pendingEmails.join(', ')}
            </p>
          )}
          <ErrorAlert error={nameListItems(save.error, 'alertEmails', sent)} />
          {canWrite && (
            <div class="actions">
              <button type="submit" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save alert emails'}</button>
              <span role="status" class="ok-text">{saved ? 'Saved.' : ''}</span>
            </div>
          )}
        </form>
      )}
    </section>
  );
}
