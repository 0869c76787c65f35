/**
 * The local store's guard (SPEC §6) in-process: dynalite served only to requests signed with the
 * store key, no cross-origin request, no CORS header; LevelDB still flushed by close().
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../shared/adapters/tableAdmin.js';
import { startDynalite } from '../../shared/local/dynalite.js';
import { makePrivate } from '../../shared/local/instance.js';
import { ensureStoreKey, readStoreKey } from '../../shared/local/storeKey.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rekey-guard-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('local store guard', () => {
  it('serves only requests signed with the store key, refuses browsers, and keeps data across a restart', async () => {
    const dataDir = tempDir();
    const key = ensureStoreKey(dataDir);
    expect(statSync(join(dataDir, 'store.json')).mode & 0o777).toBe(0o600);
    expect(ensureStoreKey(dataDir)).toEqual(key); // generated once
    const path = join(dataDir, 'dynamo');
    let dynamo = await startDynalite(path, { key });
    const x = { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' };

    const unsigned = await fetch(dynamo.endpoint, { method: 'POST', headers: x, body: '{}' });
    expect([unsigned.status, (await unsigned.json()).__type]).toEqual([400, expect.stringContaining('MissingAuthenticationToken')]);
    const health = await fetch(dynamo.endpoint); // dynalite's own GET health check is guarded too
    expect(health.status).toBe(400);
    await health.arrayBuffer();
    const browser = await fetch(dynamo.endpoint, { method: 'POST', headers: { ...x, origin: 'http://127.0.0.1:3000' }, body: '{}' });
    expect([browser.status, browser.headers.get('access-control-allow-origin')]).toEqual([403, null]);
    await browser.arrayBuffer();
    const wrong = new DynamoDBClient({ endpoint: dynamo.endpoint, region: key.region, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: 'y'.repeat(40) }, maxAttempts: 1 });
    await expect(wrong.send(new ListTablesCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    wrong.destroy();
    const otherRegion = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'eu-west-1', credentials: key, maxAttempts: 1 });
    await expect(otherRegion.send(new ListTablesCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    otherRegion.destroy();

    expect(await ensureTable(dynamo.endpoint, 'rekey-guarded', key)).toBe(true);
    await dynamo.close();
    dynamo = await startDynalite(path, { key });
    expect(await ensureTable(dynamo.endpoint, 'rekey-guarded', key)).toBe(false); // still there after close/reopen
    const own = new DynamoDBClient({ endpoint: dynamo.endpoint, region: key.region, credentials: key, maxAttempts: 1 });
    const listed = await own.send(new ListTablesCommand({}));
    expect(listed.TableNames).toEqual(['rekey-guarded']);
    own.destroy();
    await dynamo.close();
  });

  it('refuses to use a damaged store key rather than replace it', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'store.json'), '{"accessKeyId":"x"}');
    expect(() => readStoreKey(dataDir)).toThrow(/not a valid store key/);
    expect(() => ensureStoreKey(dataDir)).toThrow(/not a valid store key/);
  });

  it('makes a data directory private: directories 0700, files 0600, symbolic links untouched', () => {
    const dataDir = tempDir();
    const outside = join(tempDir(), 'outside.txt');
    writeFileSync(outside, 'not ours', { mode: 0o644 });
    chmodSync(outside, 0o644);
    mkdirSync(join(dataDir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dataDir, 'a', 'b', 'f'), 'x');
    chmodSync(join(dataDir, 'a', 'b', 'f'), 0o666);
    chmodSync(join(dataDir, 'a'), 0o755);
    chmodSync(dataDir, 0o755);
    symlinkSync(outside, join(dataDir, 'link'));
    makePrivate(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'a', 'b', 'f')).mode & 0o777).toBe(0o600);
    expect(statSync(outside).mode & 0o777).toBe(0o644);
  });
});
