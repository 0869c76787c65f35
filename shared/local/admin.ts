/**
 * `npm run admin -- <command>`: the operator CLI (SPEC §6). Creates accounts and keys directly in
 * the store through the domain services (as the system, `actorKeyId: null`), against the running
 * local instance by default or a deployed stack when pointed at one.
 *
 * stdout carries only the command's result (with `--json`, exactly one JSON object); everything
 * else, including any log line from the services, goes to stderr.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import { ApiError } from '../domain/errors.js';
import { POLICY_ENV_VARS, readLocalInstance, resolveDataDir, useLocalAwsEnvironment } from './instance.js';
import { readStoreKey } from './storeKey.js';

/** A usage error: printed with the command's help, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

const TARGET_OPTIONS = {
  'data-dir': { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  stack: { type: 'string' },
  'pepper-secret': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

const TARGET_HELP = `Target (default: the local instance started by \`npm start\`):
  --data-dir DIR          data directory of the local instance (default: $REKEY_DATA_DIR or .data)
  --stack NAME            a deployed stack: table and pepper from its outputs (AWS credentials from
                          the default chain: AWS_PROFILE, environment, SSO, …)
  --table NAME            a deployed table by name (with --pepper-secret)
  --pepper-secret ARN     Secrets Manager secret holding the pepper (with --table)
  --region REGION         AWS region (default: AWS_REGION / your profile's region)
Output:
  --json                  print exactly one JSON object on stdout
  -h, --help              this help`;

interface CommandDef {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly help: string;
}

export const COMMANDS = {
  'create-account': {
    summary: 'Create an account and its first key (keys:read keys:write, live); prints the secret once.',
    usage: 'create-account --name NAME --alert-email EMAIL [--alert-email EMAIL2 ...] [--allow-scope SCOPE ...] [--leak-response revoke|notify] [--json]',
    options: {
      name: { type: 'string' },
      'alert-email': { type: 'string', multiple: true },
      'allow-scope': { type: 'string', multiple: true },
      'leak-response': { type: 'string' },
    },
    help: `  --name NAME             account name (1-128 characters)
  --alert-email EMAIL     who receives reminders and expiry notices; repeat for more (at most 20)
  --allow-scope SCOPE     a consumer scope the account's keys may be given (its entitlement); repeat
                          for more (at most 50). Without it, a key can only give scopes it holds.
  --leak-response MODE    what a valid leaked secret does: revoke (default) or notify (only tell the account)`,
  },
  'update-account': {
    summary: "Change an account's name, alert emails, allowed scopes (each option replaces that list) or leak response.",
    usage: 'update-account --account ID [--name NAME] [--alert-email EMAIL ...] [--allow-scope SCOPE ... | --no-allow-scope] [--leak-response revoke|notify] [--json]',
    options: {
      account: { type: 'string' },
      name: { type: 'string' },
      'alert-email': { type: 'string', multiple: true },
      'allow-scope': { type: 'string', multiple: true },
      'no-allow-scope': { type: 'boolean' },
      'leak-response': { type: 'string' },
    },
    help: `  --account ID            the account
  --name NAME             new account name (1-128 characters)
  --alert-email EMAIL     the new alert list (replaces it); repeat for more (at most 20)
  --allow-scope SCOPE     the new allowed scopes (replaces them); repeat for more (at most 50)
  --no-allow-scope        allow no scope beyond what each giving key holds
  --leak-response MODE    revoke: a leaked current secret revokes its key, a leaked previous secret
                          expires at once; notify: the account is only told (SPEC §11)
Removing an allowed scope takes nothing from existing keys; it bounds what keys may be given next.`,
  },
  'report-leak': {
    summary: 'Report leaked secrets to the running rekey (POST /v1/leaks), one per line on stdin.',
    usage: 'report-leak [--secret SECRET ...] [--json]  (or: … report-leak < leaked.txt)',
    options: { secret: { type: 'string', multiple: true } },
    help: `  --secret SECRET         a leaked secret; repeat for more (at most 100). Prefer stdin: a secret
                          on the command line lands in your shell history.
  With no --secret, secrets are read from stdin, one per line.`,
  },
  'list-accounts': {
    summary: 'List every account, newest first.',
    usage: 'list-accounts [--json]',
    options: {},
    help: '',
  },
  'create-key': {
    summary: "Create a key for an account; prints the secret once.",
    usage: 'create-key --account ID --name NAME [--environment live|test] [--scope SCOPE ...] [--expires-at TIME] [--json]',
    options: {
      account: { type: 'string' },
      name: { type: 'string' },
      environment: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'expires-at': { type: 'string' },
    },
    help: `  --account ID            the account the key belongs to
  --name NAME             key name (1-128 characters)
  --environment ENV       live (default) or test
  --scope SCOPE           a scope; repeat for more (keys:read and keys:write manage keys)
  --expires-at TIME       RFC 3339 expiry, e.g. 2027-01-31T00:00:00Z (default: never, or the
                          deployment's maximum key lifetime)`,
  },
  'list-keys': {
    summary: "List an account's keys, newest first, revoked included.",
    usage: 'list-keys --account ID [--json]',
    options: { account: { type: 'string' } },
    help: '  --account ID            the account',
  },
  'revoke-key': {
    summary: 'Revoke a key: every secret of it stops working (reactivatable for a while).',
    usage: 'revoke-key --key ID [--json]',
    options: { key: { type: 'string' } },
    help: '  --key ID                the key',
  },
  'reactivate-key': {
    summary: 'Reactivate a revoked key, same secrets, within the reactivation window.',
    usage: 'reactivate-key --key ID [--json]',
    options: { key: { type: 'string' } },
    help: '  --key ID                the key',
  },
} as const satisfies Record<string, CommandDef>;

export type CommandName = keyof typeof COMMANDS;

/** The CLI's top-level help. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `rekey operator CLI

Usage: npm run admin -- <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run \`npm run admin -- <command> --help\` for a command's options.

${TARGET_HELP}

Examples:
  npm run admin -- create-account --name "Acme" --alert-email ops@acme.example --allow-scope invoices:read
  npm run admin -- update-account --account <accountId> --allow-scope invoices:read --allow-scope invoices:write
  npm run admin -- create-key --account <accountId> --name ci --scope keys:read --json
  npm run admin -- list-accounts --stack RekeyStack --region eu-west-1`;
}

export function commandHelp(name: CommandName): string {
  const c: CommandDef = COMMANDS[name];
  return `${c.summary}

Usage: npm run admin -- ${c.usage}
${c.help ? `\n${c.help}\n` : ''}
${TARGET_HELP}`;
}

export type Target =
  | { kind: 'local'; dataDir: string }
  | { kind: 'stack'; stack: string; region?: string | undefined }
  | { kind: 'table'; table: string; pepperSecretArn: string; region?: string | undefined };

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'run'; command: CommandName; values: Record<string, string | string[] | boolean | undefined>; json: boolean; target: Target };

/** Parses argv (without `node` and the script). Throws `UsageError` for anything it does not understand. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined> = process.env): Parsed {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return { kind: 'help', text: mainHelp() };
  if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command "${command}"`);
  const name = command as CommandName;
  const def: CommandDef = COMMANDS[name];
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...rest], options: { ...TARGET_OPTIONS, ...def.options }, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''), name);
  }
  if (values.help) return { kind: 'help', text: commandHelp(name) };

  const str = (k: string) => values[k] as string | undefined;
  if (str('stack') !== undefined && str('table') !== undefined) throw new UsageError('use either --stack or --table, not both', name);
  if (str('data-dir') !== undefined && (str('stack') !== undefined || str('table') !== undefined)) {
    throw new UsageError('--data-dir selects a local instance; it cannot be combined with --stack or --table', name);
  }
  let target: Target;
  if (str('stack') !== undefined) {
    target = { kind: 'stack', stack: nonEmpty(str('stack'), '--stack', name), region: str('region') };
  } else if (str('table') !== undefined) {
    const pepper = str('pepper-secret');
    if (!pepper) throw new UsageError('--table needs --pepper-secret ARN (the Secrets Manager secret holding the pepper)', name);
    target = { kind: 'table', table: nonEmpty(str('table'), '--table', name), pepperSecretArn: pepper, region: str('region') };
  } else {
    if (str('pepper-secret') !== undefined || str('region') !== undefined) throw new UsageError('--pepper-secret and --region need --table or --stack', name);
    target = { kind: 'local', dataDir: resolveDataDir({ REKEY_DATA_DIR: str('data-dir') ?? env.REKEY_DATA_DIR }) };
  }

  switch (name) {
    case 'create-account': {
      nonEmpty(str('name'), '--name', name);
      const emails = values['alert-email'] as string[] | undefined;
      if (!emails || emails.length === 0) throw new UsageError('at least one --alert-email is required (reminders go there)', name);
      break;
    }
    case 'create-key':
      nonEmpty(str('account'), '--account', name);
      nonEmpty(str('name'), '--name', name);
      break;
    case 'update-account':
      nonEmpty(str('account'), '--account', name);
      if (values['no-allow-scope'] === true && values['allow-scope'] !== undefined) {
        throw new UsageError('use either --allow-scope or --no-allow-scope, not both', name);
      }
      if (
        str('name') === undefined &&
        values['alert-email'] === undefined &&
        values['allow-scope'] === undefined &&
        values['no-allow-scope'] !== true &&
        str('leak-response') === undefined
      ) {
        throw new UsageError('nothing to change: give --name, --alert-email, --allow-scope, --no-allow-scope or --leak-response', name);
      }
      break;
    case 'list-keys':
      nonEmpty(str('account'), '--account', name);
      break;
    case 'revoke-key':
    case 'reactivate-key':
      nonEmpty(str('key'), '--key', name);
      break;
    case 'list-accounts':
    case 'report-leak':
      break;
  }
  const leak = str('leak-response');
  if (leak !== undefined && leak !== 'revoke' && leak !== 'notify') throw new UsageError('--leak-response must be revoke or notify', name);
  return { kind: 'run', command: name, values, json: values.json === true, target };
}

function nonEmpty(v: string | undefined, flag: string, command: string): string {
  if (v === undefined || v.trim() === '') throw new UsageError(`${flag} is required`, command);
  return v;
}

/** Where the output goes; `out` is the real stdout, everything else is diverted to stderr. */
interface Io {
  out(text: string): void;
  err(text: string): void;
}

type Services = typeof import('../domain/service.js');
type Views = typeof import('../domain/view.js');
type Schemas = typeof import('../http/schemas.js');

/** Prepares the environment for `runtime()` and returns a short description of the target. */
async function connect(target: Target, io: Io): Promise<{ describe: string; apiUrl: string | undefined }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (target.kind === 'local') {
    const info = readLocalInstance(target.dataDir);
    if (!info) {
      throw new TargetError(
        `rekey is not running for ${target.dataDir}.\n` +
          `Start it in another terminal with \`npm start\`${process.env.REKEY_DATA_DIR ? ' (same REKEY_DATA_DIR)' : ''}, then run this again.\n` +
          'To act on a deployed stack instead, pass --stack NAME (or --table NAME --pepper-secret ARN).',
      );
    }
    // The CLI acts with the instance's own policies (key prefix, windows), not this shell's.
    for (const name of POLICY_ENV_VARS) {
      if (info.env?.[name] !== undefined) process.env[name] = info.env[name];
      else delete process.env[name];
    }
    // Files this process writes into the data directory (events, emails) are private, as the server's.
    process.umask(0o077);
    // The store only serves requests signed with its key: sign with it, as the server does.
    const storeKey = readStoreKey(target.dataDir);
    if (!storeKey) throw new TargetError(`${target.dataDir} has no store key (store.json); start rekey there with \`npm start\` first.`);
    useLocalAwsEnvironment(storeKey);
    process.env.DYNAMODB_ENDPOINT = info.dynamoEndpoint;
    process.env.TABLE_NAME = info.tableName;
    process.env.REKEY_DATA_DIR = target.dataDir;
    process.env.API_URL = info.url;
    process.env.DASHBOARD_URL = `${info.url}/`;
    return { describe: `local instance ${info.url} (data ${target.dataDir})`, apiUrl: info.url };
  }

  delete process.env.REKEY_DATA_DIR;
  delete process.env.DYNAMODB_ENDPOINT;
  if (target.region) process.env.AWS_REGION = target.region;
  if (target.kind === 'table') {
    process.env.TABLE_NAME = target.table;
    process.env.PEPPER_SECRET_ARN = target.pepperSecretArn;
    io.err(`Target: table ${target.table}${target.region ? ` in ${target.region}` : ''}`);
    return { describe: `table ${target.table}`, apiUrl: process.env.API_URL };
  }
  const { describeStackOutputs } = await import('../adapters/stackOutputs.js');
  let outputs: Record<string, string>;
  try {
    outputs = await describeStackOutputs(target.stack, target.region);
  } catch (e) {
    throw new TargetError(`could not read stack ${target.stack}: ${(e as Error).message}`);
  }
  const env = envFromStackOutputs(outputs);
  if (!env.TABLE_NAME || !env.PEPPER_SECRET_ARN) {
    throw new TargetError(
      `stack ${target.stack} has no TableName / PepperSecretArn outputs (found: ${Object.keys(outputs).join(', ') || 'none'}). ` +
        'Use --table NAME --pepper-secret ARN instead.',
    );
  }
  Object.assign(process.env, env);
  io.err(`Target: stack ${target.stack} (table ${env.TABLE_NAME})`);
  return { describe: `stack ${target.stack}`, apiUrl: env.API_URL };
}

/**
 * Maps a stack's outputs to the variables the functions get. Output keys are matched without
 * regard to case or a construct-id prefix (`ApiKeyServiceTableName…` → `TableName`).
 */
export function envFromStackOutputs(outputs: Record<string, string>): Record<string, string> {
  const wanted: Record<string, string> = {
    tablename: 'TABLE_NAME',
    peppersecretarn: 'PEPPER_SECRET_ARN',
    apiurl: 'API_URL',
    dashboardurl: 'DASHBOARD_URL',
    keyprefix: 'KEY_PREFIX',
    eventbusname: 'EVENT_BUS_NAME',
    schedulegroupname: 'SCHEDULE_GROUP_NAME',
    timerfunctionarn: 'TIMER_FUNCTION_ARN',
    schedulerrolearn: 'SCHEDULER_ROLE_ARN',
    schedulerdlqarn: 'SCHEDULER_DLQ_ARN',
    senderemail: 'SENDER_EMAIL',
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) {
    const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    for (const [suffix, name] of Object.entries(wanted)) {
      // CDK appends a hash to nested output ids; accept `...TableName` and `...TableName1A2B3C4D`.
      if (k === suffix || k.endsWith(suffix) || new RegExp(`${suffix}[0-9a-f]{8}$`).test(k)) env[name] ??= value;
    }
  }
  if (env.API_URL) env.API_URL = env.API_URL.replace(/\/+$/, '').replace(/\/v1$/, '');
  return env;
}

/** The target cannot be reached or is not running: exit 1 with the message. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

function human(lines: (string | false | undefined)[]): string {
  return lines.filter((l) => l !== false && l !== undefined).join('\n');
}

async function execute(parsed: Extract<Parsed, { kind: 'run' }>, io: Io): Promise<void> {
  const { apiUrl } = await connect(parsed.target, io);
  const svc: Services = await import('../domain/service.js');
  const view: Views = await import('../domain/view.js');
  const schemas: Schemas = await import('../http/schemas.js');
  const { runtime } = await import('../runtime.js');
  const deps = runtime();
  const v = parsed.values;
  const emit = (obj: unknown, text: string) => io.out(parsed.json ? JSON.stringify(obj) : text);
  const now = () => deps.clock.now();

  switch (parsed.command) {
    case 'create-account': {
      const name = validate(schemas.Name, v.name, 'name');
      const { alertEmails } = validate(schemas.AlertEmailsBody, { alertEmails: v['alert-email'] }, null);
      const allowedScopes = v['allow-scope'] === undefined ? [] : validate(schemas.Scopes, v['allow-scope'], 'allowedScopes');
      const leakResponse = v['leak-response'] as 'revoke' | 'notify' | undefined;
      const { account, key, secret } = await svc.createAccountWithKey({ name, alertEmails, allowedScopes, leakResponse }, deps);
      const keyOut = view.keyView(key, now());
      emit(
        { account: view.accountView(account), key: keyOut, secret },
        human([
          `Created account ${account.id} "${account.name}" (alerts to ${account.alertEmails.join(', ')}; allowed scopes: ${account.allowedScopes.join(' ') || 'none'})`,
          `Created key ${key.id} "${key.name}" (${key.environment}; ${key.scopes.join(' ')})`,
          '',
          'Secret (shown once, store it now):',
          `  ${secret}`,
          apiUrl && '',
          apiUrl && 'Try it:',
          apiUrl && `  curl -H "Authorization: Bearer ${secret}" ${apiUrl}/v1/whoami`,
        ]),
      );
      return;
    }
    case 'update-account': {
      const accountId = v.account as string;
      const name = v.name === undefined ? undefined : validate(schemas.Name, v.name, 'name');
      const alertEmails = v['alert-email'] === undefined ? undefined : validate(schemas.AlertEmailsBody, { alertEmails: v['alert-email'] }, null).alertEmails;
      const allowedScopes = v['no-allow-scope'] === true ? [] : v['allow-scope'] === undefined ? undefined : validate(schemas.Scopes, v['allow-scope'], 'allowedScopes');
      const leakResponse = v['leak-response'] as 'revoke' | 'notify' | undefined;
      const account = await svc.updateAccount(accountId, { name, alertEmails, allowedScopes, leakResponse }, deps);
      emit(
        { account: view.accountView(account) },
        `Account ${account.id} "${account.name}": alerts to ${account.alertEmails.join(', ') || 'nobody'}; allowed scopes: ${account.allowedScopes.join(' ') || 'none'}; leak response: ${account.leakResponse}`,
      );
      return;
    }
    case 'list-accounts': {
      const accounts = [];
      let cursor: string | undefined;
      do {
        const page = await deps.store.listAccounts({ limit: 100, cursor });
        accounts.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      emit(
        { accounts: accounts.map((a) => view.accountView(a)) },
        accounts.length === 0
          ? 'No accounts yet. Create one with: npm run admin -- create-account --name NAME --alert-email EMAIL'
          : accounts.map((a) => `${a.id}  ${new Date(a.createdAt).toISOString()}  ${a.name}  <${a.alertEmails.join(', ')}>`).join('\n'),
      );
      return;
    }
    case 'create-key': {
      const accountId = v.account as string;
      const body = validate(
        schemas.CreateKeyBody,
        {
          name: v.name,
          ...(v.environment !== undefined ? { environment: v.environment } : {}),
          ...(v.scope !== undefined ? { scopes: v.scope } : {}),
          ...(v['expires-at'] !== undefined ? { expiresAt: v['expires-at'] } : {}),
        },
        null,
      );
      await svc.getAccount(accountId, deps);
      const { record, secret } = await svc.createKey(svc.OPERATOR, accountId, { ...body, environment: body.environment ?? 'live' }, deps);
      emit(
        { key: view.keyView(record, now()), secret },
        human([
          `Created key ${record.id} "${record.name}" in account ${accountId} (${record.environment}; scopes: ${record.scopes.join(' ') || 'none'})`,
          '',
          'Secret (shown once, store it now):',
          `  ${secret}`,
        ]),
      );
      return;
    }
    case 'list-keys': {
      const accountId = v.account as string;
      await svc.getAccount(accountId, deps);
      const keys = [];
      let cursor: string | undefined;
      do {
        const page = await svc.listKeys({ ...svc.OPERATOR, accountId }, { limit: 100, cursor }, deps);
        keys.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const t = now();
      const views = keys.map((k) => view.keyView(k, t));
      emit(
        { keys: views },
        views.length === 0
          ? `Account ${accountId} has no keys.`
          : views.map((k) => `${k.id}  ${k.environment.padEnd(4)}  ${k.status.padEnd(7)}  ${k.currentSecret.hint}  ${k.name}`).join('\n'),
      );
      return;
    }
    case 'report-leak': {
      const { reportLeakCommand } = await import('../leaks/cli.js');
      const out = await reportLeakCommand(apiUrl, v.secret as string[] | undefined);
      emit(out.body, out.text);
      return;
    }
    case 'revoke-key':
    case 'reactivate-key': {
      const keyId = v.key as string;
      const fn = parsed.command === 'revoke-key' ? svc.revokeKey : svc.reactivateKey;
      const { record } = await fn(svc.OPERATOR, keyId, deps);
      const k = view.keyView(record, now());
      emit(
        { key: k },
        parsed.command === 'revoke-key'
          ? `Revoked key ${k.id} "${k.name}".${k.reactivatableUntil ? ` It can be reactivated until ${k.reactivatableUntil}.` : ''}`
          : `Reactivated key ${k.id} "${k.name}": its secrets work again.`,
      );
      return;
    }
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, field: string | null): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].filter((p) => p !== null && p !== '').join('.');
  const flag = path
    .replace(/^alertEmails(\.\d+)?$/, 'alert-email')
    .replace(/^allowedScopes(\.\d+)?$/, 'allow-scope')
    .replace(/^scopes(\.\d+)?$/, 'scope')
    .replace(/^expiresAt$/, 'expires-at');
  throw new InputError(`--${flag.split('.')[0]}: ${issue.message}`);
}

/** Bad option values (same rules as the API): exit 1. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Runs the CLI; returns the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const realStdout = process.stdout.write.bind(process.stdout);
  const io: Io = {
    out: (text) => void realStdout(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
  };
  let parsed: Parsed;
  try {
    parsed = parseCli(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      io.err(e.command && Object.hasOwn(COMMANDS, e.command) ? `\nUsage: npm run admin -- ${COMMANDS[e.command as CommandName].usage}\nSee --help.` : `\n${mainHelp()}`);
      return 2;
    }
    throw e;
  }
  if (parsed.kind === 'help') {
    io.out(parsed.text);
    return 0;
  }
  // Anything the services or the SDK print goes to stderr: stdout is the result alone.
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    await execute(parsed, io);
    return 0;
  } catch (e) {
    if (e instanceof TargetError || e instanceof InputError || e instanceof ConfigError || (e as Error)?.name === 'ReportLeakError') io.err(`error: ${(e as Error).message}`);
    else if (e instanceof ApiError) io.err(`error: ${e.code}: ${e.message}`);
    else if (e instanceof Error) {
      // Store and SDK failures wrap the useful part (DNS, credentials, access denied) in `cause`.
      const cause = e.cause instanceof Error ? ` (${e.cause.name}: ${e.cause.message})` : '';
      io.err(`error: ${e.name}: ${e.message}${cause}`);
    } else io.err(`error: ${String(e)}`);
    return 1;
  } finally {
    process.stdout.write = realStdout as typeof process.stdout.write;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCli(process.argv.slice(2)).then(
    // Exit once stdout is flushed (a pipe is asynchronous); SDK keep-alive sockets would otherwise
    // hold the process open for seconds.
    (code) => void process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      console.error('error:', err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
