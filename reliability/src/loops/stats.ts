/** The `q` quantile (0..1) of `values` by nearest rank, rounded to 0.1; `null` when there are none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return Math.round(v * 10) / 10;
}

/** p50, p99 and max of `values`, for a report. */
export function spread(values: readonly number[]): {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
} {
  return {
    n: values.length,
    p50: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
  };
}

/** A random whole number in [min, max] from `random`. */
export const between = (random: () => number, [min, max]: readonly [number, number]): number =>
  Math.round(min + random() * (max - min));
