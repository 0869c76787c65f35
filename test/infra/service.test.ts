import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ROUTES, FUNCTION_ENTRIES, type RouteDef } from '../../shared/http/routes.js';
import { RekeyStack } from '../../infra/stack.js';
import { FUNCTION_GRANTS, RECORD_ATTRIBUTES } from '../../infra/permissions.js';
import { USAGE_ITEM_ATTRIBUTES } from '../../shared/usage/items.js';
import { ENDPOINT_DELETE_ATTRIBUTES, ENDPOINT_UPDATE_ATTRIBUTES } from '../../shared/webhooks/items.js';
import { createTableInput } from '../../shared/adapters/tableSchema.js';
import { fakeDashboard, removeTempDirs, roleActions, roleStatements, testApp } from './synth.js';

afterAll(removeTempDirs);

const app = testApp();
const stack = new RekeyStack(app, 'Svc', {
  service: { senderEmail: 'rekey@mail.example.org', alarmEmails: ['ops@example.org'], dashboardAssetPath: fakeDashboard() },
});
const template = Template.fromStack(stack);
const assemblyDir = app.outdir;
const json = template.toJSON() as { Resources: Record<string, Record<string, unknown>>; Outputs: Record<string, unknown> };
const svc = stack.service;
const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ref = (c: { node: { defaultChild?: unknown } }) => ({ Ref: id(c) });
const fnId = (name: keyof typeof svc.functions) => id(svc.functions[name]);
const roleId = (name: keyof typeof svc.functions) => id(svc.functions[name].role as never);
const resource = (logicalId: string) => json.Resources[logicalId] as { Type: string; Properties: Record<string, unknown> };
const resolve = (v: unknown) => stack.resolve(v);

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const EFFECTS = [
  'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem',
  'events:PutEvents', 'iam:PassRole', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule',
  'secretsmanager:GetSecretValue', 'ses:SendEmail', 'sqs:SendMessage',
];
const sorted = (a: string[]) => [...a].sort();
const routeEntries = Object.entries(ROUTES) as [keyof typeof ROUTES, RouteDef][];

describe('key table', () => {
  it('is on demand, with point-in-time recovery, deletion protection, TTL and a NEW_IMAGE stream', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  it('is retained when the stack is deleted or the table replaced', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has the four GSIs of tableSchema.ts, the outbox and timer ones keyed by a NUMBER shard', () => {
    const table = resource(id(svc.table.table)).Properties;
    const gsis = table.GlobalSecondaryIndexes as { IndexName: string; KeySchema: { AttributeName: string }[] }[];
    expect(gsis.map((g) => [g.IndexName, g.KeySchema.map((k) => k.AttributeName)])).toEqual([
      ['gsi1', ['gsi1pk', 'gsi1sk']],
      ['gsi2', ['gsi2pk', 'gsi2sk']],
      ['gsi3', ['obp', 'pk']],
      ['gsi4', ['tdp', 'tdue']],
    ]);
    expect(table.AttributeDefinitions).toContainEqual({ AttributeName: 'obp', AttributeType: 'N' });
    expect(table.AttributeDefinitions).toContainEqual({ AttributeName: 'tdp', AttributeType: 'N' });
    expect(table.AttributeDefinitions).toContainEqual({ AttributeName: 'tdue', AttributeType: 'N' });
    expect(table.TableName).toBeUndefined();
  });

  it('projects only keys into every index (a transition or a last-use write touches none), like local mode\'s table', () => {
    const gsis = resource(id(svc.table.table)).Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[];
    expect(Object.fromEntries(gsis.map((g) => [g.IndexName, g.Projection]))).toEqual({
      gsi1: { ProjectionType: 'KEYS_ONLY' },
      gsi2: { ProjectionType: 'KEYS_ONLY' },
      gsi3: { ProjectionType: 'KEYS_ONLY' },
      gsi4: { ProjectionType: 'KEYS_ONLY' },
    });
    // Local mode creates its table from tableSchema.ts: same indexes, keys and projections.
    const local = createTableInput('t').GlobalSecondaryIndexes;
    expect(local.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection }))).toEqual(
      gsis.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })),
    );
  });
});

describe('functions', () => {
  const all = Object.keys(svc.functions) as (keyof typeof svc.functions)[];

  it('exist once per route of ROUTES and per FUNCTION_ENTRIES trigger; the admin routes share one function', () => {
    expect(sorted(all)).toEqual(sorted([...Object.keys(ROUTES), ...Object.keys(FUNCTION_ENTRIES)]));
    for (const [name, route] of routeEntries) {
      const expected = route.scope === 'operator' ? 'rekey admin API (/admin/v1, SigV4)' : `rekey ${route.method} ${route.path}`;
      expect(resource(fnId(name)).Properties.Description, name).toBe(expected);
    }
    const admin = new Set(routeEntries.filter(([, r]) => r.scope === 'operator').map(([n]) => fnId(n)));
    expect(admin.size).toBe(1);
    const others = routeEntries.filter(([, r]) => r.scope !== 'operator').map(([n]) => fnId(n));
    expect(new Set(others).size).toBe(others.length);
    expect(others).not.toContain([...admin][0]);
  });

  it('run on ARM64 with Node.js 24, active tracing and their own log group with retention', () => {
    for (const name of all) {
      const p = resource(fnId(name)).Properties;
      expect(p.Architectures, name).toEqual(['arm64']);
      expect(p.Runtime, name).toBe('nodejs24.x');
      expect(p.TracingConfig, name).toEqual({ Mode: 'Active' });
      const logGroup = (p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resource(logGroup).Properties.RetentionInDays, name).toBe(30);
      expect(p.MemorySize as number, name).toBeGreaterThanOrEqual(256);
      expect(p.Timeout as number, name).toBeLessThanOrEqual(60);
    }
    // Route functions answer within API Gateway's 29 s integration timeout.
    for (const [name] of routeEntries) expect(resource(fnId(name)).Properties.Timeout as number).toBeLessThan(29);
  });

  it('have no fixed names except the timer, whose name is derived from the stack', () => {
    for (const name of all) {
      const fnName = resource(fnId(name)).Properties.FunctionName;
      if (name === 'timer') expect(fnName).toMatch(/^Svc-timer-[0-9a-f]{8}$/);
      else expect(fnName, name).toBeUndefined();
    }
  });

  it('get the configuration variables of shared/config.ts with the SPEC defaults', () => {
    const timerName = resource(fnId('timer')).Properties.FunctionName as string;
    for (const name of all) {
      const vars = (resource(fnId(name)).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars, name).toMatchObject({
        KEY_PREFIX: 'rekey',
        MAX_TRANSITION_SECONDS: '259200',
        REMINDER_LEAD_SECONDS: '7200',
        RESTORE_WINDOW_SECONDS: '86400',
        REACTIVATION_WINDOW_SECONDS: '3600',
        MAX_KEY_LIFETIME_SECONDS: '0',
        AUTH_CACHE_TTL_SECONDS: '10',
        LEAK_REPORTS_PER_MINUTE: '10',
        TABLE_NAME: ref(svc.table.table),
        PEPPER_SECRET_ARN: ref(svc.pepper),
        SCHEDULE_GROUP_NAME: svc.scheduling.groupName,
        SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [id(svc.scheduling.role), 'Arn'] },
        SCHEDULER_DLQ_ARN: { 'Fn::GetAtt': [id(svc.scheduling.deadLetterQueue), 'Arn'] },
        EVENT_BUS_NAME: ref(svc.eventBus),
        SENDER_EMAIL: 'rekey@mail.example.org',
        API_URL: resolve(svc.apiUrl),
        DASHBOARD_URL: resolve(svc.dashboardUrl),
        CORS_ALLOWED_ORIGIN: resolve(svc.dashboard!.origin),
      });
      expect(JSON.stringify(vars.TIMER_FUNCTION_ARN), name).toContain(`:function:${timerName}`);
      expect(String(vars.EXPIRY_NOTICE_OFFSETS)).toMatch(/^30d,/);
    }
  });
});

describe('least privilege', () => {
  const table = { 'Fn::GetAtt': [id(svc.table.table), 'Arn'] };
  const index = (name: string) => ({ 'Fn::Join': ['', [table, `/index/${name}`]] });
  /** Every (action, resource) pair a role's statements allow, resources rendered as JSON. */
  const pairs = (name: keyof typeof svc.functions) =>
    roleStatements(json, roleId(name))
      .flatMap((s) => s.Action.flatMap((a) => ([] as unknown[]).concat(s.Resource).map((r) => `${a} ${JSON.stringify(r)}`)))
      .filter((p) => !/^(logs|xray):/.test(p))
      .sort();
  const on = (actions: string[], res: unknown) => actions.map((a) => `${a} ${JSON.stringify(res)}`);

  it('read routes get exactly the reads they make: a record, the listing indexes and BatchGetItem, a key\'s events or usage', () => {
    // Key views show last use from the key's usage minutes (a table Query under USAGE#<keyId>).
    expect(pairs('getKey')).toEqual(sorted(on(['dynamodb:GetItem', 'dynamodb:Query'], table)));
    expect(pairs('getAccount')).toEqual(on(['dynamodb:GetItem'], table));
    expect(pairs('listKeys')).toEqual(sorted([...on(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'], table), ...on(['dynamodb:Query'], index('gsi1')), ...on(['dynamodb:Query'], index('gsi2'))]));
    expect(pairs('listKeyEvents')).toEqual(sorted(on(['dynamodb:GetItem', 'dynamodb:Query'], table)));
    expect(pairs('getKeyUsage')).toEqual(sorted(on(['dynamodb:GetItem', 'dynamodb:Query'], table)));
    // No read route may Query the outbox or timer index.
    for (const name of ['getKey', 'getAccount', 'listKeys', 'listKeyEvents', 'getKeyUsage', 'whoami'] as const) {
      expect(pairs(name).join('\n'), name).not.toMatch(/gsi3|gsi4/);
    }
  });

  it('whoami, the unauthenticated openapi route and the not-found function touch no data', () => {
    for (const name of ['whoami', 'openapi', 'notFound'] as const) {
      expect(roleActions(json, roleId(name)), name).toEqual(sorted([...LOGS, ...XRAY]));
    }
  });

  it('key-changing routes and the timer get exactly the effect permissions; putAlertEmails only account writes', () => {
    const changers = (Object.keys(FUNCTION_GRANTS) as (keyof typeof FUNCTION_GRANTS)[]).filter(
      (n) => n !== 'outboxStream' && (FUNCTION_GRANTS[n] as readonly string[]).includes('pepper') && (FUNCTION_GRANTS[n] as readonly string[]).includes('publish'),
    );
    expect(sorted(changers)).toEqual(sorted(['createKey', 'updateKey', 'rotateKey', 'updateRotation', 'cancelRotation', 'revokeKey', 'reactivateKey', 'reportLeaks', 'githubSecretScanning', 'timer',
      'adminCreateAccount', 'adminCreateKey', 'adminUpdateKey', 'adminRotateKey', 'adminUpdateRotation', 'adminCancelRotation', 'adminRevokeKey', 'adminReactivateKey']));
    // Those that answer with a key view also read its usage minutes (Query of the table); create has
    // none yet, but its drain finds the account's webhook endpoints (fan-out), a Query of the table too.
    for (const name of changers.filter((n) => n !== 'timer' && !n.startsWith('admin'))) {
      expect(roleActions(json, roleId(name)), name).toEqual(sorted([...EFFECTS, 'dynamodb:Query', ...LOGS, ...XRAY]));
    }
    // The one admin function: the union of its routes' grants (key changes, listings, usage, events).
    expect(roleActions(json, roleId('adminCreateAccount'))).toEqual(sorted([...EFFECTS, 'dynamodb:Query', 'dynamodb:BatchGetItem', ...LOGS, ...XRAY]));
    // The timer also queries the timer index and (Lambda, for its failed invocations) writes its failure queue.
    expect(roleActions(json, roleId('timer'))).toEqual(
      sorted([...new Set([...EFFECTS, 'dynamodb:Query', ...LOGS, ...XRAY, 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'])]),
    );
    // Account changes: their outbox also sends recipient notices (a confirmation link derived from the pepper).
    expect(roleActions(json, roleId('putAlertEmails'))).toEqual(
      sorted(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'secretsmanager:GetSecretValue', 'ses:SendEmail', ...LOGS, ...XRAY]),
    );
    // Query of an index: only the timer function, only the timer index (the reconciliation); the
    // table Query is the usage read (idle cut-over, key views) and the webhook fan-out.
    expect(pairs('timer').filter((p) => p.startsWith('dynamodb:Query'))).toEqual(sorted([...on(['dynamodb:Query'], index('gsi4')), ...on(['dynamodb:Query'], table)]));
    expect(pairs('rotateKey').filter((p) => p.startsWith('dynamodb:Query'))).toEqual(on(['dynamodb:Query'], table));
    // The sweeper performs effects (the pepper only derives confirmation links; an account fan-out lists keys), reads the stream and writes failed batches to its dead-letter queue.
    expect(roleActions(json, roleId('outboxStream'))).toEqual(
      sorted([...new Set([...EFFECTS, 'dynamodb:Query', 'dynamodb:BatchGetItem', ...LOGS, ...XRAY, 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams',
        'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'])]),
    );
  });

  it('the outbox function may Query only the sparse outbox index gsi3, the key listings (an account fan-out) and the table (webhook endpoints), and read and write the table', () => {
    const p = pairs('outboxStream');
    expect(sorted(p.filter((x) => x.startsWith('dynamodb:Query')))).toEqual(sorted([...['gsi1', 'gsi2', 'gsi3'].flatMap((g) => on(['dynamodb:Query'], index(g))), ...on(['dynamodb:Query'], table)]));
    for (const action of ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem']) expect(p, action).toContain(on([action], table)[0]);
  });

  it('effect permissions are confined to rekey resources', () => {
    const statements = roleStatements(json, roleId('rotateKey'));
    const by = (action: string) => statements.find((s) => s.Action.includes(action))!;
    expect(by('scheduler:CreateSchedule').Resource).toEqual(resolve(svc.scheduling.schedulesArn));
    expect(JSON.stringify(by('scheduler:CreateSchedule').Resource)).toContain(`:schedule/${svc.scheduling.groupName}/*`);
    expect(by('iam:PassRole')).toMatchObject({
      Resource: { 'Fn::GetAtt': [id(svc.scheduling.role), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect(by('events:PutEvents').Resource).toEqual({ 'Fn::GetAtt': [id(svc.eventBus), 'Arn'] });
    expect(by('secretsmanager:GetSecretValue').Resource).toEqual(ref(svc.pepper));
    expect(by('ses:SendEmail').Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'rekey@mail.example.org' } });
    expect(by('dynamodb:PutItem').Action).not.toContain('dynamodb:DeleteItem');
  });

  it('the authorizer reads keys and the pepper, and its one write reaches only usage items and names only their attributes', () => {
    expect(roleActions(json, roleId('authorizer'))).toEqual(
      sorted(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'secretsmanager:GetSecretValue', ...LOGS, ...XRAY]),
    );
    const statements = roleStatements(json, roleId('authorizer'));
    const update = statements.find((s) => s.Action.includes('dynamodb:UpdateItem'))!;
    expect(update.Resource).toEqual({ 'Fn::GetAtt': [id(svc.table.table), 'Arn'] });
    expect(update.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USAGE#*'] },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...USAGE_ITEM_ATTRIBUTES] },
    });
    // No attribute of a key, account or event (nor an index key or the outbox) is on the allow list, except the item key itself.
    const allowedNames = new Set<string>(USAGE_ITEM_ATTRIBUTES);
    const overlap = RECORD_ATTRIBUTES.filter((a) => allowedNames.has(a));
    expect(overlap.sort()).toEqual(['pk', 'ttl']); // the item key, and a TTL on usage items only: the leading-key condition keeps both off key records
    for (const a of ['status', 'current', 'previous', 'rotation', 'version', 'lastUsed', 'gsi1pk', 'obp', 'ob']) expect(allowedNames.has(a), a).toBe(false);
    expect(statements.find((s) => s.Action.includes('secretsmanager:GetSecretValue'))!.Resource).toEqual(ref(svc.pepper));
  });

  it('no policy grants a wildcard action', () => {
    for (const r of Object.values(json.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const s of (r.Properties as { PolicyDocument: { Statement: { Action: string | string[] }[] } }).PolicyDocument.Statement) {
        for (const a of ([] as string[]).concat(s.Action)) expect(a).not.toMatch(/^\*$|:\*$/);
      }
    }
  });
});

describe('timers', () => {
  it('the scheduler role is assumable by this account\'s schedules only and may invoke only the timer and write its DLQ', () => {
    const role = resource(id(svc.scheduling.role)).Properties;
    const groupArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:schedule-group/${svc.scheduling.groupName}`]],
    };
    // Scheduler reports the schedule GROUP's ARN as aws:SourceArn (never a schedule's).
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': groupArn } },
        },
      ],
    });
    expect(resolve(svc.scheduling.groupArn)).toEqual(groupArn);
    const statements = roleStatements(json, id(svc.scheduling.role));
    expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
      [['lambda:InvokeFunction'], resolve(svc.environment.TIMER_FUNCTION_ARN)],
      [['sqs:SendMessage'], { 'Fn::GetAtt': [id(svc.scheduling.deadLetterQueue), 'Arn'] }],
      // Webhook retries more than 15 minutes away are one-shots that send to the attempt queue.
      [['sqs:SendMessage'], { 'Fn::GetAtt': [id(svc.webhookQueue), 'Arn'] }],
    ]);
  });

  it('only the scheduler role and the reconciliation rule can invoke the timer function', () => {
    const timerArn = JSON.stringify(resolve(svc.environment.TIMER_FUNCTION_ARN));
    const permissions = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Lambda::Permission') as { Properties: Record<string, unknown> }[];
    const onTimer = permissions.filter((p) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [fnId('timer'), 'Arn'] }));
    expect(onTimer.map((p) => [p.Properties.Principal, p.Properties.SourceArn])).toEqual([['events.amazonaws.com', { 'Fn::GetAtt': [id(svc.timerReconcileRule), 'Arn'] }]]);
    const invokers = Object.entries(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('lambda:InvokeFunction'))
      .map(([, r]) => (r.Properties as { Roles: unknown[] }).Roles);
    expect(invokers).toEqual([[ref(svc.scheduling.role)]]);
    expect(timerArn).toContain('Svc-timer-');
  });

  it('a timer invocation that still fails after Lambda\'s two retries goes to the timer failure queue, which an alarm watches', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('timer') },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(svc.timerFailureQueue), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(svc.timerFailureQueue), 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('reconciles overdue timers every 5 minutes through the timer function', () => {
    const rule = resource(id(svc.timerReconcileRule)).Properties;
    expect(rule).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [fnId('timer'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(svc.timerFailureQueue), 'Arn'] } },
      }),
    ]);
  });

  it('the schedule group has a stack-unique name and the dead-letter queues are encrypted and TLS-only', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: Match.stringLikeRegexp('^Svc-timers-[0-9a-f]{8}$') });
    for (const q of [svc.scheduling.deadLetterQueue, svc.outboxDeadLetterQueue, svc.webhookDeadLetterQueue, svc.timerFailureQueue]) {
      expect(resource(id(q)).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
      expect(resource(id(q)).Properties.QueueName).toBeUndefined();
    }
    // The three dead-letter queues and the webhook attempt queue.
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } },
      5,
    );
  });

  it('the webhook delivery function consumes the attempt queue, may send only to it, and is alarmed on failing attempts', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('webhookDelivery') },
      EventSourceArn: { 'Fn::GetAtt': [id(svc.webhookQueue), 'Arn'] },
      BatchSize: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resource(id(svc.webhookQueue)).Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(svc.webhookDeadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(roleActions(json, roleId('webhookDelivery'))).toEqual(
      sorted([
        'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'secretsmanager:GetSecretValue', 'sqs:SendMessage',
        'scheduler:CreateSchedule', 'iam:PassRole', 'ses:SendEmail', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl',
        'sqs:DeleteMessage', 'sqs:GetQueueAttributes', ...LOGS, ...XRAY,
      ]),
    );
    const send = roleStatements(json, roleId('webhookDelivery')).filter((s) => s.Action.includes('sqs:SendMessage'));
    expect(send.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [id(svc.webhookQueue), 'Arn'] }]);
    template.hasResourceProperties('AWS::Logs::MetricFilter', { MetricTransformations: [Match.objectLike({ MetricName: 'WebhookAttemptFailures', MetricNamespace: 'Rekey' })] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'WebhookAttemptFailures', Threshold: 50 });
    for (const name of ['WEBHOOK_QUEUE_URL', 'WEBHOOK_QUEUE_ARN']) expect(svc.environment[name], name).toBeDefined();
  });

  it('the outbox sweeper consumes the stream only for items with pending effects, with a DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('outboxStream') },
      EventSourceArn: { 'Fn::GetAtt': [id(svc.table.table), 'StreamArn'] },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { obp: { N: [{ exists: true }] } } } }) }] },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(svc.outboxDeadLetterQueue), 'Arn'] } } },
    });
  });

  it('a webhook endpoint with a pending disabled notice reaches the outbox consumer, whose role can drain it; deleting an endpoint can move its outbox', () => {
    // The notice rides in the endpoint item's outbox (pk ACCT#<acct>, sk WH#<slot>). The stream
    // carries new images and the one filter names `obp` only, no key prefix, so the write that
    // disables an endpoint invokes the consumer like a key's; the consumer tells the item by both keys.
    expect(resource(id(svc.table.table)).Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    const mappings = Object.values(json.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: fnId('outboxStream') }));
    expect(mappings).toHaveLength(1);
    const filters = (mappings[0]!.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern) as Record<string, unknown>);
    expect(filters).toEqual([{ dynamodb: { NewImage: { obp: { N: [{ exists: true }] } } } }]);
    // Draining an endpoint's outbox: claim / release (UpdateItem), the busy check and the account
    // (GetItem), the audit event (PutItem), the day's email counter (UpdateItem), the mail (SES).
    for (const fn of ['outboxStream', 'webhookDelivery'] as const) {
      const actions = roleActions(json, roleId(fn));
      for (const a of ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'ses:SendEmail']) expect(actions, `${fn} ${a}`).toContain(a);
    }
    expect(roleActions(json, roleId('deleteWebhook'))).toEqual(sorted(['dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:DeleteItem', ...LOGS, ...XRAY]));
  });

  it("the endpoint routes' writes reach only account partitions and name only endpoint (or outbox) attributes: no key, no account list, no PutItem", () => {
    const table = { 'Fn::GetAtt': [id(svc.table.table), 'Arn'] };
    const writes = (fn: keyof typeof FUNCTION_GRANTS) => roleStatements(json, roleId(fn)).filter((st) => st.Action.some((a) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'].includes(a)));
    // Delete (and moving the outbox of the endpoint to its account's): UpdateItem / DeleteItem, conditioned.
    expect(writes('deleteWebhook')).toEqual([
      {
        Sid: 'DeleteEndpoints',
        Effect: 'Allow',
        Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: table,
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCT#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...ENDPOINT_DELETE_ATTRIBUTES] },
        },
      },
    ]);
    // PATCH and rotate-secret: UpdateItem of the endpoint's fields only (never the outbox).
    for (const fn of ['updateWebhook', 'rotateWebhookSecret'] as const) {
      expect(writes(fn), fn).toEqual([
        {
          Sid: 'UpdateEndpoints',
          Effect: 'Allow',
          Action: ['dynamodb:UpdateItem'],
          Resource: table,
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCT#*'] },
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...ENDPOINT_UPDATE_ATTRIBUTES] },
          },
        },
      ]);
      expect(roleActions(json, roleId(fn)), fn).not.toContain('dynamodb:PutItem');
    }
    // Of an account record, neither list nor status nor its outbox (update) is on these allow lists.
    for (const a of ['alertEmails', 'pendingEmails', 'status', 'allowedScopes', 'leakResponse', 'name', 'current', 'previous', 'rotation', 'contacts']) {
      expect(ENDPOINT_UPDATE_ATTRIBUTES as readonly string[], a).not.toContain(a);
      expect(ENDPOINT_DELETE_ATTRIBUTES as readonly string[], a).not.toContain(a);
    }
    for (const a of ['ob', 'obp', 'obl', 'obt']) expect(ENDPOINT_UPDATE_ATTRIBUTES as readonly string[], a).not.toContain(a);
  });

  it('sweeps the outbox every minute through the outbox function, with bounded retries and its dead-letter queue', () => {
    const rule = resource(id(svc.outboxSweepRule)).Properties;
    expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(rule.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [fnId('outboxStream'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(svc.outboxDeadLetterQueue), 'Arn'] } },
      }),
    ]);
    // EventBridge may invoke the function for this rule only, and write undeliverable events to the DLQ.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId('outboxStream'), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [id(svc.outboxSweepRule), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id(svc.outboxDeadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [id(svc.outboxSweepRule), 'Arn'] } } },
          }),
        ]),
      },
    });
  });
});

describe('a fresh account and region', () => {
  it('creates the account-level API Gateway CloudWatch role that access logging needs, retained, before the stage', () => {
    const accounts = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::ApiGateway::Account');
    expect(accounts).toHaveLength(1);
    const [accountId, account] = accounts[0]! as [string, { Properties: { CloudWatchRoleArn: { 'Fn::GetAtt': [string, string] } }; DeletionPolicy?: string }];
    const roleLogicalId = account.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    const role = json.Resources[roleLogicalId] as { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: { AssumeRolePolicyDocument: unknown; ManagedPolicyArns: unknown[] } };
    expect(role.Type).toBe('AWS::IAM::Role');
    // An account singleton: deleting this stack must not leave the setting pointing at no role.
    expect(role.DeletionPolicy).toBe('Retain');
    expect(account.DeletionPolicy).toBe('Retain');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('apigateway.amazonaws.com');
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AmazonAPIGatewayPushToCloudWatchLogs');
    // The stage with access logging is created only after the account setting exists.
    const stage = Object.values(json.Resources).find((r) => r.Type === 'AWS::ApiGateway::Stage') as { DependsOn?: string[]; Properties: Record<string, unknown> };
    expect(stage.Properties.AccessLogSetting).toBeDefined();
    expect(stage.DependsOn).toContain(accountId);
  });
});

describe('management API', () => {
  const api = svc.api.api;
  const authorizerId = id(svc.api.authorizer);
  const methods = Object.values(json.Resources).filter((r) => r.Type === 'AWS::ApiGateway::Method') as { Properties: Record<string, unknown> }[];
  const methodAt = (path: string, verb: string) => {
    const m = api.methods.find((x) => x.resource.path === path && x.httpMethod === verb);
    if (!m) throw new Error(`no ${verb} ${path}`);
    return resource(id(m)).Properties;
  };
  const integrationTarget = (p: Record<string, unknown>) => JSON.stringify((p.Integration as { Uri: unknown }).Uri);

  it('serves every route of ROUTES with its own function: admin routes with AWS_IAM, every other method behind the rekey authorizer unless its scope is none', () => {
    for (const [name, route] of routeEntries) {
      const m = methodAt(route.path, route.method);
      expect(integrationTarget(m), name).toContain(`"${fnId(name)}"`);
      if (route.scope === 'none') {
        expect(m.AuthorizationType, name).toBe('NONE');
      } else if (route.path.startsWith('/admin/')) {
        expect(route.scope, name).toBe('operator');
        expect(m.AuthorizationType, name).toBe('AWS_IAM');
        expect(m.AuthorizerId, name).toBeUndefined();
      } else {
        expect(m, name).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
      }
    }
    expect(routeEntries.filter(([, r]) => r.scope === 'none').map(([, r]) => r.path)).toEqual(['/v1/email-confirmations/{id}', '/v1/openapi.json', '/v1/leaks', '/v1/secret-scanning/github']);
    expect(routeEntries.filter(([, r]) => r.scope === 'operator').every(([, r]) => r.path.startsWith('/admin/v1/'))).toBe(true);
    // Every method of the API: AWS_IAM exactly under /admin, CUSTOM (the rekey authorizer) elsewhere.
    for (const m of api.methods) {
      const p = resource(id(m)).Properties;
      if (m.httpMethod === 'OPTIONS' || routeEntries.some(([, r]) => r.scope === 'none' && r.path === m.resource.path && r.method === m.httpMethod)) continue;
      if (m.resource.path === '/admin' || m.resource.path.startsWith('/admin/')) expect(p.AuthorizationType, `${m.httpMethod} ${m.resource.path}`).toBe('AWS_IAM');
      else expect(p, `${m.httpMethod} ${m.resource.path}`).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
    }
  });

  it('grants operators exactly the admin routes (and DescribeStacks on this stack) in the OperatorPolicyArn policy', () => {
    const policy = resource(id(svc.operatorPolicy)).Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
    const statements = policy.PolicyDocument.Statement;
    expect(statements.map((s) => s.Action)).toEqual(['execute-api:Invoke', 'cloudformation:DescribeStacks']);
    const arns = (statements[0]!.Resource as unknown[]).map((r) => JSON.stringify(r));
    const expected = routeEntries
      .filter(([, r]) => r.scope === 'operator')
      .map(([, r]) => `/prod/${r.method}${r.path.replace(/\{[^}]+\}/g, '*')}`);
    expect(arns).toHaveLength(expected.length);
    // Each resource is `arn:…:execute-api:<region>:<account>:<this API>/prod/<METHOD>/admin/v1/…`, nothing else.
    expected.forEach((suffix, i) => {
      expect(arns[i]).toContain(`"Ref":"${id(api)}"`);
      expect(arns[i]).toContain(`${suffix}"`);
      // One method on one admin path, ending exactly with the route's path (no method or path wildcard beyond its parameters).
      expect(arns[i]).toMatch(/"\/prod\/(GET|POST|PATCH|PUT|DELETE)\/admin\/v1\/accounts[^"]*"\]\]\}$/);
    });
    expect(arns.every((a) => a.includes(':execute-api:'))).toBe(true);
    expect(JSON.stringify(statements[1]!.Resource)).toContain(':cloudformation:');
    expect(JSON.stringify(statements[1]!.Resource)).toContain('stack/Svc/*');
    expect(json.Outputs.OperatorPolicyArn).toMatchObject({ Value: ref(svc.operatorPolicy) });
  });

  it('sends unknown paths and wrong methods to the not-found function behind the authorizer', () => {
    const anys = api.methods.filter((m) => m.httpMethod === 'ANY');
    const paths = anys.map((m) => m.resource.path);
    expect(paths).toEqual(expect.arrayContaining(['/', '/{proxy+}', '/v1', '/v1/keys', '/v1/keys/{id}', '/v1/keys/{id}/rotation', '/v1/openapi.json', '/admin/{proxy+}', '/admin/v1/accounts']));
    for (const m of anys) {
      const p = resource(id(m)).Properties;
      expect(integrationTarget(p), m.resource.path).toContain(`"${fnId('notFound')}"`);
      if (m.resource.path.startsWith('/admin')) expect(p.AuthorizationType, m.resource.path).toBe('AWS_IAM');
      else expect(p, m.resource.path).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
    }
    // Every method but the public route and CORS preflights is authorized.
    const open = methods.filter((m) => m.Properties.AuthorizationType === 'NONE').map((m) => m.Properties.HttpMethod);
    expect(open.filter((v) => v !== 'OPTIONS').sort()).toEqual(['GET', 'GET', 'POST', 'POST']);
  });

  it('uses an uncached REQUEST authorizer with no identity sources', () => {
    const a = resource(authorizerId).Properties;
    expect(a).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    expect(a.IdentitySource).toBeUndefined();
    expect(JSON.stringify(a.AuthorizerUri)).toContain(`"${fnId('authorizer')}"`);
  });

  it('throttles the stage, writes JSON access logs without headers and traces with X-Ray', () => {
    const stage = resource(id(api.deploymentStage)).Properties;
    expect(stage).toMatchObject({ StageName: 'prod', TracingEnabled: true });
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      // The public leak routes (SPEC §11) are throttled on their own, below the stage.
      expect.objectContaining({ HttpMethod: 'POST', ResourcePath: '/~1v1~1leaks', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 }),
      expect.objectContaining({ HttpMethod: 'POST', ResourcePath: '/~1v1~1secret-scanning~1github', ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 }),
    ]);
    const access = stage.AccessLogSetting as { DestinationArn: unknown; Format: string };
    expect(JSON.stringify(access.DestinationArn)).toContain(id(svc.api.accessLogs));
    const format = JSON.parse(access.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', keyId: '$context.authorizer.principalId' });
    expect(access.Format.toLowerCase()).not.toMatch(/authorization|x-api-key|header/);
  });

  it('answers gateway errors in the API error shape, with CORS headers for the dashboard', () => {
    const responses = Object.values(json.Resources).filter((r) => r.Type === 'AWS::ApiGateway::GatewayResponse').map((r) => r.Properties as Record<string, unknown>);
    const byType = (t: string) => responses.find((r) => r.ResponseType === t)!;
    const origin = resolve(`'${svc.dashboard!.origin}'`);
    for (const [type, status, code] of [
      ['UNAUTHORIZED', '401', 'unauthorized'],
      ['ACCESS_DENIED', '403', 'forbidden'],
      // IAM's answers on the admin API: no signature 401, a bad or expired one 403 (SPEC §9).
      ['MISSING_AUTHENTICATION_TOKEN', '401', 'unauthorized'],
      ['INVALID_SIGNATURE', '403', 'forbidden'],
      ['EXPIRED_TOKEN', '403', 'forbidden'],
      ['DEFAULT_5XX', undefined, 'internal_error'],
      ['DEFAULT_4XX', undefined, 'bad_request'],
    ] as const) {
      const r = byType(type);
      expect(r.StatusCode, type).toBe(status);
      const body = JSON.parse((r.ResponseTemplates as Record<string, string>)['application/json']!) as { error: Record<string, string> };
      expect(body.error, type).toMatchObject({ code, requestId: '$context.requestId' });
      expect((r.ResponseParameters as Record<string, unknown>)['gatewayresponse.header.Access-Control-Allow-Origin'], type).toEqual(origin);
    }
  });

  it('allows cross-origin calls from the dashboard origin only', () => {
    const preflight = methodAt('/v1/keys', 'OPTIONS');
    const headers = (preflight.Integration as { IntegrationResponses: { ResponseParameters: Record<string, unknown> }[] }).IntegrationResponses[0]!.ResponseParameters;
    expect(headers['method.response.header.Access-Control-Allow-Origin']).toEqual(resolve(`'${svc.dashboard!.origin}'`));
    expect(JSON.stringify(headers)).not.toContain("'*'");
  });

  it('the authorizer function may be invoked by this API\'s authorizer', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId('authorizer'), 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('/authorizers/')])]) }),
    });
  });
});

describe('alarms', () => {
  const alarms = Object.values(json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties as Record<string, unknown>);
  const alarmOn = (metric: string, dims: unknown) => alarms.find((a) => a.MetricName === metric && JSON.stringify(a.Dimensions) === JSON.stringify(dims));

  it('watch errors and throttles of the authorizer, timer and outbox sweeper', () => {
    for (const name of ['authorizer', 'timer', 'outboxStream'] as const) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarmOn(metric, [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }]), `${name} ${metric}`).toMatchObject({ Threshold: 1, Namespace: 'AWS/Lambda' });
      }
    }
  });

  it('watch API 5XX, every dead-letter and failure queue and a burst of authorizer store failures', () => {
    expect(alarms.find((a) => a.MetricName === '5XXError')).toMatchObject({ Namespace: 'AWS/ApiGateway' });
    // The alarm's ApiName is this deployment's API, whose name is derived from the stack.
    const apiName = resource(id(svc.api.api)).Properties.Name as string;
    expect(apiName).toMatch(/^Svc-api-[0-9a-f]{8}$/);
    expect(apiName).toBe(svc.api.restApiName);
    expect(alarms.find((a) => a.MetricName === '5XXError')!.Dimensions).toEqual([
      { Name: 'ApiName', Value: apiName },
      { Name: 'Stage', Value: 'prod' },
    ]);
    for (const q of [svc.scheduling.deadLetterQueue, svc.outboxDeadLetterQueue, svc.timerFailureQueue]) {
      expect(alarmOn('ApproximateNumberOfMessagesVisible', [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(q), 'QueueName'] } }])).toBeDefined();
    }
    expect(alarmOn('StoreFailures', [{ Name: 'Service', Value: 'authorizer' }])).toMatchObject({ Namespace: 'Rekey', Threshold: 5, Period: 60, EvaluationPeriods: 1 });
  });

  it('count every email not sent (metric and alarm)', () => {
    expect(alarmOn('EmailsNotSent', [{ Name: 'Service', Value: 'email' }])).toMatchObject({ Namespace: 'Rekey', Threshold: 1, Statistic: 'Sum' });
  });

  it('alarm when the authorizer denies everything (a wrong prefix or pepper): 20+ denials and no allowed request in 5 minutes', () => {
    const all = Object.values(json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties as { Metrics?: { Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }[] });
    const denyAll = all.find((a) => a.Metrics?.some((m) => m.Expression?.includes('FILL(denied, 0) >= 20')))!;
    expect(denyAll.Metrics!.find((m) => m.Expression)!.Expression).toBe('IF(FILL(denied, 0) >= 20 AND FILL(allowed, 0) == 0, 1, 0)');
    expect(denyAll.Metrics!.filter((m) => m.MetricStat).map((m) => [m.MetricStat!.Metric.MetricName, m.MetricStat!.Metric.Dimensions]).sort()).toEqual([
      ['Allowed', [{ Name: 'Service', Value: 'authorizer' }]],
      ['Denied', [{ Name: 'Service', Value: 'authorizer' }]],
    ]);
  });

  it('a dashboard shows authorizer outcomes (allowed, denied by reason), store failures, emails not sent and the queues', () => {
    const dashboards = Object.values(json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect((dashboards[0]!.Properties as { DashboardName?: unknown }).DashboardName).toBeUndefined();
    // The body is a Fn::Join of JSON text around the region: join it with a stand-in region and parse it.
    const parts = ((dashboards[0]!.Properties as { DashboardBody: { 'Fn::Join': [string, unknown[]] } }).DashboardBody)['Fn::Join'][1];
    const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'REGION')).join('')) as { widgets: { properties: { title: string; metrics: unknown[] } }[] };
    const byTitle = new Map(body.widgets.map((w) => [w.properties.title, JSON.stringify(w.properties.metrics)]));
    expect([...byTitle.keys()]).toEqual([
      'Authorizer verifications (allowed, denied by reason)',
      'Authorizer key store failures (alarm: a burst)',
      'Emails not sent (by reason)',
      'Dead-letter and failure queues (messages)',
    ]);
    expect(byTitle.get('Authorizer verifications (allowed, denied by reason)')).toContain('["Rekey","Allowed","Service","authorizer"');
    expect(byTitle.get('Authorizer verifications (allowed, denied by reason)')).toContain('SEARCH(\'{Rekey,Service,Reason} MetricName=\\"Denied\\" Service=\\"authorizer\\"\', \'Sum\', 60)');
    const body2 = JSON.stringify(body);
    expect(body2).toContain('EmailsNotSent');
  });

  it('notify the SNS topic that alarmEmails subscribe to', () => {
    const topic = id(svc.alarms.topic as never);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: topic }]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.org', TopicArn: { Ref: topic } });
  });
});

describe('secrets, events, email, dashboard and outputs', () => {
  it('generates the pepper at deploy time and retains it', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: { GenerateSecretString: Match.objectLike({ PasswordLength: 64 }), Name: Match.absent(), SecretString: Match.absent() },
    });
  });

  it('creates the EventBridge bus and the SES identity of the sender address', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: Match.stringLikeRegexp('^Svc-events-[0-9a-f]{8}$') });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'rekey@mail.example.org' });
  });

  it('serves the dashboard from a private bucket through CloudFront with a CSP that allows only the API', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
      }),
    });
    const policy = Object.values(json.Resources).find((r) => r.Type === 'AWS::CloudFront::ResponseHeadersPolicy')!;
    const csp = JSON.stringify(policy.Properties);
    expect(csp).toContain("connect-src 'self' ");
    expect(csp).toContain(`"Ref":"${id(api())}"`);
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('writes config.json with the API URL and the maximum transition next to the dashboard', () => {
    const deployment = Object.values(json.Resources).find((r) => r.Type === 'Custom::CDKBucketDeployment')!;
    expect(JSON.stringify(deployment.Properties)).toContain(`"Ref":"${id(api())}"`);
    expect((deployment.Properties as { SourceBucketNames: unknown[] }).SourceBucketNames).toHaveLength(2);
    // Source.jsonData stages config.json as its own asset, with tokens replaced at deploy time.
    const staged = readdirSync(assemblyDir).filter((f) => f.startsWith('asset.')).map((f) => path.join(assemblyDir, f, 'config.json')).find((f) => existsSync(f));
    const config = JSON.parse(readFileSync(staged!, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ maxTransitionSeconds: 259200, apiUrl: expect.stringMatching(/^<<marker:0xbaba:\d+>>$/) });
  });

  it('outputs what the operator CLI and the docs name', () => {
    for (const key of ['ApiUrl', 'DashboardUrl', 'TableName', 'PepperSecretArn', 'EventBusName', 'AuthorizerFunctionArn', 'ScheduleGroupName', 'TimerFunctionArn', 'SchedulerRoleArn', 'SchedulerDlqArn', 'SenderEmail', 'KeyPrefix', 'AdminCommand', 'OperatorPolicyArn']) {
      expect(json.Outputs[key], key).toBeDefined();
    }
    expect(json.Outputs.TableName).toMatchObject({ Value: ref(svc.table.table) });
  });
});

function api() {
  return svc.api.api;
}
