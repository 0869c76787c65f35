/**
 * cdk-nag (AWS Solutions pack) findings for rekey. Every finding the design accepts is acknowledged
 * here, one finding id at a time, on the narrowest construct, with the reason it is accepted.
 * Anything else fails `cdk synth` and `test/infra/nag.test.ts`. Acknowledging needs only
 * aws-cdk-lib; running the checks (`nag-checks.ts`) needs cdk-nag, an optional peer dependency.
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { ApiKeyService } from './api-key-service.js';
import { ROUTES } from '../shared/http/routes.js';
import { FUNCTION_GRANTS } from './permissions.js';

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** CloudFormation-template form of an ARN pattern, as cdk-nag prints it in finding ids. */
function nagArn(service: string, resource: string): string {
  return `arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${resource}`;
}

const XRAY = 'X-Ray PutTraceSegments and PutTelemetryRecords (added by active tracing) support no resource-level permissions.';

/** Acknowledges the accepted findings of one {@link ApiKeyService}. */
export function acknowledgeServiceFindings(service: ApiKeyService): void {
  const roles = Object.entries(service.functions).map(([name, fn]) => [name, fn.role as iam.Role] as const);
  for (const [name, role] of roles) {
    const reason = name === 'outboxStream' ? `${XRAY} dynamodb:ListStreams (added by the DynamoDB stream event source) supports none either.` : XRAY;
    ack(role, 'AwsSolutions-IAM5[Resource::*]', reason);
  }
  const grantsOf = (name: string): readonly string[] => (FUNCTION_GRANTS as Record<string, readonly string[]>)[name] ?? [];
  for (const [name, role] of roles) {
    if (grantsOf(name).includes('timers') || grantsOf(name).includes('scheduleAttempts')) {
      ack(
        role,
        `AwsSolutions-IAM5[Resource::${nagArn('scheduler', `schedule/${service.scheduling.groupName}/*`)}]`,
        'Schedule names are made at run time from key and timer ids; the wildcard is confined to rekey\'s own schedule group.',
      );
    }
    if (grantsOf(name).includes('email')) {
      ack(
        role,
        `AwsSolutions-IAM5[Resource::${nagArn('ses', 'identity/*')}]`,
        'In the SES sandbox SendEmail is also authorized against each recipient identity, which is not known in advance; the ses:FromAddress condition pins the sender address.',
      );
    }
  }

  // The operator policy names each admin route; `*` stands only for a path parameter (account or key id).
  const apiId = Stack.of(service).getLogicalId(service.api.api.node.defaultChild as CfnElement);
  for (const r of Object.values(ROUTES).filter((x) => x.scope === 'operator' && x.path.includes('{'))) {
    const arn = nagArn('execute-api', `<${apiId}>/${service.api.stageName}/${r.method}${r.path.replace(/\{[^}]+\}/g, '*')}`);
    ack(service.operatorPolicy, `AwsSolutions-IAM5[Resource::${arn}]`, 'The wildcard stands for the account or key id path parameter of this one admin route.');
  }
  ack(
    service.operatorPolicy,
    `AwsSolutions-IAM5[Resource::${nagArn('cloudformation', `stack/${Stack.of(service).stackName}/*`)}]`,
    "A stack's ARN ends in an id CloudFormation generates; the name part pins this stack.",
  );

  ack(service.pepper, 'AwsSolutions-SMG4', 'The pepper keys every stored key digest: rotating it would invalidate every API key. It is generated at deploy time and retained.');
  ack(service.scheduling.deadLetterQueue, 'AwsSolutions-SQS3', "This queue is EventBridge Scheduler's dead-letter queue; it needs none of its own (cdk-nag only recognises SQS redrive).");
  ack(service.webhookDeadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the webhook attempt queue; it needs none of its own.');
  ack(service.outboxDeadLetterQueue, 'AwsSolutions-SQS3', "This queue is the stream event source's on-failure destination, itself a dead-letter queue.");
  ack(service.timerFailureQueue, 'AwsSolutions-SQS3', "This queue is the timer function's asynchronous on-failure destination, itself a dead-letter queue.");

  const api = service.api.api;
  ack(api, 'AwsSolutions-APIG2', 'Every handler validates its input with the zod schemas of the route table (one source of truth, the same 400 body everywhere); API Gateway models would duplicate them.');
  ack(api.deploymentStage, 'AwsSolutions-APIG3', 'WAF is optional and billed per web ACL: the stage is throttled and the authorizer rejects malformed keys without a database read. Associate a web ACL with the stage if your policy requires one.');
  ack(api.deploymentStage, 'AwsSolutions-APIG6', 'JSON access logs are on for every request; execution logs would add a log line per request and can carry request data.');
  const accountRole = api.node.tryFindChild('CloudWatchRole');
  if (accountRole) {
    ack(
      accountRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "The account-level API Gateway logging role: AWS's managed policy is the documented one for it (API Gateway writes every API's logs of the account and region with it).",
    );
  }
  for (const method of api.methods) {
    if (method.httpMethod === 'OPTIONS') continue;
    ack(method, 'AwsSolutions-COG4', 'Callers authenticate with rekey API keys through the rekey Lambda authorizer, not Cognito.');
  }
  const openapi = api.methods.find((m) => m.resource.path === '/v1/openapi.json' && m.httpMethod === 'GET');
  if (openapi) ack(openapi, 'AwsSolutions-APIG4', 'GET /v1/openapi.json is public by design (SPEC §8): it describes the API and holds no data.');
  const confirm = api.methods.find((m) => m.resource.path === '/v1/email-confirmations/{id}' && m.httpMethod === 'GET');
  if (confirm) ack(confirm, 'AwsSolutions-APIG4', 'GET /v1/email-confirmations/{token} is the link of a confirmation email (SPEC §10): the 256-bit single-address token is the proof; stage throttling applies.');
  const leaks = api.methods.find((m) => m.resource.path === '/v1/leaks' && m.httpMethod === 'POST');
  if (leaks) {
    ack(leaks, 'AwsSolutions-APIG4', 'POST /v1/leaks is public by design (SPEC §11): possession of a leaked secret is the proof; limited per source address in the table and by method throttling.');
  }
  const github = api.methods.find((m) => m.resource.path === '/v1/secret-scanning/github' && m.httpMethod === 'POST');
  if (github) {
    ack(github, 'AwsSolutions-APIG4', "POST /v1/secret-scanning/github is GitHub's partner endpoint (SPEC §11): every request is authenticated by GitHub's ECDSA signature over the body, verified by the function; method throttling applies.");
  }

  const dashboard = service.dashboard;
  if (dashboard) {
    ack(dashboard.bucket, 'AwsSolutions-S1', 'The bucket holds only the public build output of the dashboard, rewritten by each deployment and served through CloudFront.');
    const d = dashboard.distribution;
    ack(d, 'AwsSolutions-CFR1', 'The dashboard serves customers anywhere; geo restriction is a deployment choice.');
    ack(d, 'AwsSolutions-CFR2', 'Static files only, no origin compute; attach a web ACL if your policy requires one.');
    ack(d, 'AwsSolutions-CFR3', 'Static public files only; API calls are logged by the API access logs. CloudFront standard logs need an ACL-enabled bucket.');
    ack(d, 'AwsSolutions-CFR4', 'The default *.cloudfront.net certificate lets CloudFront negotiate TLS 1.0+; a minimum of TLS 1.2 needs a custom domain and certificate.');
    // CDK's BucketDeployment provider is a stack-wide singleton that aws-cdk-lib defines.
    const stack = Stack.of(service);
    for (const c of stack.node.children) {
      if (!c.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      const provider = "aws-cdk-lib's BucketDeployment provider (copies the dashboard into its bucket at deploy time); its role and runtime are set by aws-cdk-lib.";
      ack(c, 'AwsSolutions-L1', `${provider} It runs only during deployments.`);
      ack(c, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', provider);
      for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
        ack(c, `AwsSolutions-IAM5[Action::${action}]`, `${provider} It reads the asset and replaces the dashboard bucket's objects.`);
      }
      ack(c, 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', `${provider} It reads the dashboard asset from the CDK bootstrap bucket.`);
      ack(c, `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(dashboard.bucket.node.defaultChild as never)}.Arn>/*]`, `${provider} It replaces every object of the dashboard bucket.`);
      ack(c, 'AwsSolutions-IAM5[Resource::*]', `${provider} cloudfront:CreateInvalidation supports no resource-level permissions.`);
    }
  }
}
