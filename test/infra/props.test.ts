import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { RekeyStack } from '../../infra/stack.js';
import { ApiKeyService } from '../../infra/api-key-service.js';
import { settingsFromContext, PLACEHOLDER_SENDER, ContextError } from '../../infra/context.js';
import { fakeDashboard, removeTempDirs, testApp } from './synth.js';

afterAll(removeTempDirs);

/** One app, several small stacks: synthesized once below. */
const app = testApp();
const stackOf = (name: string) => new Stack(app, name);

const custom = stackOf('Custom');
const topic = new sns.Topic(custom, 'OpsTopic');
const customSvc = new ApiKeyService(custom, 'Keys', {
  senderEmail: 'notices@example.org',
  senderDomain: 'example.org',
  keyPrefix: 'acme',
  maxTransitionSeconds: 7 * 86_400,
  reminderLeadSeconds: 3_600,
  restoreWindowSeconds: 0,
  reactivationWindowSeconds: 600,
  maxKeyLifetimeSeconds: 180 * 86_400,
  expiryNoticeOffsets: [7 * 86_400, 86_400],
  authCacheTtlSeconds: 5,
  maxEmailsPerAccountPerDay: 50,
  auditRetentionDays: 400,
  dashboard: false,
  throttle: { rateLimit: 5, burstLimit: 10 },
  stageName: 'v',
  alarmTopic: topic,
  apiGatewayCloudWatchRole: false,
});

const consumer = stackOf('Consumer');
const consumerSvc = new ApiKeyService(consumer, 'Keys', { senderEmail: 'a@example.org', dashboard: false });
const theirRest = new apigw.RestApi(consumer, 'TheirRest');
theirRest.root.addMethod('GET', new apigw.MockIntegration(), {
  authorizer: consumerSvc.restApiAuthorizer(theirRest),
  authorizationType: apigw.AuthorizationType.CUSTOM,
});
const theirHttp = new apigwv2.HttpApi(consumer, 'TheirHttp');
theirHttp.addRoutes({ path: '/orders', methods: [apigwv2.HttpMethod.GET], integration: new HttpUrlIntegration('Orders', 'https://orders.example.org'), authorizer: consumerSvc.httpApiAuthorizer() });

const t = (s: Stack) => Template.fromJSON(assemblyTemplate(s));
const assembly = app.synth();
function assemblyTemplate(s: Stack): Record<string, unknown> {
  return assembly.getStackByName(s.stackName).template as Record<string, unknown>;
}
const envOf = (s: Stack, svc: ApiKeyService, name: keyof ApiKeyService['functions']) =>
  (t(s).toJSON() as { Resources: Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }> }).Resources[
    s.getLogicalId(svc.functions[name].node.defaultChild as never)
  ]!.Properties.Environment.Variables;

describe('construct props', () => {
  it('pass every policy to every function in the variables shared/config.ts reads', () => {
    for (const name of ['authorizer', 'rotateKey', 'timer'] as const) {
      expect(envOf(custom, customSvc, name)).toMatchObject({
        KEY_PREFIX: 'acme',
        MAX_TRANSITION_SECONDS: '604800',
        REMINDER_LEAD_SECONDS: '3600',
        RESTORE_WINDOW_SECONDS: '0',
        REACTIVATION_WINDOW_SECONDS: '600',
        MAX_KEY_LIFETIME_SECONDS: '15552000',
        EXPIRY_NOTICE_OFFSETS: '1w,1d',
        AUTH_CACHE_TTL_SECONDS: '5',
        MAX_EMAILS_PER_ACCOUNT_PER_DAY: '50',
        AUDIT_RETENTION_DAYS: '400',
        SENDER_EMAIL: 'notices@example.org',
      });
    }
  });

  it('skip the account-level API Gateway role when apiGatewayCloudWatchRole is false, and create it by default', () => {
    t(custom).resourceCountIs('AWS::ApiGateway::Account', 0);
    // The consumer's own RestApi makes one too (CDK's default), so find rekey's by its path.
    expect(customSvc.api.api.node.tryFindChild('Account')).toBeUndefined();
    expect(consumerSvc.api.api.node.tryFindChild('Account')).toBeDefined();
  });

  it('keep audit events forever by default, and apply auditRetentionDays through the table TTL attribute', () => {
    expect(envOf(consumer, consumerSvc, 'rotateKey').AUDIT_RETENTION_DAYS).toBe('0');
    expect(envOf(consumer, consumerSvc, 'timer').MAX_EMAILS_PER_ACCOUNT_PER_DAY).toBe('200');
    for (const s of [custom, consumer]) t(s).hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } });
    expect(() => new ApiKeyService(new Stack(testApp(), 'X'), 'K', { senderEmail: 'a@example.org', dashboard: false, auditRetentionDays: -1 })).toThrow(/AUDIT_RETENTION_DAYS/);
  });

  it('without the dashboard: no CloudFront, no CORS unless asked for', () => {
    const template = t(custom);
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(envOf(custom, customSvc, 'getKey').CORS_ALLOWED_ORIGIN).toBeUndefined();
    expect(envOf(custom, customSvc, 'getKey').DASHBOARD_URL).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS' }, 0);
  });

  it('apply throttling, stage name, the sender domain identity and an existing alarm topic', () => {
    const template = t(custom);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v',
      MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })]),
    });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.org' });
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms).length).toBeGreaterThan(0);
    for (const a of Object.values(alarms)) expect(a.Properties.AlarmActions).toEqual([{ Ref: custom.getLogicalId(topic.node.defaultChild as never) }]);
    template.resourceCountIs('AWS::SNS::Topic', 1);
  });

  it('refuse a bad policy at synth with the variable named', () => {
    expect(() => new ApiKeyService(new Stack(testApp(), 'X'), 'K', { senderEmail: 'a@example.org', dashboard: false, keyPrefix: 'Bad Prefix!' })).toThrow(/KEY_PREFIX/);
    expect(() => new ApiKeyService(new Stack(testApp(), 'X'), 'K', { senderEmail: 'a@example.org', dashboard: false, maxKeyLifetimeSeconds: 30 })).toThrow(/MAX_KEY_LIFETIME_SECONDS/);
  });

  it('refuse to deploy a dashboard that has not been built, saying how to build it', () => {
    expect(() => new ApiKeyService(new Stack(testApp(), 'X'), 'K', { senderEmail: 'a@example.org', dashboardAssetPath: '/nonexistent/dist' })).toThrow(
      /npm run dashboard:build/,
    );
    expect(() => new ApiKeyService(new Stack(testApp(), 'X'), 'K', { senderEmail: 'a@example.org', dashboardAssetPath: fakeDashboard() })).not.toThrow();
  });
});

describe('authorizer for consumer APIs', () => {
  const template = t(consumer);
  const authorizerArn = { 'Fn::GetAtt': [consumer.getLogicalId(consumerSvc.authorizerFunction.node.defaultChild as never), 'Arn'] };
  const restId = consumer.getLogicalId(theirRest.node.defaultChild as never);
  const httpId = consumer.getLogicalId(theirHttp.node.defaultChild as never);

  it('restApiAuthorizer protects a REST API with an uncached REQUEST authorizer it may invoke', () => {
    const authorizers = Object.values(template.findResources('AWS::ApiGateway::Authorizer')).filter((a) => JSON.stringify(a.Properties.RestApiId) === JSON.stringify({ Ref: restId }));
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]!.Properties).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    expect(authorizers[0]!.Properties.IdentitySource).toBeUndefined();
    template.hasResourceProperties('AWS::ApiGateway::Method', { RestApiId: { Ref: restId }, HttpMethod: 'GET', AuthorizationType: 'CUSTOM' });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: authorizerArn,
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: restId }])]) }),
    });
  });

  it('httpApiAuthorizer protects an HTTP API with payload 2.0 simple responses it may invoke', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: httpId },
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { ApiId: { Ref: httpId }, RouteKey: 'GET /orders', AuthorizationType: 'CUSTOM' });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: authorizerArn,
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: httpId }])]) }),
    });
  });
});

describe('authorizer for APIs in other stacks', () => {
  it('attaches to a REST and an HTTP API in another stack without a dependency cycle; the invoke permissions live in the consumer stack', () => {
    const app = testApp();
    const rekey = new RekeyStack(app, 'Keys', { service: { senderEmail: 'a@example.org', dashboard: false } });
    const orders = new Stack(app, 'Orders');
    const rest = new apigw.RestApi(orders, 'OrdersRest', { cloudWatchRole: false });
    rest.root.addMethod('GET', new apigw.MockIntegration(), { authorizer: rekey.service.restApiAuthorizer(rest), authorizationType: apigw.AuthorizationType.CUSTOM });
    const http = new apigwv2.HttpApi(orders, 'OrdersHttp');
    http.addRoutes({ path: '/orders', methods: [apigwv2.HttpMethod.GET], integration: new HttpUrlIntegration('Orders', 'https://orders.example.org'), authorizer: rekey.service.httpApiAuthorizer('RekeyAuthorizer', orders) });
    const assembly = app.synth(); // throws on a DependencyCycle
    const consumerTemplate = Template.fromJSON(assembly.getStackByName('Orders').template as Record<string, unknown>);
    const rekeyTemplate = Template.fromJSON(assembly.getStackByName('Keys').template as Record<string, unknown>);
    // Both permissions are in the consumer's stack, on rekey's authorizer function (an export of its ARN).
    const permissions = Object.values(consumerTemplate.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
    expect(permissions.length).toBeGreaterThanOrEqual(2);
    for (const p of permissions) expect(JSON.stringify(p.Properties.FunctionName)).toContain('Fn::ImportValue');
    // rekey's stack knows nothing of the consumer: no permission names its APIs.
    expect(JSON.stringify(rekeyTemplate.toJSON())).not.toContain('OrdersRest');
    expect(assembly.getStackByName('Keys').dependencies.map((d) => d.id)).not.toContain('Orders');
  });
});

describe('standalone app context', () => {
  const ctx = (values: Record<string, unknown>) => settingsFromContext((k) => values[k]);

  it('has working defaults and warns about the placeholder sender', () => {
    const s = ctx({});
    expect(s.stackName).toBe('Rekey');
    expect(s.service.senderEmail).toBe(PLACEHOLDER_SENDER);
    expect(s.warnings.join()).toMatch(/senderEmail/);
    expect(s.service.dashboard).toBeUndefined();
    expect(s.service.alarmEmails).toEqual([]);
  });

  it('reads -c strings into typed props', () => {
    const s = ctx({
      stackName: 'rekey-prod', senderEmail: 'keys@acme.io', alarmEmail: 'a@acme.io, b@acme.io', dashboard: 'false',
      maxTransitionSeconds: '3600', expiryNoticeOffsets: '7d,1d', maxKeyLifetimeSeconds: '0', throttleRateLimit: '20', logRetentionDays: '90',
    });
    expect(s).toMatchObject({ stackName: 'rekey-prod', warnings: [] });
    expect(s.service).toMatchObject({
      senderEmail: 'keys@acme.io', alarmEmails: ['a@acme.io', 'b@acme.io'], dashboard: false, maxTransitionSeconds: 3600,
      expiryNoticeOffsets: [604_800, 86_400], maxKeyLifetimeSeconds: 0, throttle: { rateLimit: 20 }, logRetention: 90,
    });
    expect(ctx({ expiryNoticeOffsets: '' }).service.expiryNoticeOffsets).toEqual([]);
  });

  it('names every bad setting at once', () => {
    expect(() => ctx({ maxTransitionSeconds: '3h', dashboard: 'yes', senderEmail: 'nope', logRetentionDays: '8' })).toThrow(ContextError);
    try {
      ctx({ maxTransitionSeconds: '3h', dashboard: 'yes', senderEmail: 'nope', logRetentionDays: '8' });
    } catch (e) {
      for (const key of ['maxTransitionSeconds', 'dashboard', 'senderEmail', 'logRetentionDays']) expect((e as Error).message).toContain(key);
    }
  });
});

