/**
 * Usage counting cost in writes (SPEC §12): 10,000 requests a minute spread over 3 secrets, through
 * the real handler and the real `DynamoUsageStore` on dynalite, with a controllable clock so each
 * simulated minute is a real minute to the counter. Counts the usage writes this one authorizer
 * instance starts in each wall-clock minute and checks that the stored counts add up exactly.
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizerHandler } from '../shared/auth/handler.js';
import { CountingMetrics } from '../shared/auth/metrics.js';
import { createKeyRecord } from '../shared/domain/keys.js';
import { DEFAULT_POLICIES } from '../shared/domain/policies.js';
import { randomIds } from '../shared/domain/ids.js';
import type { UsageFlush } from '../shared/usage/types.js';
import { restRequestEvent, type BenchFixture } from './fixture.js';

export interface UsageWriteResults {
  readonly requestsPerMinute: number;
  readonly secrets: number;
  readonly minutes: number;
  /** Usage writes started in each simulated wall-clock minute. */
  readonly writesPerMinute: number[];
  readonly maxWritesPerMinute: number;
  /** Requests counted in the stored minute items, and requests sent. */
  readonly stored: number;
  readonly sent: number;
}

const PER_MINUTE = 10_000;
const MINUTES = 3;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function measureUsageWrites(fx: BenchFixture): Promise<UsageWriteResults> {
  const start = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
  let now = start;
  const clock = { now: () => now };
  const keys = [];
  for (let i = 0; i < 3; i++) {
    const { record, secret } = createKeyRecord(
      randomIds.accountId(),
      { name: `usage-bench-${i}`, scopes: ['orders:read'] },
      { environment: 'live' },
      { now, policies: DEFAULT_POLICIES, ids: randomIds, pepper: fx.pepper },
    );
    await fx.store.createKey(record, []);
    keys.push({ record, event: restRequestEvent(secret) as unknown as APIGatewayRequestAuthorizerEvent });
  }
  const writes: { at: number; flush: UsageFlush }[] = [];
  const handler = createAuthorizerHandler({
    store: fx.store,
    usage: { add: (flush) => (writes.push({ at: now, flush }), fx.usage.add(flush)) },
    pepper: { get: async () => fx.pepper },
    policies: DEFAULT_POLICIES,
    clock,
    metrics: new CountingMetrics(),
    verifier: { usageTimer: false },
  });
  let sent = 0;
  for (let m = 0; m < MINUTES; m++) {
    for (let i = 0; i < PER_MINUTE; i++) {
      now = start + m * 60_000 + Math.floor((i * 60_000) / PER_MINUTE);
      await handler(keys[i % 3]!.event);
      sent++;
      // Let armed flushes run now and then, as an idle event loop would between requests.
      if (i % 500 === 0) await tick();
    }
    await tick();
  }
  // The last minute goes out with the next request past its end (here: one more request per secret).
  now = start + MINUTES * 60_000 + 1;
  await tick();
  await handler.flushUsage();
  const perMinute = new Array<number>(MINUTES + 1).fill(0);
  for (const w of writes.filter((w) => w.at < start + MINUTES * 60_000)) perMinute[Math.floor((w.at - start) / 60_000)]!++;
  let stored = 0;
  for (const k of keys) for (const m of await fx.usage.range(k.record.id, start, start + (MINUTES + 1) * 60_000)) stored += m.count;
  const measured = perMinute.slice(0, MINUTES);
  return { requestsPerMinute: PER_MINUTE, secrets: 3, minutes: MINUTES, writesPerMinute: measured, maxWritesPerMinute: Math.max(...measured), stored, sent };
}
