/**
 * The typed client and the fallback helper against local mode over real HTTP: every client method,
 * the SPEC §3 errors as typed values, and the rotation runbook of docs/integrating.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FallbackClient, RekeyApiError, RekeyClient, type Key } from '../../client/index.js';
import { buildOpenApi } from '../../shared/http/openapi.js';
import { ROUTE_LIST } from '../../shared/http/routes.js';
import { startLocal, type LocalInstance } from './harness.js';

let local: LocalInstance;
let admin: RekeyClient;
let adminKeyId: string;

/** Any error the promise rejects with, or a failure if it resolves. */
async function failure(p: Promise<unknown>): Promise<RekeyApiError> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(r, 'expected the call to fail').toBeInstanceOf(RekeyApiError);
  return r as RekeyApiError;
}

/** Polls until `fn` stops throwing (removals reach the authorizer within authCacheTtlSeconds). */
async function eventually(fn: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

beforeAll(async () => {
  // A short authorizer cache so removals (expire now, revoke) are seen within a second or so.
  local = await startLocal({ env: { AUTH_CACHE_TTL_SECONDS: '1' } });
  const created = await local.createAccount({ name: 'client e2e', alertEmails: ['ops@example.com'], allowScopes: ['reports:read'] });
  admin = new RekeyClient({ baseUrl: local.baseUrl, secret: created.secret });
  adminKeyId = created.key.id;
}, 60_000);

afterAll(async () => {
  await local?.dispose();
});

describe('RekeyClient against local mode', () => {
  it('getOpenApi fetches the document without a secret, and it has every route of the table', async () => {
    const anonymous = new RekeyClient({ baseUrl: local.baseUrl, secret: '' });
    const doc = (await anonymous.getOpenApi()) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const r of ROUTE_LIST) expect(doc.paths[r.path]?.[r.method.toLowerCase()]?.operationId).toBe(r.operationId);
    // Local mode runs with the default policies and names itself as the server.
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApi({ serverUrl: local.baseUrl }))));
  });

  it('whoami names the key and the current slot; getAccount and putAlertEmails read and replace the account', async () => {
    const me = await admin.whoami();
    expect(me).toMatchObject({ keyId: adminKeyId, environment: 'live', slot: 'current' });
    expect(me.scopes).toEqual(expect.arrayContaining(['keys:read', 'keys:write']));

    const { account } = await admin.getAccount();
    expect(account.name).toBe('client e2e');
    expect(account.alertEmails).toEqual(['ops@example.com']);
    // Addresses added through the API wait for their confirmation (SPEC §10); the one left out is removed.
    const updated = await admin.putAlertEmails({ alertEmails: ['a@example.com', 'b@example.com'] });
    expect(updated.account.alertEmails).toEqual([]);
    expect(updated.account.pendingEmails).toEqual(['a@example.com', 'b@example.com']);
    expect((await admin.getAccount()).account.pendingEmails).toEqual(['a@example.com', 'b@example.com']);
  });

  let worker: Key;
  let workerSecret: string;

  it('createKey returns the key and its secret once; the secret authenticates', async () => {
    const created = await admin.createKey({ name: 'worker', scopes: ['reports:read'] });
    worker = created.key;
    workerSecret = created.secret;
    expect(worker).toMatchObject({ name: 'worker', environment: 'live', status: 'active', scopes: ['reports:read'], rotation: null, previousSecret: null });
    expect(workerSecret).toMatch(/^rekey_live_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$/);
    const me = await new RekeyClient({ baseUrl: local.baseUrl, secret: workerSecret }).whoami();
    expect(me).toMatchObject({ keyId: worker.id, slot: 'current', scopes: ['reports:read'] });
  });

  it('getKey, updateKey and listKeys (with paging) see the key', async () => {
    expect((await admin.getKey(worker.id)).key.id).toBe(worker.id);
    const renamed = await admin.updateKey(worker.id, { name: 'worker-2' });
    expect(renamed.key.name).toBe('worker-2');

    const first = await admin.listKeys({ limit: 1 });
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]!.id).toBe(worker.id); // newest first
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await admin.listKeys({ limit: 1, cursor: first.nextCursor! });
    expect(second.keys.map((k) => k.id)).toEqual([adminKeyId]);
    const all: string[] = [];
    for await (const k of admin.iterateKeys(1)) all.push(k.id);
    expect(all).toEqual([worker.id, adminKeyId]);
  });

  let newSecret: string;

  it('rotateKey issues a new secret; both work during the window; a second rotate is 409 rotation_in_progress', async () => {
    const rotated = await admin.rotateKey(worker.id, { oldKeyExpiresInSeconds: 3600 });
    newSecret = rotated.secret;
    expect(newSecret).not.toBe(workerSecret);
    expect(rotated.key.id).toBe(worker.id);
    expect(rotated.key.rotation).toMatchObject({ state: 'in_progress' });
    expect(rotated.key.previousSecret).not.toBeNull();

    const viaNew = await new RekeyClient({ baseUrl: local.baseUrl, secret: newSecret }).whoami();
    const viaOld = await new RekeyClient({ baseUrl: local.baseUrl, secret: workerSecret }).whoami();
    expect([viaNew.slot, viaOld.slot]).toEqual(['current', 'previous']);

    const err = await failure(admin.rotateKey(worker.id));
    expect(err).toMatchObject({ status: 409, code: 'rotation_in_progress' });
    expect(err.isConflict()).toBe(true);
    expect(err.requestId).not.toBe('');
  });

  it("FallbackClient uses the active secret when it works, and reports 'old' when only the old one does", async () => {
    const deployed = new FallbackClient({ baseUrl: local.baseUrl, keys: { active: newSecret, old: workerSecret } });
    const a = await deployed.call((c) => c.whoami());
    expect(a).toMatchObject({ used: 'active', result: { slot: 'current' } });

    // A well-formed secret of this deployment that was never issued: rejected with 401.
    const unknown = `rekey_live_${'Z'.repeat(16)}_${'Z'.repeat(49)}`;
    let alerted = 0;
    const stale = new FallbackClient({ baseUrl: local.baseUrl, keys: { active: unknown, old: newSecret }, onOldKeyUsed: () => alerted++ });
    const b = await stale.call((c) => c.whoami());
    expect(b.used).toBe('old');
    expect(b.result.keyId).toBe(worker.id);
    expect(alerted).toBe(1);
  });

  it('updateRotation with 0 expires the old secret; the old one then gets 401', async () => {
    const { key } = await admin.updateRotation(worker.id, { oldKeyExpiresInSeconds: 0 });
    expect(key.rotation?.state).toBe('completed');
    await eventually(async () => {
      const err = await failure(new RekeyClient({ baseUrl: local.baseUrl, secret: workerSecret }).whoami());
      expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
    });
    const err = await failure(admin.updateRotation(worker.id, { oldKeyExpiresInSeconds: 60 }));
    expect(err.code).toBe('no_rotation_in_progress');
  });

  it('cancelRotation restores the expired old secret within the restore window; a second cancel is 409 nothing_to_cancel', async () => {
    const { key } = await admin.cancelRotation(worker.id);
    expect(key.rotation?.state).toBe('cancelled');
    const me = await new RekeyClient({ baseUrl: local.baseUrl, secret: workerSecret }).whoami();
    expect(me.slot).toBe('current');
    expect((await failure(admin.cancelRotation(worker.id, { newKeyExpiresInSeconds: 0 }))).code).toBe('nothing_to_cancel');
  });

  it('listKeyEvents returns the audit trail newest first, with paging', async () => {
    const { events, nextCursor } = await admin.listKeyEvents(worker.id, { limit: 100 });
    expect(nextCursor).toBeNull();
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('api_key.rotation_cancelled');
    expect(types).toEqual(expect.arrayContaining(['api_key.created', 'api_key.updated', 'api_key.rotated', 'api_key.rotation_updated']));
    expect(events.every((e) => typeof e.at === 'string' && 'actorKeyId' in e)).toBe(true);
    const page = await admin.listKeyEvents(worker.id, { limit: 1 });
    expect(page.events).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('revokeKey stops the key (idempotently); reactivateKey restores it; reactivating an active key is 409 key_not_revoked', async () => {
    expect((await admin.revokeKey(worker.id)).key.status).toBe('revoked');
    expect((await admin.revokeKey(worker.id)).key.status).toBe('revoked');
    await eventually(async () => {
      expect((await failure(new RekeyClient({ baseUrl: local.baseUrl, secret: workerSecret }).whoami())).code).toBe('unauthorized');
    });
    const { key } = await admin.reactivateKey(worker.id);
    expect(key.status).toBe('active');
    expect((await new RekeyClient({ baseUrl: local.baseUrl, secret: workerSecret }).whoami()).keyId).toBe(worker.id);
    expect((await failure(admin.reactivateKey(worker.id))).code).toBe('key_not_revoked');
  });
});

describe('SPEC §3 errors as typed RekeyApiError values', () => {
  it('401 unauthorized for a wrong secret', async () => {
    const err = await failure(new RekeyClient({ baseUrl: local.baseUrl, secret: 'nope' }).getAccount());
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('400 validation_error with details for an unknown field', async () => {
    const err = await failure(admin.createKey({ name: 'x', colour: 'red' } as never));
    expect(err).toMatchObject({ status: 400, code: 'validation_error' });
    expect(err.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'colour' })]));
  });

  it('404 not_found for a key that is not in the account', async () => {
    expect(await failure(admin.getKey('AAAAAAAAAAAAAAAA'))).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('403 forbidden for a read-only key that writes', async () => {
    const { secret } = await admin.createKey({ name: 'reader', scopes: ['keys:read'] });
    const reader = new RekeyClient({ baseUrl: local.baseUrl, secret });
    expect((await reader.listKeys()).keys.length).toBeGreaterThan(0);
    expect(await failure(reader.createKey({ name: 'y' }))).toMatchObject({ status: 403, code: 'forbidden' });
  });
});

describe('client/examples', () => {
  it('the standalone example runs under tsx from a folder outside the repository as .mts; as .ts it fails on top-level await, as the docs say', async () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const { secret } = await admin.createKey({ name: 'example script', scopes: ['keys:read'] });
    // Outside any package with "type": "module", importing the client by absolute URL.
    const dir = mkdtempSync(join(tmpdir(), 'rekey-example-'));
    try {
      const source = readFileSync(join(root, 'client', 'examples', 'whoami.mts'), 'utf8').replace("'../index.js'", `'${pathToFileURL(join(root, 'client', 'index.ts')).href}'`);
      const run = (file: string) => {
        writeFileSync(join(dir, file), source);
        return spawnSync(process.execPath, ['--import', pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(dir, file)], {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, REKEY_URL: local.baseUrl, REKEY_API_KEY: secret },
          timeout: 30_000,
        });
      };
      const ok = run('whoami.mts');
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ used: 'active', slot: 'current', environment: 'live' });
      const cjs = run('whoami.ts');
      expect(cjs.status).not.toBe(0);
      expect(cjs.stderr).toMatch(/Top-level await is currently not supported with the "?cjs"? output format/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
