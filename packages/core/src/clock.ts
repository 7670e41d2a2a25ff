// Deadlines use the monotonic clock only: wall-clock time jumps (NTP, manual changes), and a
// lease that trusted it could believe itself valid after it had expired.

// `performance` is a lazy getter on Node's global object: read it once, not on every clock read.
const perf = performance;

/** Milliseconds on the monotonic clock. */
export const now = (): number => perf.now();

/** How much of a TTL to give up for clock drift between us and the store, as Redlock does. */
export function driftFor(ttl: number): number {
  return Math.floor(ttl * 0.01) + 2;
}

/** `base` ± `fraction`, so that many waiters do not poll in lockstep. */
export function jitter(base: number, fraction = 0.5): number {
  return base * (1 - fraction + Math.random() * 2 * fraction);
}

/**
 * Resolves after `ms`, or early when `wake` is called or `signal` aborts. Never rejects.
 * The timer keeps the process alive on purpose: a script awaiting a lock must not exit mid-wait.
 */
export function sleep(ms: number, signal?: AbortSignal): { done: Promise<void>; wake: () => void } {
  let wake!: () => void;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(finish, Math.max(0, ms));
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish, { once: true });
    wake = finish;
  });
  return { done, wake };
}
