/** Order statistics of timing samples. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
}

/** Summarises samples (any unit; the caller knows which). Nearest-rank percentiles. */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) return { n: 0, median: NaN, p99: NaN, mean: NaN, min: NaN };
  const rank = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { n, median: rank(0.5), p99: rank(0.99), mean: sum / n, min: sorted[0]! };
}

/** Median of a few whole-run measurements. */
export function median(values: readonly number[]): number {
  return summarize(values).median;
}

/** Nanoseconds since an arbitrary origin, as a Number (precise to well below a microsecond here). */
export const nowNs = (): number => Number(process.hrtime.bigint());
