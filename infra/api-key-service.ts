import { ArnFormat, CfnOutput, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { loadConfig } from '../shared/config.js';
import { parseKeysDocument } from '../shared/leaks/githubKeys.js';
import { DEFAULT_LEAK_REPORTS_PER_MINUTE } from '../shared/leaks/rateLimit.js';
import { DEFAULT_POLICIES, formatOffset } from '../shared/domain/policies.js';
import { ADMIN_FUNCTION_ENTRY, FUNCTION_ENTRIES, ROUTES, type RouteDef } from '../shared/http/routes.js';
import { ServiceAlarms } from './alarms.js';
import { ManagementApi, omitIdentitySource, type ApiThrottle } from './api.js';
import { DashboardSite } from './dashboard.js';
import { RekeyFunction } from './function.js';
import { uniquePhysicalName } from './names.js';
import { acknowledgeServiceFindings } from './nag.js';
import { DEFAULT_DASHBOARD_DIR } from './paths.js';
import { authorizerStatements, FUNCTION_GRANTS, grantStatements, operatorStatements, type PermissionTargets } from './permissions.js';
import { TimerScheduling } from './scheduling.js';
import { KeyTable } from './table.js';

/** Properties of {@link ApiKeyService}. Policies are those of SPEC §2 with the same defaults. */
export interface ApiKeyServiceProps {
  /** From address of reminders and notices (`SENDER_EMAIL`). Must be verified in SES. */
  readonly senderEmail: string;
  /**
   * Verify this whole domain in SES instead of the single sender address (the address must be in
   * it). The DKIM records are in the identity's outputs; publish them in DNS.
   * @default - the sender address itself is the identity
   */
  readonly senderDomain?: string;
  /**
   * Create the SES identity. Set `false` when the identity already exists in the account and region
   * (SES identities are account-wide, so a second copy of the stack must not create it again).
   * @default true
   */
  readonly createSenderIdentity?: boolean;
  /** Secret prefix (`KEY_PREFIX`). @default 'rekey' */
  readonly keyPrefix?: string;
  /** Longest transition window a rotation may ask for, seconds. @default 259200 (72 h) */
  readonly maxTransitionSeconds?: number;
  /** Reminder lead before the old secret expires, seconds. @default 7200 (2 h) */
  readonly reminderLeadSeconds?: number;
  /** How long after expiry a cancel can restore the old secret, seconds; 0 makes expiry final. @default 86400 */
  readonly restoreWindowSeconds?: number;
  /** How long a revoked key can be reactivated, seconds. @default 3600 */
  readonly reactivationWindowSeconds?: number;
  /** Longest key lifetime, seconds; 0 or undefined for unlimited. @default - unlimited */
  readonly maxKeyLifetimeSeconds?: number;
  /** Notice offsets before key expiry, seconds. @default [30 d, 14 d, 7 d, 3 d, 1 d] */
  readonly expiryNoticeOffsets?: readonly number[];
  /** Authorizer key-record cache TTL, seconds (how long a revocation may take). @default 10 */
  readonly authCacheTtlSeconds?: number;
  /**
   * Most emails (one per recipient) rekey sends per account per UTC day; beyond it emails are skipped,
   * written to the audit trail (`email.skipped`) and counted. @default 200
   */
  readonly maxEmailsPerAccountPerDay?: number;
  /**
   * Days audit events are kept (`AUDIT_RETENTION_DAYS`): each event gets the table's TTL attribute
   * this many days after it happened, and DynamoDB deletes it (usually within a few days of that).
   * @default 0 - kept forever
   */
  readonly auditRetentionDays?: number;
  /**
   * `POST /v1/leaks` requests allowed per source address per minute (SPEC §11), counted in the
   * table so the limit holds across every Lambda instance (`LEAK_REPORTS_PER_MINUTE`).
   * @default 10
   */
  readonly leakReportsPerMinute?: number;
  /**
   * A file (on the deploying machine) of GitHub secret scanning public keys in GitHub's format
   * (`{"public_keys": [{"key_identifier", "key", "is_current"}]}`), bundled with the GitHub endpoint's
   * function and used instead of GitHub's published keys: for a staging deployment, or tests with
   * keys of your own (`SECRET_SCANNING_KEYS_FILE`).
   * @default - GitHub's keys from https://api.github.com/meta/public_keys/secret_scanning, fetched and cached
   */
  readonly secretScanningKeysFile?: string;
  /** Deploy the dashboard to S3 + CloudFront. @default true */
  readonly dashboard?: boolean;
  /** Folder holding the built dashboard (`index.html`). @default `<repo>/dashboard/dist` */
  readonly dashboardAssetPath?: string;
  /**
   * The one origin the management API allows cross-origin (`https://host[:port]`).
   * @default - the dashboard's CloudFront origin; no CORS when the dashboard is off
   */
  readonly corsAllowedOrigin?: string;
  /** Stage throttling of the management API. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: ApiThrottle;
  /**
   * Create the API Gateway account settings (`AWS::ApiGateway::Account`) with a CloudWatch Logs role,
   * which API Gateway requires before any stage may write access logs. It is one setting per account
   * and region: the role is retained when the stack is deleted. Set `false` where the account already
   * has the role (a second copy of rekey in the same region, or a role managed elsewhere).
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** API Gateway stage name (last segment of the API URL). @default 'prod' */
  readonly stageName?: string;
  /** Retention of function and access logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Topic the alarms notify. @default - a new topic if `alarmEmails` is given, else none */
  readonly alarmTopic?: sns.ITopic;
  /** Addresses subscribed to a new alarm topic (ignored with `alarmTopic`). @default [] */
  readonly alarmEmails?: readonly string[];
}

/** Names of the non-route functions (keys of `FUNCTION_ENTRIES`). */
export type TriggerName = keyof typeof FUNCTION_ENTRIES;
/** Route names (keys of `ROUTES`). */
export type RouteName = keyof typeof ROUTES;

/** Memory and timeout per kind of function. */
const SIZING: Record<TriggerName | 'route', { memorySize: number; timeout: Duration }> = {
  // More memory is more CPU: the authorizer's cold start sits on a customer's request.
  authorizer: { memorySize: 1024, timeout: Duration.seconds(10) },
  timer: { memorySize: 512, timeout: Duration.seconds(60) },
  outboxStream: { memorySize: 512, timeout: Duration.seconds(60) },
  // One attempt is at most 15 s; a batch of up to 3 messages runs them in turn.
  webhookDelivery: { memorySize: 512, timeout: Duration.seconds(60) },
  notFound: { memorySize: 256, timeout: Duration.seconds(5) },
  // Under API Gateway's 29 s integration limit, with room for retries of a conflicting write.
  route: { memorySize: 512, timeout: Duration.seconds(15) },
};

/**
 * rekey on AWS (SPEC §5): the key table, one Lambda function per route of `ROUTES` plus the
 * authorizer, timer, outbox sweeper and not-found functions, the management REST API, EventBridge
 * Scheduler timers, the SES sender, the pepper in Secrets Manager, the EventBridge bus, alarms and,
 * by default, the dashboard. Put it in any stack; use {@link restApiAuthorizer} and
 * {@link httpApiAuthorizer} to protect other APIs with rekey keys.
 */
export class ApiKeyService extends Construct {
  public readonly table: KeyTable;
  public readonly pepper: secretsmanager.Secret;
  public readonly eventBus: events.EventBus;
  public readonly senderIdentity: ses.EmailIdentity | undefined;
  public readonly scheduling: TimerScheduling;
  /** The outbox function's dead-letter queue: stream batches that kept failing, and sweep invocations EventBridge could not deliver. */
  public readonly outboxDeadLetterQueue: sqs.Queue;
  /** Webhook attempts (SPEC §10): delayed messages for waits up to 15 min, Scheduler one-shots send to it beyond. */
  public readonly webhookQueue: sqs.Queue;
  /** Attempt messages the delivery function failed on 5 times. */
  public readonly webhookDeadLetterQueue: sqs.Queue;
  /** Runs the outbox sweep every minute (items whose dispatcher died holding the claim). */
  public readonly outboxSweepRule: events.Rule;
  /** Failed webhook attempts (non-2xx, timeouts, refused targets), from the delivery function's log. */
  public readonly webhookDeliveryFailures: logs.MetricFilter;
  /**
   * The timer function's on-failure destination: timer invocations whose handler still failed after
   * Lambda's two asynchronous retries (the reconciliation performs those timers anyway).
   */
  public readonly timerFailureQueue: sqs.Queue;
  /** Runs the timer reconciliation every 5 minutes (planned, overdue, unfired timers). */
  public readonly timerReconcileRule: events.Rule;
  /** Every function by route name or trigger name. */
  public readonly functions: Readonly<Record<RouteName | TriggerName, lambda.Function>>;
  public readonly authorizerFunction: lambda.Function;
  public readonly api: ManagementApi;
  /**
   * What an operator (a provider's backend, the CLI) needs, and no more: `execute-api:Invoke` on
   * the admin routes (SPEC §9) and `cloudformation:DescribeStacks` on this stack. Output `OperatorPolicyArn`.
   */
  public readonly operatorPolicy: iam.ManagedPolicy;
  public readonly dashboard: DashboardSite | undefined;
  public readonly alarms: ServiceAlarms;
  /** Management API base URL (no trailing slash). */
  public readonly apiUrl: string;
  /** Dashboard URL, when deployed. */
  public readonly dashboardUrl: string | undefined;
  /** CloudFormation outputs by name (`ApiUrl`, `TableName`, `PepperSecretArn`, …). */
  public readonly outputs: Readonly<Record<string, CfnOutput>>;
  /** Environment shared by every function (policies and resource names). */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ApiKeyServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const policyEnv = policyEnvironment(props);
    const dashboardOn = props.dashboard ?? true;

    this.table = new KeyTable(this, 'Keys');
    this.pepper = new secretsmanager.Secret(this, 'Pepper', {
      description: 'rekey HMAC pepper: every key digest depends on it. Never rotate or delete.',
      // Generated by Secrets Manager at deploy time: the value never appears in the template.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.eventBus = new events.EventBus(this, 'Bus', { eventBusName: uniquePhysicalName(this, 'events') });
    this.senderIdentity =
      props.createSenderIdentity === false
        ? undefined
        : new ses.EmailIdentity(this, 'Sender', {
            identity: props.senderDomain ? ses.Identity.domain(props.senderDomain) : ses.Identity.email(props.senderEmail),
          });

    // The timer function's ARN goes into its own environment and the scheduler role's policy, so its
    // name is fixed before it exists (unique per stack, see uniquePhysicalName).
    const timerFunctionName = uniquePhysicalName(this, 'timer');
    const timerFunctionArn = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: timerFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.scheduling = new TimerScheduling(this, 'Timers', { timerFunctionArn });
    this.outboxDeadLetterQueue = new sqs.Queue(this, 'OutboxDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.webhookDeadLetterQueue = new sqs.Queue(this, 'WebhookAttemptsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.webhookQueue = new sqs.Queue(this, 'WebhookAttempts', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS: at least the function timeout (6 times is the guide's advice for event source mappings).
      visibilityTimeout: Duration.seconds(6 * SIZING.webhookDelivery.timeout.toSeconds()),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.webhookDeadLetterQueue, maxReceiveCount: 5 },
    });
    // Scheduler one-shots for waits over 15 minutes target the queue directly.
    this.scheduling.role.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.webhookQueue.queueArn] }));

    const corsOrigin = props.corsAllowedOrigin ?? (dashboardOn ? Lazy.string({ produce: () => this.dashboard!.origin }) : undefined);
    const env: Record<string, string> = {
      ...policyEnv,
      TABLE_NAME: this.table.table.tableName,
      PEPPER_SECRET_ARN: this.pepper.secretArn,
      SCHEDULE_GROUP_NAME: this.scheduling.groupName,
      TIMER_FUNCTION_ARN: timerFunctionArn,
      SCHEDULER_ROLE_ARN: this.scheduling.role.roleArn,
      SCHEDULER_DLQ_ARN: this.scheduling.deadLetterQueue.queueArn,
      EVENT_BUS_NAME: this.eventBus.eventBusName,
      SENDER_EMAIL: props.senderEmail,
      WEBHOOK_QUEUE_URL: this.webhookQueue.queueUrl,
      WEBHOOK_QUEUE_ARN: this.webhookQueue.queueArn,
      POWERTOOLS_METRICS_NAMESPACE: 'Rekey',
      ...(corsOrigin ? { CORS_ALLOWED_ORIGIN: corsOrigin } : {}),
    };
    this.environment = env;

    const targets: PermissionTargets = {
      tableArn: this.table.table.tableArn,
      indexArn: (name) => `${this.table.table.tableArn}/index/${name}`,
      pepperArn: this.pepper.secretArn,
      schedulesArn: this.scheduling.schedulesArn,
      schedulerRoleArn: this.scheduling.role.roleArn,
      eventBusArn: this.eventBus.eventBusArn,
      senderEmail: props.senderEmail,
      sesIdentitiesArn: stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' }),
      webhookQueueArn: this.webhookQueue.queueArn,
    };

    const keysFile = secretScanningKeysBundle(props.secretScanningKeysFile);
    const make = (
      name: string,
      entry: string,
      description: string,
      sizing: { memorySize: number; timeout: Duration },
      functionName?: string,
      extra: { environment?: Record<string, string>; extraFiles?: Record<string, string> } = {},
    ) =>
      new RekeyFunction(this, pascal(name), {
        entry,
        description,
        extraFiles: extra.extraFiles,
        environment: { ...env, POWERTOOLS_SERVICE_NAME: name, ...extra.environment },
        logRetention: props.logRetention,
        functionName,
        // The authorizer's cold start sits on a customer's request; it logs no stack traces on
        // the request path, so it skips parsing its source map.
        enableSourceMaps: name !== 'authorizer',
        ...sizing,
      });

    const fns: Partial<Record<RouteName | TriggerName, lambda.Function>> = {};
    const routeFns: { route: RouteDef; handler: lambda.IFunction }[] = [];
    const routeEntriesAll = Object.entries(ROUTES) as [RouteName, RouteDef][];
    // The admin routes share one function (CloudFormation allows 500 resources per stack); its role
    // holds the union of their grants.
    const adminNames = routeEntriesAll.filter(([, r]) => r.scope === 'operator').map(([n]) => n);
    const adminFn = make('admin', ADMIN_FUNCTION_ENTRY, 'rekey admin API (/admin/v1, SigV4)', SIZING.route);
    for (const s of grantStatements([...new Set(adminNames.flatMap((n) => [...FUNCTION_GRANTS[n]]))], targets)) adminFn.role.addToPolicy(s);
    for (const [name, route] of routeEntriesAll) {
      if (route.scope === 'operator') {
        fns[name] = adminFn.function;
        routeFns.push({ route, handler: adminFn.function });
        continue;
      }
      const f = make(name, route.entry, `rekey ${route.method} ${route.path}`, SIZING.route, undefined, name === 'githubSecretScanning' ? keysFile : {});
      for (const s of grantStatements(FUNCTION_GRANTS[name], targets)) f.role.addToPolicy(s);
      fns[name] = f.function;
      routeFns.push({ route, handler: f.function });
    }

    const authorizer = make('authorizer', FUNCTION_ENTRIES.authorizer, 'rekey Lambda authorizer', SIZING.authorizer);
    for (const s of authorizerStatements(targets)) authorizer.role.addToPolicy(s);
    const timer = make('timer', FUNCTION_ENTRIES.timer, 'rekey timers (reminders, expiries, purges) and their reconciliation', SIZING.timer, timerFunctionName);
    // Scheduler invokes the timer function asynchronously: its retry policy covers delivery only. A
    // handler that throws gets Lambda's own retries; then the event goes to this queue (alarmed),
    // never silently away. The reconciliation below performs the timer regardless.
    this.timerFailureQueue = new sqs.Queue(this, 'TimerFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    timer.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new lambdaDestinations.SqsDestination(this.timerFailureQueue),
    });
    this.timerReconcileRule = new events.Rule(this, 'TimerReconcile', {
      description: 'rekey: perform planned timers that are overdue and unfired (every 5 minutes)',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new eventTargets.LambdaFunction(timer.function, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(5),
          deadLetterQueue: this.timerFailureQueue,
        }),
      ],
    });
    const outbox = make('outboxStream', FUNCTION_ENTRIES.outboxStream, 'rekey outbox sweeper (DynamoDB stream, every minute)', SIZING.outboxStream);
    for (const s of grantStatements(FUNCTION_GRANTS.timer, targets)) timer.role.addToPolicy(s);
    for (const s of grantStatements(FUNCTION_GRANTS.outboxStream, targets)) outbox.role.addToPolicy(s);
    const notFound = make('notFound', FUNCTION_ENTRIES.notFound, 'rekey unknown routes (404)', SIZING.notFound);
    for (const s of grantStatements(FUNCTION_GRANTS.notFound, targets)) notFound.role.addToPolicy(s);
    const delivery = make('webhookDelivery', FUNCTION_ENTRIES.webhookDelivery, 'rekey webhook delivery (one attempt per queue message)', SIZING.webhookDelivery);
    for (const s of grantStatements(FUNCTION_GRANTS.webhookDelivery, targets)) delivery.role.addToPolicy(s);
    // Failed messages are reported one by one, so one bad endpoint does not re-run its batch mates.
    delivery.function.addEventSource(new SqsEventSource(this.webhookQueue, { batchSize: 3, reportBatchItemFailures: true }));
    this.webhookDeliveryFailures = new logs.MetricFilter(this, 'WebhookAttemptFailures', {
      logGroup: delivery.logGroup,
      // The delivery function logs one line per attempt (functions/webhooks/delivery.ts).
      filterPattern: logs.FilterPattern.literal('{ $.message = "webhook attempt" && ($.outcome = "retry" || $.outcome = "failed") }'),
      metricNamespace: 'Rekey',
      metricName: 'WebhookAttemptFailures',
      metricValue: '1',
      defaultValue: 0,
    });
    fns.authorizer = authorizer.function;
    fns.timer = timer.function;
    fns.outboxStream = outbox.function;
    fns.notFound = notFound.function;
    fns.webhookDelivery = delivery.function;
    this.functions = fns as Record<RouteName | TriggerName, lambda.Function>;
    this.authorizerFunction = authorizer.function;

    // Only items that carry pending effects (`obp`) invoke the sweeper; the handler drains its own
    // outbox first, so this is the safety net for a crash between commit and drain. An item whose
    // effect failed is reported as failed, so Lambda retries it: bisect isolates it, the retries are
    // bounded, and what still fails goes to the dead-letter queue (and its alarm). An item another
    // dispatcher holds is not a failure (see functions/outbox-stream.ts).
    outbox.function.addEventSource(
      new DynamoEventSource(this.table.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 25,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: 10,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.outboxDeadLetterQueue),
        filters: [lambda.FilterCriteria.filter({ dynamodb: { NewImage: { obp: { N: lambda.FilterRule.exists() } } } })],
      }),
    );
    // The stream fires only when an item changes; an item whose dispatcher died holding the claim
    // (and whose stream retries ran out while it was held) changes no more. Once a minute the same
    // function sweeps every item still pending (sparse index gsi3, keys only); idle, that is one
    // Query. A missed minute is harmless (the next sweep covers it), so retries are few and short.
    this.outboxSweepRule = new events.Rule(this, 'OutboxSweep', {
      description: 'rekey: sweep outbox items left pending (every minute)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new eventTargets.LambdaFunction(outbox.function, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(2),
          deadLetterQueue: this.outboxDeadLetterQueue,
        }),
      ],
    });

    this.api = new ManagementApi(this, 'Api', {
      routes: routeFns,
      notFound: notFound.function,
      authorizerFunction: authorizer.function,
      stageName: props.stageName,
      throttle: props.throttle,
      corsAllowedOrigin: corsOrigin,
      logRetention: props.logRetention,
      cloudWatchRole: props.apiGatewayCloudWatchRole,
    });
    this.apiUrl = this.api.url;
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description: 'rekey operators: call the admin API (/admin/v1) and read the stack outputs',
      statements: operatorStatements(
        this.api.api,
        this.api.stageName,
        routeFns.map((r) => r.route),
        stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` }),
      ),
    });

    if (dashboardOn) {
      this.dashboard = new DashboardSite(this, 'Dashboard', {
        assetPath: props.dashboardAssetPath ?? DEFAULT_DASHBOARD_DIR,
        apiUrl: this.api.url,
        apiOrigin: this.api.origin,
        // The rotate dialog offers windows up to the deployment's maximum.
        settings: { maxTransitionSeconds: Number(policyEnv.MAX_TRANSITION_SECONDS) },
      });
      this.dashboardUrl = this.dashboard.origin;
    }
    for (const f of Object.values(fns)) {
      f.addEnvironment('API_URL', this.api.url);
      if (this.dashboardUrl) f.addEnvironment('DASHBOARD_URL', this.dashboardUrl);
    }

    this.alarms = new ServiceAlarms(this, 'Alarms', {
      functions: { Authorizer: authorizer.function, Timer: timer.function, OutboxStream: outbox.function, WebhookDelivery: delivery.function },
      webhookAttemptFailures: this.webhookDeliveryFailures.metric({ period: Duration.minutes(15), statistic: 'Sum' }),
      api: this.api.api,
      stageName: this.api.stageName,
      deadLetterQueues: {
        SchedulerDeadLetterQueue: this.scheduling.deadLetterQueue,
        OutboxDeadLetterQueue: this.outboxDeadLetterQueue,
        WebhookAttemptsDeadLetterQueue: this.webhookDeadLetterQueue,
        TimerFailureQueue: this.timerFailureQueue,
      },
      topic: props.alarmTopic,
      emails: props.alarmEmails,
    });

    const outputs: Record<string, [string, string]> = {
      ApiUrl: [this.apiUrl, 'Management API base URL (paths start with /v1)'],
      ...(this.dashboardUrl ? { DashboardUrl: [this.dashboardUrl, 'Self-service dashboard'] as [string, string] } : {}),
      TableName: [this.table.table.tableName, 'Key table'],
      PepperSecretArn: [this.pepper.secretArn, 'Pepper secret: never rotate or delete it'],
      EventBusName: [this.eventBus.eventBusName, 'EventBridge bus of api_key.* events'],
      AuthorizerFunctionArn: [authorizer.function.functionArn, 'Lambda authorizer for other APIs'],
      KeyPrefix: [env.KEY_PREFIX!, 'Secret prefix'],
      ScheduleGroupName: [this.scheduling.groupName, 'EventBridge Scheduler group of rekey timers'],
      TimerFunctionArn: [timerFunctionArn, 'Timer function (schedule target)'],
      SchedulerRoleArn: [this.scheduling.role.roleArn, 'Role the schedules run as'],
      SchedulerDlqArn: [this.scheduling.deadLetterQueue.queueArn, 'Dead-letter queue of failed timers'],
      SenderEmail: [props.senderEmail, 'From address of reminders and notices'],
      OperatorPolicyArn: [this.operatorPolicy.managedPolicyArn, 'Managed policy for operators: the admin API (/admin/v1) and this stack\'s outputs'],
    };
    // In the construct, not the stack, so `npm run admin -- --stack NAME` also finds a rekey that
    // lives inside someone else's stack (it matches output keys by suffix).
    this.outputs = Object.fromEntries(
      Object.entries(outputs).map(([key, [value, description]]) => [key, new CfnOutput(this, key, { value, description })]),
    );

    acknowledgeServiceFindings(this);
  }

  /**
   * A `REQUEST` authorizer backed by the rekey authorizer function, for a consumer's REST API
   * (API Gateway v1), in this stack or another. Attach it to methods with
   * `{ authorizer, authorizationType: AuthorizationType.CUSTOM }`; the invoke permission for that API
   * is added when it is bound, in the stack of `scope` (see {@link authorizerHandlerFor}).
   * Integrations receive `keyId`, `accountId`, `environment`, `scopes` and `slot` in
   * `requestContext.authorizer`.
   *
   * @param scope where the authorizer is created (the consumer's API construct or stack)
   * @param id construct id. @default 'RekeyAuthorizer'
   */
  public restApiAuthorizer(scope: Construct, id = 'RekeyAuthorizer'): apigw.RequestAuthorizer {
    const authorizer = new apigw.RequestAuthorizer(scope, id, {
      handler: this.authorizerHandlerFor(scope, `${id}Function`),
      // See ManagementApi: the secret may come in either of two headers; caching stays inside
      // the authorizer so expiry is checked on every request.
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    omitIdentitySource(authorizer);
    return authorizer;
  }

  /**
   * A Lambda authorizer for a consumer's HTTP API (API Gateway v2): payload format 2.0 with simple
   * responses (`{ isAuthorized, context }`), no result caching (the function caches records
   * itself). The invoke permission for the API is added when a route uses it, in the stack of
   * `scope`: pass the HTTP API's stack when it is not this one.
   *
   * @param id authorizer id within the HTTP API. @default 'RekeyAuthorizer'
   * @param scope the consumer's stack (or a construct in it). @default - this construct's stack
   */
  public httpApiAuthorizer(id = 'RekeyAuthorizer', scope?: Construct): HttpLambdaAuthorizer {
    return new HttpLambdaAuthorizer(id, scope ? this.authorizerHandlerFor(scope, `${id}Function`) : this.authorizerFunction, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });
  }

  /**
   * The authorizer function as seen from `scope`. In this stack, the function itself. In another
   * stack, a reference to it imported into that stack: binding an authorizer adds a
   * `lambda:InvokeFunction` permission naming the consumer's API, and on the function itself that
   * permission would live in rekey's stack and point at the consumer's stack, which already points
   * at the function: a `DependencyCycle`. On the imported reference the permission is created in the
   * consumer's stack, so only the consumer's stack depends on rekey's (the function ARN export).
   */
  public authorizerHandlerFor(scope: Construct, id = 'RekeyAuthorizerFunction'): lambda.IFunction {
    if (Stack.of(scope) === Stack.of(this)) return this.authorizerFunction;
    const existing = scope.node.tryFindChild(id) as lambda.IFunction | undefined;
    if (existing) return existing;
    return lambda.Function.fromFunctionAttributes(scope, id, {
      functionArn: this.authorizerFunction.functionArn,
      // Same account and region (CloudFormation exports do not cross them): permissions can be added.
      sameEnvironment: true,
    });
  }
}

/**
 * The policy variables of `shared/config.ts` for these props, validated at synth with the same
 * parser the functions use, so a bad value fails `cdk synth` instead of every cold start.
 */
export function policyEnvironment(props: Partial<ApiKeyServiceProps>): Record<string, string> {
  const d = DEFAULT_POLICIES;
  const env: Record<string, string> = {
    KEY_PREFIX: props.keyPrefix ?? d.keyPrefix,
    MAX_TRANSITION_SECONDS: String(props.maxTransitionSeconds ?? d.maxTransitionSeconds),
    REMINDER_LEAD_SECONDS: String(props.reminderLeadSeconds ?? d.reminderLeadSeconds),
    RESTORE_WINDOW_SECONDS: String(props.restoreWindowSeconds ?? d.restoreWindowSeconds),
    REACTIVATION_WINDOW_SECONDS: String(props.reactivationWindowSeconds ?? d.reactivationWindowSeconds),
    MAX_KEY_LIFETIME_SECONDS: String(props.maxKeyLifetimeSeconds ?? 0),
    EXPIRY_NOTICE_OFFSETS: (props.expiryNoticeOffsets ?? d.expiryNoticeOffsets).map(formatOffset).join(','),
    AUTH_CACHE_TTL_SECONDS: String(props.authCacheTtlSeconds ?? d.authCacheTtlSeconds),
    MAX_EMAILS_PER_ACCOUNT_PER_DAY: String(props.maxEmailsPerAccountPerDay ?? d.maxEmailsPerAccountPerDay),
    AUDIT_RETENTION_DAYS: String(props.auditRetentionDays ?? 0),
    LEAK_REPORTS_PER_MINUTE: String(props.leakReportsPerMinute ?? DEFAULT_LEAK_REPORTS_PER_MINUTE),
  };
  loadConfig(env); // throws ConfigError naming each bad setting
  return env;
}

/** Where a bundled keys file lives at run time (next to the bundle, in the function's task root). */
export const BUNDLED_KEYS_FILE = 'secret-scanning-keys.json';

/**
 * The GitHub endpoint function's keys file: validated at synth (a bad file fails `cdk synth`, not
 * GitHub's first report), copied into the bundle, and named in its environment.
 */
function secretScanningKeysBundle(file: string | undefined): { environment?: Record<string, string>; extraFiles?: Record<string, string> } {
  if (!file) return {};
  const abs = resolvePath(file);
  try {
    parseKeysDocument(JSON.parse(readFileSync(abs, 'utf8')));
  } catch (e) {
    throw new Error(`secretScanningKeysFile ${abs}: ${(e as Error).message}`, { cause: e });
  }
  return { environment: { SECRET_SCANNING_KEYS_FILE: `/var/task/${BUNDLED_KEYS_FILE}` }, extraFiles: { [BUNDLED_KEYS_FILE]: abs } };
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
