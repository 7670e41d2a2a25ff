/**
 * Counts over sliding windows of starts. The windows that matter begin at a start: any half-open
 * window `[w, w + per)` holds no more starts than the one that begins at its first start.
 */

/** For each start (ascending times), how many starts its window `[t, t + per)` holds. */
function counts(sorted: readonly number[], per: number): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + per) j++;
    out.push(j - i);
  }
  return out;
}

/** The worst window, and how many windows (one per start they begin at) hold more than `most`. */
export function windowsOver(sorted: readonly number[], per: number, most: number) {
  const c = counts(sorted, per);
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
