import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { addNagChecks } from '../../infra/nag-checks.js';
import { RekeyStack } from '../../infra/stack.js';
import { fakeDashboard, removeTempDirs, testApp } from './synth.js';

afterAll(removeTempDirs);

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/** Synthesizes like `cdk synth` with cdk-nag, but collects findings instead of throwing. */
function nagReport(build: (app: ReturnType<typeof testApp>) => void): { report: Report; app: ReturnType<typeof testApp> } {
  const app = testApp({ '@aws-cdk/core:failSynthOnValidationErrors': false }, false, true);
  build(app);
  addNagChecks(app);
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
  return { report, app };
}

const findings = (report: Report) =>
  report.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${p.pluginName} ${v.ruleName} ${v.severity} ${c.constructPath}`)));

function acknowledgements(root: IConstruct): { id: string; reason: string; at: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason, at: c.node.path }))),
  );
}

describe('cdk-nag AwsSolutions and template validation', () => {
  const { report, app } = nagReport((a) => {
    new RekeyStack(a, 'Full', { service: { senderEmail: 'a@example.org', alarmEmails: ['ops@example.org'], dashboardAssetPath: fakeDashboard() } });
    new RekeyStack(a, 'Lean', { service: { senderEmail: 'b@example.org', dashboard: false, corsAllowedOrigin: 'https://portal.example.org' } });
  });

  it('reports no unacknowledged finding, from cdk-nag or CloudFormation validation, with or without the dashboard', () => {
    expect(findings(report)).toEqual([]);
  });

  it('gives every acknowledgement a specific reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(10);
    for (const a of acks) {
      expect(a.id, a.at).toMatch(/^(Annotation::)?AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(a.reason.length, `${a.id} at ${a.at}`).toBeGreaterThanOrEqual(40);
      expect(a.reason, a.id).not.toMatch(/TODO|not needed|n\/a/i);
    }
    // One reason is not pasted over unrelated rules.
    const rulesPerReason = new Map<string, Set<string>>();
    for (const a of acks) rulesPerReason.set(a.reason, (rulesPerReason.get(a.reason) ?? new Set()).add(a.id.replace(/^Annotation::/, '').replace(/\[.*$/, '')));
    for (const [reason, rules] of rulesPerReason) expect(rules.size, reason).toBe(1);
  });

  it('does catch a finding that nobody acknowledged (the check is live)', () => {
    const { report: bad } = nagReport((a) => {
      new sqs.Queue(new Stack(a, 'Bad'), 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    });
    expect(findings(bad)).toEqual(expect.arrayContaining([expect.stringMatching(/AwsSolutions-SQS4 error Bad\/Plain/)]));
  });
});
