/**
 * E2E harness: runs `npm start`'s entry point (`shared/local/main.ts`) in a child process on a free
 * port with a temporary data directory, and the operator CLI against it. Tests talk to it over real
 * HTTP with `fetch`.
 *
 * Starts are kept fast: the dashboard is not built (`REKEY_DASHBOARD=off`) unless `env` asks for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccountViewT, KeyViewT } from '../../shared/http/schemas.js';
import { POLICY_ENV_VARS } from '../../shared/local/instance.js';

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT_DIR, 'shared', 'local', 'main.ts');
const ADMIN = join(ROOT_DIR, 'shared', 'local', 'admin.ts');
const START_TIMEOUT_MS = 30_000;

/** Variables a developer's shell might carry that would change the instance under test. */
const ISOLATED_VARS = [
  'PORT',
  'REKEY_DATA_DIR',
  'REKEY_DASHBOARD',
  'API_URL',
  'DASHBOARD_URL',
  'TABLE_NAME',
  'DYNAMODB_ENDPOINT',
  'PEPPER_SECRET_ARN',
  'NODE_OPTIONS',
  ...POLICY_ENV_VARS,
];

export interface CreatedAccount {
  account: AccountViewT;
  key: KeyViewT;
  secret: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface LocalInstance {
  /** `http://127.0.0.1:<port>`; changes on `restart()` (a new free port). */
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly port: number;
  /** stdout + stderr of the current child so far (for assertions and failure messages). */
  output(): string;
  /** Ctrl-C (SIGINT) and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Stop, then start again on the same data directory and environment. */
  restart(): Promise<void>;
  /** SIGKILL: the process dies at once, with no chance to finish anything (a crash). */
  kill(): Promise<void>;
  /** `npm run admin -- create-account … --json` against this instance; the parsed object. */
  createAccount(opts?: { name?: string; alertEmails?: string[]; allowScopes?: string[] }): Promise<CreatedAccount>;
  /** Runs the operator CLI with `REKEY_DATA_DIR` pointing at this instance. */
  admin(args: readonly string[]): Promise<CliResult>;
  /** Stops (if running) and deletes the temporary data directory. */
  dispose(): Promise<void>;
}

/** The environment a child gets: this process's, minus anything that would leak in, plus `env`. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ISOLATED_VARS) delete out[name];
  out.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Runs `shared/local/main.ts` and resolves when it exits (for start-up failures). */
export function runMainToExit(env: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  return runNode(MAIN, [], childEnv({ PORT: '0', REKEY_DASHBOARD: 'off', ...env }), timeoutMs);
}

/** Runs the admin CLI with `args` and `env`. */
export function runAdmin(args: readonly string[], env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<CliResult> {
  return runNode(ADMIN, args, childEnv(env), timeoutMs);
}

function runNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * Starts local mode in a child process: `PORT=0` (a free port), a fresh temporary data directory
 * (or `dataDir`), `REKEY_DASHBOARD=off`, plus `env`. Resolves once it prints its `READY` line.
 */
export async function startLocal(opts: { env?: Record<string, string>; dataDir?: string } = {}): Promise<LocalInstance> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'rekey-e2e-'));
  const env = childEnv({ PORT: '0', REKEY_DASHBOARD: 'off', ...opts.env, REKEY_DATA_DIR: dataDir });
  let child: ChildProcess | null = null;
  let output = '';
  let baseUrl = '';
  let port = 0;

  const start = async () => {
    output = '';
    const c = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    children.add(c);
    c.on('exit', () => children.delete(c));
    const url = await new Promise<string>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`local mode did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
      }, START_TIMEOUT_MS);
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /^READY (http:\/\/127\.0\.0\.1:\d+)$/m.exec(output);
        if (m) {
          clearTimeout(timer);
          resolvePromise(m[1]!);
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`local mode exited with ${code} before it was ready:\n${output}`));
      });
    });
    baseUrl = url;
    port = Number(new URL(url).port);
  };

  const stop = async (): Promise<number | null> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill('SIGINT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    child = null;
    return code;
  };

  await start();

  const admin = (args: readonly string[]) => runAdmin(args, { REKEY_DATA_DIR: dataDir });

  return {
    get baseUrl() {
      return baseUrl;
    },
    get port() {
      return port;
    },
    dataDir,
    output: () => output,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      await exited;
      child = null;
    },
    admin,
    async createAccount(o = {}) {
      const args = ['create-account', '--name', o.name ?? 'e2e account', '--json'];
      for (const e of o.alertEmails ?? ['e2e@example.com']) args.push('--alert-email', e);
      for (const s of o.allowScopes ?? []) args.push('--allow-scope', s);
      const r = await admin(args);
      if (r.code !== 0) throw new Error(`create-account failed (${r.code}):\n${r.stderr}`);
      return JSON.parse(r.stdout) as CreatedAccount;
    },
    async dispose() {
      await stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
