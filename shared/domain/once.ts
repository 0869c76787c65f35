/**
 * Memoizes an async load: concurrent callers share one in-flight promise, a success is kept for
 * the life of the process, and a failure is forgotten so the next call tries again (a transient
 * outage must not poison a warm Lambda until it is recycled).
 */
export function retryableOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (!cached) {
      const pending = load();
      cached = pending;
      pending.catch(() => {
        if (cached === pending) cached = undefined;
      });
    }
    return cached;
  };
}
