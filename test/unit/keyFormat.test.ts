import { describe, expect, it } from 'vitest';
import { generateSecret, hintOf, parseSecret, randomBase62, secretPattern, newKeyId } from '../../shared/domain/keyFormat.js';
import { digestSecret, digestsEqual } from '../../shared/domain/digest.js';
import { loadConfig } from '../../shared/config.js';

describe('secret format', () => {
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

  it('fails fast naming every bad variable', () => {
    expect(() => loadConfig({ MAX_TRANSITION_SECONDS: 'abc', KEY_PREFIX: 'Bad_Prefix' })).toThrow(/MAX_TRANSITION_SECONDS[\s\S]*KEY_PREFIX|KEY_PREFIX[\s\S]*MAX_TRANSITION_SECONDS/);
    expect(() => loadConfig({ EXPIRY_NOTICE_OFFSETS: '1d,x' })).toThrow(/EXPIRY_NOTICE_OFFSETS/);
  });
});
