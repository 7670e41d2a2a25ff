/**
 * The most of `sorted` times (ascending) that fall in one half-open window `[t, t + per)`: the
 * windows that matter start at a time of the list. Slots exactly `per` apart are computed in
 * floating point on large clock readings and can land a rounding error inside the window, so a
 * time less than a microsecond short of its window's end counts as outside it.
 */
const ROUNDING = 0.001;

export function mostInWindow(sorted: readonly number[], per: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + per - ROUNDING) j++;
    most = Math.max(most, j - i);
  }
  return most;
}
