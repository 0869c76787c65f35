import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RekeyFunction } from '../../infra/function.js';
import { FUNCTION_ENTRIES } from '../../shared/http/routes.js';
import { removeTempDirs, testApp } from './synth.js';

afterAll(removeTempDirs);

// The other infra tests skip bundling for speed; this one bundles the authorizer for real, with the
// local esbuild (no Docker), exactly as `cdk synth` does, and runs the bundle.
describe('function bundling', () => {
  const app = testApp({ 'aws:cdk:enable-asset-metadata': true }, true);
  const stack = new Stack(app, 'Bundle');
  const fn = new RekeyFunction(stack, 'Authorizer', { entry: FUNCTION_ENTRIES.authorizer, description: 'bundling test', environment: {} });
  const assembly = app.synth();
  const template = assembly.getStackByName('Bundle').template as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
  const logicalId = stack.getLogicalId(fn.function.node.defaultChild as never);
  const assetDir = path.join(assembly.directory, template.Resources[logicalId]!.Metadata!['aws:asset:path']!);

  it('produces a minified ESM bundle with a source map and a require shim', () => {
    const code = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
    expect(code.startsWith("import { createRequire as __rekeyCreateRequire } from 'node:module';")).toBe(true);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    // Minified: long lines (multi-line string literals keep a few line breaks).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  });

  it('the bundle loads and denies a request without a valid secret', async () => {
    const mod = (await import(pathToFileURL(path.join(assetDir, 'index.mjs')).href)) as { handler: (e: unknown) => Promise<unknown> };
    // No environment here, so the bundle counts a configuration failure and reports it as EMF lines
    // on stdout right after the instance's first request, as it would in Lambda: captured and
    // asserted, so a passing run prints no failure-looking lines.
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => lines.push(String(chunk)) > 0) as never);
    try {
      await expect(
        mod.handler({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/v1/whoami', headers: { authorization: 'Bearer nope' } }),
      ).rejects.toThrow('Unauthorized');
      await expect(mod.handler({ version: '2.0', type: 'REQUEST', routeArn: 'arn:x', headers: {} })).resolves.toEqual({ isAuthorized: false });
      await new Promise((r) => setImmediate(r)); // the report is written after the answer
    } finally {
      spy.mockRestore();
    }
    const reports = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(reports[0]).toMatchObject({ StoreFailures: 2, Denied: 2, Allowed: 0, Service: 'authorizer', errorName: 'ConfigError' });
    expect(reports.slice(1)).toEqual([expect.objectContaining({ Service: 'authorizer', Reason: 'store_error', Denied: 2 })]);
  });
});
