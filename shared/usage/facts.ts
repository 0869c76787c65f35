/**
 * Reading the recorded usage a key's views and the idle cut-over need: the latest minute of each
 * secret the record names (last use and where from) and, during an idle cut-over rotation, the new
 * secret's first use. At most three small queries per key, all in parallel.
 */
import type { KeyRecord } from '../domain/types.js';
import type { IdleFacts } from './idle.js';
import type { SecretUse, UsageStore } from './types.js';

/** Recorded use per sid, and the idle cut-over facts of the key's rotation (when it has one). */
export interface KeyUsage {
  readonly bySid: ReadonlyMap<string, SecretUse>;
  readonly idle: IdleFacts | null;
}

export const NO_USAGE: KeyUsage = Object.freeze({ bySid: new Map<string, SecretUse>(), idle: null });

/** The idle cut-over facts of `record`'s rotation (see `idle.ts` for their definition). */
export async function idleFacts(record: KeyRecord, usage: Pick<UsageStore, 'latest' | 'first'>): Promise<IdleFacts> {
  const r = record.rotation;
  if (r === null) return { newUsedAt: null, oldLastUsedAt: null };
  const [first, last] = await Promise.all([usage.first(record.id, record.current.sid, r.startedAt), usage.latest(record.id, r.oldSid)]);
  return { newUsedAt: first === null ? null : Math.max(first.firstAt, r.startedAt), oldLastUsedAt: last?.lastAt ?? null };
}

/**
 * What the views show of a key's usage. A store failure degrades to the record alone (the key is
 * still shown, without `lastUsedFrom`) rather than failing the request; `onError` is told.
 */
export async function keyUsage(record: KeyRecord, usage: Pick<UsageStore, 'latest' | 'first'>, onError?: (err: unknown) => void): Promise<KeyUsage> {
  const sids = [...new Set([record.current.sid, record.previous?.sid, record.rotation?.oldSid].filter((s): s is string => typeof s === 'string'))];
  const r = record.rotation;
  const wantsIdle = r !== null && (r.idleSeconds ?? null) !== null && r.cancelledAt === null;
  try {
    const [latest, idle] = await Promise.all([
      Promise.all(sids.map((sid) => usage.latest(record.id, sid))),
      wantsIdle ? idleFacts(record, usage) : Promise.resolve(null),
    ]);
    const bySid = new Map<string, SecretUse>();
    latest.forEach((m, i) => {
      if (m !== null) bySid.set(sids[i]!, { lastAt: m.lastAt, from: m.from });
    });
    return { bySid, idle };
  } catch (err) {
    onError?.(err);
    return NO_USAGE;
  }
}
