/**
 * Counts of starts over sliding windows, for checking a rate limit's history. The windows that
 * matter begin at a start: any half-open window `[w, w + per)` holds no more starts than the one
 * that begins at its first start. Slots exactly `per` apart are computed in floating point on
 * large clock readings and can land a rounding error inside the window, so a start less than a
 * microsecond short of its window's end counts as outside it.
 */
const ROUNDING = 0.001;

/** For each of `sorted` start times (ascending, ms), how many starts its window `[t, t + per)` holds. */
export function windowCounts(sorted: readonly number[], per: number): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + per - ROUNDING) j++;
    out.push(j - i);
  }
  return out;
}

/** The most starts in one window of `per` ms. */
export function mostInWindow(sorted: readonly number[], per: number): number {
  return Math.max(0, ...windowCounts(sorted, per));
}
