import { describe, expect, it } from 'vitest';
import {
  authenticKeyId,
  BASE62,
  deriveIdKey,
  generateSecret,
  hintOf,
  keyIdAuthentic,
  newKeyIdRandom,
  parseSecret,
  randomBase62,
  secretPattern,
} from '../../shared/domain/keyFormat.js';
import { digestSecret, digestsEqual } from '../../shared/domain/digest.js';
import { loadConfig } from '../../shared/config.js';

const ID_KEY = deriveIdKey(Buffer.alloc(32, 9));
const newKeyId = () => authenticKeyId(ID_KEY, newKeyIdRandom());

describe('secret format', () => {
  it('publishes the exact regular expression of README', () => {
    expect(secretPattern().source).toBe('^rekey_(live|test)_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$');
  });

  it('issues secrets matching the published pattern that parse back to their key id and environment', () => {
    const id = newKeyId();
    const s = generateSecret('rekey', 'test', id);
    expect(s).toMatch(secretPattern());
    expect(parseSecret('rekey', s)).toEqual({ environment: 'test', keyId: id });
    expect(hintOf('rekey', 'test', s)).toBe(`rekey_test_…${s.slice(-4)}`);
  });

  it('rejects every single-character typo through the checksum, and garbage, without any I/O', () => {
    const s = generateSecret('rekey', 'live', newKeyId());
    const alphabet = 'aZ09';
    let rejected = 0;
    for (let i = 22; i < s.length; i++) {
      for (const c of alphabet) {
        if (c === s[i]) continue;
        const typo = s.slice(0, i) + c + s.slice(i + 1);
        if (parseSecret('rekey', typo) === null) rejected++;
        else throw new Error(`typo at ${i} accepted`);
      }
    }
    expect(rejected).toBeGreaterThan(150);
    for (const bad of ['', 'rekey', s + 'x', s.slice(1), s.replace('rekey', 'other'), s.replace('_live_', '_prod_'), 'ü'.repeat(s.length), `Bearer ${s}`]) {
      expect(parseSecret('rekey', bad)).toBeNull();
    }
  });

  it('authenticates key ids: only ids tagged with this deployment\'s id key pass, and any change of one character fails', () => {
    const id = newKeyId();
    expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(keyIdAuthentic(ID_KEY, id)).toBe(true);
    // Another pepper derives another id key: its ids are forgeries here.
    expect(keyIdAuthentic(deriveIdKey(Buffer.alloc(32, 8)), id)).toBe(false);
    for (let i = 0; i < id.length; i++) {
      const c = id[i] === 'a' ? 'b' : 'a';
      expect(keyIdAuthentic(ID_KEY, id.slice(0, i) + c + id.slice(i + 1))).toBe(false);
    }
    expect(keyIdAuthentic(ID_KEY, id.slice(1))).toBe(false);
    // Random forgeries with the right shape: the tag has 62^6 values, none of 5,000 gets through.
    let passed = 0;
    for (let i = 0; i < 5_000; i++) if (keyIdAuthentic(ID_KEY, randomBase62(22))) passed++;
    expect(passed).toBe(0);
    // The tag uses all of base62 (it is not, say, hex).
    const tags = new Set<string>();
    for (let i = 0; i < 2_000; i++) for (const c of newKeyId().slice(16)) tags.add(c);
    expect(tags.size).toBe(BASE62.length);
  });

  it('derives the id key from the pepper deterministically, and distinct from the pepper', () => {
    const pepper = Buffer.alloc(32, 9);
    expect(deriveIdKey(pepper).equals(ID_KEY)).toBe(true);
    expect(ID_KEY.equals(pepper)).toBe(false);
    expect(ID_KEY.length).toBe(32);
  });

  it('draws the random part uniformly from 62 symbols (≥ 256 bits in 43 characters)', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62_000);
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(200);
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
  });

  it('compares digests in constant time and only equal digests match', () => {
    const pepper = Buffer.alloc(32, 3);
    const a = digestSecret(pepper, 'x');
    expect(digestsEqual(a, digestSecret(pepper, 'x'))).toBe(true);
    expect(digestsEqual(a, digestSecret(Buffer.alloc(32, 4), 'x'))).toBe(false);
    expect(digestsEqual(a, null)).toBe(false);
  });
});

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.policies).toMatchObject({ keyPrefix: 'rekey', maxTransitionSeconds: 259200, reminderLeadSeconds: 7200, restoreWindowSeconds: 86400, reactivationWindowSeconds: 3600, maxKeyLifetimeSeconds: null, authCacheTtlSeconds: 10 });
    expect(c.policies.expiryNoticeOffsets).toEqual([2592000, 1209600, 604800, 259200, 86400]);
  });

  it('the default window is 24 h, or the maximum when that is shorter (README: the documented clamp)', () => {
    expect(loadConfig({}).policies.defaultTransitionSeconds).toBe(86400);
    expect(loadConfig({ MAX_TRANSITION_SECONDS: '3600' }).policies.defaultTransitionSeconds).toBe(3600);
    expect(loadConfig({ MAX_TRANSITION_SECONDS: '172800' }).policies.defaultTransitionSeconds).toBe(86400);
  });

  it('fails fast naming every bad variable', () => {
    expect(() => loadConfig({ MAX_TRANSITION_SECONDS: 'abc', KEY_PREFIX: 'Bad_Prefix' })).toThrow(/MAX_TRANSITION_SECONDS[\s\S]*KEY_PREFIX|KEY_PREFIX[\s\S]*MAX_TRANSITION_SECONDS/);
    expect(() => loadConfig({ EXPIRY_NOTICE_OFFSETS: '1d,x' })).toThrow(/EXPIRY_NOTICE_OFFSETS/);
  });
});
