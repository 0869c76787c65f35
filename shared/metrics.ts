/**
 * Operational counters as CloudWatch Embedded Metric Format lines on stdout: Lambda ships stdout to
 * CloudWatch Logs, which turns each line into a metric without an API call (and without an SDK in
 * the bundle). For rare events (an email SES rejected); the authorizer aggregates its per-request
 * counts itself (`shared/auth/metrics.ts`).
 */
import type { Metrics } from './domain/ports.js';

/** Namespace of every rekey metric. */
export const METRIC_NAMESPACE = 'Rekey';

/** `Service` dimension of the email counters (`EmailsNotSent`), whichever function sends. */
export const EMAIL_METRICS_SERVICE = 'email';

/**
 * One EMF line: `metric` counted `value` times under `Service=<service>`, and again per each extra
 * dimension (so an alarm can watch the total and a dashboard can split it).
 */
export function emfCountLine(service: string, metric: string, dimensions: Readonly<Record<string, string>>, value: number, at: number): string {
  const extra = Object.keys(dimensions);
  return emfMetricsLine(at, service, [['Service'], ...(extra.length ? [['Service', ...extra]] : [])], { [metric]: value }, dimensions);
}

/**
 * One EMF line of namespace `Rekey`: each of `counts` (unit `Count`) under `Service=<service>` and
 * `dimensions`, aggregated by each set in `dimensionSets`; `fields` are logged alongside, not as metrics.
 */
export function emfMetricsLine(
  at: number,
  service: string,
  dimensionSets: readonly (readonly string[])[],
  counts: Readonly<Record<string, number>>,
  dimensions: Readonly<Record<string, string>> = {},
  fields: Readonly<Record<string, unknown>> = {},
): string {
  return (
    JSON.stringify({
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: dimensionSets, Metrics: Object.keys(counts).map((Name) => ({ Name, Unit: 'Count' })) }],
      },
      Service: service,
      ...dimensions,
      ...counts,
      ...fields,
    }) + '\n'
  );
}

/** {@link Metrics} writing EMF lines for `service`. `write` is injectable for tests. */
export function emfMetrics(service: string, write: (line: string) => void = (line) => void process.stdout.write(line)): Metrics {
  return {
    count(metric, dimensions = {}, value = 1) {
      try {
        write(emfCountLine(service, metric, dimensions, value, Date.now()));
      } catch {
        // Counting must never fail the work being counted.
      }
    },
  };
}
