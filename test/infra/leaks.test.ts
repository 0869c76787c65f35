import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ApiKeyService, BUNDLED_KEYS_FILE } from '../../infra/api-key-service.js';
import { settingsFromContext } from '../../infra/context.js';
import { testApp } from './synth.js';

function keysFile(content?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-infra-keys-'));
  const file = join(dir, 'keys.json');
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
  writeFileSync(file, content ?? JSON.stringify({ public_keys: [{ key_identifier: 'staging-1', key: pem, is_current: true }] }));
  return file;
}

describe('leak routes in CDK (SPEC §11)', () => {
  it('secretScanningKeysFile names the bundled file in the GitHub function only; leakReportsPerMinute reaches every function', () => {
    const stack = new Stack(testApp(), 'LeakProps');
    const svc = new ApiKeyService(stack, 'Svc', { senderEmail: 'a@b.example', dashboard: false, secretScanningKeysFile: keysFile(), leakReportsPerMinute: 3 });
    const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const varsOf = (fn: keyof typeof svc.functions) =>
      (template.Resources[stack.getLogicalId(svc.functions[fn].node.defaultChild as never)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(varsOf('githubSecretScanning').SECRET_SCANNING_KEYS_FILE).toBe(`/var/task/${BUNDLED_KEYS_FILE}`);
    expect(varsOf('reportLeaks').SECRET_SCANNING_KEYS_FILE).toBeUndefined();
    expect(varsOf('reportLeaks').LEAK_REPORTS_PER_MINUTE).toBe('3');
  });

  it('refuses at synth a keys file that is not in GitHub format, and a zero leak limit', () => {
    expect(() => new ApiKeyService(new Stack(testApp(), 'BadKeys'), 'Svc', { senderEmail: 'a@b.example', dashboard: false, secretScanningKeysFile: keysFile('{"keys": []}') })).toThrow(
      /secretScanningKeysFile .*public_keys/,
    );
    expect(() => new ApiKeyService(new Stack(testApp(), 'BadLimit'), 'Svc', { senderEmail: 'a@b.example', dashboard: false, leakReportsPerMinute: 0 })).toThrow(
      /LEAK_REPORTS_PER_MINUTE/,
    );
  });

  it('the app reads both settings from context', () => {
    const s = settingsFromContext((k) => ({ leakReportsPerMinute: '7', secretScanningKeysFile: '/tmp/k.json' })[k as 'leakReportsPerMinute']);
    expect(s.service).toMatchObject({ leakReportsPerMinute: 7, secretScanningKeysFile: '/tmp/k.json' });
  });
});
