/**
 * Least privilege, proved (SPEC §5, issue 12 item 7): every function's scenarios run from the
 * BUNDLED code of one real synth (esbuild, as `cdk synth` builds it), against dynalite and a
 * recording endpoint on 127.0.0.1 for Secrets Manager, EventBridge, Scheduler, SES v2 and SQS. Every
 * AWS call the bundles make is recorded (service, action, resource ARN, condition keys derived from
 * the request) and evaluated against that function's role policy in the synthesized template, with
 * the stack's own references resolved to concrete ARNs (account 111122223333, eu-west-1). A call the
 * role would deny fails the test, naming the function, the action and the resource.
 *
 * Endpoints: the DynamoDB client honours `DYNAMODB_ENDPOINT` (shared/config.ts); every other SDK
 * client honours the SDK's own `AWS_ENDPOINT_URL` (AWS "service-specific endpoints"), so no
 * test-only override exists in the product. The recorder forwards DynamoDB requests to dynalite.
 *
 * A function added later fails "every function of the template has a scenario": give it an entry
 * in `SCENARIOS` below (drive it with the events it receives in AWS).
 *
 * Time: the synth with real bundling of ~33 functions dominates (≈ 45 s alone on the shared 2-core
 * machine, more under load); loading the ~30 MB of bundles through vitest's module loader takes most of the
 * rest (≈ 45–75 s for the scenarios on the loaded machine).
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RekeyStack } from '../../infra/stack.js';
import { FUNCTION_GRANTS } from '../../infra/permissions.js';
import { ensureTable } from '../../shared/adapters/tableAdmin.js';
import { startDynalite, type LocalDynamo } from '../../shared/local/dynalite.js';
import { createRuntime } from '../../shared/runtime.js';
import { createDocumentClient } from '../../shared/adapters/dynamoStore.js';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../shared/config.js';
import { createAccountWithKey } from '../support/world.js';
import { matchRoute, ROUTES } from '../../shared/http/routes.js';
import { KEY_ID_HEADER, SIGNATURE_HEADER } from '../../shared/leaks/githubKeys.js';
import type { Caller } from '../../shared/domain/types.js';
import { restEvent, type EventInit } from '../support/apigw.js';
import { fakeDashboard, removeTempDirs, roleStatements, testApp, type Statement } from './synth.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const PEPPER = `base64:${Buffer.alloc(32, 9).toString('base64')}`;

type Json = Record<string, unknown>;
type Resources = Record<string, { Type: string; Properties?: Json; Metadata?: Record<string, unknown> }>;

// ---------------------------------------------------------------------------------------------
// Resolving the template's intrinsic functions for the stack's own resources.

/** Concrete values of `Ref` / `Fn::GetAtt` for this stack's resources, as CloudFormation would give them. */
function physical(resources: Resources, logicalId: string, attr?: string): string {
  const r = resources[logicalId];
  if (!r) throw new Error(`template references unknown resource ${logicalId}`);
  const p = r.Properties ?? {};
  const lower = logicalId.toLowerCase();
  switch (r.Type) {
    case 'AWS::DynamoDB::Table': {
      const name = (p.TableName as string | undefined) ?? `proof-${lower}`;
      if (!attr) return name;
      if (attr === 'Arn') return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
      if (attr === 'StreamArn') return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}/stream/2026-01-01T00:00:00.000`;
      break;
    }
    case 'AWS::SecretsManager::Secret':
      if (!attr || attr === 'Id') return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${(p.Name as string | undefined) ?? lower}-AbCdEf`;
      break;
    case 'AWS::SQS::Queue': {
      const name = (p.QueueName as string | undefined) ?? `proof-${lower}`;
      if (!attr) return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
      if (attr === 'Arn') return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
      if (attr === 'QueueName') return name;
      break;
    }
    case 'AWS::Events::EventBus': {
      const name = (p.Name as string | undefined) ?? `proof-${lower}`;
      if (!attr || attr === 'Name') return name;
      if (attr === 'Arn') return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;
      break;
    }
    case 'AWS::IAM::Role': {
      const name = (p.RoleName as string | undefined) ?? `proof-${lower}`;
      if (!attr) return name;
      if (attr === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${name}`;
      break;
    }
    case 'AWS::Lambda::Function': {
      const name = (p.FunctionName as string | undefined) ?? `proof-${lower}`;
      if (!attr) return name;
      if (attr === 'Arn') return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
      break;
    }
    case 'AWS::Scheduler::ScheduleGroup': {
      const name = (p.Name as string | undefined) ?? `proof-${lower}`;
      if (!attr) return name;
      if (attr === 'Arn') return `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${name}`;
      break;
    }
    default:
      // Not an ARN an IAM statement of a function names (API ids, distribution domains in URLs).
      return attr ? `${lower}-${attr.toLowerCase()}.example` : `${lower}`;
  }
  throw new Error(`no concrete value for ${logicalId} (${r.Type}) ${attr ?? 'Ref'}`);
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Proof',
};

/** Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` and `Fn::Select`; anything else fails loudly. */
export function resolveIntrinsics(v: unknown, resources: Resources): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => resolveIntrinsics(x, resources));
  const o = v as Json;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const arg = o[k];
    if (k === 'Ref') return PSEUDO[arg as string] ?? physical(resources, arg as string);
    if (k === 'Fn::GetAtt') {
      const [id, attr] = typeof arg === 'string' ? (arg.split('.') as [string, string]) : (arg as [string, string]);
      return physical(resources, id, attr);
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return (resolveIntrinsics(parts, resources) as unknown[]).map(String).join(sep);
    }
    if (k === 'Fn::Select') {
      const [i, list] = arg as [number, unknown];
      return (resolveIntrinsics(list, resources) as unknown[])[Number(i)];
    }
    if (k === 'Fn::Sub') {
      const [text, vars] = (typeof arg === 'string' ? [arg, {}] : arg) as [string, Json];
      return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (name in vars) return String(resolveIntrinsics(vars[name], resources));
        if (PSEUDO[name]) return PSEUDO[name];
        const [id, attr] = name.split('.') as [string, string | undefined];
        return physical(resources, id, attr);
      });
    }
    if (k.startsWith('Fn::')) throw new Error(`intrinsic ${k} is not resolved by the proof`);
  }
  return Object.fromEntries(Object.entries(o).map(([kk, vv]) => [kk, resolveIntrinsics(vv, resources)]));
}

// ---------------------------------------------------------------------------------------------
// The policy evaluator.

/** One AWS call as IAM authorizes it: an action on a resource, with the condition keys the request supplies. */
export interface AwsCall {
  readonly action: string;
  readonly resource: string;
  /** Condition keys derived from the request; a key the policy tests but the call lacks fails loudly. */
  readonly context: Record<string, string[]>;
}

interface ResolvedStatement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const glob = (pattern: string, caseInsensitive: boolean) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, caseInsensitive ? 'i' : '');

/** Condition keys whose absence from a request is meaningful to AWS; any other key must be supplied by the recorder. */
function conditionHolds(op: string, key: string, expected: unknown, call: AwsCall): boolean {
  const values = ([] as unknown[]).concat(expected).map(String);
  const actual = call.context[key];
  const [setOp, baseOp] = op.includes(':') ? (op.split(':') as [string, string]) : [undefined, op];
  const ifExists = baseOp.endsWith('IfExists');
  const base = ifExists ? baseOp.slice(0, -'IfExists'.length) : baseOp;
  if (actual === undefined) {
    // The evaluator refuses to guess: the recorder must derive every key the template tests.
    throw new Error(`the proof does not derive condition key ${key} for ${call.action}`);
  }
  const match = (a: string, e: string): boolean => {
    switch (base) {
      case 'StringEquals':
      case 'ArnEquals':
        return a === e;
      case 'StringEqualsIgnoreCase':
        return a.toLowerCase() === e.toLowerCase();
      case 'StringLike':
      case 'ArnLike':
        return glob(e, false).test(a);
      case 'StringNotEquals':
        return a !== e;
      case 'StringNotLike':
        return !glob(e, false).test(a);
      case 'Bool':
        return a === e;
      default:
        throw new Error(`condition operator ${op} is not evaluated by the proof`);
    }
  };
  const negated = base.startsWith('StringNot');
  const one = (a: string) => (negated ? values.every((e) => match(a, e)) : values.some((e) => match(a, e)));
  if (setOp === 'ForAllValues') return actual.every(one);
  if (setOp === 'ForAnyValue') return actual.some(one);
  if (setOp !== undefined) throw new Error(`condition set operator ${setOp} is not evaluated by the proof`);
  if (actual.length !== 1) throw new Error(`single-valued condition ${op} on multi-valued key ${key}`);
  return one(actual[0]!);
}

function statementMatches(s: ResolvedStatement, call: AwsCall): boolean {
  if (!s.Action.some((a) => glob(a, true).test(call.action))) return false;
  if (!s.Resource.some((r) => glob(r, false).test(call.resource))) return false;
  for (const [op, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) if (!conditionHolds(op, key, expected, call)) return false;
  }
  return true;
}

/** IAM's answer for an identity policy: allowed when some Allow matches and no Deny matches. */
export function isAllowed(statements: readonly ResolvedStatement[], call: AwsCall): boolean {
  if (statements.some((s) => s.Effect === 'Deny' && statementMatches(s, call))) return false;
  return statements.some((s) => s.Effect === 'Allow' && statementMatches(s, call));
}

function resolvedStatements(resources: Resources, roleLogicalId: string): ResolvedStatement[] {
  return roleStatements({ Resources: resources as Record<string, Json> }, roleLogicalId).map((s: Statement) => ({
    Effect: s.Effect,
    Action: s.Action,
    Resource: ([] as unknown[]).concat(resolveIntrinsics(s.Resource, resources)).map(String),
    ...(s.Condition ? { Condition: resolveIntrinsics(s.Condition, resources) as Record<string, Record<string, unknown>> } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------
// The recording endpoint: derives IAM calls from real SDK requests.

const tableArn = (name: string) => (name.startsWith('arn:') ? name : `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`);
const EXPRESSION_WORDS = new Set(['SET', 'ADD', 'REMOVE', 'DELETE', 'AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'if_not_exists', 'list_append', 'attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains', 'size']);

/** Top-level attribute names a DynamoDB item request touches (`dynamodb:Attributes`). */
function attributesOf(req: Json, key: Json | undefined): string[] {
  const names = new Set<string>(Object.keys(key ?? {}));
  const aliases = (req.ExpressionAttributeNames ?? {}) as Record<string, string>;
  for (const field of ['UpdateExpression', 'ConditionExpression', 'ProjectionExpression']) {
    const expr = req[field] as string | undefined;
    if (!expr) continue;
    for (const m of expr.replace(/:[A-Za-z0-9_]+/g, ' ').matchAll(/(#?[A-Za-z_][A-Za-z0-9_]*)((?:\.[#A-Za-z0-9_]+|\[\d+\])*)/g)) {
      const token = m[1]!;
      if (EXPRESSION_WORDS.has(token) || EXPRESSION_WORDS.has(token.toUpperCase())) continue;
      names.add(token.startsWith('#') ? (aliases[token] ?? token) : token);
    }
  }
  return [...names];
}
const leadingKeys = (key: Json | undefined) => (key && key.pk ? [String((key.pk as Json).S ?? (key.pk as Json).N)] : []);

function dynamoCalls(target: string, req: Json): AwsCall[] {
  const op = target.split('.')[1]!;
  const item = (action: string, table: string, key: Json | undefined, body: Json): AwsCall => ({
    action: `dynamodb:${action}`,
    resource: tableArn(table),
    context: { 'dynamodb:LeadingKeys': leadingKeys(key), 'dynamodb:Attributes': attributesOf(body, action === 'PutItem' ? (body.Item as Json) : key) },
  });
  switch (op) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [item(op, req.TableName as string, req.Key as Json, req)];
    case 'PutItem':
      return [item(op, req.TableName as string, req.Item as Json, req)];
    case 'Query':
    case 'Scan':
      return [{ action: `dynamodb:${op}`, resource: req.IndexName ? `${tableArn(req.TableName as string)}/index/${req.IndexName as string}` : tableArn(req.TableName as string), context: {} }];
    case 'BatchGetItem':
      return Object.entries(req.RequestItems as Record<string, { Keys: Json[] }>).map(([t, r]) => ({
        action: 'dynamodb:BatchGetItem',
        resource: tableArn(t),
        context: { 'dynamodb:LeadingKeys': r.Keys.flatMap((k) => leadingKeys(k)) },
      }));
    case 'BatchWriteItem':
      return Object.keys(req.RequestItems as Json).map((t) => ({ action: 'dynamodb:BatchWriteItem', resource: tableArn(t), context: {} }));
    case 'TransactWriteItems':
      // IAM authorizes each member as its own action (AWS: "TransactWriteItems … requires the individual actions").
      return (req.TransactItems as Json[]).map((t) => {
        const [kind, body] = Object.entries(t)[0] as [string, Json];
        const action = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }[kind]!;
        return item(action, body.TableName as string, (kind === 'Put' ? body.Item : body.Key) as Json, body);
      });
    case 'TransactGetItems':
      return (req.TransactItems as { Get: Json }[]).map((t) => item('GetItem', t.Get.TableName as string, t.Get.Key as Json, t.Get));
    default:
      return [{ action: `dynamodb:${op}`, resource: tableArn(req.TableName as string), context: {} }];
  }
}

/** The SES v2 `From` address (`Name <a@b>` → `a@b`), as `ses:FromAddress` sees it. */
const emailAddress = (s: string) => /<([^>]+)>/.exec(s)?.[1] ?? s;

interface Recorded extends AwsCall {
  readonly fn: string;
  readonly service: string;
}

interface Recorder {
  readonly url: string;
  /** The function whose calls are being recorded now; `undefined` while the test seeds data. */
  current: string | undefined;
  readonly calls: Recorded[];
  /** Scheduler inputs and SQS bodies the bundles sent, to drive the timer and the delivery function. */
  readonly schedules: Json[];
  readonly messages: string[];
  /** SES v2 request bodies (the confirmation link of an added alert address). */
  readonly emails: string[];
  /** Requests the recorder could not answer (a service it does not know). */
  readonly unanswered: string[];
  /** Requests being answered now. */
  inflight: number;
  close(): Promise<void>;
}

async function startRecorder(dynamoEndpoint: string): Promise<Recorder> {
  const rec: Recorder = { url: '', current: undefined, calls: [], schedules: [], messages: [], emails: [], unanswered: [], inflight: 0, close: async () => {} };
  const body = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
    });
  const server: Server = createServer((req, res) => {
    rec.inflight++;
    res.on('close', () => rec.inflight--);
    void (async () => {
      const raw = await body(req);
      const auth = String(req.headers.authorization ?? '');
      const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = raw.length ? (JSON.parse(raw.toString('utf8')) as Json) : {};
      const url = new URL(req.url ?? '/', 'http://x');
      const record = (calls: AwsCall[]) => {
        if (rec.current) for (const c of calls) rec.calls.push({ ...c, fn: rec.current, service });
      };
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(payload));
      };
      if (service === 'dynamodb') {
        record(dynamoCalls(target, json));
        const fwd = httpRequest(dynamoEndpoint, { method: 'POST', headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 500, up.headers);
          up.pipe(res);
        });
        fwd.end(raw);
        return;
      }
      if (service === 'secretsmanager') {
        record([{ action: `secretsmanager:${target.split('.')[1]}`, resource: json.SecretId as string, context: {} }]);
        return reply(200, { ARN: json.SecretId, Name: 'pepper', VersionId: 'v1', SecretString: PEPPER });
      }
      if (service === 'events') {
        const entries = (json.Entries ?? []) as Json[];
        record(
          entries.map((e) => {
            const bus = String(e.EventBusName ?? 'default');
            return { action: `events:${target.split('.')[1]}`, resource: bus.startsWith('arn:') ? bus : `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${bus}`, context: {} };
          }),
        );
        return reply(200, { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e-${i}` })) });
      }
      if (service === 'scheduler') {
        const name = decodeURIComponent(url.pathname.split('/').pop() ?? '');
        const group = String(json.GroupName ?? url.searchParams.get('groupName') ?? 'default');
        const scheduleArn = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`;
        if (req.method === 'POST') {
          const target = (json.Target ?? {}) as Json;
          record([
            { action: 'scheduler:CreateSchedule', resource: scheduleArn, context: {} },
            // Scheduler checks that the caller may pass the target's role (AWS: "iam:PassRole" for CreateSchedule).
            { action: 'iam:PassRole', resource: String(target.RoleArn), context: { 'iam:PassedToService': ['scheduler.amazonaws.com'] } },
          ]);
          rec.schedules.push(json);
          return reply(200, { ScheduleArn: scheduleArn });
        }
        record([{ action: `scheduler:${req.method === 'DELETE' ? 'DeleteSchedule' : req.method === 'PUT' ? 'UpdateSchedule' : 'GetSchedule'}`, resource: scheduleArn, context: {} }]);
        return reply(200, {});
      }
      if (service === 'ses') {
        const from = emailAddress(String(json.FromEmailAddress));
        const to = ((json.Destination as Json | undefined)?.ToAddresses ?? []) as string[];
        // SES authorizes SendEmail against the sending identity and, in the sandbox, each recipient's.
        const identities = [from, from.split('@')[1]!, ...to.map(emailAddress)];
        record(identities.map((id) => ({ action: 'ses:SendEmail', resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${id}`, context: { 'ses:FromAddress': [from] } })));
        rec.emails.push(raw.toString('utf8'));
        return reply(200, { MessageId: `m-${rec.calls.length}` });
      }
      if (service === 'sqs') {
        const queueUrl = String(json.QueueUrl);
        const resource = `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueUrl.split('/').pop()}`;
        record([{ action: `sqs:${target.split('.')[1]}`, resource, context: {} }]);
        rec.messages.push(String(json.MessageBody));
        return reply(200, { MessageId: 'q-1', MD5OfMessageBody: createHash('md5').update(String(json.MessageBody)).digest('hex') });
      }
      rec.unanswered.push(`${rec.current ?? 'seed'} ${service} ${target} ${req.method ?? ''} ${url.pathname} ${String(req.headers['content-type'])}`);
      reply(400, { message: `the recorder does not answer ${service} ${target}` });
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(rec, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

// ---------------------------------------------------------------------------------------------
// Synth once, load bundles, run scenarios.

type FnName = keyof typeof FUNCTION_GRANTS | 'authorizer';
type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

let dynamo: LocalDynamo;
let rec: Recorder;
let resources: Resources;
const fnIds = {} as Record<FnName, { fn: string; role: string }>;
const loaded = new Map<FnName, Handler>();
let savedEnv: NodeJS.ProcessEnv;
let fnEnv: (name: FnName) => Record<string, string>;
const ghKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const GH_KEY_ID = 'proof-key-1';
let ghKeysFile = '';
let assemblyDir = '';
const LIFETIME = 30 * 86400;

/** The function's environment from the template (resolved), pointed at the recorder. */
function envFor(name: FnName): Record<string, string> {
  return fnEnv(name);
}

async function invoke(name: FnName, event: unknown): Promise<unknown> {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, envFor(name));
  let handler = loaded.get(name);
  if (!handler) {
    const r = resources[fnIds[name].fn]!;
    const dir = path.join(assemblyDir, String(r.Metadata!['aws:asset:path']));
    handler = ((await import(/* @vite-ignore */ pathToFileURL(path.join(dir, 'index.mjs')).href)) as { handler: Handler }).handler;
    loaded.set(name, handler);
  }
  rec.current = name;
  try {
    return await handler(event, { awsRequestId: `req-${name}`, functionName: name, getRemainingTimeInMillis: () => 10_000 });
  } finally {
    // Writes a function starts after its answer (the authorizer's usage count, on a later turn of
    // the event loop) are still its calls: wait until the recorder has been quiet for a moment.
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setTimeout(r, 15));
      quiet = rec.inflight === 0 ? quiet + 1 : 0;
    }
    rec.current = undefined;
  }
}

let caller: Caller;
let secret = '';
/** dynalite itself, bypassing the recorder: setting up a state is not a call of any function. */
let direct: ReturnType<typeof createDocumentClient>;
const tableName = () => fnEnv('createKey').TABLE_NAME!;
const api = async (name: keyof typeof ROUTES, init: Omit<EventInit, 'method'> & { method?: string }) => {
  const route = ROUTES[name];
  const res = (await invoke(name, restEvent({ method: route.method, caller, ...init, path: init.path }))) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Json };
};
const ran = new Set<FnName>();
const logs: string[] = [];

beforeAll(async () => {
  savedEnv = { ...process.env };
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => logs.push(String(chunk)) > 0) as never); // function logs and EMF lines, shown on failure
  const app = testApp({ 'aws:cdk:enable-asset-metadata': true }, true);
  const stack = new RekeyStack(app, 'Proof', {
    env: { account: ACCOUNT, region: REGION },
    service: { senderEmail: 'rekey@mail.example.org', alarmEmails: ['ops@example.org'], dashboardAssetPath: fakeDashboard() },
  });
  const assembly = app.synth();
  assemblyDir = assembly.directory;
  resources = (assembly.getStackByName('Proof').template as { Resources: Resources }).Resources;
  const id = (c: unknown) => stack.getLogicalId((c as { node: { defaultChild: CfnElement } }).node.defaultChild);
  for (const [name, f] of Object.entries(stack.service.functions)) fnIds[name as FnName] = { fn: id(f), role: id(f.role) };

  dynamo = await startDynalite();
  direct = createDocumentClient({ endpoint: dynamo.endpoint });
  rec = await startRecorder(dynamo.endpoint);
  const dir = mkdtempSync(path.join(tmpdir(), 'rekey-proof-'));
  ghKeysFile = path.join(dir, 'keys.json');
  writeFileSync(ghKeysFile, JSON.stringify({ public_keys: [{ key_identifier: GH_KEY_ID, key: ghKeys.publicKey.export({ type: 'spki', format: 'pem' }), is_current: true }] }));
  fnEnv = (name) => {
    const vars = (resources[fnIds[name].fn]!.Properties!.Environment as { Variables: Json }).Variables;
    const env = resolveIntrinsics(vars, resources) as Record<string, string>;
    return {
      ...env,
      // The SQS client sends to the queue URL's host (SQS "useQueueUrlAsEndpoint"), so the queue
      // URL is the recorder's, with the real path (account / queue name, from which the ARN is derived).
      ...(env.WEBHOOK_QUEUE_URL ? { WEBHOOK_QUEUE_URL: env.WEBHOOK_QUEUE_URL.replace(/^https:\/\/[^/]+/, rec.url) } : {}),
      NODE_OPTIONS: '',
      AWS_REGION: REGION,
      DYNAMODB_ENDPOINT: rec.url,
      AWS_ENDPOINT_URL: rec.url,
      // Settings changed from the template's defaults so the scenarios reach every path: keys that
      // expire (expiry notices), GitHub keys from a file (no network), usage written at once.
      MAX_KEY_LIFETIME_SECONDS: String(LIFETIME),
      SECRET_SCANNING_KEYS_FILE: ghKeysFile,
      USAGE_FLUSH_SECONDS: '1',
    };
  };
  const tableName = fnEnv('createKey').TABLE_NAME!;
  await ensureTable(dynamo.endpoint, tableName);
  // Seeding (not recorded): an account and its first key, as the operator's admin command makes them.
  Object.assign(process.env, fnEnv('createKey'));
  const seed = createRuntime(loadConfig(process.env));
  const made = await createAccountWithKey({ name: 'Proof Ltd', alertEmails: ['ops@proof.example'], allowedScopes: ['reports:read'] }, seed);
  secret = made.secret;
  caller = { keyId: made.key.id, accountId: made.account.id, environment: 'live', scopes: ['keys:read', 'keys:write'], slot: 'current' };
}, 300_000);

afterAll(async () => {
  vi.restoreAllMocks();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  await rec?.close();
  await dynamo?.close();
  removeTempDirs();
});

/** Runs one scenario and marks the function as covered. */
async function scenario<T>(name: FnName, run: () => Promise<T>): Promise<T> {
  ran.add(name);
  return run();
}

describe('least privilege, proved from the bundles', () => {
  it('runs every function\'s scenarios from the bundled code', async () => {
    const ok = (r: { status: number; body: Json }, status: number) => expect(r.status, JSON.stringify(r.body)).toBe(status);

    // The authorizer: a valid secret (GetItem, usage UpdateItem on USAGE#, pepper) and a forged one.
    await scenario('authorizer', async () => {
      const arn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:api/prod/GET/v1/whoami`;
      const allow = (await invoke('authorizer', { type: 'REQUEST', methodArn: arn, headers: { authorization: `Bearer ${secret}` } })) as Json;
      expect((allow.policyDocument as { Statement: { Effect: string }[] }).Statement[0]!.Effect).toBe('Allow');
      await expect(invoke('authorizer', { type: 'REQUEST', methodArn: arn, headers: { authorization: `Bearer ${secret.slice(0, -3)}abc` } })).rejects.toThrow('Unauthorized');
    });

    const created = await scenario('createKey', () => api('createKey', { path: '/v1/keys', body: { name: 'proof', scopes: ['reports:read'] } }));
    ok(created, 201);
    const keyId = (created.body.key as Json).id as string;
    await scenario('listKeys', async () => ok(await api('listKeys', { path: '/v1/keys' }), 200));
    await scenario('getKey', async () => ok(await api('getKey', { path: `/v1/keys/${keyId}` }), 200));
    await scenario('updateKey', async () => ok(await api('updateKey', { path: `/v1/keys/${keyId}`, body: { name: 'proof-2' } }), 200));
    await scenario('rotateKey', async () => ok(await api('rotateKey', { path: `/v1/keys/${keyId}/rotate`, body: { oldKeyExpiresInSeconds: 86400 } }), 200));
    await scenario('updateRotation', async () => ok(await api('updateRotation', { path: `/v1/keys/${keyId}/rotation`, body: { oldKeyExpiresInSeconds: 43200 } }), 200));
    await scenario('cancelRotation', async () => ok(await api('cancelRotation', { path: `/v1/keys/${keyId}/rotation`, body: {} }), 200));
    await scenario('revokeKey', async () => ok(await api('revokeKey', { path: `/v1/keys/${keyId}/revoke`, body: {} }), 200));
    await scenario('reactivateKey', async () => ok(await api('reactivateKey', { path: `/v1/keys/${keyId}/reactivate`, body: {} }), 200));
    await scenario('listKeyEvents', async () => ok(await api('listKeyEvents', { path: `/v1/keys/${keyId}/events` }), 200));
    await scenario('getKeyUsage', async () => ok(await api('getKeyUsage', { path: `/v1/keys/${caller.keyId}/usage` }), 200));
    await scenario('getAccount', async () => ok(await api('getAccount', { path: '/v1/account' }), 200));
    await scenario('putAlertEmails', async () => ok(await api('putAlertEmails', { path: '/v1/account/alert-emails', body: { alertEmails: ['ops@proof.example', 'sec@proof.example'] } }), 200));
    // The link of the confirmation email sent to the added address (public route, the token is the proof).
    await scenario('confirmEmail', async () => {
      const token = rec.emails.map((e) => /email-confirmations\/([A-Za-z0-9_-]{43})/.exec(e)?.[1]).find(Boolean);
      expect(token, 'a confirmation link was emailed').toBeDefined();
      ok(await api('confirmEmail', { path: `/v1/email-confirmations/${token!}`, caller: null }), 200);
    });
    await scenario('whoami', async () => ok(await api('whoami', { path: '/v1/whoami' }), 200));
    await scenario('openapi', async () => ok(await api('openapi', { path: '/v1/openapi.json', caller: null }), 200));
    await scenario('notFound', async () => {
      const r = (await invoke('notFound', restEvent({ method: 'GET', path: '/v1/nope', caller }))) as { statusCode: number };
      expect(r.statusCode).toBe(404);
    });

    // Webhooks: an endpoint (delivery to it fails here: no network, so retries get planned).
    const hook = await scenario('createWebhook', () => api('createWebhook', { path: '/v1/webhooks', body: { url: 'https://hooks.proof.example/rekey' } }));
    ok(hook, 201);
    const hookId = (hook.body.webhook as Json | undefined)?.id ?? hook.body.id;
    await scenario('listWebhooks', async () => ok(await api('listWebhooks', { path: '/v1/webhooks' }), 200));
    await scenario('getWebhook', async () => ok(await api('getWebhook', { path: `/v1/webhooks/${hookId as string}` }), 200));
    await scenario('updateWebhook', async () => ok(await api('updateWebhook', { path: `/v1/webhooks/${hookId as string}`, body: { description: 'proof' } }), 200));
    await scenario('rotateWebhookSecret', async () => ok(await api('rotateWebhookSecret', { path: `/v1/webhooks/${hookId as string}/rotate-secret` }), 200));
    await scenario('testWebhook', async () => {
      const r = await api('testWebhook', { path: `/v1/webhooks/${hookId as string}/test`, body: {} });
      expect([200, 202], JSON.stringify([r.body, rec.calls.filter((c) => c.fn === 'testWebhook'), rec.unanswered])).toContain(r.status);
    });
    await scenario('listWebhookDeliveries', async () => ok(await api('listWebhookDeliveries', { path: `/v1/webhooks/${hookId as string}/deliveries` }), 200));
    // A key change fans out to the endpoint (deliveries + SQS), then the delivery function runs the queued attempts.
    ok(await api('rotateKey', { path: `/v1/keys/${keyId}/rotate`, body: { oldKeyExpiresInSeconds: 86400 } }), 200);
    expect(rec.messages.length).toBeGreaterThan(0);
    // The endpoint has been failing for 4 days (set directly, not recorded), so this attempt, which
    // fails too (no DNS here), disables it: the disable commits its audit event and the alert
    // emails' notice in the endpoint's outbox, and the function drains that outbox itself.
    const endpointKey = { pk: `ACCT#${caller.accountId}`, sk: 'WH#00' };
    await direct.send(new UpdateCommand({ TableName: tableName(), Key: endpointKey, UpdateExpression: 'SET failingSince = :t', ExpressionAttributeValues: { ':t': Date.now() - 4 * 86_400_000 } }));
    await scenario('webhookDelivery', async () => {
      const bodies = [...rec.messages];
      const out = (await invoke('webhookDelivery', { Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: b, attributes: { ApproximateReceiveCount: '1' } })) })) as Json;
      expect(out).toHaveProperty('batchItemFailures');
    });
    const disabled = (await direct.send(new GetCommand({ TableName: tableName(), Key: endpointKey, ConsistentRead: true }))).Item!;
    expect([disabled.enabled, disabled.disabledReason, disabled.obp]).toEqual([false, 'failing', undefined]);
    /** A notice left pending in the endpoint's outbox, as if its dispatcher had died (written directly, not recorded). */
    const leavePendingNotice = async (n: number) => {
      const id = `${Date.now().toString(36).padStart(9, '0')}${String(90 + n).padStart(5, '0')}proofnot00`;
      const effect = { id, kind: 'webhook_disabled', notice: { accountId: caller.accountId, webhookId: hookId, origin: 'https://hooks.proof.example', reason: 'failing' } };
      await direct.send(new UpdateCommand({ TableName: tableName(), Key: endpointKey, UpdateExpression: 'SET ob.#e = :e, obp = :s', ExpressionAttributeNames: { '#e': id }, ExpressionAttributeValues: { ':e': effect, ':s': 1 } }));
    };

    // The timer: a due reminder and the end of the window (controllable clock: the bundles read the global Date).
    const planned = rec.schedules.map((s) => JSON.parse(String((s.Target as Json).Input)) as { keyId: string; kind: string; at: number });
    const reminder = planned.findLast((t) => t.keyId === keyId && t.kind === 'rotation_reminder');
    const expiry = planned.findLast((t) => t.keyId === keyId && t.kind === 'key_expired');
    expect(reminder, JSON.stringify(planned.map((t) => t.kind))).toBeDefined();
    expect(expiry, JSON.stringify(planned.map((t) => t.kind))).toBeDefined();
    await scenario('timer', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(reminder!.at + 1000);
        await invoke('timer', reminder);
        vi.setSystemTime(expiry!.at + 1000);
        await invoke('timer', expiry);
        // The reconciliation (EventBridge rule).
        await invoke('timer', { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'r', time: new Date().toISOString(), detail: {} });
      } finally {
        vi.useRealTimers();
      }
    });

    // The outbox stream consumer: a stream record of a key (drains whatever it holds; the sweep queries
    // gsi3), and one of a webhook endpoint whose disabled notice was left pending.
    await leavePendingNotice(1);
    await scenario('outboxStream', async () => {
      await invoke('outboxStream', {
        Records: [
          { eventID: '1', eventName: 'MODIFY', eventSource: 'aws:dynamodb', dynamodb: { Keys: { pk: { S: `KEY#${keyId}` }, sk: { S: 'KEY' } }, SequenceNumber: '1' } },
          { eventID: '2', eventName: 'MODIFY', eventSource: 'aws:dynamodb', dynamodb: { Keys: { pk: { S: endpointKey.pk }, sk: { S: endpointKey.sk } }, SequenceNumber: '2' } },
        ],
      });
      await invoke('outboxStream', { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 's', time: new Date().toISOString(), detail: {} });
    });

    // Leak reports: a key's secret reported in the body, and GitHub's signed batch.
    const victim = await api('createKey', { path: '/v1/keys', body: { name: 'leaky' } });
    ok(victim, 201);
    await scenario('reportLeaks', async () => {
      const r = await api('reportLeaks', { path: '/v1/leaks', caller: null, body: { secrets: [victim.body.secret as string] } });
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    });
    const victim2 = await api('createKey', { path: '/v1/keys', body: { name: 'leaky-2' } });
    await scenario('githubSecretScanning', async () => {
      const body = JSON.stringify([{ token: victim2.body.secret, type: 'rekey_api_key', url: 'https://github.com/o/r/blob/1/.env', source: 'content' }]);
      const signature = sign('sha256', Buffer.from(body), { key: ghKeys.privateKey, dsaEncoding: 'der' }).toString('base64');
      const r = (await invoke(
        'githubSecretScanning',
        restEvent({ method: 'POST', path: '/v1/secret-scanning/github', caller: null, body, headers: { [KEY_ID_HEADER]: GH_KEY_ID, [SIGNATURE_HEADER]: signature } }),
      )) as { statusCode: number; body: string };
      expect(r.statusCode, r.body).toBe(200);
    });
    // Deleting an endpoint with a notice still pending moves the notice to the account's outbox first.
    await leavePendingNotice(2);
    await scenario('deleteWebhook', async () => ok(await api('deleteWebhook', { path: `/v1/webhooks/${hookId as string}` }), 200));
    const accountItem = (await direct.send(new GetCommand({ TableName: tableName(), Key: { pk: `ACCT#${caller.accountId}`, sk: 'ACCT' }, ConsistentRead: true }))).Item!;
    expect(Object.values(accountItem.ob as Record<string, { kind: string }>).map((e) => e.kind)).toContain('webhook_disabled');

    // The admin API (SPEC §9): one function in AWS serving every /admin/v1 route, called with the
    // operator's IAM identity (API Gateway AWS_IAM puts the caller's ARN in the request context).
    // Calls are recorded under the route's name; every admin route name maps to that one function.
    {
      const admin = async (method: string, p: string, body?: object) => {
        const event = restEvent({ method, path: p, caller: null, ...(body ? { body } : {}) });
        (event.requestContext.identity as { userArn?: string }).userArn = `arn:aws:iam::${ACCOUNT}:role/operator`;
        const match = matchRoute(method, p);
        if (!match.route) throw new Error(`no admin route ${method} ${p}`);
        const name = match.route.operationId as FnName;
        ran.add(name);
        const res = (await invoke(name, event)) as { statusCode: number; body: string };
        expect(res.statusCode, `${method} ${p}: ${res.body}`).toBeLessThan(300);
        return JSON.parse(res.body || '{}') as Json;
      };
      const acct = await admin('POST', '/admin/v1/accounts', { name: 'Admin Proof', alertEmails: ['ops@admin-proof.example'] });
      const accountId = ((acct.account as Json | undefined)?.id ?? acct.id) as string;
      const base = `/admin/v1/accounts/${accountId}`;
      await admin('GET', '/admin/v1/accounts');
      await admin('GET', base);
      await admin('PATCH', base, { name: 'Admin Proof 2' });
      const k = await admin('POST', `${base}/keys`, { name: 'admin-key' });
      const id = (k.key as Json).id as string;
      await admin('GET', `${base}/keys`);
      await admin('GET', `${base}/keys/${id}`);
      await admin('PATCH', `${base}/keys/${id}`, { name: 'admin-key-2' });
      await admin('POST', `${base}/keys/${id}/rotate`, { oldKeyExpiresInSeconds: 3600 });
      await admin('PATCH', `${base}/keys/${id}/rotation`, { oldKeyExpiresInSeconds: 1800 });
      await admin('DELETE', `${base}/keys/${id}/rotation`, {});
      await admin('POST', `${base}/keys/${id}/revoke`, {});
      await admin('POST', `${base}/keys/${id}/reactivate`, {});
      await admin('GET', `${base}/keys/${id}/events`);
      await admin('POST', `${base}/suspend`, {});
      await admin('POST', `${base}/resume`, {});
      await admin('DELETE', base, {});
    }

    // Every call of every function, against its role.
    const denied: string[] = [];
    const byFn = new Map<string, ResolvedStatement[]>();
    for (const c of rec.calls) {
      const name = c.fn as FnName;
      let statements = byFn.get(name);
      if (!statements) byFn.set(name, (statements = resolvedStatements(resources, fnIds[name].role)));
      if (!isAllowed(statements, c)) denied.push(`${name}: ${c.action} on ${c.resource} ${JSON.stringify(c.context)}`);
    }
    expect(denied).toEqual([]);
    // The scenarios did reach the calls each grant exists for (a scenario that silently failed early would not).
    const actions = (n: FnName) => new Set(rec.calls.filter((c) => c.fn === n).map((c) => c.action));
    expect([...actions('authorizer')].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'secretsmanager:GetSecretValue']);
    for (const a of ['dynamodb:PutItem', 'secretsmanager:GetSecretValue', 'events:PutEvents', 'scheduler:CreateSchedule', 'iam:PassRole']) {
      expect(actions('createKey').has(a) || actions('rotateKey').has(a), a).toBe(true);
    }
    expect(actions('revokeKey').has('scheduler:DeleteSchedule')).toBe(true);
    expect(actions('timer').has('ses:SendEmail')).toBe(true);
    expect(rec.calls.some((c) => c.fn === 'timer' && c.resource.endsWith('/index/gsi4'))).toBe(true);
    expect(rec.calls.some((c) => c.fn === 'outboxStream' && c.resource.endsWith('/index/gsi3'))).toBe(true);
    expect(actions('webhookDelivery').has('dynamodb:UpdateItem') || actions('webhookDelivery').has('dynamodb:PutItem')).toBe(true);
    // The disabled notice (SPEC §10), from the outbox: performed by the delivery function that
    // disabled the endpoint, and by the stream consumer for an endpoint item left pending; a delete
    // reads the endpoint's outbox and moves it to the account's.
    expect(actions('webhookDelivery').has('ses:SendEmail')).toBe(true);
    expect(rec.calls.filter((c) => c.fn === 'outboxStream' && c.action === 'ses:SendEmail').length).toBeGreaterThan(0);
    // The delete of an endpoint with a pending notice: consistent Query of it, claim of its outbox
    // and the account's outbox (UpdateItem), the delete; no GetItem, every write in ACCT#.
    expect([...actions('deleteWebhook')].sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const endpointWrites = rec.calls.filter((c) => ['deleteWebhook', 'updateWebhook', 'rotateWebhookSecret'].includes(c.fn) && c.action !== 'dynamodb:Query' && c.service === 'dynamodb');
    expect(endpointWrites.length).toBeGreaterThanOrEqual(5);
    for (const c of endpointWrites) expect(c.context['dynamodb:LeadingKeys'], `${c.fn} ${c.action}`).toEqual([`ACCT#${caller.accountId}`]);
    expect(rec.calls.some((c) => c.fn === 'deleteWebhook' && c.action === 'dynamodb:UpdateItem' && c.context['dynamodb:Attributes']!.includes('obt'))).toBe(true);
    expect([...actions('updateWebhook')].sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  }, 300_000);

  it('every function of the template has a scenario (add one to this file for a new function)', () => {
    const lambdas = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([logicalId]) => logicalId);
    const covered = new Set([...ran].map((n) => fnIds[n].fn));
    // CDK's own providers (S3 auto-delete, bucket deployment of the dashboard) are not rekey code:
    // they run at deploy time with CDK's policies (checked by cdk-nag in nag.test.ts).
    const cdkProviders = lambdas.filter((l) => /^Custom(S3AutoDeleteObjects|CDKBucketDeployment)/.test(l));
    expect(cdkProviders.length).toBe(2);
    const missing = lambdas.filter((l) => !covered.has(l) && !cdkProviders.includes(l)).map((l) => Object.entries(fnIds).find(([, v]) => v.fn === l)?.[0] ?? l);
    expect(missing).toEqual([]);
  });

  it('the evaluator denies what the policy does not allow (self-test)', () => {
    const statements = resolvedStatements(resources, fnIds.getKey.role);
    const table = resolveIntrinsics({ 'Fn::GetAtt': [Object.entries(resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')![0], 'Arn'] }, resources) as string;
    const get: AwsCall = { action: 'dynamodb:GetItem', resource: table, context: { 'dynamodb:LeadingKeys': ['KEY#x'], 'dynamodb:Attributes': ['pk', 'sk'] } };
    expect(isAllowed(statements, get)).toBe(true);
    expect(isAllowed(statements, { ...get, action: 'dynamodb:PutItem' })).toBe(false);
    expect(isAllowed(statements, { ...get, resource: `${table}/index/gsi3`, action: 'dynamodb:Query' })).toBe(false);
    expect(isAllowed(statements, { ...get, resource: table.replace(/table\/.*/, 'table/other') })).toBe(false);
    // Conditions: the authorizer's usage write is allowed on USAGE# items only, naming usage attributes only.
    const auth = resolvedStatements(resources, fnIds.authorizer.role);
    const usage: AwsCall = { action: 'dynamodb:UpdateItem', resource: table, context: { 'dynamodb:LeadingKeys': ['USAGE#k1'], 'dynamodb:Attributes': ['pk', 'sk', 'n'] } };
    expect(isAllowed(auth, usage)).toBe(true);
    expect(isAllowed(auth, { ...usage, context: { ...usage.context, 'dynamodb:LeadingKeys': ['KEY#k1'] } })).toBe(false);
    expect(isAllowed(auth, { ...usage, context: { ...usage.context, 'dynamodb:Attributes': ['pk', 'sk', 'status'] } })).toBe(false);
    // Endpoint writes: only in account partitions, naming only endpoint (update) or outbox (delete) attributes.
    const del = resolvedStatements(resources, fnIds.deleteWebhook.role);
    const move: AwsCall = { action: 'dynamodb:UpdateItem', resource: table, context: { 'dynamodb:LeadingKeys': ['ACCT#a1'], 'dynamodb:Attributes': ['pk', 'sk', 'ob', 'obp'] } };
    expect(isAllowed(del, move)).toBe(true);
    expect(isAllowed(del, { ...move, action: 'dynamodb:DeleteItem' })).toBe(true);
    expect(isAllowed(del, { ...move, action: 'dynamodb:PutItem' })).toBe(false);
    expect(isAllowed(del, { ...move, context: { ...move.context, 'dynamodb:LeadingKeys': ['KEY#k1'] } })).toBe(false);
    expect(isAllowed(del, { ...move, action: 'dynamodb:DeleteItem', context: { ...move.context, 'dynamodb:LeadingKeys': ['KEY#k1'] } })).toBe(false);
    expect(isAllowed(del, { ...move, context: { ...move.context, 'dynamodb:Attributes': ['pk', 'sk', 'alertEmails'] } })).toBe(false);
    const patch = resolvedStatements(resources, fnIds.updateWebhook.role);
    const change: AwsCall = { action: 'dynamodb:UpdateItem', resource: table, context: { 'dynamodb:LeadingKeys': ['ACCT#a1'], 'dynamodb:Attributes': ['pk', 'sk', 'url', 'version', 'id'] } };
    expect(isAllowed(patch, change)).toBe(true);
    expect(isAllowed(patch, { ...change, context: { ...change.context, 'dynamodb:Attributes': ['pk', 'sk', 'ob', 'obp'] } })).toBe(false);
    expect(isAllowed(patch, { ...change, context: { ...change.context, 'dynamodb:Attributes': ['pk', 'sk', 'status'] } })).toBe(false);
    expect(isAllowed(patch, { ...change, context: { ...change.context, 'dynamodb:LeadingKeys': ['KEY#k1'] } })).toBe(false);
    expect(isAllowed(patch, { ...change, action: 'dynamodb:PutItem' })).toBe(false);
    // SES: another From address is denied; PassRole to another service is denied.
    const timer = resolvedStatements(resources, fnIds.timer.role);
    const mail: AwsCall = { action: 'ses:SendEmail', resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/proof.example`, context: { 'ses:FromAddress': ['rekey@mail.example.org'] } };
    expect(isAllowed(timer, mail)).toBe(true);
    expect(isAllowed(timer, { ...mail, context: { 'ses:FromAddress': ['ceo@mail.example.org'] } })).toBe(false);
    const pass = rec.calls.find((c) => c.fn === 'timer' && c.action === 'iam:PassRole') ?? rec.calls.find((c) => c.action === 'iam:PassRole')!;
    expect(isAllowed(timer, { ...pass, context: { 'iam:PassedToService': ['lambda.amazonaws.com'] } })).toBe(false);
    // A condition key the recorder did not derive fails loudly instead of passing.
    expect(() => isAllowed(auth, { ...usage, context: {} })).toThrow(/does not derive condition key/);
  });
});
