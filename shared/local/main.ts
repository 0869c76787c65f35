/**
 * `npm start`: the whole of rekey on one machine, no AWS account, no network (SPEC §6).
 *
 * dynalite (persisted under the data directory) → the table → the real handlers and authorizer
 * behind the local gateway → the local scheduler firing the real timer handler → a periodic outbox
 * sweep. Every module that reads configuration is imported only after the environment below is set,
 * so `runtime()` wires the local adapters.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config.js';
import { LOCAL_INFO_FILE, parseAccessLog, parseDashboardMode, parsePort, POLICY_ENV_VARS, readLocalInstance, resolveDataDir, type LocalInstanceInfo, makePrivate, useLocalAwsEnvironment } from './instance.js';
import { createGateway, type DashboardSource } from './gateway.js';
import { startDynalite, type LocalDynamo } from './dynalite.js';
import { ensureStoreKey } from './storeKey.js';

const SWEEP_INTERVAL_MS = 2_000;
const RECONCILE_INTERVAL_MS = 60_000;
const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main(): Promise<void> {
  const dataDir = resolveDataDir();
  let port: number;
  let config: ReturnType<typeof loadConfig>;
  let dashboardMode: 'auto' | 'off';
  let accessLog: boolean;
  try {
    port = parsePort(process.env.PORT);
    dashboardMode = parseDashboardMode(process.env.REKEY_DASHBOARD);
    accessLog = parseAccessLog(process.env.REKEY_ACCESS_LOG);
    config = loadConfig({ ...process.env, REKEY_DATA_DIR: dataDir });
  } catch (e) {
    if (e instanceof ConfigError) fail(`rekey: ${e.message}`);
    throw e;
  }
  if (config.secretScanningKeysFile) {
    // Fail at start, naming the variable, rather than answer GitHub's first report with a 500.
    const { parseKeysDocument } = await import('../leaks/githubKeys.js');
    try {
      parseKeysDocument(JSON.parse(readFileSync(config.secretScanningKeysFile, 'utf8')));
    } catch (e) {
      fail(`rekey: Invalid configuration:\n  SECRET_SCANNING_KEYS_FILE (${config.secretScanningKeysFile}): ${(e as Error).message}`);
    }
  }

  const running = readLocalInstance(dataDir);
  if (running) fail(`rekey: already running for ${dataDir} (pid ${running.pid}, ${running.url}). Stop it first, or set REKEY_DATA_DIR.`);

  // Everything this process creates in the data directory (LevelDB files appear as it runs) is
  // private to the user; what an earlier run or another tool left there is made private too.
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  makePrivate(dataDir);

  const storeKey = ensureStoreKey(dataDir);
  useLocalAwsEnvironment(storeKey);

  let dynamo: LocalDynamo;
  try {
    dynamo = await startDynalite(join(dataDir, 'dynamo'), { key: storeKey });
  } catch (e) {
    fail(`rekey: could not open the store under ${join(dataDir, 'dynamo')}: ${(e as Error).message}`);
  }
  const { ensureTable } = await import('../adapters/tableAdmin.js');
  const created = await ensureTable(dynamo.endpoint, config.tableName, storeKey);

  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TABLE_NAME = config.tableName;
  process.env.REKEY_DATA_DIR = dataDir;

  // The admin API's credential (SPEC §9), generated on first start, 0600 like every data file.
  const { ensureOperatorKey } = await import('./operatorKey.js');
  let operatorKey: ReturnType<typeof ensureOperatorKey>;
  try {
    operatorKey = ensureOperatorKey(dataDir);
  } catch (e) {
    fail(`rekey: ${(e as Error).message}`);
  }

  let dashboard: DashboardSource = { kind: 'note', html: dashboardNote('The dashboard is being built; this page reloads in a few seconds.', 3) };
  const server = createGateway({
    rootDir: ROOT_DIR,
    dashboard: () => dashboard,
    // What the CDK deployment writes next to the dashboard; the API is on this same origin.
    dashboardConfig: { maxTransitionSeconds: config.policies.maxTransitionSeconds },
    operatorKey: () => operatorKey,
    ...(config.corsAllowedOrigin ? { corsAllowedOrigin: config.corsAllowedOrigin } : {}),
    log: !accessLog ? undefined : (line) => console.log(`[gateway] ${line}`),
  });
  const actualPort = await listen(server, port).catch((e: NodeJS.ErrnoException) => {
    void dynamo.close();
    fail(
      e.code === 'EADDRINUSE'
        ? `rekey: port ${port} on 127.0.0.1 is in use. Set PORT to another port (PORT=0 picks a free one).`
        : `rekey: could not listen on 127.0.0.1:${port}: ${e.message}`,
    );
  });
  const url = `http://127.0.0.1:${actualPort}`;
  // Emails link back to this instance ("how to extend or cancel").
  process.env.API_URL ??= url;
  process.env.DASHBOARD_URL ??= `${url}/`;

  const { runtime } = await import('../runtime.js');
  const rt = runtime();
  // Generates the pepper on first start (and fails here, not on the first request, if it cannot).
  await rt.pepper.get();

  const { handler: timerHandler } = (await import('../../functions/timer.js')) as { handler: (t: import('../domain/types.js').Timer) => Promise<unknown> };
  const scheduler = rt.localScheduler;
  if (!scheduler) fail('rekey: the runtime did not wire the local scheduler (is REKEY_DATA_DIR set?)');
  await scheduler.start(async (timer) => {
    await timerHandler(timer);
  });

  // Webhook attempts: the same delivery code as the AWS delivery function, on a local queue.
  const attemptQueue = rt.localAttempts;
  if (!attemptQueue) fail('rekey: the runtime did not wire the local webhook queue');
  const { attemptDelivery } = await import('../webhooks/service.js');
  const { fromLocalAttempt } = await import('../webhooks/localQueue.js');
  attemptQueue.start(async (entry) => {
    await attemptDelivery(fromLocalAttempt(entry), rt.webhooks);
  });

  const { sweepOutbox } = await import('../domain/outbox.js');
  const { reconcileTimers } = await import('../domain/service.js');
  let sweeping: Promise<unknown> | null = null;
  let lastReconcile = 0;
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    // The timer reconciliation of AWS, on the same loop: a timer whose handler failed is performed
    // once it is overdue (see reconcileTimers).
    const reconcile = Date.now() - lastReconcile >= RECONCILE_INTERVAL_MS;
    if (reconcile) lastReconcile = Date.now();
    sweeping = sweepOutbox(rt)
      .then(() => (reconcile ? reconcileTimers(rt) : undefined))
      .catch((err: unknown) => console.error('[outbox] sweep failed; will retry:', err instanceof Error ? err.message : err))
      .finally(() => (sweeping = null));
  }, SWEEP_INTERVAL_MS);

  const env: Record<string, string> = {};
  for (const name of POLICY_ENV_VARS) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  const info: LocalInstanceInfo = { pid: process.pid, port: actualPort, dynamoEndpoint: dynamo.endpoint, tableName: config.tableName, url, env };
  const infoFile = join(dataDir, LOCAL_INFO_FILE);

  void prepareDashboard(dashboardMode).then((d) => (dashboard = d));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.error('rekey: forced exit');
      process.exit(1);
    }
    stopping = true;
    console.log(`\nrekey: ${signal} received, stopping…`);
    clearInterval(sweepTimer);
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeIdleConnections();
      // In-flight requests get a moment; then the sockets go.
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
    });
    await scheduler.stop();
    await attemptQueue.stop();
    await sweeping;
    await dynamo.close().catch((e: unknown) => console.error('rekey: closing the store:', e));
    try {
      const current = JSON.parse(readFileSync(infoFile, 'utf8')) as LocalInstanceInfo;
      if (current.pid === process.pid) rmSync(infoFile, { force: true });
    } catch {
      // Already gone.
    }
    console.log('rekey: stopped. Data kept in', dataDir);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Written last: its presence means "ready", and the handlers above remove it on the way out.
  writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });

  const dataArg = process.env.REKEY_DATA_DIR && resolve(process.env.REKEY_DATA_DIR) !== resolve('.data') ? `REKEY_DATA_DIR=${shellQuote(dataDir)} ` : '';
  console.log(
    [
      '',
      `rekey local mode is running (pid ${process.pid})`,
      `  API:        ${url}/v1   (OpenAPI: ${url}/v1/openapi.json)`,
      `  Dashboard:  ${url}/`,
      `  Data:       ${dataDir}${created ? ' (new)' : ''}`,
      `  Emails:     ${join(dataDir, 'outbox')}/*.eml    Events: ${join(dataDir, 'events.jsonl')}`,
      '',
      'Get a first key (prints its secret once):',
      `  ${dataArg}npm run admin -- create-account --name "My team" --alert-email you@example.com`,
      'Then try it:',
      `  curl -H "Authorization: Bearer <secret>" ${url}/v1/whoami`,
      '',
      'Ctrl-C stops; every account and key is kept for the next start.',
      `READY ${url}`,
    ].join('\n'),
  );
}

function mtimeOf(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Newest modification time of the files under `paths` (0 when none exist). */
function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  for (const p of paths) {
    let info;
    try {
      info = statSync(p);
    } catch {
      continue;
    }
    if (info.isDirectory()) {
      const children = readdirSync(p)
        .filter((name) => name !== 'node_modules' && !name.startsWith('.'))
        .map((name) => join(p, name));
      newest = Math.max(newest, newestMtime(children));
    } else newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise((server.address() as AddressInfo).port);
    });
  });
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function dashboardNote(text: string, refreshSeconds?: number): string {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const refresh = refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : '';
  return `<!doctype html><html lang="en"><meta charset="utf-8">${refresh}<meta name="viewport" content="width=device-width,initial-scale=1"><title>rekey</title><body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5"><h1>rekey</h1><p>${esc}</p><p>The management API is at <code>/v1</code>; its OpenAPI document at <a href="/v1/openapi.json">/v1/openapi.json</a>.</p></body></html>`;
}

/**
 * The dashboard comes from `dashboard/dist`, built with vite on first start (`REKEY_DASHBOARD=auto`,
 * the default), or not at all (`off`). The API is served meanwhile; the page shows a note.
 */
async function prepareDashboard(mode: 'auto' | 'off'): Promise<DashboardSource> {
  if (mode === 'off') return { kind: 'note', html: dashboardNote('The dashboard is turned off (REKEY_DASHBOARD=off).') };
  const dist = join(ROOT_DIR, 'dashboard', 'dist');
  const configFile = join(ROOT_DIR, 'dashboard', 'vite.config.ts');
  const built = mtimeOf(join(dist, 'index.html'));
  if (!existsSync(configFile)) {
    return built !== null ? { kind: 'dir', dir: dist } : { kind: 'note', html: dashboardNote('The dashboard is not part of this checkout yet.') };
  }
  // Rebuild when a source changed since the last build (e.g. after a pull), not only when missing.
  const sources = [join(ROOT_DIR, 'dashboard', 'src'), join(ROOT_DIR, 'dashboard', 'index.html'), configFile, join(ROOT_DIR, 'client')];
  if (built !== null && newestMtime(sources) <= built) return { kind: 'dir', dir: dist };
  try {
    const started = Date.now();
    console.log(`[dashboard] building dashboard/dist (${built === null ? 'first start' : 'sources changed'})…`);
    const { build } = await import('vite');
    await build({ configFile, logLevel: 'warn' });
    console.log(`[dashboard] built in ${Date.now() - started} ms`);
    return existsSync(join(dist, 'index.html'))
      ? { kind: 'dir', dir: dist }
      : { kind: 'note', html: dashboardNote('The dashboard build produced no index.html; run npm run dashboard:build to see why.') };
  } catch (e) {
    console.error('[dashboard] build failed:', e instanceof Error ? e.message : e);
    return { kind: 'note', html: dashboardNote('The dashboard could not be built; run npm run dashboard:build to see why. The API works regardless.') };
  }
}

// Run only as the entry point (tests import the helpers above).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error('rekey: failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
