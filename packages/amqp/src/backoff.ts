/** Exponential backoff with jitter, as used by the consumer's retries and the relay's pauses. */
export interface BackoffOptions {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** Upper bound of any delay. */
  readonly maxMs: number;
  readonly factor?: number;
  /** 0..1: the delay varies by up to this fraction either way, so retries do not align. */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 200,
  maxMs: 10_000,
  factor: 2,
  jitter: 0.2,
};

/** The delay before retry number `attempt` (1 = the first retry). `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const factor = opts.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
  // Cap the base so that base + jitter still fits under maxMs.
  const base = Math.min(
    opts.maxMs / (1 + jitter),
    opts.initialMs * factor ** Math.max(0, attempt - 1),
  );
  const offset = base * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + offset));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
