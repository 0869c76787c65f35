/**
 * The leak services (SPEC §11): look each reported secret up by the key id inside it (one read, no
 * scan), compare its keyed digest like the authorizer, and act through the same commit loop as
 * every other transition (`commitKeyChange`), so audit, events, webhooks and emails follow from the
 * outbox. Nothing here logs or returns a secret or a digest.
 */
import { createHash } from 'node:crypto';
import { digestSecret } from '../domain/digest.js';
import { deriveIdKey, hintOf, keyIdAuthentic, parseSecret } from '../domain/keyFormat.js';
import { commitKeyChange, type Deps } from '../domain/service.js';
import { SYSTEM_ACTOR, type LeakResponse } from '../domain/types.js';
import { exposeSecret, matchSecret, reportedHint, sourceUrl, type LeakOutcome, type LeakSource } from './exposure.js';

export interface LeakReport {
  readonly token: string;
  /** Where it was found; `null` when the reporter does not say (`POST /v1/leaks`). */
  readonly url: string | null;
}

export interface LeakResult {
  readonly hint: string;
  readonly outcome: LeakOutcome;
}

/** How many reports of one batch are looked up at once: enough to answer 1,000 well within GitHub's 30 s. */
export const LEAK_BATCH_CONCURRENCY = 16;

/**
 * Acts on each reported secret and answers one result per report, in order. The same secret twice
 * in a batch (or across batches) is acted on once; the rest answer what was done.
 */
export async function reportLeaks(reports: readonly LeakReport[], source: LeakSource, deps: Deps): Promise<LeakResult[]> {
  const pepper = await deps.pepper.get();
  const idKey = deriveIdKey(pepper);
  const accounts = new Map<string, Promise<LeakResponse>>();
  const leakResponseOf = (accountId: string) => {
    let p = accounts.get(accountId);
    if (!p) {
      p = deps.store.getAccount(accountId, { consistent: true }).then((a) => a?.leakResponse ?? 'revoke');
      accounts.set(accountId, p);
    }
    return p;
  };
  const results: LeakResult[] = new Array<LeakResult>(reports.length);
  let next = 0;
  const worker = async () => {
    while (next < reports.length) {
      const i = next++;
      results[i] = await reportOne(reports[i]!, source, { pepper, idKey }, deps, leakResponseOf);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LEAK_BATCH_CONCURRENCY, reports.length) }, worker));
  const acted = results.filter((r) => r.outcome !== 'unknown').length;
  deps.log.info('leak report processed', { source, reported: reports.length, known: acted, unknown: reports.length - acted });
  return results;
}

async function reportOne(
  report: LeakReport,
  source: LeakSource,
  keys: { readonly pepper: Buffer; readonly idKey: Buffer },
  deps: Deps,
  leakResponseOf: (accountId: string) => Promise<LeakResponse>,
): Promise<LeakResult> {
  const prefix = deps.policies.keyPrefix;
  const parsed = parseSecret(prefix, report.token);
  const hint = reportedHint(report.token, parsed ? hintOf(prefix, parsed.environment, report.token) : null);
  // Not a well-formed secret of this deployment, or an id it never issued (forged tag): no read at
  // all, exactly as the authorizer decides.
  if (!parsed || !keyIdAuthentic(keys.idKey, parsed.keyId)) return { hint, outcome: 'unknown' };
  const digest = digestSecret(keys.pepper, report.token);
  let leakResponse: LeakResponse = 'revoke';
  let outcome: LeakOutcome = 'unknown';
  const result = await commitKeyChange(
    async () => {
      const record = await deps.store.getKey(parsed.keyId, { consistent: true });
      if (record) leakResponse = await leakResponseOf(record.accountId);
      return record;
    },
    (record, ctx) => {
      const r = exposeSecret(record, matchSecret(record, digest), { leakResponse, source, url: sourceUrl(report.url) }, ctx);
      outcome = r.outcome;
      return r.decision;
    },
    SYSTEM_ACTOR,
    deps,
  );
  if (result?.decision.kind === 'change') {
    deps.log.warn('leaked secret acted on', { keyId: parsed.keyId, accountId: result.record.accountId, outcome, source });
  }
  return { hint, outcome };
}

/** GitHub's `token_hash`: the hex SHA-256 of the token as found. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
