import { windowCounts } from '@oncelock/testkit/history';

/** The worst window, and how many windows (one per start they begin at) hold more than `most`. */
export function windowsOver(sorted: readonly number[], per: number, most: number) {
  const c = windowCounts(sorted, per);
  return { worst: Math.max(0, ...c), violations: c.filter((n) => n > most).length };
}

/**
 * The pace a limiter kept, as a share of `limit`: after its `burst`, GCRA's starts are `per /
 * limit` apart, so `n` starts over a span of `s` ms keep `(n - 1 - burst) * per / s`.
 */
export function achieved(sorted: readonly number[], limit: number, per: number, burst: number): number {
  if (sorted.length < 2) return 0;
  const span = (sorted.at(-1) as number) - (sorted[0] as number);
  return ((sorted.length - 1 - burst) * per) / span / limit;
}
