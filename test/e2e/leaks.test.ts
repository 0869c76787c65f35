/**
 * SPEC §11 end to end against local mode: GitHub's partner endpoint with a P-256 key pair made here
 * and a keys file, the public leak report, the operator CLI, and what the customer sees afterwards.
 */
import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticKeyId, deriveIdKey, generateSecret, newKeyIdRandom } from '../../shared/domain/keyFormat.js';
import { startLocal, type CreatedAccount, type LocalInstance } from './harness.js';

const KEY_ID = 'e2e-github-key-1';
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const LIMIT = 4;

let inst: LocalInstance;
let admin: CreatedAccount;
let notifyAdmin: CreatedAccount;
const reported: string[] = [];
// Answers are checked field by field below; their shapes are the API's (openapi.json).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rekey-gh-keys-'));
  const keysFile = join(dir, 'secret_scanning.json');
  writeFileSync(
    keysFile,
    JSON.stringify({ public_keys: [{ key_identifier: KEY_ID, key: pair.publicKey.export({ type: 'spki', format: 'pem' }), is_current: true }] }),
  );
  inst = await startLocal({ env: { SECRET_SCANNING_KEYS_FILE: keysFile, LEAK_REPORTS_PER_MINUTE: String(LIMIT) } });
  admin = await inst.createAccount({ name: 'Leaky Ltd', alertEmails: ['sec@leaky.example'] });
  const r = await inst.admin(['create-account', '--name', 'Careful Co', '--alert-email', 'sec@careful.example', '--leak-response', 'notify', '--json']);
  expect(r.code, r.stderr).toBe(0);
  notifyAdmin = JSON.parse(r.stdout) as CreatedAccount;
}, 60_000);

afterAll(async () => {
  await inst?.dispose();
});

async function api(path: string, init: { method?: string; secret?: string; body?: unknown } = {}) {
  const res = await fetch(`${inst.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.secret ? { authorization: `Bearer ${init.secret}` } : {}), 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

async function newKey(owner: CreatedAccount, name: string) {
  const r = await api('/v1/keys', { method: 'POST', secret: owner.secret, body: { name } });
  expect(r.status).toBe(201);
  return { id: r.body.key.id as string, secret: r.body.secret as string, hint: r.body.key.currentSecret.hint as string };
}

const signBody = (body: Buffer, key: KeyObject = pair.privateKey) => sign('sha256', body, { key, dsaEncoding: 'der' }).toString('base64');

async function github(body: Buffer, headers: Record<string, string>) {
  const res = await fetch(`${inst.baseUrl}/v1/secret-scanning/github`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as Json };
}

const batch = (tokens: string[]) =>
  Buffer.from(JSON.stringify(tokens.map((token) => ({ token, type: 'rekey_api_key', url: 'https://github.com/octo/app/blob/1a2b/.env', source: 'content' }))));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function eventsOf(id: string, secret = admin.secret) {
  return (await api(`/v1/keys/${id}/events?limit=100`, { secret })).body.events as { type: string; data: Record<string, unknown> }[];
}

describe('GitHub secret scanning endpoint (local mode, keys file, P-256 pair made here)', () => {
  it('refuses a missing header, an unknown key id, a wrong signature and a re-serialized body with 401, changing nothing', async () => {
    const victim = await newKey(admin, 'victim');
    reported.push(victim.secret);
    const body = batch([victim.secret]);
    const good = signBody(body);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
    const attempts = [
      await github(body, {}),
      await github(body, { 'Github-Public-Key-Signature': good }),
      await github(body, { 'Github-Public-Key-Identifier': KEY_ID }),
      await github(body, { 'Github-Public-Key-Identifier': 'some-other-key', 'Github-Public-Key-Signature': good }),
      await github(body, { 'Github-Public-Key-Identifier': KEY_ID, 'Github-Public-Key-Signature': signBody(body, stranger.privateKey) }),
      await github(body, { 'Github-Public-Key-Identifier': KEY_ID, 'Github-Public-Key-Signature': 'bm90IGEgc2lnbmF0dXJl' }),
      await github(reserialized, { 'Github-Public-Key-Identifier': KEY_ID, 'Github-Public-Key-Signature': good }),
    ];
    for (const a of attempts) {
      expect(a.status).toBe(401);
      expect(a.body.error.code).toBe('unauthorized');
    }
    const key = (await api(`/v1/keys/${victim.id}`, { secret: admin.secret })).body.key;
    expect(key.status).toBe('active');
    expect((await eventsOf(victim.id)).map((e) => e.type)).toEqual(['api_key.created']);
    expect((await api('/v1/whoami', { secret: victim.secret })).status).toBe(200);
  });

  it('a signed batch labels valid secrets true_positive and acts per policy; the same batch again changes nothing', async () => {
    const current = await newKey(admin, 'leaked-current');
    const rotatedKey = await newKey(admin, 'leaked-previous');
    const rot = await api(`/v1/keys/${rotatedKey.id}/rotate`, { method: 'POST', secret: admin.secret, body: { oldKeyExpiresInSeconds: 7200 } });
    expect(rot.status).toBe(200);
    const notified = await newKey(notifyAdmin, 'told-only');
    const unknownId = generateSecret('rekey', 'live', 'ZZZZZZZZZZZZZZZZ');
    const tokens = [current.secret, rotatedKey.secret, 'ghp_notoursatall', notified.secret, unknownId];
    reported.push(current.secret, rotatedKey.secret, notified.secret, rot.body.secret);
    const body = batch(tokens);
    const headers = { 'Github-Public-Key-Identifier': KEY_ID, 'Github-Public-Key-Signature': signBody(body) };

    const first = await github(body, headers);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(
      tokens.map((t, i) => ({ token_hash: sha256(t), token_type: 'rekey_api_key', label: [0, 1, 3].includes(i) ? 'true_positive' : 'false_positive' })),
    );

    const k1 = (await api(`/v1/keys/${current.id}`, { secret: admin.secret })).body.key;
    expect(k1).toMatchObject({ status: 'revoked', revokedReason: 'exposed', reactivatableUntil: null });
    const re = await api(`/v1/keys/${current.id}/reactivate`, { method: 'POST', secret: admin.secret });
    expect(re.status).toBe(409);
    expect(re.body.error.code).toBe('key_exposed');
    expect((await api('/v1/whoami', { secret: current.secret })).status).toBe(401);

    const k2 = (await api(`/v1/keys/${rotatedKey.id}`, { secret: admin.secret })).body.key;
    expect(k2.status).toBe('active');
    expect(k2.rotation.state).toBe('completed');
    expect((await api('/v1/whoami', { secret: rotatedKey.secret })).status).toBe(401);
    expect((await api('/v1/whoami', { secret: rot.body.secret })).status).toBe(200);

    const k3 = (await api(`/v1/keys/${notified.id}`, { secret: notifyAdmin.secret })).body.key;
    expect(k3.status).toBe('active');
    expect((await api('/v1/whoami', { secret: notified.secret })).status).toBe(200);

    const exposed = (await eventsOf(current.id)).filter((e) => e.type === 'api_key.exposed');
    expect(exposed).toHaveLength(1);
    expect(exposed[0]!.data).toMatchObject({ slot: 'current', action: 'revoked', source: 'github_secret_scanning', url: 'https://github.com/octo/app/blob/1a2b/.env' });
    expect((await eventsOf(notified.id, notifyAdmin.secret)).find((e) => e.type === 'api_key.exposed')!.data.action).toBe('notified');
    const published = readFileSync(join(inst.dataDir, 'events.jsonl'), 'utf8');
    expect(published.match(/"detailType":"api_key\.exposed"/g)).toHaveLength(3);

    const again = await github(body, headers);
    expect(again.body).toEqual(first.body);
    expect((await eventsOf(current.id)).filter((e) => e.type === 'api_key.exposed')).toHaveLength(1);
    expect(readFileSync(join(inst.dataDir, 'events.jsonl'), 'utf8').match(/"detailType":"api_key\.exposed"/g)).toHaveLength(3);

    const mails = () => (existsSync(join(inst.dataDir, 'outbox')) ? readdirSync(join(inst.dataDir, 'outbox')) : []).map((f) => readFileSync(join(inst.dataDir, 'outbox', f), 'utf8'));
    await expect.poll(() => mails().filter((m) => m.includes('was leaked')).length, { timeout: 5_000 }).toBe(3);
  });

  it('answers a batch of 1,000 tokens well within 30 s', async () => {
    const valid = await Promise.all(Array.from({ length: 10 }, (_, i) => newKey(admin, `bulk-${i}`)));
    reported.push(...valid.map((v) => v.secret));
    const tokens: string[] = [];
    for (const v of valid) tokens.push(v.secret, v.secret); // each twice: acted on once
    // The rest are ids this deployment could have issued (valid tag, minted with its pepper's id key)
    // that the table does not hold: the worst case, one read each.
    const idKey = deriveIdKey(readFileSync(join(inst.dataDir, 'pepper')));
    while (tokens.length < 1000) tokens.push(generateSecret('rekey', 'live', authenticKeyId(idKey, newKeyIdRandom())));
    const body = batch(tokens);
    const started = performance.now();
    const res = await github(body, { 'Github-Public-Key-Identifier': KEY_ID, 'Github-Public-Key-Signature': signBody(body) });
    const ms = performance.now() - started;
    console.info(`[leaks e2e] 1,000-token GitHub batch answered in ${Math.round(ms)} ms`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1000);
    expect(res.body.filter((r: { label: string }) => r.label === 'true_positive')).toHaveLength(20);
    expect(ms).toBeLessThan(20_000);
    for (const v of valid) expect((await api(`/v1/keys/${v.id}`, { secret: admin.secret })).body.key.revokedReason).toBe('exposed');
  }, 60_000);
});

describe('POST /v1/leaks, the CLI, and what never leaks', () => {
  it('anyone can report a secret: hint and outcome per secret; bad input is a 400', async () => {
    const k = await newKey(admin, 'found-by-a-stranger');
    reported.push(k.secret);
    const r = await api('/v1/leaks', { method: 'POST', body: { secrets: [k.secret, 'whatever'] } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ hint: k.hint, outcome: 'revoked' }, { hint: '…ever', outcome: 'unknown' }] });
    const exposed = (await eventsOf(k.id)).find((e) => e.type === 'api_key.exposed')!;
    expect(exposed.data).toMatchObject({ source: 'leak_report', url: null });
    const tooMany = await api('/v1/leaks', { method: 'POST', body: { secrets: Array(101).fill('x') } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0].field).toBe('secrets');
  });

  it('the operator CLI sets leakResponse and reports a leak', async () => {
    const k = await newKey(admin, 'cli-reported');
    reported.push(k.secret);
    const upd = await inst.admin(['update-account', '--account', notifyAdmin.account.id, '--leak-response', 'revoke', '--json']);
    expect(upd.code, upd.stderr).toBe(0);
    expect(JSON.parse(upd.stdout).account.leakResponse).toBe('revoke');
    expect((await api('/v1/account', { secret: notifyAdmin.secret })).body.account.leakResponse).toBe('revoke');
    const rep = await inst.admin(['report-leak', '--secret', k.secret, '--json']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(JSON.parse(rep.stdout)).toEqual({ results: [{ hint: k.hint, outcome: 'revoked' }] });
    const bad = await inst.admin(['update-account', '--account', admin.account.id, '--leak-response', 'ignore']);
    expect(bad.code).toBe(2);
  });

  it(`is limited to ${LIMIT} requests a minute per address, shared by every process through the store`, async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 3 * LIMIT && !limited; i++) {
      const r = await api('/v1/leaks', { method: 'POST', body: { secrets: ['nothing-here'] } });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(limited, `statuses ${statuses.join(',')}`).toBeDefined();
    expect(limited!.body.error.code).toBe('too_many_requests');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // A window boundary may fall inside the loop: two windows admit at most 2 × LIMIT.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2 * LIMIT);
  });

  it('no reported secret, nor its digest, appears in local mode output, events or emails', async () => {
    const pepper = readFileSync(join(inst.dataDir, 'pepper'));
    const texts = [
      inst.output(),
      readFileSync(join(inst.dataDir, 'events.jsonl'), 'utf8'),
      ...readdirSync(join(inst.dataDir, 'outbox')).map((f) => readFileSync(join(inst.dataDir, 'outbox', f), 'utf8')),
    ].join('\n');
    expect(reported.length).toBeGreaterThan(10);
    for (const s of reported) {
      expect(texts).not.toContain(s);
      expect(texts).not.toContain(createHmac('sha256', pepper).update(s).digest('base64url'));
    }
  });
});
