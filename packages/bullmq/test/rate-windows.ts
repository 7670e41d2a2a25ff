/**
 * The most of `sorted` times (ascending) that fall in one half-open window `[t, t + per)`: the
 * windows that matter start at a time of the list.
 */
export function mostInWindow(sorted: readonly number[], per: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + per) j++;
    most = Math.max(most, j - i);
  }
  return most;
}
