/**
 * The construct as a library (SPEC §5): `npm pack` (which runs `prepack`, building the function
 * bundles, the dashboard, the CDK code and its types into dist/) → a CDK app in a temporary folder
 * installs the tarball offline → `node app.mjs` synthesizes rekey with the dashboard on, and
 * attaches its authorizer to a REST API in another stack. Nothing is written into the repository
 * but dist/ (git-ignored); the tarball, the app and its cloud assembly live in a temporary folder.
 *
 * aws-cdk-lib and constructs are the peer dependencies: the app links the repository's installed
 * copies (`file:` dependencies are symlinks) instead of unpacking aws-cdk-lib again, which is what
 * a consumer's own copies would be. zod, the package's one dependency (its declarations name zod
 * types), is linked the same way: `npm ci` caches tarballs but not the registry metadata an offline
 * install needs to resolve a range, so the app's own zod satisfies rekey's range instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/paths.js';
import { DEPLOYED_ENTRIES } from '../../shared/http/routes.js';

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, string> };
type Template = { Resources: Record<string, Resource> };

const APP = `
import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ApiKeyService } from 'rekey';

// Template validation (a WASM engine, seconds) is not what this test is about.
const app = new App({ outdir: process.argv[2], builtinCloudFormationValidation: false, context: { 'aws:cdk:enable-asset-metadata': true } });
const env = { account: '111111111111', region: 'eu-west-1' };
const service = new ApiKeyService(new Stack(app, 'Rekey', { env }), 'Keys', { senderEmail: 'keys@example.org' });
const orders = new Stack(app, 'Orders', { env });
const api = new apigw.RestApi(orders, 'OrdersApi', { cloudWatchRole: false });
api.root.addMethod('GET', new apigw.MockIntegration(), { authorizer: service.restApiAuthorizer(orders) });
app.synth();
`;

let work: string;
let tarball: string;
let out: string;
let rekey: Template;
let orders: Template;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_json: 'false', npm_config_audit: 'false', npm_config_fund: 'false' } });
}

function ofType(t: Template, type: string): [string, Resource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'rekey-pack-'));
  run('npm', ['pack', '--silent', '--pack-destination', work], REPO_ROOT);
  tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);

  const app = path.join(work, 'app');
  mkdirSync(app);
  const link = (name: string) => `file:${path.join(REPO_ROOT, 'node_modules', name)}`;
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'aws-cdk-lib': link('aws-cdk-lib'), constructs: link('constructs'), zod: link('zod') } }));
  writeFileSync(path.join(app, 'app.mjs'), APP);
  run('npm', ['install', '--offline', '--no-save', tarball], app);
  out = path.join(work, 'cdk.out');
  run('node', ['app.mjs', out], app);
  rekey = JSON.parse(readFileSync(path.join(out, 'Rekey.template.json'), 'utf8')) as Template;
  orders = JSON.parse(readFileSync(path.join(out, 'Orders.template.json'), 'utf8')) as Template;
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack → install in another folder → synth', () => {
  it('is an installable package: not private, with peers, and only zod (named by its declarations) to fetch', () => {
    const pkg = JSON.parse(readFileSync(path.join(work, 'app/node_modules/rekey/package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.private).toBeUndefined();
    expect(Object.keys(pkg.peerDependencies as object).sort()).toEqual(['aws-cdk-lib', 'cdk-nag', 'constructs']);
    expect(Object.keys(pkg.dependencies as object)).toEqual(['zod']);
    // Only the peers and zod are in the app besides rekey: the bundles carry everything else.
    expect(readdirSync(path.join(work, 'app/node_modules')).filter((n) => !n.startsWith('.')).sort()).toEqual(['aws-cdk-lib', 'constructs', 'rekey', 'zod']);
    expect(existsSync(path.join(work, 'app/node_modules/rekey/dist/types/infra/index.d.ts'))).toBe(true);
    expect(statSync(tarball).size).toBeGreaterThan(0);
  });

  it('synthesizes the management API, its authorizer and the dashboard', () => {
    expect(ofType(rekey, 'AWS::ApiGateway::RestApi')).toHaveLength(1);
    expect(ofType(rekey, 'AWS::ApiGateway::Authorizer')).toHaveLength(1);
    expect(ofType(rekey, 'AWS::S3::Bucket')).toHaveLength(1);
    expect(ofType(rekey, 'AWS::CloudFront::Distribution')).toHaveLength(1);
    expect(ofType(rekey, 'Custom::CDKBucketDeployment')).toHaveLength(1);
  });

  it('ships the dashboard build as an asset', () => {
    const manifest = JSON.parse(readFileSync(path.join(out, 'Rekey.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const dirs = Object.values(manifest.files).map((f) => path.join(out, f.source.path));
    const dashboard = dirs.find((d) => existsSync(path.join(d, 'index.html')));
    expect(dashboard).toBeDefined();
    expect(readFileSync(path.join(dashboard!, 'index.html'), 'utf8')).toMatch(/<script type="module"[^>]* src="\.\/assets\/[^"]+\.js"/);
  });

  it('gives every function its prebuilt bundle as a code asset', () => {
    // RekeyFunction descriptions start with "rekey " (CDK's own custom resource handlers do not).
    const ours = ofType(rekey, 'AWS::Lambda::Function').filter(([, r]) => String(r.Properties!.Description).startsWith('rekey '));
    // One per route outside /admin, one for the whole admin API, one per trigger.
    expect(ours).toHaveLength(DEPLOYED_ENTRIES.length);
    for (const [, fn] of ours) {
      expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      const code = fn.Properties!.Code as { S3Key: string };
      expect(code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
      const asset = path.join(out, fn.Metadata!['aws:asset:path']!);
      const bundle = readFileSync(path.join(asset, 'index.mjs'), 'utf8');
      expect(bundle.startsWith("import { createRequire as __rekeyCreateRequire } from 'node:module';")).toBe(true);
      expect(existsSync(path.join(asset, 'index.mjs.map'))).toBe(true);
    }
  });

  it('attaches the authorizer to an API in another stack, the invoke permission in that stack', () => {
    expect(ofType(orders, 'AWS::ApiGateway::Authorizer')).toHaveLength(1);
    const [[, permission]] = ofType(orders, 'AWS::Lambda::Permission') as [[string, Resource]];
    expect(permission.Properties!.Principal).toBe('apigateway.amazonaws.com');
    expect(ofType(orders, 'AWS::Lambda::Function')).toHaveLength(0);
  });
});
