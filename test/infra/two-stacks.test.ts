import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { RekeyStack } from '../../infra/stack.js';
import { fakeDashboard, removeTempDirs, testApp } from './synth.js';

afterAll(removeTempDirs);

/** Properties that, when set, are account-wide physical names. */
const NAME_PROPS: Record<string, string> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Events::EventBus': 'Name',
  'AWS::Scheduler::ScheduleGroup': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudFront::ResponseHeadersPolicy': 'ResponseHeadersPolicyConfig.Name',
  'AWS::CloudFront::OriginAccessControl': 'OriginAccessControlConfig.Name',
};

function physicalNames(template: Template): string[] {
  const out: string[] = [];
  for (const r of Object.values((template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }).Resources)) {
    const prop = NAME_PROPS[r.Type];
    if (!prop) continue;
    const value = prop.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r.Properties);
    if (value !== undefined) out.push(`${r.Type} ${JSON.stringify(value)}`);
  }
  return out;
}

describe('two copies in one account', () => {
  const app = testApp();
  const dashboard = fakeDashboard();
  const a = new RekeyStack(app, 'RekeyBlue', { service: { senderEmail: 'blue@example.org', dashboardAssetPath: dashboard } });
  // Same construct ids, different stack name: the case a pipeline deploying `-c stackName=…` hits.
  const b = new RekeyStack(app, 'RekeyGreen', { stackName: 'rekey-green', service: { senderEmail: 'blue@example.org', createSenderIdentity: false, dashboardAssetPath: dashboard } });
  const assembly = app.synth();
  // Templates from the one synthesis (Template.fromStack would synthesize again).
  const ta = Template.fromJSON(assembly.getStackByName(a.stackName).template as Record<string, unknown>);
  const tb = Template.fromJSON(assembly.getStackByName(b.stackName).template as Record<string, unknown>);

  it('synthesize side by side in one app', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['RekeyBlue', 'rekey-green']);
  });

  it('share no physical name, and name only what must be known in advance', () => {
    const na = physicalNames(ta);
    const nb = physicalNames(tb);
    expect(na.filter((n) => nb.includes(n))).toEqual([]);
    // Only the timer function, the schedule group and the bus are named (the policy name is
    // not account-wide but set by CDK), and each name starts with its stack's name.
    expect(na.filter((n) => !n.startsWith('AWS::CloudFront')).map((n) => n.split(' ')[0]).sort()).toEqual(['AWS::Events::EventBus', 'AWS::Lambda::Function', 'AWS::Scheduler::ScheduleGroup']);
    for (const n of nb.filter((x) => !x.startsWith('AWS::CloudFront'))) expect(n).toContain('"rekey-green-');
  });

  it('name their APIs after their stacks, so each 5XX alarm watches its own copy', () => {
    const apiName = (t: Template) => Object.values(t.findResources('AWS::ApiGateway::RestApi'))[0]!.Properties.Name as string;
    const alarmApi = (t: Template) =>
      (Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: '5XXError' } }))[0]!.Properties.Dimensions as { Name: string; Value: unknown }[])
        .find((d) => d.Name === 'ApiName')!.Value;
    expect(apiName(ta)).toMatch(/^RekeyBlue-api-/);
    expect(apiName(tb)).toMatch(/^rekey-green-api-/);
    expect(alarmApi(ta)).toBe(apiName(ta));
    expect(alarmApi(tb)).toBe(apiName(tb));
  });

  it('lets the second copy reuse an SES identity the first one created', () => {
    ta.resourceCountIs('AWS::SES::EmailIdentity', 1);
    tb.resourceCountIs('AWS::SES::EmailIdentity', 0);
  });
});

describe('one stack name in two regions of one account', () => {
  const app = testApp();
  const dashboard = fakeDashboard();
  const service = { senderEmail: 'ops@example.org', dashboardAssetPath: dashboard };
  const east = new RekeyStack(app, 'East', { stackName: 'Rekey', env: { account: '123456789012', region: 'us-east-1' }, service });
  const west = new RekeyStack(app, 'West', { stackName: 'Rekey', env: { account: '123456789012', region: 'eu-west-1' }, service });
  const assembly = app.synth();
  const t = (s: RekeyStack) => Template.fromJSON(assembly.getStackArtifact(s.artifactId).template as Record<string, unknown>);
  const cloudFrontNames = (tmpl: Template) =>
    physicalNames(tmpl).filter((n) => n.startsWith('AWS::CloudFront'));

  it('give the account-global CloudFront names (response headers policy, origin access control) the region', () => {
    const e = cloudFrontNames(t(east));
    const w = cloudFrontNames(t(west));
    expect(e.map((n) => n.split(' ')[0]).sort()).toEqual(['AWS::CloudFront::OriginAccessControl', 'AWS::CloudFront::ResponseHeadersPolicy']);
    for (const n of e) expect(n).toMatch(/-us-east-1"$/);
    for (const n of w) expect(n).toMatch(/-eu-west-1"$/);
    expect(e.filter((n) => w.includes(n))).toEqual([]);
  });

  it('in an environment-agnostic stack the names join the deploy-time region', () => {
    const a = new RekeyStack(testApp(), 'Agnostic', { service: { senderEmail: 'ops@example.org', dashboardAssetPath: dashboard } });
    const names = cloudFrontNames(Template.fromStack(a));
    expect(names).toHaveLength(2);
    for (const n of names) expect(n).toContain('{"Ref":"AWS::Region"}');
  });
});
