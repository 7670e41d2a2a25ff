import { now } from '../clock.js';

/**
 * A raw wake-one waiter's loop: `take` until it gives a lock or `waitMs` pass, sleeping between
 * tries until woken, or a second in case the wake-up was lost or went to a waiter that left.
 * `listen` registers the wake-up (and returns its removal) before the first try: the wake-up can
 * arrive on the listening connection before the refusal's reply arrives on the other one.
 */
export async function tryUntilWoken<T>(
  take: () => Promise<T | null>,
  waitMs: number,
  listen: (wake: () => void) => () => void,
): Promise<T | null> {
  const deadline = now() + waitMs;
  let woken = false;
  let sleeping: (() => void) | undefined;
  const stop = listen(() => {
    woken = true;
    sleeping?.();
  });
  try {
    for (;;) {
      woken = false;
      const got = await take();
      if (got) return got;
      const left = deadline - now();
      if (left <= 0) return null;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        sleeping = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      sleeping = undefined;
    }
  } finally {
    stop();
  }
}
