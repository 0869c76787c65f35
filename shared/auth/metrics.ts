/**
 * What the authorizer counts, and how it reports it without a log line per request: every decision
 * (allowed, or denied with its reason) and every store failure is counted in memory, and at most
 * once a minute per instance the counts are written as CloudWatch Embedded Metric Format (EMF)
 * lines on stdout, which CloudWatch turns into metrics without an API call. The write is scheduled
 * after the answer (`setImmediate`), so no request waits for it; counts of an instance that is shut
 * down before its next flush are lost (at most a minute of one instance). Written by hand (one
 * `JSON.stringify` per line) to keep the bundle and the cold start small.
 *
 * Metrics (namespace `Rekey`, dimension `Service=authorizer`): `Allowed`, `Denied`, `StoreFailures`,
 * `UseRecordFailures`; and `Denied` per `Reason` (`missing`, `malformed`, `forged`, `unknown`, `mismatch`,
 * `revoked`, `expired`, `store_error`, and any reason later versions add).
 */
import { emfMetricsLine, METRIC_NAMESPACE } from '../metrics.js';

/** Why the authorizer refused (`DenyReason` of the verifier), or that it allowed. */
export type Outcome = 'allowed' | string;

/** Counters of the authorizer. Implementations must never throw. */
export interface AuthMetrics {
  /** One decision. Called on every request: constant time, no I/O. */
  outcome(outcome: Outcome): void;
  /** The key store (or the pepper source) failed; the request was denied. */
  storeFailure(err: unknown): void;
  /** A best-effort last-use write failed; the request was not affected. */
  useRecordFailure(err: unknown): void;
  /** Called after each answer; reports the counts when they are due (never on the answer's path). */
  afterRequest?(): void;
}

export { METRIC_NAMESPACE };
export const STORE_FAILURES_METRIC = 'StoreFailures';
export const USE_RECORD_FAILURES_METRIC = 'UseRecordFailures';
export const ALLOWED_METRIC = 'Allowed';
export const DENIED_METRIC = 'Denied';
export const AUTHORIZER_SERVICE = 'authorizer';
/** How often an instance reports its counts. */
export const FLUSH_INTERVAL_MS = 60_000;

/** Counts nothing (tests that do not care). */
export const NO_METRICS: AuthMetrics = { outcome() {}, storeFailure() {}, useRecordFailure() {} };

/**
 * Name and code of an error, never its stack, never request data: safe to log. A configuration
 * error also carries its message, which names the bad variable (and never holds a secret).
 */
function describe(err: unknown): { errorName: string; errorCode?: string; errorMessage?: string } {
  if (err instanceof Error) {
    if (err.name === 'ConfigError') return { errorName: err.name, errorMessage: err.message };
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { errorName: err.name, errorCode: code } : { errorName: err.name };
  }
  return { errorName: typeof err };
}

/** One EMF line reporting several counts under `Service=authorizer` (and `extra` dimensions). */
export function emfLine(at: number, counts: Readonly<Record<string, number>>, extra: Readonly<Record<string, string>> = {}, err?: unknown): string {
  return emfMetricsLine(at, AUTHORIZER_SERVICE, [['Service', ...Object.keys(extra)]], counts, extra, err === undefined ? {} : describe(err));
}

/**
 * Counts in memory; {@link CountingMetrics.flush} writes the counts since the last flush as EMF
 * lines (one for the totals, with the last store error's name, and one per deny reason) and resets
 * them. `write` is injectable (tests, bench); with `write` undefined nothing is written (local mode).
 */
export class CountingMetrics implements AuthMetrics {
  allowed = 0;
  storeFailures = 0;
  useRecordFailures = 0;
  /** Denials by reason since the last flush. */
  readonly denied = new Map<string, number>();
  private lastError: unknown;
  private lastFlush: number;
  private scheduled = false;

  constructor(
    private readonly write?: (line: string) => void,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = FLUSH_INTERVAL_MS,
  ) {
    // The first request of an instance reports at once (a broken deploy shows within a minute).
    this.lastFlush = -Infinity;
  }

  outcome(outcome: Outcome): void {
    if (outcome === 'allowed') this.allowed++;
    else this.denied.set(outcome, (this.denied.get(outcome) ?? 0) + 1);
  }

  storeFailure(err: unknown): void {
    this.storeFailures++;
    this.lastError = err;
  }

  useRecordFailure(err: unknown): void {
    this.useRecordFailures++;
    this.lastError ??= err;
  }

  afterRequest(): void {
    if (this.write === undefined || this.scheduled || this.now() - this.lastFlush < this.intervalMs) return;
    this.scheduled = true;
    // After the answer: a frozen Lambda runs it on its next thaw, which only delays the report.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Writes and resets the counts (nothing when there is nothing to report). */
  flush(): void {
    const at = this.now();
    this.lastFlush = at;
    const write = this.write;
    if (write === undefined) return;
    let denied = 0;
    for (const n of this.denied.values()) denied += n;
    if (this.allowed + denied + this.storeFailures + this.useRecordFailures === 0) return;
    try {
      write(
        emfLine(
          at,
          { [ALLOWED_METRIC]: this.allowed, [DENIED_METRIC]: denied, [STORE_FAILURES_METRIC]: this.storeFailures, [USE_RECORD_FAILURES_METRIC]: this.useRecordFailures },
          {},
          this.lastError,
        ),
      );
      for (const [reason, n] of this.denied) write(emfLine(at, { [DENIED_METRIC]: n }, { Reason: reason }));
    } catch {
      // Reporting must never turn into a failure of a request.
    }
    this.allowed = 0;
    this.storeFailures = 0;
    this.useRecordFailures = 0;
    this.lastError = undefined;
    this.denied.clear();
  }
}

/** The Lambda default: counts reported on stdout once a minute. */
export function emfMetrics(write: (line: string) => void = (line) => void process.stdout.write(line)): CountingMetrics {
  return new CountingMetrics(write);
}
