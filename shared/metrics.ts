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
  return (
    JSON.stringify({
      _aws: {
        Timestamp: at,
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [['Service'], ...(extra.length ? [['Service', ...extra]] : [])],
            Metrics: [{ Name: metric, Unit: 'Count' }],
          },
        ],
      },
      Service: service,
      ...dimensions,
      [metric]: value,
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
