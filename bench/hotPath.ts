/**
 * In-process measurements through the real handler (`createAuthorizerHandler`), the real
 * `DynamoKeyStore` and dynalite: warm path, the bare-HMAC floor in the same run, garbage rejection
 * and the cache-miss path, with the store reads each one costs.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createAuthorizerHandler, type AuthorizerHandler } from '../shared/auth/handler.js';
import { CountingMetrics } from '../shared/auth/metrics.js';
import { DEFAULT_POLICIES } from '../shared/domain/policies.js';
import { generateSecret, KEY_ID_LENGTH, randomBase62 } from '../shared/domain/keyFormat.js';
import { systemClock } from '../shared/domain/clock.js';
import { countingStore, httpV2Event, restRequestEvent, type BenchFixture } from './fixture.js';
import { nowNs, summarize, type Summary } from './stats.js';

export interface PathResult {
  readonly ns: Summary;
  readonly calls: number;
  readonly reads: number;
}

export interface HotPathResults {
  readonly warmRest: PathResult;
  readonly warmHttpV2: PathResult;
  readonly hmac: Summary;
  readonly garbage: PathResult;
  /** Distinct forged secrets: right shape and checksum, an id this deployment never issued. */
  readonly forged: PathResult;
  readonly miss: PathResult;
  readonly storeFailures: number;
}

const ROUNDS = 8;
const PER_ROUND = 25_000;
const MISS_CALLS = 400;
const FORGED_SECRETS = 10_000;


function handlerFor(fx: BenchFixture, ttlSeconds: number) {
  const counted = countingStore(fx.store, fx.usage);
  // The real aggregating counters (reports due once a minute, written to a sink that drops them).
  const metrics = new CountingMetrics(() => undefined);
  // Usage counting on, as deployed: every allowed request is counted (SPEC §12).
  const handler = createAuthorizerHandler({
    store: counted.store,
    usage: counted.usage,
    pepper: { get: async () => fx.pepper },
    policies: { ...DEFAULT_POLICIES, authCacheTtlSeconds: ttlSeconds },
    clock: systemClock,
    metrics,
  });
  return { handler, counts: counted.counts, metrics };
}

async function timeCalls(handler: AuthorizerHandler, event: unknown, out: Float64Array, offset: number, n: number, expectAllow: boolean): Promise<void> {
  const ev = event as APIGatewayRequestAuthorizerEvent;
  for (let i = 0; i < n; i++) {
    const t = nowNs();
    let allowed: boolean;
    try {
      const r = await handler(ev);
      allowed = 'isAuthorized' in r ? r.isAuthorized : true;
    } catch {
      allowed = false;
    }
    out[offset + i] = nowNs() - t;
    if (allowed !== expectAllow) throw new Error(`bench: expected ${expectAllow ? 'allow' : 'deny'} at call ${i}`);
  }
}

function timeHmac(pepper: Buffer, secret: string, out: Float64Array, offset: number, n: number): void {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const t = nowNs();
    const d = createHmac('sha256', pepper).update(secret).digest();
    out[offset + i] = nowNs() - t;
    sink ^= d[0]!;
  }
  if (sink === 256) console.log(sink); // keeps the digest observable
}

export async function measureHotPath(fx: BenchFixture): Promise<HotPathResults> {
  const warm = handlerFor(fx, DEFAULT_POLICIES.authCacheTtlSeconds);
  const rest = restRequestEvent(fx.secret);
  const v2 = httpV2Event(fx.secret);
  const garbageSecret = fx.secret.slice(0, -1) + (fx.secret.endsWith('A') ? 'B' : 'A');
  const garbage = restRequestEvent(garbageSecret);

  // JIT warm-up of every path, untimed.
  await timeCalls(warm.handler, rest, new Float64Array(20_000), 0, 20_000, true);
  await timeCalls(warm.handler, v2, new Float64Array(5_000), 0, 5_000, true);
  await timeCalls(warm.handler, garbage, new Float64Array(5_000), 0, 5_000, false);
  timeHmac(fx.pepper, fx.secret, new Float64Array(20_000), 0, 20_000);

  const restNs = new Float64Array(ROUNDS * PER_ROUND);
  const v2Ns = new Float64Array(ROUNDS * (PER_ROUND / 5));
  const hmacNs = new Float64Array(ROUNDS * PER_ROUND);
  const garbageNs = new Float64Array(ROUNDS * (PER_ROUND / 5));
  let warmReads = 0;
  let v2Reads = 0;
  let garbageReads = 0;
  // Interleaved rounds: the handler and its floor see the same CPU state (frequency, caches, GC).
  for (let r = 0; r < ROUNDS; r++) {
    await warm.handler(rest as unknown as APIGatewayRequestAuthorizerEvent); // keeps the record fresh for the round
    let before = warm.counts.reads;
    await timeCalls(warm.handler, rest, restNs, r * PER_ROUND, PER_ROUND, true);
    warmReads += warm.counts.reads - before;
    before = warm.counts.reads;
    await timeCalls(warm.handler, v2 as unknown as APIGatewayRequestAuthorizerEventV2, v2Ns, r * (PER_ROUND / 5), PER_ROUND / 5, true);
    v2Reads += warm.counts.reads - before;
    timeHmac(fx.pepper, fx.secret, hmacNs, r * PER_ROUND, PER_ROUND);
    before = warm.counts.reads;
    await timeCalls(warm.handler, garbage, garbageNs, r * (PER_ROUND / 5), PER_ROUND / 5, false);
    garbageReads += warm.counts.reads - before;
  }

  // Forged secrets: each one distinct (a new random id, so no negative-cache entry helps), each with a
  // valid checksum, sent to a fresh handler whose caches are empty. Target: 0 reads.
  const forger = handlerFor(fx, DEFAULT_POLICIES.authCacheTtlSeconds);
  await forger.handler(rest as unknown as APIGatewayRequestAuthorizerEvent); // pepper loaded, verifier built
  const forgedReadsBefore = forger.counts.reads;
  const forgedNs = new Float64Array(FORGED_SECRETS);
  const seen = new Set<string>();
  for (let i = 0; i < FORGED_SECRETS; i++) {
    const id = randomBase62(KEY_ID_LENGTH);
    if (seen.has(id)) throw new Error('bench: forged ids must be distinct');
    seen.add(id);
    await timeCalls(forger.handler, restRequestEvent(generateSecret(DEFAULT_POLICIES.keyPrefix, 'live', id)), forgedNs, i, 1, false);
  }
  const forgedReads = forger.counts.reads - forgedReadsBefore;

  // Cache miss: a TTL of 0 makes every verification a miss (one strongly consistent GetItem).
  const cold = handlerFor(fx, 0);
  await timeCalls(cold.handler, rest, new Float64Array(50), 0, 50, true);
  const readsBefore = cold.counts.reads;
  const missNs = new Float64Array(MISS_CALLS);
  await timeCalls(cold.handler, rest, missNs, 0, MISS_CALLS, true);

  return {
    warmRest: { ns: summarize(restNs), calls: restNs.length, reads: warmReads },
    warmHttpV2: { ns: summarize(v2Ns), calls: v2Ns.length, reads: v2Reads },
    hmac: summarize(hmacNs),
    garbage: { ns: summarize(garbageNs), calls: garbageNs.length, reads: garbageReads },
    forged: { ns: summarize(forgedNs), calls: FORGED_SECRETS, reads: forgedReads },
    miss: { ns: summarize(missNs), calls: MISS_CALLS, reads: cold.counts.reads - readsBefore },
    storeFailures: warm.metrics.storeFailures + cold.metrics.storeFailures + forger.metrics.storeFailures,
  };
}
