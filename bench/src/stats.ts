/** Summary statistics of latency samples in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** `a / b`, or NaN when either side is missing: a ratio is only reported when both were measured. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return Number.NaN;
  return a / b;
}

/** One arm's latency and rate, set against the floor's: what each arm of a comparison reports. */
export interface VsFloor extends Summary {
  readonly opsPerSec: number;
  /** p50 over the floor's p50: above 1 is slower than the floor. */
  readonly p50VsFloor: number;
  /** The floor's ops/s over this arm's: above 1 is slower than the floor. */
  readonly opsVsFloor: number;
}

/** Each arm's samples, operations and time, summarised against the arm marked `floor` (in order). */
export function againstFloor(
  arms: ReadonlyArray<{ floor?: boolean; samples: readonly number[]; ops: number; ms: number }>,
): VsFloor[] {
  const rows = arms.map((a) => ({
    floor: a.floor,
    summary: summarize(a.samples),
    opsPerSec: (a.ops / a.ms) * 1000,
  }));
  const floor = rows.find((r) => r.floor);
  return rows.map(({ summary, opsPerSec }) => ({
    ...summary,
    opsPerSec,
    p50VsFloor: ratio(summary.p50, floor?.summary.p50),
    opsVsFloor: ratio(floor?.opsPerSec, opsPerSec),
  }));
}
