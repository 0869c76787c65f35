/**
 * `npm run admin -- <command>`: the operator CLI (SPEC §6, §9). Every command is one call of the
 * admin API through the typed admin client (`client/admin.ts`), signed with AWS Signature Version 4:
 * against the running local instance with the operator key from its data directory, or against a
 * deployed stack (API URL from the stack's outputs, credentials from the AWS default chain). It
 * never touches the table, so it always obeys the deployment's own policies.
 *
 * stdout carries only the command's result (with `--json`, exactly one JSON object: the API's
 * answer); everything else goes to stderr.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config.js';
import { readLocalInstance, resolveDataDir } from './instance.js';

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
  stack: { type: 'string' },
  'api-url': { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

const TARGET_HELP = `Target (default: the local instance started by \`npm start\`, signed with its operator key):
  --data-dir DIR          data directory of the local instance (default: $REKEY_DATA_DIR or .data)
  --stack NAME            a deployed stack: the API URL from its outputs; requests signed with the
                          AWS default credential chain (AWS_PROFILE, environment, SSO, …), which
                          needs the stack's OperatorPolicyArn policy
  --api-url URL           a deployed API by URL (same credentials as --stack)
  --region REGION         AWS region (default: AWS_REGION / your profile's region)
Output:
  --json                  print exactly one JSON object (the API's answer) on stdout
  -h, --help              this help`;

const ACCOUNT = { account: { type: 'string' } } as const satisfies Options;
const KEY = { account: { type: 'string' }, key: { type: 'string' } } as const satisfies Options;
const ACCOUNT_HELP = '  --account ID            the account';
const KEY_HELP = `${ACCOUNT_HELP}\n  --key ID                the key (of that account)`;

interface CommandDef {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly help: string;
  /** Options that must be given. */
  readonly required: readonly string[];
}

export const COMMANDS = {
  'create-account': {
    summary: 'Create an account and its first key (keys:read keys:write, live); prints the secret once.',
    usage: 'create-account --name NAME --alert-email EMAIL [--alert-email EMAIL2 ...] [--allow-scope SCOPE ...] [--leak-response revoke|notify] [--json]',
    options: { name: { type: 'string' }, 'alert-email': { type: 'string', multiple: true }, 'allow-scope': { type: 'string', multiple: true }, 'leak-response': { type: 'string' } },
    help: `  --name NAME             account name (1-128 characters)
  --alert-email EMAIL     who receives reminders and expiry notices; repeat for more (at most 20)
  --allow-scope SCOPE     a consumer scope the account's keys may be given (its entitlement); repeat
  --leak-response R       revoke (default) or notify: what a leaked current secret does to its key`,
    required: ['name', 'alert-email'],
  },
  'report-leak': {
    summary: 'Report leaked secrets to the running rekey (POST /v1/leaks), one per line on stdin.',
    usage: 'report-leak [--secret SECRET ...] [--json]  (or: … report-leak < leaked.txt)',
    options: { secret: { type: 'string', multiple: true } },
    help: `  --secret SECRET         a leaked secret; repeat for more (at most 100). Prefer stdin: a secret
                          on the command line lands in your shell history.
  With no --secret, secrets are read from stdin, one per line.`,
    required: [],
  },
  'list-accounts': { summary: 'List every account, newest first.', usage: 'list-accounts [--json]', options: {}, help: '', required: [] },
  'get-account': { summary: 'Show one account.', usage: 'get-account --account ID [--json]', options: ACCOUNT, help: ACCOUNT_HELP, required: ['account'] },
  'get-customer-account': {
    summary: 'Show the account as its own keys see it (GET /v1/account).',
    usage: 'get-customer-account --account ID [--json]',
    options: ACCOUNT,
    help: ACCOUNT_HELP,
    required: ['account'],
  },
  'update-account': {
    summary: "Change an account's name, alert emails, allowed scopes or leak response.",
    usage: 'update-account --account ID [--name NAME] [--alert-email EMAIL ...] [--allow-scope SCOPE ... | --no-allow-scope] [--leak-response revoke|notify] [--json]',
    options: {
      ...ACCOUNT,
      name: { type: 'string' },
      'alert-email': { type: 'string', multiple: true },
      'allow-scope': { type: 'string', multiple: true },
      'no-allow-scope': { type: 'boolean' },
      'leak-response': { type: 'string' },
    },
    help: `${ACCOUNT_HELP}
  --name NAME             new name
  --alert-email EMAIL     replaces the alert list (trusted as given); repeat for more
  --allow-scope SCOPE     replaces the allowed scopes; repeat for more
  --no-allow-scope        empties the allowed scopes
  --leak-response R       revoke or notify`,
    required: ['account'],
  },
  'set-alert-emails': {
    summary: "Replace an account's alert emails (trusted as given).",
    usage: 'set-alert-emails --account ID --alert-email EMAIL [...] [--json]',
    options: { ...ACCOUNT, 'alert-email': { type: 'string', multiple: true } },
    help: `${ACCOUNT_HELP}\n  --alert-email EMAIL     an address; repeat for more (at most 20)`,
    required: ['account', 'alert-email'],
  },
  'suspend-account': {
    summary: "Suspend an account: its keys are refused within the authorizer's cache TTL.",
    usage: 'suspend-account --account ID [--json]',
    options: ACCOUNT,
    help: ACCOUNT_HELP,
    required: ['account'],
  },
  'resume-account': {
    summary: 'Resume a suspended account: its keys work again at once, unchanged.',
    usage: 'resume-account --account ID [--json]',
    options: ACCOUNT,
    help: ACCOUNT_HELP,
    required: ['account'],
  },
  'delete-account': {
    summary: 'Delete an account: every key revoked, digests purged after the reactivation window.',
    usage: 'delete-account --account ID [--json]',
    options: ACCOUNT,
    help: ACCOUNT_HELP,
    required: ['account'],
  },
  'create-key': {
    summary: 'Create a key for an account; prints the secret once.',
    usage: 'create-key --account ID --name NAME [--environment live|test] [--scope SCOPE ...] [--expires-at TIME] [--json]',
    options: { ...ACCOUNT, name: { type: 'string' }, environment: { type: 'string' }, scope: { type: 'string', multiple: true }, 'expires-at': { type: 'string' } },
    help: `${ACCOUNT_HELP}
  --name NAME             key name (1-128 characters)
  --environment ENV       live (default) or test
  --scope SCOPE           a scope; repeat for more (keys:read and keys:write manage keys)
  --expires-at TIME       RFC 3339 expiry, e.g. 2027-01-31T00:00:00Z (default: never, or the
                          deployment's maximum key lifetime)`,
    required: ['account', 'name'],
  },
  'list-keys': {
    summary: "List an account's keys, newest first, revoked included.",
    usage: 'list-keys --account ID [--json]',
    options: ACCOUNT,
    help: ACCOUNT_HELP,
    required: ['account'],
  },
  'get-key': { summary: 'Show one key.', usage: 'get-key --account ID --key ID [--json]', options: KEY, help: KEY_HELP, required: ['account', 'key'] },
  'update-key': {
    summary: "Change a key's name, scopes or expiry.",
    usage: 'update-key --account ID --key ID [--name NAME] [--scope SCOPE ... | --no-scopes] [--expires-at TIME|never] [--json]',
    options: { ...KEY, name: { type: 'string' }, scope: { type: 'string', multiple: true }, 'no-scopes': { type: 'boolean' }, 'expires-at': { type: 'string' } },
    help: `${KEY_HELP}
  --name NAME             new name
  --scope SCOPE           replaces the scopes; repeat for more
  --no-scopes             removes every scope
  --expires-at TIME       new expiry (RFC 3339), or "never"`,
    required: ['account', 'key'],
  },
  'rotate-key': {
    summary: 'Rotate a key: a new secret now (printed once); the old one works for the window.',
    usage: 'rotate-key --account ID --key ID [--old-expires-in SECONDS] [--expires-at TIME|never] [--json]',
    options: { ...KEY, 'old-expires-in': { type: 'string' }, 'expires-at': { type: 'string' } },
    help: `${KEY_HELP}
  --old-expires-in S      how long the old secret keeps working (default 86400; 0 = at once)
  --expires-at TIME       expiry of the new secret (default: the old secret's lifetime from now)`,
    required: ['account', 'key'],
  },
  'update-rotation': {
    summary: 'Extend or shorten the life of the previous secret, counted from now.',
    usage: 'update-rotation --account ID --key ID --old-expires-in SECONDS [--json]',
    options: { ...KEY, 'old-expires-in': { type: 'string' } },
    help: `${KEY_HELP}\n  --old-expires-in S      new life of the previous secret from now; 0 expires it now`,
    required: ['account', 'key', 'old-expires-in'],
  },
  'cancel-rotation': {
    summary: 'Cancel a rotation (or restore the old secret within the restore window).',
    usage: 'cancel-rotation --account ID --key ID [--new-expires-in SECONDS] [--json]',
    options: { ...KEY, 'new-expires-in': { type: 'string' } },
    help: `${KEY_HELP}\n  --new-expires-in S      how long the new secret keeps working after the cancel`,
    required: ['account', 'key'],
  },
  'revoke-key': {
    summary: 'Revoke a key: every secret of it stops working (reactivatable for a while).',
    usage: 'revoke-key --account ID --key ID [--json]',
    options: KEY,
    help: KEY_HELP,
    required: ['account', 'key'],
  },
  'reactivate-key': {
    summary: 'Reactivate a revoked key, same secrets, within the reactivation window.',
    usage: 'reactivate-key --account ID --key ID [--json]',
    options: KEY,
    help: KEY_HELP,
    required: ['account', 'key'],
  },
  'key-events': {
    summary: "A key's audit trail, newest first, with who acted.",
    usage: 'key-events --account ID --key ID [--json]',
    options: KEY,
    help: KEY_HELP,
    required: ['account', 'key'],
  },
} as const satisfies Record<string, CommandDef>;

export type CommandName = keyof typeof COMMANDS;

/** The CLI's top-level help. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `rekey operator CLI (a client of the admin API, /admin/v1)

Usage: npm run admin -- <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run \`npm run admin -- <command> --help\` for a command's options.

${TARGET_HELP}

Examples:
  npm run admin -- create-account --name "Acme" --alert-email ops@acme.example
  npm run admin -- create-key --account <accountId> --name ci --scope keys:read --json
  npm run admin -- suspend-account --account <accountId>
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
  | { kind: 'url'; url: string; region?: string | undefined };

type Values = Record<string, string | string[] | boolean | undefined>;

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'run'; command: CommandName; values: Values; json: boolean; target: Target };

/** Parses argv (without `node` and the script). Throws `UsageError` for anything it does not understand. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined> = process.env): Parsed {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return { kind: 'help', text: mainHelp() };
  if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command "${command}"`);
  const name = command as CommandName;
  const def: CommandDef = COMMANDS[name];
  let values: Values;
  try {
    ({ values } = parseArgs({ args: [...rest], options: { ...TARGET_OPTIONS, ...def.options }, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''), name);
  }
  if (values.help) return { kind: 'help', text: commandHelp(name) };

  const str = (k: string) => values[k] as string | undefined;
  const picked = ['data-dir', 'stack', 'api-url'].filter((k) => str(k) !== undefined);
  if (picked.length > 1) throw new UsageError(`use one of --data-dir, --stack and --api-url, not ${picked.map((p) => `--${p}`).join(' and ')}`, name);
  let target: Target;
  if (str('stack') !== undefined) target = { kind: 'stack', stack: nonEmpty(str('stack'), '--stack', name), region: str('region') };
  else if (str('api-url') !== undefined) target = { kind: 'url', url: nonEmpty(str('api-url'), '--api-url', name), region: str('region') };
  else {
    if (str('region') !== undefined) throw new UsageError('--region needs --stack or --api-url', name);
    target = { kind: 'local', dataDir: resolveDataDir({ REKEY_DATA_DIR: str('data-dir') ?? env.REKEY_DATA_DIR }) };
  }
  for (const opt of def.required) {
    const v = values[opt];
    if (Array.isArray(v) ? v.length === 0 : typeof v !== 'string' || v.trim() === '') {
      throw new UsageError(opt === 'alert-email' ? 'at least one --alert-email is required (reminders go there)' : `--${opt} is required`, name);
    }
  }
  const leak = values['leak-response'];
  if (leak !== undefined && leak !== 'revoke' && leak !== 'notify') throw new UsageError('--leak-response must be revoke or notify', name);
  if (values['no-allow-scope'] && values['allow-scope']) throw new UsageError('use either --allow-scope or --no-allow-scope, not both', name);
  if (name === 'update-account' && ['name', 'alert-email', 'allow-scope', 'no-allow-scope', 'leak-response'].every((k) => values[k] === undefined)) {
    throw new UsageError('nothing to change: give --name, --alert-email, --allow-scope, --no-allow-scope or --leak-response', name);
  }
  if (values['no-scopes'] && values.scope) throw new UsageError('use either --scope or --no-scopes', name);
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

/** The target cannot be reached or is not running: exit 1 with the message. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/** Bad option values the CLI itself can tell (numbers): exit 1. Everything else the API validates. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Maps a stack's outputs to what the CLI needs (`API_URL`). Output keys are matched without regard
 * to case or a construct-id prefix (`ApiKeyServiceApiUrl…` → `ApiUrl`).
 */
export function envFromStackOutputs(outputs: Record<string, string>): Record<string, string> {
  const wanted: Record<string, string> = { apiurl: 'API_URL', dashboardurl: 'DASHBOARD_URL', keyprefix: 'KEY_PREFIX', operatorpolicyarn: 'OPERATOR_POLICY_ARN' };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) {
    const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    for (const [suffix, name] of Object.entries(wanted)) {
      // CDK appends a hash to nested output ids; accept `...ApiUrl` and `...ApiUrl1A2B3C4D`.
      if (k === suffix || k.endsWith(suffix) || new RegExp(`${suffix}[0-9a-f]{8}$`).test(k)) env[name] ??= value;
    }
  }
  if (env.API_URL) env.API_URL = env.API_URL.replace(/\/+$/, '').replace(/\/v1$/, '');
  return env;
}

type AdminClient = import('../../client/admin.js').RekeyAdminClient;

/** Builds the signed admin client for the target. */
async function connect(target: Target, io: Io): Promise<{ client: AdminClient; apiUrl: string }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { RekeyAdminClient } = await import('../../client/admin.js');
  if (target.kind === 'local') {
    const info = readLocalInstance(target.dataDir);
    if (!info) {
      throw new TargetError(
        `rekey is not running for ${target.dataDir}.\n` +
          `Start it in another terminal with \`npm start\`${process.env.REKEY_DATA_DIR ? ' (same REKEY_DATA_DIR)' : ''}, then run this again.\n` +
          'To act on a deployed stack instead, pass --stack NAME (or --api-url URL).',
      );
    }
    const { readOperatorKey } = await import('./operatorKey.js');
    const key = readOperatorKey(target.dataDir);
    if (!key) throw new TargetError(`no operator key in ${target.dataDir}; restart \`npm start\` to generate it.`);
    const client = new RekeyAdminClient({
      baseUrl: info.url,
      region: key.region,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    });
    return { client, apiUrl: info.url };
  }
  let url: string;
  if (target.kind === 'url') url = target.url.replace(/\/+$/, '');
  else {
    const { describeStackOutputs } = await import('../adapters/stackOutputs.js');
    let outputs: Record<string, string>;
    try {
      outputs = await describeStackOutputs(target.stack, target.region);
    } catch (e) {
      throw new TargetError(`could not read stack ${target.stack}: ${(e as Error).message}`);
    }
    const env = envFromStackOutputs(outputs);
    if (!env.API_URL) throw new TargetError(`stack ${target.stack} has no ApiUrl output (found: ${Object.keys(outputs).join(', ') || 'none'}). Use --api-url URL instead.`);
    url = env.API_URL;
    io.err(`Target: stack ${target.stack} (${url})`);
  }
  return { client: new RekeyAdminClient({ baseUrl: url, ...(target.region ? { region: target.region } : {}) }), apiUrl: url };
}

function human(lines: (string | false | undefined)[]): string {
  return lines.filter((l) => l !== false && l !== undefined).join('\n');
}

function seconds(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new InputError(`--${flag}: must be a whole number of seconds`);
  return Number(v);
}

/**
 * The option that set each request body field: the API names the field it refused
 * (`allowedScopes.0`), the user typed an option, so the error names both.
 */
const OPTION_OF_FIELD: Readonly<Record<string, string>> = {
  name: '--name',
  alertEmails: '--alert-email',
  allowedScopes: '--allow-scope',
  leakResponse: '--leak-response',
  scopes: '--scope',
  environment: '--environment',
  expiresAt: '--expires-at',
  oldKeyExpiresInSeconds: '--old-expires-in',
  newKeyExpiresInSeconds: '--new-expires-in',
};

/** `allowedScopes.0` → `--allow-scope`; `firstKey` fields of create-account are its defaults, no option. */
export function optionOfField(field: string): string | undefined {
  return Object.hasOwn(OPTION_OF_FIELD, field.split('.')[0]!) ? OPTION_OF_FIELD[field.split('.')[0]!] : undefined;
}

const expiresAt = (v: unknown): string | null | undefined => (v === undefined ? undefined : v === 'never' ? null : (v as string));

type Key = import('../../client/index.js').Key;
type Account = import('../../client/index.js').Account;

const keyLine = (k: Key) => `${k.id}  ${k.environment.padEnd(4)}  ${k.status.padEnd(7)}  ${k.currentSecret.hint}  ${k.name}`;
const accountLine = (a: Account) => `${a.id}  ${a.createdAt}  ${a.status.padEnd(9)}  ${a.name}  <${a.alertEmails.join(', ')}>`;

async function execute(parsed: Extract<Parsed, { kind: 'run' }>, io: Io): Promise<void> {
  const { client, apiUrl } = await connect(parsed.target, io);
  const v = parsed.values;
  const acc = v.account as string;
  const key = v.key as string;
  const emit = (obj: unknown, text: string) => io.out(parsed.json ? JSON.stringify(obj) : text);
  const accountOut = (r: { account: Account }, text: string) => emit(r, `${text}\n${accountLine(r.account)}`);
  const keyOut = (r: { key: Key }, text: string) => emit(r, `${text}\n${keyLine(r.key)}`);
  const secretLines = (secret: string) => ['', 'Secret (shown once, store it now):', `  ${secret}`];

  switch (parsed.command) {
    case 'create-account': {
      const r = await client.createAccount({
        name: v.name as string,
        alertEmails: v['alert-email'] as string[],
        ...(v['allow-scope'] ? { allowedScopes: v['allow-scope'] as string[] } : {}),
        ...(v['leak-response'] !== undefined ? { leakResponse: v['leak-response'] as 'revoke' | 'notify' } : {}),
        firstKey: {},
      });
      const { account, key: k, secret } = r;
      emit(
        r,
        human([
          `Created account ${account.id} "${account.name}" (alerts to ${account.alertEmails.join(', ')})`,
          k && `Created key ${k.id} "${k.name}" (${k.environment}; ${k.scopes.join(' ')})`,
          ...(secret ? secretLines(secret) : []),
          secret && '',
          secret && 'Try it:',
          secret && `  curl -H "Authorization: Bearer ${secret}" ${apiUrl}/v1/whoami`,
        ]),
      );
      return;
    }
    case 'list-accounts': {
      const accounts: Account[] = [];
      for await (const a of client.iterateAccounts(100)) accounts.push(a);
      emit(
        { accounts, nextCursor: null },
        accounts.length === 0 ? 'No accounts yet. Create one with: npm run admin -- create-account --name NAME --alert-email EMAIL' : accounts.map(accountLine).join('\n'),
      );
      return;
    }
    case 'get-account':
      return accountOut(await client.getAccount(acc), `Account ${acc}:`);
    case 'get-customer-account':
      return accountOut(await client.getCustomerAccount(acc), `Account ${acc}:`);
    case 'update-account': {
      const body = {
        ...(v.name !== undefined ? { name: v.name as string } : {}),
        ...(v['alert-email'] !== undefined ? { alertEmails: v['alert-email'] as string[] } : {}),
        ...(v['allow-scope'] !== undefined ? { allowedScopes: v['allow-scope'] as string[] } : v['no-allow-scope'] ? { allowedScopes: [] } : {}),
        ...(v['leak-response'] !== undefined ? { leakResponse: v['leak-response'] as 'revoke' | 'notify' } : {}),
      };
      return accountOut(await client.updateAccount(acc, body), `Updated account ${acc}:`);
    }
    case 'set-alert-emails':
      return accountOut(await client.putAlertEmails(acc, { alertEmails: v['alert-email'] as string[] }), `Alert emails of ${acc} set:`);
    case 'suspend-account':
      return accountOut(await client.suspendAccount(acc), `Suspended account ${acc}: its keys are refused.`);
    case 'resume-account':
      return accountOut(await client.resumeAccount(acc), `Resumed account ${acc}: its keys work again.`);
    case 'delete-account':
      return accountOut(await client.deleteAccount(acc), `Deleted account ${acc}: every key revoked.`);
    case 'create-key': {
      const r = await client.createKey(acc, {
        name: v.name as string,
        ...(v.environment !== undefined ? { environment: v.environment as 'live' | 'test' } : {}),
        ...(v.scope !== undefined ? { scopes: v.scope as string[] } : {}),
        ...(v['expires-at'] !== undefined ? { expiresAt: expiresAt(v['expires-at']) } : {}),
      });
      emit(
        r,
        human([`Created key ${r.key.id} "${r.key.name}" in account ${acc} (${r.key.environment}; scopes: ${r.key.scopes.join(' ') || 'none'})`, ...secretLines(r.secret)]),
      );
      return;
    }
    case 'list-keys': {
      const keys: Key[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listKeys(acc, { limit: 100, ...(cursor ? { cursor } : {}) });
        keys.push(...page.keys);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      emit({ keys, nextCursor: null }, keys.length === 0 ? `Account ${acc} has no keys.` : keys.map(keyLine).join('\n'));
      return;
    }
    case 'get-key':
      return keyOut(await client.getKey(acc, key), `Key ${key}:`);
    case 'update-key': {
      const body = {
        ...(v.name !== undefined ? { name: v.name as string } : {}),
        ...(v.scope !== undefined ? { scopes: v.scope as string[] } : v['no-scopes'] ? { scopes: [] } : {}),
        ...(v['expires-at'] !== undefined ? { expiresAt: expiresAt(v['expires-at']) } : {}),
      };
      return keyOut(await client.updateKey(acc, key, body), `Updated key ${key}:`);
    }
    case 'rotate-key': {
      const old = seconds(v['old-expires-in'], 'old-expires-in');
      const r = await client.rotateKey(acc, key, {
        ...(old !== undefined ? { oldKeyExpiresInSeconds: old } : {}),
        ...(v['expires-at'] !== undefined ? { expiresAt: expiresAt(v['expires-at']) } : {}),
      });
      emit(r, human([`Rotated key ${key}: the old secret works until ${r.key.rotation?.oldKeyExpiresAt ?? 'now'}.`, ...secretLines(r.secret)]));
      return;
    }
    case 'update-rotation':
      return keyOut(await client.updateRotation(acc, key, { oldKeyExpiresInSeconds: seconds(v['old-expires-in'], 'old-expires-in')! }), `Rotation window of ${key} changed:`);
    case 'cancel-rotation': {
      const n = seconds(v['new-expires-in'], 'new-expires-in');
      return keyOut(await client.cancelRotation(acc, key, n === undefined ? undefined : { newKeyExpiresInSeconds: n }), `Rotation of ${key} cancelled:`);
    }
    case 'revoke-key': {
      const r = await client.revokeKey(acc, key);
      return keyOut(r, `Revoked key ${key}.${r.key.reactivatableUntil ? ` It can be reactivated until ${r.key.reactivatableUntil}.` : ''}`);
    }
    case 'reactivate-key':
      return keyOut(await client.reactivateKey(acc, key), `Reactivated key ${key}: its secrets work again.`);
    case 'report-leak': {
      // Not an admin route: the public leak report (SPEC §11), sent to the same API.
      const { reportLeakCommand } = await import('../leaks/cli.js');
      const out = await reportLeakCommand(apiUrl, v.secret as string[] | undefined);
      emit(out.body, out.text);
      return;
    }
    case 'key-events': {
      const r = await client.listKeyEvents(acc, key, { limit: 100 });
      emit(r, r.events.map((e) => `${e.at}  ${e.type.padEnd(28)}  by ${e.actor.type}${e.actor.id ? ` ${e.actor.id}` : ''}`).join('\n') || 'No events.');
      return;
    }
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
  // Anything a library prints goes to stderr: stdout is the result alone.
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    await execute(parsed, io);
    return 0;
  } catch (e) {
    const { RekeyApiError } = await import('../../client/index.js');
    if (e instanceof TargetError || e instanceof InputError || e instanceof ConfigError || (e as Error)?.name === 'ReportLeakError') io.err(`error: ${(e as Error).message}`);
    else if (e instanceof RekeyApiError) {
      io.err(`error: ${e.code}: ${e.message}`);
      for (const d of e.details ?? []) {
        const option = optionOfField(d.field);
        io.err(`  ${d.field}${option ? ` (${option})` : ''}: ${d.message}`);
      }
    } else if (e instanceof Error) {
      // Network and credential failures wrap the useful part (DNS, expired token) in `cause`.
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
    // Exit once stdout is flushed (a pipe is asynchronous); keep-alive sockets would hold the process.
    (code) => void process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      console.error('error:', err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
