/** Milliseconds with three significant digits, in µs below 0.1 ms and in seconds from 1 s. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) < 0.1) return `${(x * 1000).toPrecision(3)} µs`;
  if (Math.abs(x) >= 1000) return `${(x / 1000).toPrecision(3)} s`;
  return `${x.toPrecision(3)} ms`;
}

export function times(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 0)}x` : 'n/a';
}

export function count(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}

/** The columns of an arm measured against its reference arm: the head, and a row from its figures. */
export const VS_REFERENCE = ['arm', 'ops', 'p50', 'p99', 'ops/s', 'p50 vs reference', 'time/op vs reference'];

export function vsReferenceRow(f: {
  label: string;
  n: number;
  p50: number;
  p99: number;
  opsPerSec: number;
  p50VsFloor: number;
  opsVsFloor: number;
}): string[] {
  return [
    f.label,
    String(f.n),
    ms(f.p50),
    ms(f.p99),
    count(f.opsPerSec),
    times(f.p50VsFloor),
    times(f.opsVsFloor),
  ];
}

/**
 * A gap split into layers, from `floor` up: each layer's figure less the one below it, so the
 * steps add up to the whole gap. A layer without a figure (an arm a store lacks) is skipped.
 */
export function layerSteps(floor: number, layers: ReadonlyArray<[string, number | undefined]>): string[] {
  const steps: string[] = [];
  let below = floor;
  for (const [what, figure] of layers) {
    if (figure === undefined) continue;
    steps.push(`${what} ${ms(figure - below)}`);
    below = figure;
  }
  return steps;
}
