/**
 * Shared synthesis for the infra tests: the app gets cdk.json's context (a unit-test `App` does not
 * read cdk.json) and skips esbuild bundling (`aws:cdk:bundling-stacks: []`, the same switch
 * `cdk synth --exclusively` uses), so ~18 functions synthesize in a second. Real bundling is covered
 * by bundling.test.ts. The dashboard is a temporary folder with an index.html.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { REPO_ROOT } from '../../infra/paths.js';

/** cdk.json's context, as `cdk synth` would pass it. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder this module created (call from `afterAll`). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temporary folder with a minimal built dashboard. */
export function fakeDashboard(): string {
  const dir = tempDir('rekey-dashboard-');
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>rekey</title><script type="module" src="./app.js"></script>');
  writeFileSync(path.join(dir, 'app.js'), 'document.title = "rekey";');
  return dir;
}

/** A fresh cloud assembly directory. */
export function outdir(): string {
  return tempDir('rekey-cdk-');
}

/**
 * An App configured like the standalone app, without bundling. CDK's built-in template validation
 * (a WASM engine, seconds per synth) runs only where asked for: nag.test.ts checks it.
 */
export function testApp(extra: AppProps['context'] = {}, bundle = false, validate = false): App {
  return new App({
    outdir: outdir(),
    builtinCloudFormationValidation: validate,
    context: {
      ...cdkJsonContext(),
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...extra,
    },
  });
}

type Json = Record<string, unknown>;
/** One IAM statement, actions normalised to an array. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown;
  readonly Condition?: Json;
  readonly Sid?: string;
}

/** Every statement of every inline policy attached to the role with this logical id. */
export function roleStatements(template: { Resources: Record<string, Json> }, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const props = r.Properties as { Roles: { Ref?: string }[]; PolicyDocument: { Statement: Json[] } };
    if (!props.Roles.some((ref) => ref.Ref === roleLogicalId)) continue;
    for (const s of props.PolicyDocument.Statement) {
      out.push({ ...(s as unknown as Statement), Action: ([] as string[]).concat(s.Action as string | string[]) });
    }
  }
  return out;
}

/** The set of actions a role may perform. */
export function roleActions(template: { Resources: Record<string, Json> }, roleLogicalId: string): string[] {
  return [...new Set(roleStatements(template, roleLogicalId).flatMap((s) => s.Action))].sort();
}
