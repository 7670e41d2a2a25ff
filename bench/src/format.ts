/** Milliseconds with three significant digits, switching to µs below 0.1 ms. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x < 0.1) return `${(x * 1000).toPrecision(3)} µs`;
  return `${x.toPrecision(3)} ms`;
}

export function times(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 0)}x` : 'n/a';
}

export function count(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}
