/**
 * The authorizer counts failures instead of logging per request. In Lambda, one CloudWatch Embedded
 * Metric Format (EMF) line per failure becomes a metric without any API call; the CDK alarm watches
 * `Rekey / StoreFailures / Service=authorizer`. Written by hand (one `JSON.stringify`) to keep the
 * bundle and the cold start small.
 */

/** Failure counters of the authorizer. Implementations must never throw. */
export interface AuthMetrics {
  /** The key store (or the pepper source) failed; the request was denied. */
  storeFailure(err: unknown): void;
  /** A best-effort last-use write failed; the request was not affected. */
  useRecordFailure(err: unknown): void;
}

export const METRIC_NAMESPACE = 'Rekey';
export const STORE_FAILURES_METRIC = 'StoreFailures';
export const USE_RECORD_FAILURES_METRIC = 'UseRecordFailures';
export const AUTHORIZER_SERVICE = 'authorizer';

/** Counts nothing (tests that do not care). */
export const NO_METRICS: AuthMetrics = { storeFailure() {}, useRecordFailure() {} };

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

/** One EMF log line with a single count metric. */
export function emfLine(metric: string, at: number, err: unknown): string {
  return (
    JSON.stringify({
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [
          { Namespace: METRIC_NAMESPACE, Dimensions: [['Service']], Metrics: [{ Name: metric, Unit: 'Count' }] },
        ],
      },
      Service: AUTHORIZER_SERVICE,
      [metric]: 1,
      ...describe(err),
    }) + '\n'
  );
}

/**
 * Writes EMF lines to stdout (Lambda ships stdout to CloudWatch Logs, which extracts the metric).
 * `write` is injectable for tests and local mode.
 */
export function emfMetrics(write: (line: string) => void = (line) => void process.stdout.write(line)): AuthMetrics {
  const emit = (metric: string, err: unknown) => {
    try {
      write(emfLine(metric, Date.now(), err));
    } catch {
      // Counting must never turn into a failure of the request.
    }
  };
  return {
    storeFailure: (err) => emit(STORE_FAILURES_METRIC, err),
    useRecordFailure: (err) => emit(USE_RECORD_FAILURES_METRIC, err),
  };
}

/** Counts in memory (tests, bench, local gateway diagnostics). */
export class CountingMetrics implements AuthMetrics {
  storeFailures = 0;
  useRecordFailures = 0;
  storeFailure(): void {
    this.storeFailures++;
  }
  useRecordFailure(): void {
    this.useRecordFailures++;
  }
}
